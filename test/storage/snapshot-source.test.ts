import { describe, expect, it } from 'vitest';
import { logIndex as li, nodeId, term as t, type ConfState, type Entry, type Snapshot } from '../../src/raft/index.js';
import { groupId } from '../../src/storage/key-layout.js';
import { RocksRaftStorage } from '../../src/storage/rocks-raft-storage.js';
import { WriteBatch } from '../../src/storage/write-batch.js';

// With a snapshot source, compaction points carry no data and the snapshot raft sends is made on
// demand from the state machine, then reused only while the log still covers what follows it.

const cs: ConfState = { voters: [nodeId('a'), nodeId('b'), nodeId('c')], learners: [] };
const ent = (index: number): Entry => ({ type: 'normal', term: t(2), index: li(index), data: Uint8Array.of(index & 0xff) });

function storageWithLog(last: number): { s: RocksRaftStorage; calls: number[]; setApplied: (i: number) => void } {
  const s = new RocksRaftStorage(groupId(9), new WriteBatch(), null);
  s.append(Array.from({ length: last }, (_, k) => ent(k + 1)));
  let applied = 0;
  const calls: number[] = [];
  s.setSnapshotSource((): Snapshot => {
    calls.push(applied);
    return { metadata: { index: li(applied), term: s.term(li(applied)), confState: cs }, data: Uint8Array.of(applied) };
  });
  return { s, calls, setApplied: (i) => (applied = i) };
}

describe('RocksRaftStorage with a snapshot source', () => {
  it('makes the snapshot from the source only when asked, at the applied index', () => {
    const { s, calls, setApplied } = storageWithLog(100);
    setApplied(60);
    s.createSnapshot(li(50), cs, new Uint8Array(0));
    s.compact(li(40));
    expect(calls, 'recording a compaction point asks the source nothing').toEqual([]);
    expect(s.persistedSnapshot().metadata.index).toBe(50);
    expect(s.persistedSnapshot().data.byteLength).toBe(0);
    const snap = s.snapshot();
    expect(calls).toEqual([60]);
    expect(snap.metadata.index).toBe(60);
    expect(snap.metadata.term).toBe(2);
    expect([...snap.data]).toEqual([60]);
  });

  it('reuses the made snapshot until compaction passes it, then makes a newer one', () => {
    const { s, calls, setApplied } = storageWithLog(200);
    setApplied(60);
    s.createSnapshot(li(50), cs, new Uint8Array(0));
    s.compact(li(40));
    s.snapshot();
    setApplied(80);
    expect(s.snapshot().metadata.index, 'the log still holds 61.., so the old one still serves').toBe(60);
    s.createSnapshot(li(80), cs, new Uint8Array(0));
    s.compact(li(70));
    expect(s.snapshot().metadata.index, 'entries 61..70 are gone: a snapshot at 60 would leave a gap').toBe(80);
    expect(calls).toEqual([60, 80]);
  });

  it('without a source, the snapshot is the persisted one', () => {
    const s = new RocksRaftStorage(groupId(9), new WriteBatch(), null);
    s.append([ent(1), ent(2), ent(3)]);
    s.createSnapshot(li(2), cs, Uint8Array.of(7));
    expect(s.snapshot().metadata.index).toBe(2);
    expect([...s.snapshot().data]).toEqual([7]);
  });
});
