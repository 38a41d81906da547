import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { MessageBatch } from '../generated/taskraft/raft/MessageBatch.js';
import type { RaftTransportClient } from '../generated/taskraft/raft/RaftTransport.js';
import type { NodeId } from '../raft/index.js';
import { identityMetadata } from './peer-identity.js';

export interface PeerStreamOptions {
  readonly self: NodeId;
  readonly peer: NodeId;
  readonly clusterId: string;
  readonly client: RaftTransportClient;
  readonly logger: Logger;
  /** Frames written but not yet flushed to the socket before new frames are dropped. Raft
   * retransmits what is lost, so dropping is safe; buffering without bound is not. */
  readonly maxInflightFrames: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly now: () => number;
}

/**
 * The sending half of the link to one peer: a long-lived client stream, reopened with exponential
 * backoff when it breaks. A slow or dead peer costs only its own dropped frames: `send` never waits.
 */
export class PeerStream {
  private call: grpc.ClientWritableStream<MessageBatch> | null = null;
  private inflight = 0;
  private backoffMs: number;
  private retryAt = 0;
  private closed = false;
  /** Consecutive failures, to log the first of a series and not every retry. */
  private failures = 0;

  constructor(private readonly opts: PeerStreamOptions) {
    this.backoffMs = opts.minBackoffMs;
  }

  /** Sends one frame. Returns false when it was dropped (peer unreachable or saturated). */
  send(frame: Uint8Array): boolean {
    if (this.closed) return false;
    const call = this.ensureCall();
    if (call === null) return false;
    if (this.inflight >= this.opts.maxInflightFrames) return false;
    this.inflight++;
    call.write({ frame }, () => {
      this.inflight--;
    });
    return true;
  }

  isHealthy(): boolean {
    return this.call !== null && this.failures === 0;
  }

  close(): void {
    this.closed = true;
    this.call?.end();
    this.call = null;
  }

  private ensureCall(): grpc.ClientWritableStream<MessageBatch> | null {
    if (this.call !== null) return this.call;
    if (this.opts.now() < this.retryAt) return null;
    const md = identityMetadata(this.opts.clusterId, this.opts.self, this.opts.peer);
    const call = this.opts.client.Stream(md, (err) => this.onClosed(call, err));
    // A stream that gets as far as the peer's answer headers is up: reset the backoff.
    call.on('metadata', () => {
      if (this.failures > 0) this.opts.logger.info({ peer: this.opts.peer }, 'raft stream to peer restored');
      this.failures = 0;
      this.backoffMs = this.opts.minBackoffMs;
    });
    this.call = call;
    this.inflight = 0;
    return call;
  }

  private onClosed(call: grpc.ClientWritableStream<MessageBatch>, err: grpc.ServiceError | null): void {
    if (this.call !== call) return;
    this.call = null;
    if (this.closed) return;
    this.failures++;
    if (this.failures === 1) {
      this.opts.logger.warn({ peer: this.opts.peer, err: err?.details ?? 'stream ended' }, 'raft stream to peer broke');
    }
    this.retryAt = this.opts.now() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs);
  }
}
