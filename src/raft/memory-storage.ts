import {
  CompactedError,
  RaftInvariantError,
  SnapshotOutOfDateError,
  UnavailableError,
} from './errors.js';
import type { Storage } from './storage.js';
import { limitEntriesSize } from './limit-size.js';
import {
  EMPTY_HARD_STATE,
  logIndex,
  term as toTerm,
  type ConfState,
  type Entry,
  type HardState,
  type LogIndex,
  type NodeId,
  type Snapshot,
  type Term,
} from './types.js';

/**
 * The storage contract kept in memory: for tests and the simulator, where "persisted" means "in
 * this object", which survives a simulated crash while the RawNode does not.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot;
  /** The log holds entries (offsetIndex, lastIndex]; entry offsetIndex is known only by its term.
   * offsetIndex <= snap.metadata.index: compaction never discards what no snapshot covers. */
  private offsetIndex: LogIndex = logIndex(0);
  private offsetTerm: Term = toTerm(0);
  /** ents[k] has index offsetIndex + 1 + k. */
  private ents: Entry[] = [];

  constructor(confState: ConfState = { voters: [], learners: [] }) {
    this.snap = {
      metadata: { index: logIndex(0), term: toTerm(0), confState },
      data: new Uint8Array(0),
    };
  }

  /**
   * Storage for a founding member of a new group: a snapshot at index 1, term 1 naming the voters.
   * Starting from a snapshot rather than from log entries means a member that joins later learns
   * the founding membership the same way it learns everything else: from the leader's snapshot.
   */
  static bootstrap(voters: readonly NodeId[]): MemoryStorage {
    const s = new MemoryStorage();
    s.applySnapshot({
      metadata: { index: logIndex(1), term: toTerm(1), confState: { voters: [...voters], learners: [] } },
      data: new Uint8Array(0),
    });
    s.setHardState({ term: toTerm(1), vote: null, commit: logIndex(1) });
    return s;
  }

  /**
   * Rebuilds storage from persisted parts (a disk-backed storage mirrors its live log in memory).
   * `offset` is the entry just before `entries`, known only by its term since compaction.
   */
  static fromParts(parts: {
    hardState: HardState;
    snapshot: Snapshot;
    offset: { index: LogIndex; term: Term };
    entries: readonly Entry[];
  }): MemoryStorage {
    const s = new MemoryStorage();
    s.applySnapshot(parts.snapshot);
    s.offsetIndex = parts.offset.index;
    s.offsetTerm = parts.offset.term;
    if (s.offsetIndex > s.snap.metadata.index) {
      throw new RaftInvariantError(`log offset ${s.offsetIndex} is past the snapshot ${s.snap.metadata.index}`);
    }
    parts.entries.forEach((e, k) => {
      if (e.index !== s.offsetIndex + 1 + k) {
        throw new RaftInvariantError(`persisted log has a gap at ${s.offsetIndex + 1 + k} (found ${e.index})`);
      }
    });
    s.ents = parts.entries.slice();
    s.hardState = parts.hardState;
    return s;
  }

  /** The entry before the first one held: compaction keeps its term so appends can match it. */
  logOffset(): { index: LogIndex; term: Term } {
    return { index: this.offsetIndex, term: this.offsetTerm };
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  entries(lo: LogIndex, hi: LogIndex, maxBytes: number): Entry[] {
    if (lo <= this.offsetIndex) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi);
    if (lo > hi) throw new RaftInvariantError(`entries: lo ${lo} > hi ${hi}`);
    const base = this.offsetIndex + 1;
    return limitEntriesSize(this.ents.slice(lo - base, hi - base), maxBytes);
  }

  term(i: LogIndex): Term {
    if (i < this.offsetIndex) throw new CompactedError(i);
    if (i === this.offsetIndex) return this.offsetTerm;
    const e = this.ents[i - this.offsetIndex - 1];
    if (e === undefined) throw new UnavailableError(i);
    return e.term;
  }

  firstIndex(): LogIndex {
    return logIndex(this.offsetIndex + 1);
  }

  lastIndex(): LogIndex {
    return logIndex(this.offsetIndex + this.ents.length);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole log with the snapshot (a follower installing the leader's snapshot). */
  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index < this.snap.metadata.index) {
      throw new SnapshotOutOfDateError(snap.metadata.index);
    }
    this.snap = snap;
    this.offsetIndex = snap.metadata.index;
    this.offsetTerm = snap.metadata.term;
    this.ents = [];
  }

  /**
   * Records a snapshot of the state machine as of applied index i. The log is kept: compaction is a
   * separate step so that slow followers can still be caught up from the log for a while.
   */
  createSnapshot(i: LogIndex, confState: ConfState, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapshotOutOfDateError(i);
    if (i > this.lastIndex()) {
      throw new RaftInvariantError(`snapshot index ${i} is past the last index ${this.lastIndex()}`);
    }
    this.snap = { metadata: { index: i, term: this.term(i), confState }, data };
    return this.snap;
  }

  /** Discards entries up to and including `i`, which a snapshot must already cover. */
  compact(i: LogIndex): void {
    if (i <= this.offsetIndex) throw new CompactedError(i);
    if (i > this.snap.metadata.index) {
      throw new RaftInvariantError(
        `compact(${i}) beyond the snapshot at ${this.snap.metadata.index}: create a snapshot first`,
      );
    }
    const t = this.term(i);
    this.ents = this.ents.slice(i - this.offsetIndex);
    this.offsetIndex = i;
    this.offsetTerm = t;
  }

  /**
   * Appends entries, discarding any existing entries from the first one's index on (a follower
   * truncating a conflicting suffix). The entries must be contiguous and start at or before
   * lastIndex()+1.
   */
  append(entries: readonly Entry[]): void {
    // Entries already covered by compaction are committed and equal to ours: skip them.
    const fresh = entries.filter((e) => e.index > this.offsetIndex);
    const head = fresh[0];
    if (head === undefined) return;
    if (head.index > this.lastIndex() + 1) {
      throw new RaftInvariantError(
        `append: gap between last index ${this.lastIndex()} and ${head.index}`,
      );
    }
    if (head.index === this.lastIndex() + 1) {
      for (const e of fresh) this.ents.push(e);
    } else {
      this.ents = this.ents.slice(0, head.index - this.offsetIndex - 1).concat(fresh);
    }
  }
}
