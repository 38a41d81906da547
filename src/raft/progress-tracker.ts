import { Progress } from './progress.js';
import { assertNever, logIndex, type ConfChange, type ConfState, type LogIndex, type NodeId } from './types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * The group's membership as this node knows it, the leader's view of every member's replication
 * progress, and the votes of the current election. Quorums are majorities of voters; learners
 * receive the log but never count.
 */
export class ProgressTracker {
  /** Invariant: voters and learners are disjoint, and progress has an entry for each member. */
  private readonly voterSet = new Set<NodeId>();
  private readonly learnerSet = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();

  constructor(private readonly maxInflight: number) {}

  confState(): ConfState {
    return { voters: [...this.voterSet].sort(), learners: [...this.learnerSet].sort() };
  }

  isVoter(id: NodeId): boolean {
    return this.voterSet.has(id);
  }

  isMember(id: NodeId): boolean {
    return this.voterSet.has(id) || this.learnerSet.has(id);
  }

  voters(): readonly NodeId[] {
    return [...this.voterSet];
  }

  /** Whether this node alone makes a quorum (a single-voter group). */
  isSingleton(id: NodeId): boolean {
    return this.voterSet.size === 1 && this.voterSet.has(id);
  }

  /** Rebuilds membership from a snapshot or the persisted conf state. */
  reset(cs: ConfState, nextIndex: LogIndex): void {
    this.voterSet.clear();
    this.learnerSet.clear();
    this.progress.clear();
    for (const v of cs.voters) this.voterSet.add(v);
    for (const l of cs.learners) if (!this.voterSet.has(l)) this.learnerSet.add(l);
    for (const id of this.voterSet) this.progress.set(id, new Progress(nextIndex, this.maxInflight, false));
    for (const id of this.learnerSet) this.progress.set(id, new Progress(nextIndex, this.maxInflight, true));
  }

  /** Applies one committed membership change. `nextIndex` seeds the progress of a new member. */
  applyConfChange(cc: ConfChange, nextIndex: LogIndex): void {
    switch (cc.type) {
      case 'addVoter': {
        this.learnerSet.delete(cc.nodeId);
        this.voterSet.add(cc.nodeId);
        const pr = this.progress.get(cc.nodeId);
        if (pr === undefined) {
          this.progress.set(cc.nodeId, new Progress(nextIndex, this.maxInflight, false));
        } else {
          pr.isLearner = false;
        }
        return;
      }
      case 'addLearner': {
        // Demoting a voter to learner directly is refused: it is a remove and an add, two steps.
        if (this.voterSet.has(cc.nodeId)) return;
        this.learnerSet.add(cc.nodeId);
        if (!this.progress.has(cc.nodeId)) {
          this.progress.set(cc.nodeId, new Progress(nextIndex, this.maxInflight, true));
        }
        return;
      }
      case 'removeNode':
        this.voterSet.delete(cc.nodeId);
        this.learnerSet.delete(cc.nodeId);
        this.progress.delete(cc.nodeId);
        this.votes.delete(cc.nodeId);
        return;
      default:
        assertNever(cc);
    }
  }

  /** The highest index replicated on a majority of voters (paper §5.3: "a majority of matchIndex[i] >= N"). */
  committed(): LogIndex {
    const matches: number[] = [];
    for (const id of this.voterSet) matches.push(this.progress.get(id)?.match ?? 0);
    if (matches.length === 0) return logIndex(0);
    matches.sort((a, b) => b - a);
    return logIndex(matches[Math.floor(matches.length / 2)] ?? 0);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  voteResult(): VoteResult {
    const quorum = Math.floor(this.voterSet.size / 2) + 1;
    let granted = 0;
    let rejected = 0;
    for (const id of this.voterSet) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    if (granted >= quorum) return 'won';
    if (this.voterSet.size - rejected < quorum) return 'lost';
    return 'pending';
  }

  tally(): { granted: number; rejected: number } {
    let granted = 0;
    let rejected = 0;
    for (const [id, v] of this.votes) {
      if (!this.voterSet.has(id)) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected };
  }

  /** Whether a majority of voters was heard from recently (`self` counts as active). */
  quorumActive(self: NodeId): boolean {
    let active = 0;
    for (const id of this.voterSet) {
      if (id === self || this.progress.get(id)?.recentActive === true) active++;
    }
    return active >= Math.floor(this.voterSet.size / 2) + 1;
  }

  /** Whether the given set of acknowledgers includes a majority of voters. */
  hasQuorum(acks: ReadonlySet<NodeId>): boolean {
    let n = 0;
    for (const id of this.voterSet) if (acks.has(id)) n++;
    return n >= Math.floor(this.voterSet.size / 2) + 1;
  }
}
