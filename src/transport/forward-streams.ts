import * as grpc from '@grpc/grpc-js';
import type { ForwardBatch } from '../generated/taskraft/queue/ForwardBatch.js';
import type { ForwardReplies__Output } from '../generated/taskraft/queue/ForwardReplies.js';
import type { ProposeReply__Output } from '../generated/taskraft/queue/ProposeReply.js';
import type { ProposeRequest } from '../generated/taskraft/queue/ProposeRequest.js';
import type { QueueClient } from '../generated/taskraft/queue/Queue.js';
import type { NodeId } from '../raft/index.js';
import { identityMetadata } from './peer-identity.js';
import { PeerCallError } from './unary-calls.js';

interface PendingProposal {
  resolve(reply: ProposeReply__Output): void;
  reject(e: Error): void;
  readonly deadline: number;
}

/** The open stream to one peer and the proposals waiting on it. */
interface PeerLink {
  readonly address: string;
  readonly client: QueueClient;
  call: grpc.ClientDuplexStream<ForwardBatch, ForwardReplies__Output> | null;
  /** Proposals gathered this turn, written together when the turn ends. */
  outbox: ProposeRequest[];
  readonly pending: Map<number, PendingProposal>;
}

/** How often proposals whose deadline passed are failed (the stream has no per-message deadline). */
const SWEEP_MS = 100;

/**
 * The sending side of proposal forwarding: one long-lived bidirectional stream per peer. Every
 * proposal made in one event-loop turn for the same peer goes in one message; answers come back
 * batched and are matched by id. A broken stream fails what waits on it (the caller looks the
 * leader up again and retries) and is reopened by the next proposal.
 */
export class ForwardStreams {
  private readonly links = new Map<NodeId, PeerLink>();
  private seq = 0;
  private flushScheduled = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly self: NodeId,
    private readonly clusterId: string,
    private readonly resolve: (peer: NodeId) => string | null,
    private readonly makeClient: (address: string) => QueueClient,
  ) {
    this.sweeper = setInterval(() => this.expire(Date.now()), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Resolves with the leader's answer; rejects with PeerCallError if it cannot be had in time. */
  propose(peer: NodeId, partition: number, opsJson: string, timeoutMs: number): Promise<ProposeReply__Output> {
    const link = this.link(peer);
    if (link === null) return Promise.reject(new PeerCallError(peer, grpc.status.UNAVAILABLE, 'address unknown'));
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      link.pending.set(id, { resolve, reject, deadline: Date.now() + timeoutMs });
      link.outbox.push({ id, partition, opsJson });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const [peer, link] of this.links) this.drop(peer, link, grpc.status.CANCELLED, 'node stopping');
    this.links.clear();
  }

  /**
   * Writes the proposals gathered so far now, not at the end of the turn: for a caller that has
   * just made all of its turn's proposals (the queue's outbox), so they leave this event-loop turn
   * rather than the next.
   */
  flush(): void {
    this.flushScheduled = false;
    for (const [peer, link] of this.links) {
      if (link.outbox.length === 0) continue;
      const requests = link.outbox;
      link.outbox = [];
      this.open(peer, link).write({ requests });
    }
  }

  private link(peer: NodeId): PeerLink | null {
    const address = this.resolve(peer);
    if (address === null) return null;
    const known = this.links.get(peer);
    if (known !== undefined && known.address === address) return known;
    if (known !== undefined) this.drop(peer, known, grpc.status.UNAVAILABLE, `${peer} moved to ${address}`);
    const link: PeerLink = { address, client: this.makeClient(address), call: null, outbox: [], pending: new Map() };
    this.links.set(peer, link);
    return link;
  }

  private open(peer: NodeId, link: PeerLink): grpc.ClientDuplexStream<ForwardBatch, ForwardReplies__Output> {
    if (link.call !== null) return link.call;
    const call = link.client.Forward(identityMetadata(this.clusterId, this.self, peer));
    link.call = call;
    call.on('data', (batch: ForwardReplies__Output) => {
      for (const reply of batch.replies) {
        const p = link.pending.get(reply.id);
        if (p === undefined) continue;
        link.pending.delete(reply.id);
        p.resolve(reply);
      }
    });
    // 'error' carries the status (a refused identity, an unreachable peer); 'end' a clean close.
    call.on('error', (e: grpc.ServiceError) => this.broken(peer, link, call, e.code, e.details));
    call.on('end', () => this.broken(peer, link, call, grpc.status.UNAVAILABLE, 'stream ended'));
    return call;
  }

  /** Fails everything the broken stream carried; the next proposal opens a new one. */
  private broken(peer: NodeId, link: PeerLink, call: grpc.ClientDuplexStream<ForwardBatch, ForwardReplies__Output>, code: grpc.status, details: string): void {
    if (link.call !== call) return;
    link.call = null;
    const err = new PeerCallError(peer, code, details);
    for (const p of link.pending.values()) p.reject(err);
    link.pending.clear();
  }

  private drop(peer: NodeId, link: PeerLink, code: grpc.status, details: string): void {
    const call = link.call;
    if (call !== null) {
      this.broken(peer, link, call, code, details);
      call.cancel();
    }
    for (const p of link.pending.values()) p.reject(new PeerCallError(peer, code, details));
    link.pending.clear();
    link.outbox = [];
    link.client.close();
  }

  private expire(now: number): void {
    for (const [peer, link] of this.links) {
      for (const [id, p] of link.pending) {
        if (p.deadline > now) continue;
        link.pending.delete(id);
        p.reject(new PeerCallError(peer, grpc.status.DEADLINE_EXCEEDED, 'no answer before the deadline'));
      }
    }
  }
}
