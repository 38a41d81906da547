import { EMPTY_HARD_STATE, logIndex, term, type Entry, type HardState, type LogIndex, type Snapshot } from '../raft/index.js';
import {
  CorruptRecordError,
  decodeEntry,
  decodeHardState,
  decodeLogOffset,
  decodeSnapshotMeta,
  decodeU64,
} from './codec.js';
import { groupOfKey, logIndexOfKey, raftKeyKind, raftRange, type GroupId } from './key-layout.js';
import type { RocksDatabase } from './rocks-database.js';
import { EMPTY_SNAPSHOT, type PersistedGroup } from './rocks-raft-storage.js';

interface Partial {
  hardState: HardState;
  snapshotMeta: Snapshot['metadata'] | null;
  snapshotData: Uint8Array;
  offset: { index: LogIndex; term: ReturnType<typeof term> } | null;
  entries: Entry[];
  applied: LogIndex;
}

/**
 * Reads every group's raft state in one ordered scan of the raft key range (startup only). Entries
 * at or below a group's log offset are leftovers of a compaction that was cut short and are skipped.
 */
export async function loadGroups(db: RocksDatabase): Promise<Map<GroupId, PersistedGroup>> {
  const partial = new Map<GroupId, Partial>();
  const { gte, lt } = raftRange();
  for await (const [key, value] of db.range(gte, lt)) {
    const g = groupOfKey(key);
    let p = partial.get(g);
    if (p === undefined) {
      p = { hardState: EMPTY_HARD_STATE, snapshotMeta: null, snapshotData: new Uint8Array(0), offset: null, entries: [], applied: logIndex(0) };
      partial.set(g, p);
    }
    // Values from the iterator may share a buffer with the next read: keep our own copies.
    const v = value.slice();
    switch (raftKeyKind(key)) {
      case 'hardState':
        p.hardState = decodeHardState(v);
        break;
      case 'snapshotMeta':
        p.snapshotMeta = decodeSnapshotMeta(v);
        break;
      case 'snapshotData':
        p.snapshotData = v;
        break;
      case 'logOffset':
        p.offset = decodeLogOffset(v);
        break;
      case 'logEntry':
        p.entries.push(decodeEntry(logIndex(logIndexOfKey(key)), v));
        break;
      case 'applied':
        p.applied = logIndex(decodeU64(v));
        break;
      case null:
        throw new CorruptRecordError(`group ${g}: unknown raft key kind ${key[5]}`);
    }
  }
  const out = new Map<GroupId, PersistedGroup>();
  for (const [g, p] of partial) {
    const snapshot: Snapshot = p.snapshotMeta === null ? EMPTY_SNAPSHOT : { metadata: p.snapshotMeta, data: p.snapshotData };
    const offset = p.offset ?? { index: logIndex(0), term: term(0) };
    out.set(g, {
      hardState: p.hardState,
      snapshot,
      offset,
      entries: p.entries.filter((e) => e.index > offset.index),
      applied: p.applied,
    });
  }
  return out;
}
