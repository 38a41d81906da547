import type { NodeId } from '../../src/raft/index.js';
import type { Frame, GroupEnvelope } from '../../src/transport/frame-codec.js';

/**
 * What one send of a host wired in process carries to each peer: one frame per addressee, as the
 * transport sends them, with every envelope copied (a receiver must not share objects with the
 * sender, which a real wire guarantees).
 */
export function framesByPeer(envelopes: readonly GroupEnvelope[]): Map<NodeId, Frame> {
  const frames = new Map<NodeId, Frame>();
  for (const e of envelopes) {
    let frame = frames.get(e.message.to);
    if (frame === undefined) frames.set(e.message.to, (frame = { envelopes: [], quiesced: [] }));
    frame.envelopes.push(structuredClone(e));
  }
  return frames;
}
