import { describe, expect, it } from 'vitest';
import {
  CompactedError,
  MemoryStorage,
  RaftInvariantError,
  SnapshotOutOfDateError,
  UnavailableError,
  type Snapshot,
} from '../../src/raft/index.js';
import { A, B, C, D, ent, li, positions, storedLog, tm } from './harness.js';

// MemoryStorage against the Storage contract (src/raft/storage.ts): what the core may read, and
// the host-side writes (append, snapshot, compaction) the simulator and tests rely on.

/** Entries 1..5 with terms 1,1,2,2,3, each carrying 10 bytes. */
function fiveEntries(): MemoryStorage {
  const s = new MemoryStorage({ voters: [A, B, C], learners: [] });
  s.append([1, 1, 2, 2, 3].map((t, k) => ent(k + 1, t, `entry-${k + 1}`.padEnd(10, '.'))));
  return s;
}

const snapshotAt = (index: number, t: number, voters = [A, B, C]): Snapshot => ({
  metadata: { index: li(index), term: tm(t), confState: { voters, learners: [] } },
  data: new TextEncoder().encode(`sm@${index}`),
});

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return null;
}

describe('MemoryStorage: an empty storage', () => {
  it('Storage: a new storage has firstIndex 1, lastIndex 0, term(0) = 0, an empty hard state and the given membership', () => {
    const s = new MemoryStorage({ voters: [A], learners: [B] });
    expect([s.firstIndex(), s.lastIndex(), s.term(li(0))]).toEqual([1, 0, 0]);
    expect(s.initialState()).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, confState: { voters: [A], learners: [B] } });
    expect(s.entries(li(1), li(1), 100)).toEqual([]);
    expect(s.snapshot().metadata).toEqual({ index: 0, term: 0, confState: { voters: [A], learners: [B] } });
  });

  it('Storage: bootstrap gives a founding member a snapshot at index 1, term 1 with the voters, and hard state {1, null, 1}', () => {
    const s = MemoryStorage.bootstrap([A, B, C]);
    expect(s.snapshot()).toEqual({ metadata: { index: 1, term: 1, confState: { voters: [A, B, C], learners: [] } }, data: new Uint8Array(0) });
    expect([s.firstIndex(), s.lastIndex(), s.term(li(1))]).toEqual([2, 1, 1]);
    expect(s.initialState()).toEqual({ hardState: { term: 1, vote: null, commit: 1 }, confState: { voters: [A, B, C], learners: [] } });
  });
});

describe('MemoryStorage: reads', () => {
  it('Storage: entries(lo, hi) returns [lo, hi) and term(i) the term of entry i', () => {
    const s = fiveEntries();
    expect(positions(s.entries(li(2), li(5), Infinity))).toEqual([[2, 1], [3, 2], [4, 2]]);
    expect([1, 2, 3, 4, 5].map((i) => s.term(li(i)))).toEqual([1, 1, 2, 2, 3]);
    expect([s.firstIndex(), s.lastIndex()]).toEqual([1, 5]);
  });

  it('Storage: entries past lastIndex + 1 throw UnavailableError; term past lastIndex throws UnavailableError', () => {
    const s = fiveEntries();
    expect(positions(s.entries(li(5), li(6), Infinity))).toEqual([[5, 3]]);
    expect(thrown(() => s.entries(li(5), li(7), Infinity))).toBeInstanceOf(UnavailableError);
    const e = thrown(() => s.term(li(6)));
    expect(e).toBeInstanceOf(UnavailableError);
    expect(e).toMatchObject({ code: 'ERR_UNAVAILABLE', index: 6 });
  });

  it('Storage: entries are limited to maxBytes, but at least one entry is returned however small the limit', () => {
    const s = fiveEntries();
    expect(positions(s.entries(li(1), li(6), 0))).toEqual([[1, 1]]);
    expect(positions(s.entries(li(1), li(6), 1))).toEqual([[1, 1]]);
    expect(positions(s.entries(li(1), li(6), 20))).toEqual([[1, 1], [2, 1]]);
    expect(positions(s.entries(li(1), li(6), 29))).toEqual([[1, 1], [2, 1]]);
    expect(positions(s.entries(li(1), li(6), 30))).toEqual([[1, 1], [2, 1], [3, 2]]);
    expect(s.entries(li(1), li(6), 1000)).toHaveLength(5);
  });
});

describe('MemoryStorage: append', () => {
  it('Storage: append at lastIndex + 1 extends the log', () => {
    const s = fiveEntries();
    s.append([ent(6, 3, 'six'), ent(7, 4, 'seven')]);
    expect(positions(storedLog(s))).toEqual([[1, 1], [2, 1], [3, 2], [4, 2], [5, 3], [6, 3], [7, 4]]);
  });

  it('Storage: append inside the log discards every existing entry from the first appended index on (a conflicting suffix)', () => {
    const s = fiveEntries();
    s.append([ent(3, 5, 'new')]);
    expect(positions(storedLog(s))).toEqual([[1, 1], [2, 1], [3, 5]]);
    expect(s.lastIndex()).toBe(3);
    expect(thrown(() => s.term(li(4)))).toBeInstanceOf(UnavailableError);
  });

  it('Storage: append leaving a gap after lastIndex is refused (RaftInvariantError)', () => {
    const s = fiveEntries();
    expect(thrown(() => s.append([ent(7, 3)]))).toBeInstanceOf(RaftInvariantError);
    expect(s.lastIndex()).toBe(5);
  });

  it('Storage: appended entries already covered by compaction are skipped; the rest are appended', () => {
    const s = fiveEntries();
    s.createSnapshot(li(3), { voters: [A, B, C], learners: [] }, new Uint8Array(0));
    s.compact(li(3));
    s.append([ent(2, 1), ent(3, 2), ent(4, 2, 'again'), ent(5, 3, 'again')]);
    expect(positions(storedLog(s))).toEqual([[4, 2], [5, 3]]);
    s.append([ent(1, 1), ent(2, 1)]);
    expect([s.firstIndex(), s.lastIndex()]).toEqual([4, 5]);
  });

  it('Storage: setHardState is returned by initialState', () => {
    const s = fiveEntries();
    s.setHardState({ term: tm(3), vote: B, commit: li(4) });
    expect(s.initialState().hardState).toEqual({ term: 3, vote: B, commit: 4 });
  });
});

describe('MemoryStorage: snapshots and compaction (§7)', () => {
  it('§7 Storage: createSnapshot records the state as of index i with the term of entry i, and keeps the log', () => {
    const s = fiveEntries();
    const snap = s.createSnapshot(li(4), { voters: [A, B, C, D], learners: [] }, new TextEncoder().encode('sm'));
    expect(snap.metadata).toEqual({ index: 4, term: 2, confState: { voters: [A, B, C, D], learners: [] } });
    expect(s.snapshot()).toBe(snap);
    expect([s.firstIndex(), s.lastIndex()]).toEqual([1, 5]);
    expect(s.initialState().confState).toEqual({ voters: [A, B, C, D], learners: [] });
  });

  it('§7 Storage: createSnapshot at or below the current snapshot is SnapshotOutOfDate; past lastIndex is an invariant error', () => {
    const s = fiveEntries();
    s.createSnapshot(li(3), { voters: [A], learners: [] }, new Uint8Array(0));
    expect(thrown(() => s.createSnapshot(li(3), { voters: [A], learners: [] }, new Uint8Array(0)))).toBeInstanceOf(SnapshotOutOfDateError);
    expect(thrown(() => s.createSnapshot(li(2), { voters: [A], learners: [] }, new Uint8Array(0)))).toBeInstanceOf(SnapshotOutOfDateError);
    expect(thrown(() => s.createSnapshot(li(6), { voters: [A], learners: [] }, new Uint8Array(0)))).toBeInstanceOf(RaftInvariantError);
  });

  it('§7 Storage: compact(i) discards entries up to i; firstIndex becomes i + 1 and term(i) stays known', () => {
    const s = fiveEntries();
    s.createSnapshot(li(4), { voters: [A, B, C], learners: [] }, new Uint8Array(0));
    s.compact(li(3));
    expect([s.firstIndex(), s.lastIndex(), s.term(li(3))]).toEqual([4, 5, 2]);
    expect(positions(storedLog(s))).toEqual([[4, 2], [5, 3]]);
    expect(s.logOffset()).toEqual({ index: 3, term: 2 });
  });

  it('§7 Storage: reading compacted entries or terms throws CompactedError', () => {
    const s = fiveEntries();
    s.createSnapshot(li(4), { voters: [A, B, C], learners: [] }, new Uint8Array(0));
    s.compact(li(3));
    const e = thrown(() => s.entries(li(3), li(5), Infinity));
    expect(e).toBeInstanceOf(CompactedError);
    expect(e).toMatchObject({ code: 'ERR_COMPACTED', index: 3 });
    expect(thrown(() => s.term(li(2)))).toBeInstanceOf(CompactedError);
    expect(positions(s.entries(li(4), li(6), Infinity))).toEqual([[4, 2], [5, 3]]);
  });

  it('§7 Storage: compact beyond the snapshot is refused (create a snapshot first); compact at or below the offset is CompactedError', () => {
    const s = fiveEntries();
    s.createSnapshot(li(2), { voters: [A, B, C], learners: [] }, new Uint8Array(0));
    expect(thrown(() => s.compact(li(3)))).toBeInstanceOf(RaftInvariantError);
    s.compact(li(2));
    expect(thrown(() => s.compact(li(2)))).toBeInstanceOf(CompactedError);
    expect(thrown(() => s.compact(li(1)))).toBeInstanceOf(CompactedError);
  });

  it('§7 Storage: applySnapshot replaces the whole log; the log then continues after the snapshot', () => {
    const s = fiveEntries();
    s.applySnapshot(snapshotAt(8, 4, [A, B, C, D]));
    expect([s.firstIndex(), s.lastIndex(), s.term(li(8))]).toEqual([9, 8, 4]);
    expect(storedLog(s)).toEqual([]);
    expect(s.initialState().confState).toEqual({ voters: [A, B, C, D], learners: [] });
    s.append([ent(9, 4, 'next')]);
    expect(positions(storedLog(s))).toEqual([[9, 4]]);
  });

  it('§7 Storage: applySnapshot with a snapshot older than the one held is SnapshotOutOfDate', () => {
    const s = new MemoryStorage();
    s.applySnapshot(snapshotAt(8, 4));
    const e = thrown(() => s.applySnapshot(snapshotAt(5, 3)));
    expect(e).toBeInstanceOf(SnapshotOutOfDateError);
    expect(e).toMatchObject({ code: 'ERR_SNAPSHOT_OUT_OF_DATE', index: 5 });
    expect(s.snapshot().metadata.index).toBe(8);
  });

  it('Storage: fromParts rebuilds a storage from a snapshot, a log offset and the entries after it', () => {
    const s = MemoryStorage.fromParts({
      hardState: { term: tm(3), vote: A, commit: li(6) },
      snapshot: snapshotAt(5, 2),
      offset: { index: li(4), term: tm(2) },
      entries: [ent(5, 2), ent(6, 3), ent(7, 3)],
    });
    expect([s.firstIndex(), s.lastIndex(), s.term(li(4)), s.term(li(7))]).toEqual([5, 7, 2, 3]);
    expect(s.initialState().hardState).toEqual({ term: 3, vote: A, commit: 6 });
    expect(thrown(() => MemoryStorage.fromParts({
      hardState: { term: tm(3), vote: null, commit: li(0) },
      snapshot: snapshotAt(5, 2),
      offset: { index: li(4), term: tm(2) },
      entries: [ent(5, 2), ent(7, 3)],
    }))).toBeInstanceOf(RaftInvariantError);
  });
});
