import { describe, expect, it } from 'vitest';
import { nodeId, type Message, type Snapshot } from '../../src/raft/index.js';
import {
  A,
  B,
  C,
  D,
  Network,
  Peer,
  ent,
  li,
  only,
  payloads,
  positions,
  storageWithLog,
  storedLog,
  tm,
} from './harness.js';

// Log compaction (§7) and the InstallSnapshot RPC (Figure 13 of the paper).

function snap(from: string, to: string, t: number, index: number, snapTerm: number, voters = [A, B, C]): Message {
  const snapshot: Snapshot = {
    metadata: { index: li(index), term: tm(snapTerm), confState: { voters, learners: [] } },
    data: new TextEncoder().encode(`state@${index}`),
  };
  return { type: 'snap', from: nodeId(from), to: nodeId(to), term: tm(t), snapshot };
}

/** a leads; c was cut off while a committed five entries, then a compacted its log past them. */
function compactedLeader(): Network {
  const net = Network.of(['a', 'b', 'c']);
  const a = net.elect(A);
  net.isolate(C);
  for (let i = 0; i < 5; i++) net.propose(A, `s${i}`);
  const applied = a.status().applied;
  expect(applied).toBe(7);
  a.storage.createSnapshot(applied, a.confState, new TextEncoder().encode('sm@7'));
  a.storage.compact(applied);
  expect(a.storage.firstIndex()).toBe(8);
  net.heal();
  return net;
}

describe('§7 Log compaction: the leader sends InstallSnapshot to followers it cannot catch up from its log', () => {
  it('§7: a follower that needs compacted entries gets InstallSnapshot with the last included index, term, configuration and state', () => {
    const net = compactedLeader();
    net.tick(1, [A]);
    const sent = net.delivered.filter((m): m is Extract<Message, { type: 'snap' }> => m.type === 'snap');
    expect(sent).toHaveLength(1);
    const m = sent[0]!;
    expect([m.from, m.to, m.term]).toEqual([A, C, 2]);
    expect(m.snapshot.metadata).toEqual({ index: 7, term: 2, confState: { voters: [A, B, C], learners: [] } });
    expect(new TextDecoder().decode(m.snapshot.data)).toBe('sm@7');
    const c = net.peer(C);
    expect(c.storage.snapshot().metadata.index).toBe(7);
    expect(c.storage.firstIndex()).toBe(8);
    expect(c.status()).toMatchObject({ committed: 7, applied: 7, lastIndex: 7 });
  });

  it('§7: after the snapshot is installed the leader resumes replication from the log at the index after it', () => {
    const net = compactedLeader();
    net.tick(1, [A]);
    const a = net.peer(A);
    expect(a.status().progress?.get(C)).toMatchObject({ state: 'replicate', match: 7, next: 8 });
    const before = net.delivered.length;
    net.propose(A, 'after');
    const toC = net.delivered.slice(before).filter((m) => m.type === 'app' && m.to === C);
    expect(toC[0]).toMatchObject({ index: 7, logTerm: 2 });
    expect(payloads(net.peer(C).applied)).toEqual(['after']);
    expect(positions(storedLog(net.peer(C).storage))).toEqual([[8, 2]]);
  });

  it('§7: the follower Ready carries the snapshot for the host to install before any committed entry, with mustSync', () => {
    const net = compactedLeader();
    net.tick(1, [A]);
    const rd = net.peer(C).readies.find((r) => r.snapshot !== null)!;
    expect(rd.snapshot?.metadata.index).toBe(7);
    expect(rd.mustSync).toBe(true);
    expect(rd.committedEntries).toEqual([]);
    expect(rd.hardState).toMatchObject({ term: 2, commit: 7 });
    expect(only(rd.messages, 'appResp', A)).toMatchObject({ reject: false, index: 7 });
  });
});

describe('§7 InstallSnapshot RPC, receiver implementation', () => {
  it('§7 InstallSnapshot receiver 1: a snapshot from an older term is ignored', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1], { term: tm(5) }));
    const out = p.stepDrain(snap('a', 'b', 3, 9, 3));
    expect(out.snapshot).toBeNull();
    expect(out.hardState).toBeNull();
    expect(p.status()).toMatchObject({ lastIndex: 2, committed: 0 });
    expect(p.storage.snapshot().metadata.index).toBe(0);
  });

  it('§7 InstallSnapshot receiver 6: if an existing entry has the snapshot last index and term, the entries after it are kept', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1, 1, 1, 1], { term: tm(1), commit: li(1) }));
    p.drain();
    const out = p.stepDrain(snap('a', 'b', 1, 3, 1));
    expect(out.snapshot).toBeNull();
    expect(p.status()).toMatchObject({ lastIndex: 5, committed: 3 });
    expect(positions(storedLog(p.storage))).toEqual([[1, 1], [2, 1], [3, 1], [4, 1], [5, 1]]);
    expect(only(out.messages, 'appResp', A)).toMatchObject({ reject: false, index: 3 });
  });

  it('§7 InstallSnapshot receiver 7: otherwise the whole log is discarded and the state (and membership) reset from the snapshot', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1, 2], { term: tm(2), commit: li(1) }));
    p.drain();
    const out = p.stepDrain(snap('a', 'b', 3, 5, 3, [A, B, C, D]));
    expect(out.snapshot?.metadata).toEqual({ index: 5, term: 3, confState: { voters: [A, B, C, D], learners: [] } });
    expect(out.hardState).toEqual({ term: 3, vote: null, commit: 5 });
    expect(out.committed).toEqual([]);
    expect(p.storage.firstIndex()).toBe(6);
    expect(p.storage.lastIndex()).toBe(5);
    expect(p.status()).toMatchObject({ lastIndex: 5, committed: 5, applied: 5, confState: { voters: [A, B, C, D], learners: [] } });
    expect(only(out.messages, 'appResp', A)).toMatchObject({ reject: false, index: 5, term: 3 });
    // The log continues right after the snapshot.
    const next = p.stepDrain({ type: 'app', from: A, to: B, term: tm(3), index: li(5), logTerm: tm(3), entries: [ent(6, 3, 'n')], commit: li(6) });
    expect(payloads(next.committed)).toEqual(['n']);
  });

  it('§7: a snapshot that covers nothing beyond the commit index is ignored and answered with the commit index', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1, 1, 1], { term: tm(1), commit: li(4) }));
    p.drain();
    const out = p.stepDrain(snap('a', 'b', 1, 3, 1));
    expect(out.snapshot).toBeNull();
    expect(p.status().lastIndex).toBe(4);
    expect(only(out.messages, 'appResp', A)).toMatchObject({ reject: false, index: 4 });
  });

  it('§7: a candidate that receives a snapshot from a leader of its term becomes its follower and installs it', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1], { term: tm(1), commit: li(1) }));
    p.drain();
    p.node.campaign();
    p.drain();
    expect([p.role, p.term]).toEqual(['candidate', 2]);
    const out = p.stepDrain(snap('a', 'b', 2, 6, 2));
    expect(p.status().softState).toEqual({ role: 'follower', leader: A });
    expect(out.snapshot?.metadata.index).toBe(6);
  });
});

describe('§7 restart from a compacted log', () => {
  it('§7: a node restarted from compacted storage resumes at its snapshot: applied = snapshot index, later committed entries are re-applied', () => {
    const net = Network.of(['a', 'b', 'c']);
    net.elect(A);
    for (const x of ['p1', 'p2', 'p3']) net.propose(A, x);
    const b = net.peer(B);
    b.storage.createSnapshot(li(5), b.confState, new TextEncoder().encode('sm@5'));
    b.storage.compact(li(5));
    net.propose(A, 'p4');
    net.crash(B);
    net.restart(B);
    expect(b.status()).toMatchObject({ applied: 5, committed: 6, lastIndex: 6, hardState: { term: 2, vote: A, commit: 6 } });
    const out = b.drain();
    expect(positions(out.committed)).toEqual([[6, 2]]);
    expect(payloads(out.committed)).toEqual(['p4']);
    net.propose(A, 'p5');
    expect(payloads(b.applied)).toEqual(['p4', 'p5']);
  });

  it('§7: a leader that compacted its log still serves a follower that is only a little behind from the log', () => {
    const net = Network.of(['a', 'b', 'c']);
    const a = net.elect(A);
    net.propose(A, 'p1');
    net.isolate(C);
    net.propose(A, 'p2');
    // Compact only what c already has.
    a.storage.createSnapshot(li(3), a.confState, new Uint8Array(0));
    a.storage.compact(li(3));
    net.heal();
    net.tick(1, [A]);
    expect(net.delivered.filter((m) => m.type === 'snap')).toEqual([]);
    expect(payloads(net.peer(C).applied)).toEqual(['p1', 'p2']);
  });
});
