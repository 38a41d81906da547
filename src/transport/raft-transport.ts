import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { MessageBatch__Output } from '../generated/taskraft/raft/MessageBatch.js';
import type { RaftTransportClient } from '../generated/taskraft/raft/RaftTransport.js';
import type { SnapshotChunk, SnapshotChunk__Output } from '../generated/taskraft/raft/SnapshotChunk.js';
import type { SnapshotReceived } from '../generated/taskraft/raft/SnapshotReceived.js';
import type { StreamClosed } from '../generated/taskraft/raft/StreamClosed.js';
import type { NodeId, SnapshotMessage } from '../raft/index.js';
import type { GroupId } from '../storage/key-layout.js';
import { loadRaftProto } from './load-proto.js';
import { MalformedFrameError } from './byte-buffer.js';
import { decodeFrame, encodeFrame, type Frame, type GroupEnvelope, type QuiesceNotice } from './frame-codec.js';
import { checkIdentity, identityMetadata } from './peer-identity.js';
import { PeerStream } from './peer-stream.js';

export interface TransportHandler {
  /** One frame from a peer, its messages already checked to be addressed to us. Called for every
   * frame, empty ones included: an empty frame is the peer's liveness ping. */
  onFrame(from: NodeId, frame: Frame): void;
  /** A message to `peer` could not be sent (link down or saturated). */
  onUnreachable(peer: NodeId): void;
  /** The outcome of sending a snapshot (the core must hear it to leave its snapshot state). */
  onSnapshotStatus(peer: NodeId, group: GroupId, status: 'finish' | 'failure'): void;
}

/** What a loop turn sends besides raft messages. */
export interface OutboundControl {
  /** Per peer: groups this node leads and has quiesced. */
  readonly quiesced?: ReadonlyMap<NodeId, QuiesceNotice[]>;
  /** Peers that must receive a frame this turn even if it is empty (liveness). */
  readonly ping?: readonly NodeId[];
}

export interface RaftTransportOptions {
  readonly self: NodeId;
  readonly clusterId: string;
  /** host:port to listen on for peers' raft traffic. */
  readonly listen: string;
  /** The gRPC address of a peer, or null if unknown. */
  readonly resolve: (peer: NodeId) => string | null;
  readonly handler: TransportHandler;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly maxInflightFrames?: number;
  readonly maxFrameBytes?: number;
  readonly snapshotChunkBytes?: number;
  readonly maxSnapshotBytes?: number;
}

/** Options of every node-to-node channel and of the server. A restarted peer must be reachable again
 * within seconds: gRPC's default reconnect backoff grows to two minutes. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

/**
 * Raft traffic between nodes over gRPC: every message a loop turn produced for one peer, for all
 * groups, goes in one frame on one long-lived stream to that peer; snapshots go in chunks on a
 * stream of their own so they never hold up heartbeats.
 */
export class RaftTransport {
  private readonly server = new grpc.Server(CHANNEL_OPTIONS);
  private readonly clients = new Map<NodeId, { address: string; client: RaftTransportClient; stream: PeerStream }>();
  private readonly now: () => number;
  private readonly maxFrameBytes: number;
  private readonly chunkBytes: number;
  private readonly maxSnapshotBytes: number;
  /** While paused (tests simulating a partition), nothing is sent or accepted. */
  private paused = false;
  boundPort = 0;

  constructor(private readonly opts: RaftTransportOptions) {
    this.now = opts.now ?? Date.now;
    this.maxFrameBytes = opts.maxFrameBytes ?? 4 * 1024 * 1024;
    this.chunkBytes = opts.snapshotChunkBytes ?? 1024 * 1024;
    this.maxSnapshotBytes = opts.maxSnapshotBytes ?? 1024 * 1024 * 1024;
    const proto = loadRaftProto();
    this.server.addService(proto.taskraft.raft.RaftTransport.service, {
      Stream: (call: grpc.ServerReadableStream<MessageBatch__Output, StreamClosed>, cb: grpc.sendUnaryData<StreamClosed>) =>
        this.serveStream(call, cb),
      SendSnapshot: (
        call: grpc.ServerReadableStream<SnapshotChunk__Output, SnapshotReceived>,
        cb: grpc.sendUnaryData<SnapshotReceived>,
      ) => this.serveSnapshot(call, cb),
    });
  }

  /** Serves another gRPC service on the same port (before start()). */
  addService(definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    this.server.addService(definition, implementation);
  }

  async start(): Promise<number> {
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(this.opts.listen, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      );
    });
    return this.boundPort;
  }

  async stop(): Promise<void> {
    for (const { client, stream } of this.clients.values()) {
      stream.close();
      client.close();
    }
    this.clients.clear();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 1000);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Simulates a network partition of this node (tests): drop all traffic both ways. */
  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  /**
   * Sends one loop turn's messages: one frame per peer (split only past maxFrameBytes). Quiesce
   * notices ride in the same frame; a peer in `ping` with nothing else to receive gets an empty
   * frame, so liveness costs one frame per peer however many groups there are.
   */
  send(envelopes: readonly GroupEnvelope[], control: OutboundControl = {}): void {
    const byPeer = new Map<NodeId, GroupEnvelope[]>();
    for (const peer of control.quiesced?.keys() ?? []) byPeer.set(peer, []);
    for (const peer of control.ping ?? []) if (!byPeer.has(peer)) byPeer.set(peer, []);
    for (const env of envelopes) {
      if (env.message.type === 'snap') {
        void this.sendSnapshot(env.group, env.message);
        continue;
      }
      let list = byPeer.get(env.message.to);
      if (list === undefined) byPeer.set(env.message.to, (list = []));
      list.push(env);
    }
    for (const [peer, list] of byPeer) this.sendFrames(peer, list, control.quiesced?.get(peer) ?? []);
  }

  private sendFrames(peer: NodeId, list: GroupEnvelope[], quiesced: readonly QuiesceNotice[]): void {
    const link = this.paused ? null : this.link(peer);
    if (link === null) {
      this.opts.handler.onUnreachable(peer);
      return;
    }
    if (list.length === 0) {
      if (!link.stream.send(encodeFrame([], quiesced))) this.opts.handler.onUnreachable(peer);
      return;
    }
    let start = 0;
    let bytes = 0;
    for (let k = 0; k < list.length; k++) {
      bytes += approxBytes(list[k]!);
      const last = k === list.length - 1;
      if (bytes >= this.maxFrameBytes || last) {
        if (!link.stream.send(encodeFrame(list.slice(start, k + 1), last ? quiesced : []))) this.opts.handler.onUnreachable(peer);
        start = k + 1;
        bytes = 0;
      }
    }
  }

  private async sendSnapshot(group: GroupId, m: SnapshotMessage): Promise<void> {
    const link = this.paused ? null : this.link(m.to);
    if (link === null) {
      this.opts.handler.onSnapshotStatus(m.to, group, 'failure');
      return;
    }
    const md = identityMetadata(this.opts.clusterId, this.opts.self, m.to);
    const status = await new Promise<'finish' | 'failure'>((resolve) => {
      const call = link.client.SendSnapshot(md, { deadline: this.now() + 10 * 60_000 }, (err) => {
        if (err) this.opts.logger.warn({ peer: m.to, group, err: err.details }, 'snapshot send failed');
        resolve(err ? 'failure' : 'finish');
      });
      const data = m.snapshot.data;
      const header: SnapshotChunk = { header: encodeFrame([{ group, message: m }]), data: data.subarray(0, this.chunkBytes) };
      call.write(header);
      for (let off = this.chunkBytes; off < data.byteLength; off += this.chunkBytes) {
        call.write({ data: data.subarray(off, off + this.chunkBytes) });
      }
      call.end();
    });
    this.opts.handler.onSnapshotStatus(m.to, group, status);
  }

  private link(peer: NodeId): { client: RaftTransportClient; stream: PeerStream } | null {
    const address = this.opts.resolve(peer);
    if (address === null) return null;
    const existing = this.clients.get(peer);
    if (existing !== undefined && existing.address === address) return existing;
    if (existing !== undefined) {
      existing.stream.close();
      existing.client.close();
    }
    const proto = loadRaftProto();
    const client = new proto.taskraft.raft.RaftTransport(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    const stream = new PeerStream({
      self: this.opts.self,
      peer,
      clusterId: this.opts.clusterId,
      client,
      logger: this.opts.logger,
      maxInflightFrames: this.opts.maxInflightFrames ?? 256,
      minBackoffMs: 50,
      maxBackoffMs: 2000,
      now: this.now,
    });
    const created = { address, client, stream };
    this.clients.set(peer, created);
    return created;
  }

  private serveStream(
    call: grpc.ServerReadableStream<MessageBatch__Output, StreamClosed>,
    cb: grpc.sendUnaryData<StreamClosed>,
  ): void {
    const id = checkIdentity(call.metadata, this.opts.clusterId, this.opts.self);
    if (!id.ok) {
      this.opts.logger.warn({ reason: id.reason, peer: call.getPeer() }, 'refused raft stream');
      cb({ code: id.status, details: id.reason });
      return;
    }
    call.sendMetadata(new grpc.Metadata());
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      cb(null, {});
    };
    call.on('data', (batch: MessageBatch__Output) => {
      if (this.paused) return;
      const frame = this.decodeFrom(id.from, batch.frame);
      if (frame !== null) this.opts.handler.onFrame(id.from, frame);
    });
    call.on('end', finish);
    call.on('error', finish);
  }

  private serveSnapshot(
    call: grpc.ServerReadableStream<SnapshotChunk__Output, SnapshotReceived>,
    cb: grpc.sendUnaryData<SnapshotReceived>,
  ): void {
    const id = checkIdentity(call.metadata, this.opts.clusterId, this.opts.self);
    if (!id.ok) {
      cb({ code: id.status, details: id.reason });
      return;
    }
    let header: Uint8Array | null = null;
    const chunks: Uint8Array[] = [];
    let size = 0;
    let failed = false;
    const fail = (code: grpc.status, details: string): void => {
      if (failed) return;
      failed = true;
      cb({ code, details });
    };
    call.on('data', (chunk: SnapshotChunk__Output) => {
      if (failed) return;
      if (header === null) {
        if (chunk.header.byteLength === 0) return fail(grpc.status.INVALID_ARGUMENT, 'first snapshot chunk has no header');
        header = chunk.header;
      }
      size += chunk.data.byteLength;
      if (size > this.maxSnapshotBytes) return fail(grpc.status.RESOURCE_EXHAUSTED, 'snapshot too large');
      chunks.push(chunk.data);
    });
    call.on('error', () => fail(grpc.status.CANCELLED, 'stream error'));
    call.on('end', () => {
      if (failed) return;
      if (header === null) return fail(grpc.status.INVALID_ARGUMENT, 'empty snapshot stream');
      if (this.paused) return fail(grpc.status.UNAVAILABLE, 'partitioned');
      const data = Buffer.concat(chunks);
      const frame = this.decodeFrom(id.from, header, data);
      if (frame === null || frame.envelopes.length !== 1 || frame.envelopes[0]!.message.type !== 'snap') {
        return fail(grpc.status.INVALID_ARGUMENT, 'malformed snapshot message');
      }
      this.opts.handler.onFrame(id.from, frame);
      cb(null, {});
    });
  }

  /** Decodes and vets a frame: every message must come from the authenticated sender and be
   * for us. A frame that does not parse is dropped whole. */
  private decodeFrom(from: NodeId, bytes: Uint8Array, snapshotData?: Uint8Array): Frame | null {
    let frame: Frame;
    try {
      frame = decodeFrame(bytes, snapshotData);
    } catch (e) {
      if (!(e instanceof MalformedFrameError)) throw e;
      this.opts.logger.warn({ from, err: e.message }, 'dropped malformed raft frame');
      return null;
    }
    const envelopes = frame.envelopes.filter((env) => {
      if (env.message.from === from && env.message.to === this.opts.self) return true;
      this.opts.logger.warn({ from, claimed: env.message.from, to: env.message.to }, 'dropped misaddressed raft message');
      return false;
    });
    return { envelopes, quiesced: frame.quiesced };
  }
}

/** A cheap upper-bound estimate of a message's size, to split oversized frames. */
function approxBytes(env: GroupEnvelope): number {
  const m = env.message;
  if (m.type !== 'app' && m.type !== 'prop') return 64;
  let n = 64;
  for (const e of m.entries) n += 24 + (e.type === 'normal' ? e.data.byteLength : 32);
  return n;
}
