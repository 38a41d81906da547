import type { RaftConfig } from './config.js';
import { RaftInvariantError } from './errors.js';
import type { Message } from './message.js';
import type { ProgressState } from './progress.js';
import { Raft } from './raft.js';
import type { Ready } from './ready.js';
import {
  hardStateEqual,
  type ConfChange,
  type ConfState,
  type HardState,
  type LogIndex,
  type NodeId,
  type SoftState,
  type Term,
} from './types.js';

export interface ProgressStatus {
  readonly match: LogIndex;
  readonly next: LogIndex;
  readonly state: ProgressState;
  readonly recentActive: boolean;
  readonly isLearner: boolean;
  readonly pendingSnapshot: LogIndex;
}

export interface ProposalPosition {
  readonly index: LogIndex;
  readonly term: Term;
}

/** What a write makes durable: the log up to (index, term), the last entry the log held when the
 * write was staged (writes are ordered), and the hard state of `hardStateTerm`. */
export interface DurableMark {
  readonly index: LogIndex;
  readonly term: Term;
  readonly hardStateTerm: Term;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: LogIndex;
  readonly committed: LogIndex;
  readonly lastIndex: LogIndex;
  readonly confState: ConfState;
  readonly leadTransferee: NodeId | null;
  /** The leader's view of every member; null on other roles. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus> | null;
}

/**
 * The host's handle on one Raft group member (the etcd RawNode pattern): feed it ticks, messages
 * and requests, then drain Ready batches, persisting, sending and applying each before `advance`.
 * Everything is synchronous; the host owns all I/O and time.
 */
export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  /** The Ready handed out and not yet advanced: a second one would hand out the same entries. */
  private outstanding: Ready | null = null;
  /** The log's last entry when `outstanding` was handed out: it and all before it are in that
   * Ready or in storage already. */
  private lastAtReady: { index: LogIndex; term: Term } | null = null;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (PreVote first, if enabled). */
  campaign(): void {
    this.raft.hup('election');
  }

  /**
   * Proposes a command. On the leader, returns where it was appended: it committed if the entry
   * applied at that index has that term, and was lost if another term's entry is applied there.
   * Returns null when forwarded to the leader. Throws ProposalDroppedError when refused.
   */
  propose(data: Uint8Array): ProposalPosition | null {
    return this.position(this.raft.propose([{ type: 'normal', data }]));
  }

  /** Proposes one membership change; it takes effect when the host applies it (applyConfChange). */
  proposeConfChange(change: ConfChange): ProposalPosition | null {
    return this.position(this.raft.propose([{ type: 'confChange', change }]));
  }

  private position(index: LogIndex | null): ProposalPosition | null {
    return index === null ? null : { index, term: this.raft.term };
  }

  /** The host applies a committed confChange entry through this, in log order. */
  applyConfChange(change: ConfChange): ConfState {
    return this.raft.applyConfChange(change);
  }

  step(m: Message): void {
    this.raft.step(m);
  }

  /**
   * Requests a linearizable read point; it arrives as a ReadState with the same context. Answers
   * are matched by context alone, so a context must never repeat in the life of this node's
   * data, restarts included: a delayed answer to an old request would otherwise serve a new one.
   */
  readIndex(context: string): void {
    this.raft.readIndex(context);
  }

  transferLeader(to: NodeId): void {
    this.raft.transferLeader(to);
  }

  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, status: 'finish' | 'failure'): void {
    this.raft.reportSnapshot(id, status);
  }

  hasReady(): boolean {
    if (this.outstanding !== null) return false;
    const r = this.raft;
    r.flushProposals();
    const ss = r.softState();
    if (ss.leader !== this.prevSoftState.leader || ss.role !== this.prevSoftState.role) return true;
    if (!hardStateEqual(r.hardState(), this.prevHardState)) return true;
    return (
      r.log.unstable.snapshot !== null ||
      r.log.unstableEntries().length > 0 ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.log.hasNextCommittedEntries()
    );
  }

  ready(): Ready {
    if (this.outstanding !== null) {
      throw new RaftInvariantError('ready() called again before advance()');
    }
    const r = this.raft;
    r.flushProposals();
    const ss = r.softState();
    const hs = r.hardState();
    const softChanged = ss.leader !== this.prevSoftState.leader || ss.role !== this.prevSoftState.role;
    const hardChanged = !hardStateEqual(hs, this.prevHardState);
    const entries = r.log.unstableEntries().slice();
    const snapshot = r.log.unstable.snapshot;
    const rd: Ready = {
      softState: softChanged ? ss : null,
      hardState: hardChanged ? hs : null,
      readStates: r.readStates,
      entries,
      snapshot,
      committedEntries: r.log.nextCommittedEntries(),
      messages: r.msgs,
      // Figure 2's persistent state is term, vote and log; a commit index alone may be lost.
      mustSync:
        entries.length > 0 ||
        snapshot !== null ||
        hs.term !== this.prevHardState.term ||
        hs.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.readStates = [];
    this.lastAtReady = { index: r.log.lastIndex(), term: r.log.lastTerm() };
    if (softChanged) this.prevSoftState = ss;
    if (hardChanged) this.prevHardState = hs;
    this.outstanding = rd;
    return rd;
  }

  /** The host has persisted, sent and applied everything in `rd`. */
  advance(rd: Ready): void {
    const written = this.advanceBeforeDurable(rd);
    if (written !== null) this.persisted(written);
  }

  /**
   * For a host that writes asynchronously: it has staged `rd`'s state in a write still in flight
   * (its storage already serves those entries), sent the messages that may leave before the write,
   * and applied `rd`'s committed entries. The next Ready may be taken at once. Returns what that
   * write makes durable, to hand to `persisted` when it is; null when `rd` had nothing to write.
   */
  advanceBeforeDurable(rd: Ready): DurableMark | null {
    if (rd !== this.outstanding) throw new RaftInvariantError('advance() with a Ready not handed out last');
    this.outstanding = null;
    const log = this.raft.log;
    if (rd.snapshot !== null) {
      log.stableSnapTo(rd.snapshot.metadata.index);
      log.appliedTo(rd.snapshot.metadata.index);
    }
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) log.stableTo(lastEntry.index, lastEntry.term);
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) {
      log.appliedTo(lastCommitted.index);
      this.raft.reduceUncommittedSize(rd.committedEntries);
    }
    const last = this.lastAtReady;
    this.lastAtReady = null;
    if (last === null || (lastEntry === undefined && rd.hardState === null && rd.snapshot === null)) return null;
    return { index: last.index, term: last.term, hardStateTerm: this.prevHardState.term };
  }

  /** The write that held `mark` (and, in order, every earlier one) is durable. */
  persisted(mark: DurableMark): void {
    this.raft.termPersisted(mark.hardStateTerm);
    this.raft.persistedTo(mark.index, mark.term);
  }

  status(): RaftStatus {
    const r = this.raft;
    let progress: Map<NodeId, ProgressStatus> | null = null;
    if (r.role === 'leader') {
      progress = new Map();
      for (const [id, pr] of r.prs.progress) {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          recentActive: pr.recentActive,
          isLearner: pr.isLearner,
          pendingSnapshot: pr.pendingSnapshot,
        });
      }
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.log.applied,
      committed: r.log.committed,
      lastIndex: r.log.lastIndex(),
      confState: r.prs.confState(),
      leadTransferee: r.leadTransferee,
      progress,
    };
  }
}
