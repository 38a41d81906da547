import type { LogIndex, NodeId } from './types.js';

/** A ReadIndex request waiting for a quorum to confirm that the leader is still the leader. */
export interface PendingRead {
  readonly index: LogIndex;
  readonly context: string;
  /** Who asked: the leader itself, or the follower that forwarded it. */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

/**
 * The leader's queue of ReadIndex requests (paper §6.4, "safe" mode): each records the commit index
 * when it arrived, and is answered once a heartbeat round that started after it is acknowledged by a
 * quorum. A quorum answering a later request also confirms every earlier one.
 */
export class ReadOnly {
  private readonly byContext = new Map<string, PendingRead>();
  private queue: string[] = [];

  add(index: LogIndex, context: string, from: NodeId): void {
    if (this.byContext.has(context)) return;
    this.byContext.set(context, { index, context, from, acks: new Set() });
    this.queue.push(context);
  }

  /** Records an acknowledgement; returns the acknowledgers so far, or null for an unknown context. */
  recvAck(from: NodeId, context: string): ReadonlySet<NodeId> | null {
    const p = this.byContext.get(context);
    if (p === undefined) return null;
    p.acks.add(from);
    return p.acks;
  }

  /** Removes and returns every request up to and including `context`, oldest first. */
  advance(context: string): PendingRead[] {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: PendingRead[] = [];
    for (const ctx of done) {
      const p = this.byContext.get(ctx);
      if (p !== undefined) out.push(p);
      this.byContext.delete(ctx);
    }
    return out;
  }

  /** The pending requests, oldest first. */
  pending(): PendingRead[] {
    return this.queue.map((ctx) => this.byContext.get(ctx)!);
  }

  lastPendingContext(): string | null {
    return this.queue[this.queue.length - 1] ?? null;
  }

  size(): number {
    return this.queue.length;
  }

  reset(): void {
    this.byContext.clear();
    this.queue = [];
  }
}
