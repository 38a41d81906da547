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

  snapshot(): Snapshot {
    return this.mem.snapshot();
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
    for (let i = oldOffset + 1; i <= oldLast; i++) this.batch.del(logEntryKey(this.group, i));
    this.stageSnapshot(snap);
    this.batch.put(logOffsetKey(this.group), encodeLogOffset(this.mem.logOffset()));
  }

  /** Records a snapshot of the state machine at applied index i; the log is kept. */
  createSnapshot(i: LogIndex, confState: ConfState, data: Uint8Array): Snapshot {
    const snap = this.mem.createSnapshot(i, confState, data);
    this.stageSnapshot(snap);
    return snap;
  }

  /** Discards log entries up to and including i (a snapshot must cover them). */
  compact(i: LogIndex): void {
    const { index: oldOffset } = this.mem.logOffset();
    this.mem.compact(i);
    for (let k = oldOffset + 1; k <= i; k++) this.batch.del(logEntryKey(this.group, k));
    this.batch.put(logOffsetKey(this.group), encodeLogOffset(this.mem.logOffset()));
  }

  private stageSnapshot(snap: Snapshot): void {
    this.batch.put(snapshotMetaKey(this.group), encodeSnapshotMeta(snap.metadata));
    this.batch.put(snapshotDataKey(this.group), snap.data);
  }
}
