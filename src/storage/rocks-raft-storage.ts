import {
  EMPTY_HARD_STATE,
  MemoryStorage,
  logIndex,
  term,
  type ConfState,
  type Entry,
  type HardState,
  type LogIndex,
  type NodeId,
  type Snapshot,
  type Storage,
  type Term,
} from '../raft/index.js';
import {
  encodeEntry,
  encodeHardState,
  encodeLogOffset,
  encodeSnapshotMeta,
} from './codec.js';
import {
  hardStateKey,
  logEntryKey,
  logOffsetKey,
  snapshotDataKey,
  snapshotMetaKey,
  type GroupId,
} from './key-layout.js';
import type { WriteBatch } from './write-batch.js';

/** What a node finds on disk for one group when it starts. */
export interface PersistedGroup {
  readonly hardState: HardState;
  readonly snapshot: Snapshot;
  readonly offset: { index: LogIndex; term: Term };
  readonly entries: readonly Entry[];
  /** The last index the group's state machine applied (0 if none was recorded). */
  readonly applied: LogIndex;
}

/**
 * Makes a snapshot of the group's state machine as of its last applied entry, when raft needs one
 * to send. May throw SnapshotTemporarilyUnavailableError; raft then tries again later.
 */
export type SnapshotSource = () => Snapshot;

export const EMPTY_SNAPSHOT: Snapshot = {
  metadata: { index: logIndex(0), term: term(0), confState: { voters: [], learners: [] } },
  data: new Uint8Array(0),
};

/**
 * One group's raft storage over the node's RocksDB. The live log (everything after the last
 * compaction) is mirrored in memory so the synchronous core reads it without I/O, as etcd does with
 * its MemoryStorage over a WAL; every mutation updates the mirror and stages the matching writes in
 * the node's WriteBatch. Nothing is durable until the host flushes that batch with sync, and the
 * host sends no message that depends on it before then.
 */
export class RocksRaftStorage implements Storage {
  private readonly mem: MemoryStorage;
  private source: SnapshotSource | null = null;
  /** The last snapshot made by `source`, reused while the log still covers what follows it. */
  private made: Snapshot | null = null;

  constructor(
    readonly group: GroupId,
    private readonly batch: WriteBatch,
    persisted: PersistedGroup | null,
  ) {
    this.mem =
      persisted === null
        ? MemoryStorage.fromParts({
            hardState: EMPTY_HARD_STATE,
            snapshot: EMPTY_SNAPSHOT,
            offset: { index: logIndex(0), term: term(0) },
            entries: [],
          })
        : MemoryStorage.fromParts(persisted);
  }

  /** Writes the founding state of a new group (see MemoryStorage.bootstrap). */
  bootstrap(voters: readonly NodeId[]): void {
    const founding = MemoryStorage.bootstrap(voters);
    this.applySnapshot(founding.snapshot());
    this.setHardState(founding.initialState().hardState);
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.mem.initialState();
  }

  entries(lo: LogIndex, hi: LogIndex, maxBytes: number): Entry[] {
    return this.mem.entries(lo, hi, maxBytes);
  }

  term(i: LogIndex): Term {
    return this.mem.term(i);
  }

  firstIndex(): LogIndex {
    return this.mem.firstIndex();
  }

  lastIndex(): LogIndex {
    return this.mem.lastIndex();
  }

  /**
   * The snapshot raft sends to a follower that needs entries compacted away. With a source, it is
   * made from the state machine on demand (at its applied index, which is at or past the last
   * compaction point, so the follower continues from the log) and reused until compaction passes
   * it; without one, it is the persisted snapshot.
   */
  snapshot(): Snapshot {
    if (this.source === null) return this.mem.snapshot();
    if (this.made === null || this.made.metadata.index < this.mem.firstIndex() - 1) this.made = this.source();
    return this.made;
  }

  /**
   * The snapshot recorded on disk: the last compaction point (which carries no data when the
   * state machine's own rows hold the state, see setSnapshotSource) or the last snapshot
   * installed from a leader.
   */
  persistedSnapshot(): Snapshot {
    return this.mem.snapshot();
  }

  /**
   * Snapshots come from `source` from now on, and compaction points are recorded without data.
   * This is what a state machine that persists its own state beside its applied index wants:
   * serializing the whole state at every compaction (every few thousand entries, on the event
   * loop, then writing it into the fsynced batch) cost more than everything else in a loaded
   * benchmark, and is needed only when a follower falls behind the log.
   */
  setSnapshotSource(source: SnapshotSource): void {
    this.source = source;
    this.made = null;
  }

  setHardState(hs: HardState): void {
    this.mem.setHardState(hs);
    this.batch.put(hardStateKey(this.group), encodeHardState(hs));
  }

  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const oldLast = this.mem.lastIndex();
    this.mem.append(entries);
    for (const e of entries) {
      if (e.index > this.mem.logOffset().index) this.batch.put(logEntryKey(this.group, e.index), encodeEntry(e));
    }
    // A shorter replacement suffix leaves stale entries past the new end: delete them.
    for (let i = this.mem.lastIndex() + 1; i <= oldLast; i++) this.batch.del(logEntryKey(this.group, i));
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    const { index: oldOffset } = this.mem.logOffset();
    const oldLast = this.mem.lastIndex();
    this.mem.applySnapshot(snap);
    this.made = null;
    for (let i = oldOffset + 1; i <= oldLast; i++) this.batch.del(logEntryKey(this.group, i));
    this.stageSnapshot(snap);
    this.batch.put(logOffsetKey(this.group), encodeLogOffset(this.mem.logOffset()));
  }

  /**
   * Records a snapshot of the state machine at applied index i (the point the log may then be
   * compacted to); the log is kept. With a snapshot source, pass empty data.
   */
  createSnapshot(i: LogIndex, confState: ConfState, data: Uint8Array): Snapshot {
    const snap = this.mem.createSnapshot(i, confState, data);
    this.stageSnapshot(snap);
    return snap;
  }

  /** Discards log entries up to and including i (a snapshot must cover them). */
  compact(i: LogIndex): void {
    this.mem.compact(i);
    this.batch.put(logOffsetKey(this.group), encodeLogOffset(this.mem.logOffset()));
    // The entries go as one range dropped after the new offset is written. It starts at index 0,
    // so leftovers of a drop lost in a crash go too.
    this.batch.dropAfterWrite({ gte: logEntryKey(this.group, 0), lt: logEntryKey(this.group, i + 1) });
  }

  private stageSnapshot(snap: Snapshot): void {
    this.batch.put(snapshotMetaKey(this.group), encodeSnapshotMeta(snap.metadata));
    this.batch.put(snapshotDataKey(this.group), snap.data);
  }
}
