import type { NodeId } from '../../src/raft/index.js';
import type { Frame, GroupEnvelope } from '../../src/transport/frame-codec.js';
import type { OutboundControl } from '../../src/transport/raft-transport.js';

/**
 * What one send of a host wired in process carries to each peer: one frame per addressee, as the
 * transport sends them, with every envelope copied (a receiver must not share objects with the
 * sender, which a real wire guarantees). With `control`, also the quiesce notices and the frames
 * sent for liveness alone; without it, idle groups never sleep on followers and elections follow.
 */
export function framesByPeer(envelopes: readonly GroupEnvelope[], control?: OutboundControl): Map<NodeId, Frame> {
  const frames = new Map<NodeId, Frame>();
  for (const peer of control?.ping ?? []) frames.set(peer, { envelopes: [], quiesced: [] });
  for (const [peer, notices] of control?.quiesced ?? []) frames.set(peer, { envelopes: [], quiesced: structuredClone(notices) });
  for (const e of envelopes) {
    let frame = frames.get(e.message.to);
    if (frame === undefined) frames.set(e.message.to, (frame = { envelopes: [], quiesced: [] }));
    frame.envelopes.push(structuredClone(e));
  }
  return frames;
}
