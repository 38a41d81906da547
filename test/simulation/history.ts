import type { LogIndex, NodeId } from '../../src/raft/index.js';
import { Violation } from './checker.js';
import type { ApplyEvent } from './sim-node.js';

interface Proposal {
  readonly id: string;
  readonly node: NodeId;
  readonly incarnation: number;
  readonly issuedAt: number;
  ackedAt: number | null;
  index: LogIndex | null;
}

interface Read {
  readonly ctx: string;
  readonly node: NodeId;
  readonly incarnation: number;
  readonly issuedAt: number;
  /** The highest log index of a proposal acknowledged before this read was issued. */
  readonly mustSee: number;
  readIndex: LogIndex | null;
}

/**
 * What the simulated clients did and were told. A proposal is acknowledged when the node it was
 * submitted to (the same process incarnation) applies it. A read is linearizable if its read index
 * covers every write acknowledged before the read was issued.
 */
export class History {
  private readonly proposals = new Map<string, Proposal>();
  private readonly reads = new Map<string, Read>();
  private maxAckedIndex = 0;
  acked = 0;
  readsServed = 0;

  propose(id: string, node: NodeId, incarnation: number, now: number): void {
    this.proposals.set(id, { id, node, incarnation, issuedAt: now, ackedAt: null, index: null });
  }

  read(ctx: string, node: NodeId, incarnation: number, now: number): void {
    this.reads.set(ctx, { ctx, node, incarnation, issuedAt: now, mustSee: this.maxAckedIndex, readIndex: null });
  }

  onApply(e: ApplyEvent, now: number): void {
    const p = this.proposals.get(e.id);
    if (p === undefined || p.ackedAt !== null) return;
    if (p.node !== e.node || p.incarnation !== e.incarnation) return;
    p.ackedAt = now;
    p.index = e.entry.index;
    this.acked++;
    if (e.entry.index > this.maxAckedIndex) this.maxAckedIndex = e.entry.index;
  }

  /** A read index arrived at `node`: it must cover every write acknowledged before the read. */
  onReadState(node: NodeId, incarnation: number, ctx: string, index: LogIndex): void {
    const r = this.reads.get(ctx);
    if (r === undefined || r.node !== node || r.incarnation !== incarnation || r.readIndex !== null) return;
    r.readIndex = index;
    this.readsServed++;
    if (index < r.mustSee) {
      throw new Violation(
        'Linearizable reads',
        `read ${ctx} on ${node} got read index ${index}, but a write at index ${r.mustSee} was acknowledged before it was issued`,
      );
    }
  }

  /** Every acknowledged proposal must be in the final state of every member. */
  checkNoAckedLoss(finalStates: ReadonlyMap<NodeId, readonly string[]>): void {
    for (const [node, sm] of finalStates) {
      const present = new Set(sm);
      for (const p of this.proposals.values()) {
        if (p.ackedAt !== null && !present.has(p.id)) {
          throw new Violation('No acknowledged write lost', `${p.id} (index ${p.index}, acknowledged by ${p.node}) is missing on ${node}`);
        }
      }
    }
  }

  proposalCount(): number {
    return this.proposals.size;
  }
}
