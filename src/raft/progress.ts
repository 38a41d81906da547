import { Inflights } from './inflights.js';
import { logIndex, type LogIndex } from './types.js';

/**
 * How the leader replicates to one follower:
 * - probe: one append per heartbeat interval until the follower's log position is found;
 * - replicate: optimistic pipelining, bounded by the inflight window;
 * - snapshot: a snapshot is on its way; nothing else is sent until it is reported done or failed.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  /** The highest index known to be replicated on the follower. Invariant: match < next. */
  match: LogIndex;
  /** The index of the next entry to send. */
  next: LogIndex;
  state: ProgressState = 'probe';
  /** In probe state: an append was sent this heartbeat interval; wait before sending another. */
  probeSent = false;
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot: LogIndex = logIndex(0);
  /** The highest commit index sent to the follower this term (in an append or a heartbeat). */
  sentCommit = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(
    next: LogIndex,
    maxInflight: number,
    public isLearner: boolean,
  ) {
    this.match = logIndex(0);
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = logIndex(0);
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      // The follower may have installed the snapshot: resume after it.
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = logIndex(Math.max(this.match + 1, pending + 1));
    } else {
      this.resetState('probe');
      this.next = logIndex(this.match + 1);
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = logIndex(this.match + 1);
  }

  becomeSnapshot(snapshotIndex: LogIndex): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** An append carrying entries up to `lastIndex` was sent (possibly empty: lastIndex = next-1). */
  sentEntries(entryCount: number, lastIndex: LogIndex): void {
    switch (this.state) {
      case 'replicate':
        if (entryCount > 0) {
          this.next = logIndex(lastIndex + 1);
          this.inflights.add(lastIndex);
        }
        break;
      case 'probe':
        this.probeSent = true;
        break;
      case 'snapshot':
        break;
    }
  }

  /** The follower acknowledged up to n. Returns false for a stale acknowledgement. */
  maybeUpdate(n: LogIndex): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < n + 1) this.next = logIndex(n + 1);
    return updated;
  }

  /**
   * The follower rejected an append at `rejected`; `matchHint` is the highest index that may still
   * match. Returns false when the rejection is stale (out of order) and must be ignored.
   */
  maybeDecrTo(rejected: LogIndex, matchHint: LogIndex): boolean {
    if (this.state === 'replicate') {
      // Only a rejection of something after match is news; anything else is an old message.
      if (rejected <= this.match) return false;
      this.next = logIndex(this.match + 1);
      return true;
    }
    // In probe state only the latest probe (at next-1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = logIndex(Math.max(Math.min(rejected, matchHint + 1), this.match + 1));
    this.probeSent = false;
    return true;
  }

  /** Whether sending must wait: a probe already out, a snapshot in flight, or a full window. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
