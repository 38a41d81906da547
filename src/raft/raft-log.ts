import { CompactedError, RaftInvariantError, UnavailableError } from './errors.js';
import { limitEntriesSize } from './limit-size.js';
import type { Storage } from './storage.js';
import { Unstable } from './unstable.js';
import { logIndex, type Entry, type LogIndex, type Snapshot, type Term } from './types.js';

/**
 * A node's view of its log: what storage holds, followed by what is not yet persisted.
 * Invariant: applied <= committed <= lastIndex().
 */
export class RaftLog {
  readonly unstable: Unstable;
  /** The highest index known to be committed (Figure 2 "commitIndex"). */
  committed: LogIndex;
  /** The highest index handed to the host for applying (Figure 2 "lastApplied"). */
  applied: LogIndex;

  constructor(
    readonly storage: Storage,
    private readonly maxCommittedSize: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(logIndex(last + 1));
    this.committed = logIndex(first - 1);
    this.applied = logIndex(first - 1);
  }

  firstIndex(): LogIndex {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): LogIndex {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** The term of entry i, or null if i is compacted away or past the end. */
  term(i: LogIndex): Term | null {
    const dummy = this.firstIndex() - 1;
    if (i < dummy || i > this.lastIndex()) return null;
    const t = this.unstable.maybeTerm(i);
    if (t !== null) return t;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return null;
      throw e;
    }
  }

  lastTerm(): Term {
    const t = this.term(this.lastIndex());
    if (t === null) throw new RaftInvariantError(`no term for the last index ${this.lastIndex()}`);
    return t;
  }

  matchTerm(i: LogIndex, t: Term): boolean {
    return this.term(i) === t;
  }

  /**
   * §5.4.1: a log is at least as up-to-date as ours if its last term is higher, or equal with an
   * index at least as large.
   */
  isUpToDate(lastIndex: LogIndex, lastTerm: Term): boolean {
    const ours = this.lastTerm();
    return lastTerm > ours || (lastTerm === ours && lastIndex >= this.lastIndex());
  }

  /**
   * The follower's side of AppendEntries (Figure 2, receiver rules 2-5). Returns the index of the
   * last new entry, or null when the entry before `ents` does not match.
   */
  maybeAppend(index: LogIndex, logTerm: Term, committed: LogIndex, ents: readonly Entry[]): LogIndex | null {
    if (!this.matchTerm(index, logTerm)) return null;
    const lastNew = logIndex(index + ents.length);
    const conflict = this.findConflict(ents);
    if (conflict !== null) {
      if (conflict <= this.committed) {
        throw new RaftInvariantError(`entry ${conflict} conflicts with committed entry ${this.committed}`);
      }
      this.append(ents.slice(conflict - (index + 1)));
    }
    // Rule 5: commit up to min(leaderCommit, index of last new entry), never beyond what matched.
    this.commitTo(logIndex(Math.min(committed, lastNew)));
    return lastNew;
  }

  append(ents: readonly Entry[]): LogIndex {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    if (first.index - 1 < this.committed) {
      throw new RaftInvariantError(`append at ${first.index} would overwrite committed ${this.committed}`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The first entry of `ents` that is new or whose term differs from ours at its index (Figure 2,
   * receiver rule 3), or null when we already hold all of them.
   */
  findConflict(ents: readonly Entry[]): LogIndex | null {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return null;
  }

  /**
   * For fast backtracking: the largest index <= `index` whose term is <= `t`. Entries after it
   * cannot match a log whose entry at `index` has term `t`, so the leader may skip them.
   */
  findConflictByTerm(index: LogIndex, t: Term): { index: LogIndex; term: Term } {
    let i = logIndex(Math.min(index, this.lastIndex()));
    for (;;) {
      const ti = this.term(i);
      if (ti === null) return { index: i, term: 0 as Term };
      if (ti <= t) return { index: i, term: ti };
      i = logIndex(i - 1);
    }
  }

  unstableEntries(): readonly Entry[] {
    return this.unstable.entries;
  }

  /** Committed entries not yet handed to the host, at most maxCommittedSize bytes (one at least). */
  nextCommittedEntries(): Entry[] {
    const lo = logIndex(Math.max(this.applied + 1, this.firstIndex()));
    const hi = logIndex(this.committed + 1);
    if (lo >= hi) return [];
    return this.slice(lo, hi, this.maxCommittedSize);
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  /** Entries [lo, hi), at most maxBytes (one at least). Throws CompactedError below firstIndex. */
  slice(lo: LogIndex, hi: LogIndex, maxBytes: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const uOffset = this.unstable.offset;
    if (lo < uOffset) {
      ents = this.storage.entries(lo, logIndex(Math.min(hi, uOffset)), maxBytes);
      // Storage stopped early because of the size cap: do not add unstable entries after a gap.
      if (ents.length < Math.min(hi, uOffset) - lo) return ents;
    }
    if (hi > uOffset) {
      const tail = this.unstable.slice(logIndex(Math.max(lo, uOffset)), hi);
      ents = ents.length > 0 ? ents.concat(tail) : tail;
    }
    return limitEntriesSize(ents, maxBytes);
  }

  /** Entries from i to the end, for an append message. */
  entriesFrom(i: LogIndex, maxBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, logIndex(this.lastIndex() + 1), maxBytes);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(toCommit: LogIndex): void {
    if (toCommit <= this.committed) return;
    if (toCommit > this.lastIndex()) {
      throw new RaftInvariantError(`commit ${toCommit} is past the last index ${this.lastIndex()}`);
    }
    this.committed = toCommit;
  }

  /**
   * Figure 2, rules for leaders: commit N only if a majority matches it AND log[N].term is the
   * current term (§5.4.2: older-term entries commit only indirectly).
   */
  maybeCommit(maxIndex: LogIndex, currentTerm: Term): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === currentTerm) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(i: LogIndex): void {
    if (i === 0) return;
    if (i > this.committed || i < this.applied) {
      throw new RaftInvariantError(`applied ${i} is outside [${this.applied}, ${this.committed}]`);
    }
    this.applied = i;
  }

  stableTo(i: LogIndex, t: Term): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: LogIndex): void {
    this.unstable.stableSnapTo(i);
  }

  /** Replaces the log with a snapshot (a follower installing InstallSnapshot). */
  restore(snap: Snapshot): void {
    this.committed = snap.metadata.index;
    this.unstable.restore(snap);
  }
}
