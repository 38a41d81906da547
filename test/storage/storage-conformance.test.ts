import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CompactedError,
  MemoryStorage,
  SnapshotOutOfDateError,
  UnavailableError,
  logIndex as li,
  nodeId,
  term as t,
  type ConfState,
  type Entry,
  type Snapshot,
  type Storage,
} from '../../src/raft/index.js';
import { groupId, logIndexOfKey, logRange } from '../../src/storage/key-layout.js';
import { loadGroups } from '../../src/storage/load-groups.js';
import { RocksDatabase } from '../../src/storage/rocks-database.js';
import { RocksRaftStorage } from '../../src/storage/rocks-raft-storage.js';
import { WriteBatch } from '../../src/storage/write-batch.js';

/** The write side both storages share (what a host calls while handling a Ready). */
interface WritableStorage extends Storage {
  append(entries: readonly Entry[]): void;
  applySnapshot(snap: Snapshot): void;
  createSnapshot(i: ReturnType<typeof li>, cs: ConfState, data: Uint8Array): Snapshot;
  compact(i: ReturnType<typeof li>): void;
  setHardState(hs: ReturnType<Storage['initialState']>['hardState']): void;
}

interface Harness {
  fresh(): Promise<WritableStorage>;
  /** What a restarted node would read: for RocksDB, flush and reload from disk. */
  reopen(s: WritableStorage): Promise<WritableStorage>;
}

const cs: ConfState = { voters: [nodeId('a'), nodeId('b'), nodeId('c')], learners: [] };
const ent = (index: number, term: number, byte = index): Entry => ({
  type: 'normal',
  term: t(term),
  index: li(index),
  data: Uint8Array.of(byte & 0xff, 1, 2, 3),
});

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const memory: Harness = {
  fresh: async () => new MemoryStorage(),
  reopen: async (s) => s,
};

function rocks(): Harness {
  const open = new Map<WritableStorage, { db: RocksDatabase; batch: WriteBatch; dir: string }>();
  return {
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), 'taskraft-conf-'));
      dirs.push(dir);
      const db = await RocksDatabase.open(dir);
      const batch = new WriteBatch();
      const s = new RocksRaftStorage(groupId(5), batch, null);
      open.set(s, { db, batch, dir });
      return s;
    },
    async reopen(s) {
      const h = open.get(s)!;
      const drops = h.batch.takeDrops();
      await h.db.write(h.batch.take(), true);
      await h.db.dropRanges(drops);
      await h.db.close();
      const db = await RocksDatabase.open(h.dir);
      const persisted = (await loadGroups(db)).get(groupId(5)) ?? null;
      const batch = new WriteBatch();
      const again = new RocksRaftStorage(groupId(5), batch, persisted);
      open.set(again, { db, batch, dir: h.dir });
      return again;
    },
  };
}

function conformance(name: string, h: Harness): void {
  describe(`storage contract: ${name}`, () => {
    it('an empty storage has firstIndex 1, lastIndex 0 and term(0) = 0', async () => {
      const s = await h.reopen(await h.fresh());
      expect(s.firstIndex()).toBe(1);
      expect(s.lastIndex()).toBe(0);
      expect(s.term(li(0))).toBe(0);
      expect(() => s.term(li(1))).toThrow(UnavailableError);
    });

    it('append, then read back entries and terms; survives a restart', async () => {
      const s = await h.fresh();
      s.append([ent(1, 1), ent(2, 1), ent(3, 2)]);
      const r = await h.reopen(s);
      expect(r.lastIndex()).toBe(3);
      expect(r.entries(li(1), li(4), Infinity).map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 2]]);
      expect(r.term(li(3))).toBe(2);
      expect(() => r.entries(li(1), li(5), Infinity)).toThrow(UnavailableError);
    });

    it('append truncates a conflicting suffix, also on disk', async () => {
      const s = await h.fresh();
      s.append([ent(1, 1), ent(2, 1), ent(3, 1), ent(4, 1)]);
      s.append([ent(3, 2, 99)]);
      const r = await h.reopen(s);
      expect(r.lastIndex()).toBe(3);
      const [e3] = r.entries(li(3), li(4), Infinity);
      expect(e3?.term).toBe(2);
      expect(e3?.type === 'normal' && e3.data[0]).toBe(99);
    });

    it('entries honours maxBytes but always returns at least one entry', async () => {
      const s = await h.fresh();
      s.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
      expect(s.entries(li(1), li(4), 0)).toHaveLength(1);
      expect(s.entries(li(1), li(4), 8)).toHaveLength(2);
      expect(s.entries(li(1), li(4), 1000)).toHaveLength(3);
    });

    it('hard state and conf changes round-trip', async () => {
      const s = await h.fresh();
      s.append([ent(1, 1), { type: 'confChange', term: t(1), index: li(2), change: { type: 'addLearner', nodeId: nodeId('d') } }]);
      s.setHardState({ term: t(4), vote: nodeId('b'), commit: li(2) });
      const r = await h.reopen(s);
      expect(r.initialState().hardState).toEqual({ term: 4, vote: 'b', commit: 2 });
      expect(r.entries(li(2), li(3), Infinity)[0]).toEqual({ type: 'confChange', term: 1, index: 2, change: { type: 'addLearner', nodeId: 'd' } });
    });

    it('createSnapshot keeps the log; compact then drops entries up to the index but keeps its term', async () => {
      const s = await h.fresh();
      s.append([1, 2, 3, 4, 5, 6].map((i) => ent(i, i < 4 ? 1 : 2)));
      const snap = s.createSnapshot(li(4), cs, Uint8Array.of(42));
      expect(snap.metadata).toEqual({ index: 4, term: 2, confState: cs });
      expect(s.firstIndex()).toBe(1);
      s.compact(li(3));
      const r = await h.reopen(s);
      expect(r.firstIndex()).toBe(4);
      expect(r.term(li(3))).toBe(1);
      expect(() => r.term(li(2))).toThrow(CompactedError);
      expect(() => r.entries(li(3), li(5), Infinity)).toThrow(CompactedError);
      expect(r.snapshot().metadata.index).toBe(4);
      expect([...r.snapshot().data]).toEqual([42]);
      expect(r.initialState().confState).toEqual(cs);
    });

    it('refuses to compact past the snapshot, and refuses an older snapshot', async () => {
      const s = await h.fresh();
      s.append([1, 2, 3].map((i) => ent(i, 1)));
      s.createSnapshot(li(2), cs, new Uint8Array(0));
      expect(() => s.compact(li(3))).toThrow();
      expect(() => s.createSnapshot(li(1), cs, new Uint8Array(0))).toThrow(SnapshotOutOfDateError);
    });

    it('applySnapshot replaces the whole log, also on disk', async () => {
      const s = await h.fresh();
      s.append([1, 2, 3].map((i) => ent(i, 1)));
      s.applySnapshot({ metadata: { index: li(10), term: t(3), confState: cs }, data: Uint8Array.of(7) });
      const r = await h.reopen(s);
      expect(r.firstIndex()).toBe(11);
      expect(r.lastIndex()).toBe(10);
      expect(r.term(li(10))).toBe(3);
      r.append([ent(11, 3)]);
      expect(r.lastIndex()).toBe(11);
    });
  });
}

describe('RocksRaftStorage compaction on disk', () => {
  const logKeys = async (db: RocksDatabase): Promise<number[]> => {
    const out: number[] = [];
    const { gte, lt } = logRange(groupId(6));
    for await (const [k] of db.range(gte, lt)) out.push(logIndexOfKey(k));
    return out;
  };

  it('drops compacted entries as a range after the new offset is written; a lost drop leaves only skipped leftovers, which the next drop removes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskraft-drop-'));
    dirs.push(dir);
    let db = await RocksDatabase.open(dir);
    let batch = new WriteBatch();
    const s = new RocksRaftStorage(groupId(6), batch, null);
    s.append(Array.from({ length: 30 }, (_, k) => ent(k + 1, 1)));
    await db.write(batch.take(), true);

    // A crash between the write and the drop: the drop is lost.
    s.createSnapshot(li(12), cs, new Uint8Array(0));
    s.compact(li(10));
    expect(batch.size(), 'no per-entry deletes in the batch').toBe(3);
    await db.write(batch.take(), true);
    batch.takeDrops();
    expect(await logKeys(db)).toHaveLength(30);
    await db.close();

    db = await RocksDatabase.open(dir);
    batch = new WriteBatch();
    const again = new RocksRaftStorage(groupId(6), batch, (await loadGroups(db)).get(groupId(6))!);
    expect(again.firstIndex(), 'the leftovers are skipped').toBe(11);
    again.createSnapshot(li(20), cs, new Uint8Array(0));
    again.compact(li(15));
    const drops = batch.takeDrops();
    await db.write(batch.take(), true);
    await db.dropRanges(drops);
    expect(await logKeys(db), 'the leftovers went with the next drop').toEqual(Array.from({ length: 15 }, (_, k) => k + 16));
    await db.close();
  });
});

conformance('MemoryStorage', memory);
conformance('RocksRaftStorage (reloaded from RocksDB)', rocks());
