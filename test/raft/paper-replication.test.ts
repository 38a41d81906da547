import { describe, expect, it } from 'vitest';
import {
  A,
  B,
  C,
  D,
  E,
  Network,
  Peer,
  ackAll,
  app,
  appResp,
  ent,
  founder,
  forceLeader,
  heartbeat,
  li,
  ofType,
  only,
  payloads,
  positions,
  storageWithLog,
  storedLog,
  tm,
} from './harness.js';

// Figure 2, "AppendEntries RPC" (receiver implementation) and "Rules for Servers" (leaders), with
// §5.3 (log replication), §5.4.2 (committing entries from previous terms) and Figure 7.

describe('Fig.2 AppendEntries RPC, receiver implementation', () => {
  it('Fig.2 AppendEntries receiver 1: an append whose term < currentTerm changes nothing and is answered with the current term (§5.1)', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1], { term: tm(3) }));
    const out = p.stepDrain(app(A, B, 2, 2, 1, [ent(3, 2, 'x')], 2));
    expect(out.entries).toEqual([]);
    expect(out.hardState).toBeNull();
    expect(only(out.messages, 'appResp', A).term).toBe(3);
    expect(p.status()).toMatchObject({ lastIndex: 2, committed: 0, softState: { role: 'follower', leader: null } });
  });

  it('Fig.2 AppendEntries receiver 1: the stale leader learns the newer term from that answer and steps down (§5.1)', () => {
    const p = founder(A, [A, B, C]);
    forceLeader(p);
    p.step(appResp(B, A, 3, 0));
    expect(p.status().softState).toEqual({ role: 'follower', leader: null });
    expect(p.term).toBe(3);
  });

  it('Fig.2 AppendEntries receiver 2: reply false if the log has no entry at prevLogIndex (§5.3)', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1], { term: tm(2) }));
    const out = p.stepDrain(app(A, B, 2, 4, 2, [ent(5, 2, 'x')], 0));
    expect(out.entries).toEqual([]);
    expect(only(out.messages, 'appResp', A)).toMatchObject({ term: 2, reject: true, index: 4, rejectHint: 2, logTerm: 1 });
    expect(p.status().lastIndex).toBe(2);
  });

  it('Fig.2 AppendEntries receiver 2: reply false if the entry at prevLogIndex has a different term than prevLogTerm (§5.3)', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1, 2], { term: tm(2) }));
    const out = p.stepDrain(app(A, B, 3, 3, 3, [ent(4, 3, 'x')], 0));
    expect(out.entries).toEqual([]);
    expect(only(out.messages, 'appResp', A)).toMatchObject({ term: 3, reject: true, index: 3, rejectHint: 3, logTerm: 2 });
    expect(positions(storedLog(p.storage))).toEqual([[1, 1], [2, 1], [3, 2]]);
  });

  it('Fig.2 AppendEntries receiver 3: an existing entry that conflicts with a new one (same index, different term) is deleted with all that follow it (§5.3)', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1, 2, 2], { term: tm(2), commit: li(1) }));
    const out = p.stepDrain(app(A, B, 3, 2, 1, [ent(3, 3, 'new')], 1));
    expect(positions(out.entries)).toEqual([[3, 3]]);
    expect(positions(storedLog(p.storage))).toEqual([[1, 1], [2, 1], [3, 3]]);
    expect(only(out.messages, 'appResp', A)).toMatchObject({ reject: false, index: 3, term: 3 });
  });

  it('Fig.2 AppendEntries receiver 4: only entries not already in the log are appended', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1, 2], { term: tm(2) }));
    const out = p.stepDrain(app(A, B, 2, 1, 1, [ent(2, 1), ent(3, 2), ent(4, 2, 'new')], 0));
    expect(positions(out.entries)).toEqual([[4, 2]]);
    expect(payloads(storedLog(p.storage))).toEqual(['new']);
    expect(only(out.messages, 'appResp', A)).toMatchObject({ reject: false, index: 4 });
  });

  it('Fig.2 AppendEntries receivers 3-4: a delayed, shorter append whose entries all match does not truncate the log (§5.3)', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1, 2, 2, 2], { term: tm(2) }));
    const out = p.stepDrain(app(A, B, 2, 2, 1, [ent(3, 2)], 0));
    expect(out.entries).toEqual([]);
    expect(p.status().lastIndex).toBe(5);
    expect(only(out.messages, 'appResp', A)).toMatchObject({ reject: false, index: 3 });
  });

  it('Fig.2 AppendEntries: a retransmitted append is idempotent: nothing new is persisted and the same index is acknowledged (§5.5)', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1], { term: tm(2) }));
    const m = app(A, B, 2, 1, 1, [ent(2, 2, 'x'), ent(3, 2, 'y')], 1);
    const first = p.stepDrain(m);
    const second = p.stepDrain(m);
    expect(positions(first.entries)).toEqual([[2, 2], [3, 2]]);
    expect(second.entries).toEqual([]);
    expect(only(second.messages, 'appResp', A)).toMatchObject({ reject: false, index: 3 });
    expect(positions(storedLog(p.storage))).toEqual([[1, 1], [2, 2], [3, 2]]);
  });

  // The follower's log is [1:1, 2:1, 3:2], commit 0.
  it.each([
    ['leaderCommit below the last new entry', 3, 2, [4], 3, 3],
    ['leaderCommit beyond the last new entry', 3, 2, [4], 9, 4],
    ['leaderCommit beyond an append that vouches only up to index 2', 1, 1, [2], 9, 2],
    ['an empty append still carries leaderCommit', 3, 2, [], 2, 2],
    ['leaderCommit 0 commits nothing', 3, 2, [], 0, 0],
  ] as const)(
    'Fig.2 AppendEntries receiver 5: commitIndex = min(leaderCommit, index of last new entry): %s',
    (_case, index, logTerm, newIndexes, leaderCommit, committed) => {
      const p = new Peer(B, storageWithLog([A, B, C], [1, 1, 2], { term: tm(2) }));
      const ents = newIndexes.map((i) => (i <= 3 ? ent(i, [1, 1, 2][i - 1]!) : ent(i, 2, `n${i}`)));
      const out = p.stepDrain(app(A, B, 2, index, logTerm, ents, leaderCommit));
      expect(p.status().committed).toBe(committed);
      expect(out.committed.map((e) => e.index)).toEqual(Array.from({ length: committed }, (_, k) => k + 1));
    },
  );

  it('Fig.2 AppendEntries: the acknowledgement leaves in the same Ready that persists the entries, with mustSync (persist before replying)', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1], { term: tm(2) }));
    const out = p.stepDrain(app(A, B, 2, 1, 1, [ent(2, 2, 'x')], 1));
    expect(out.readies).toHaveLength(1);
    const rd = out.readies[0]!;
    expect(positions(rd.entries)).toEqual([[2, 2]]);
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([{ type: 'appResp', from: B, to: A, term: 2, index: 2, reject: false, rejectHint: 0, logTerm: 0 }]);
  });

  it('Fig.2 Persistent state: when only commitIndex moves (volatile state), the Ready does not demand a sync', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1], { term: tm(1) }));
    const out = p.stepDrain(heartbeat(A, B, 1, 2));
    expect(out.readies).toHaveLength(1);
    expect(out.readies[0]).toMatchObject({ hardState: { term: 1, vote: null, commit: 2 }, mustSync: false, entries: [] });
    expect(out.committed.map((e) => e.index)).toEqual([1, 2]);
  });

  it('§5.3: an append that starts below the follower commit index is answered with the commit index and changes nothing', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1, 1], { term: tm(1), commit: li(3) }));
    p.drain();
    const out = p.stepDrain(app(A, B, 1, 1, 1, [ent(2, 1)], 1));
    expect(out.entries).toEqual([]);
    expect(only(out.messages, 'appResp', A)).toMatchObject({ reject: false, index: 3 });
  });
});

describe('Fig.2 Rules for leaders: replication and commitment', () => {
  /** A leader of term 2 in a 3-voter group whose no-op (index 2) is committed everywhere. */
  function steadyLeader(): Peer {
    const p = founder(A, [A, B, C]);
    const elected = forceLeader(p);
    ackAll(p, elected.messages, [B, C]);
    p.drain();
    expect(p.status().committed).toBe(2);
    return p;
  }

  it('Fig.2 Volatile state on leaders: after each election nextIndex is (re)initialized to the last log index + 1 and matchIndex to 0', () => {
    const p = new Peer(A, storageWithLog([A, B, C], [1, 1, 1, 1], { term: tm(1) }));
    const elected = forceLeader(p);
    expect(p.status().progress?.get(B)).toMatchObject({ next: 5, match: 0 });
    ackAll(p, elected.messages, [B]);
    p.drain();
    expect(p.status().progress?.get(B)).toMatchObject({ next: 6, match: 5 });
    // Deposed, then elected again in term 4: what it knew about b is forgotten.
    p.stepDrain(heartbeat(C, A, 3, 0));
    forceLeader(p);
    expect(p.term).toBe(4);
    expect(p.status().progress?.get(B)).toMatchObject({ next: 6, match: 0 });
    expect(p.status().progress?.get(A)).toMatchObject({ match: 6 });
  });

  it('Fig.2 Leaders 2: a client command is appended to the leader log, sent to each follower from nextIndex, and not applied before it commits', () => {
    const p = steadyLeader();
    expect(p.propose('x')).toEqual({ index: 3, term: 2 });
    const out = p.drain();
    expect(positions(out.entries)).toEqual([[3, 2]]);
    expect(out.committed).toEqual([]);
    for (const to of [B, C]) {
      const m = only(out.messages, 'app', to);
      expect([m.index, m.logTerm, m.commit]).toEqual([2, 2, 2]);
      expect(payloads(m.entries)).toEqual(['x']);
    }
    p.step(appResp(B, A, 2, 3));
    const committed = p.drain();
    expect(payloads(committed.committed)).toEqual(['x']);
    // The new commit index goes out at once.
    expect(ofType(committed.messages, 'app').map((m) => [m.to, m.commit])).toEqual([[B, 3], [C, 3]]);
  });

  it.each([
    [1, 0, true],
    [3, 0, false],
    [3, 1, true],
    [5, 1, false],
    [5, 2, true],
    [5, 4, true],
  ] as const)(
    'Fig.2 Leaders 4: with %i voters and %i follower acks, the entry of the current term commits iff a majority stores it (§5.3)',
    (size, acks, commits) => {
      const voters = [A, B, C, D, E].slice(0, size);
      const p = founder(A, voters);
      const elected = forceLeader(p);
      ackAll(p, elected.messages, voters.slice(1, 1 + acks));
      p.drain();
      expect(p.status().committed).toBe(commits ? 2 : 1);
      expect(p.applied.map((e) => e.index)).toEqual(commits ? [2] : []);
    },
  );

  it('Fig.2 Leaders 4 / §5.4.2: a leader does not commit an entry of a previous term by counting replicas; it commits once an entry of its own term is on a majority', () => {
    // a holds an uncommitted entry of term 2 at index 2 and becomes leader of term 3.
    const p = new Peer(A, storageWithLog([A, B, C], [1, 2], { term: tm(2), commit: li(1) }));
    forceLeader(p);
    expect(p.term).toBe(3);
    // b confirms index 2: a majority (a, b) now stores it, yet its term is 2, not 3.
    p.step(appResp(B, A, 3, 2));
    p.drain();
    expect(p.status().committed).toBe(1);
    // b confirms the no-op of term 3 at index 3: both commit together.
    p.step(appResp(B, A, 3, 3));
    const out = p.drain();
    expect(p.status().committed).toBe(3);
    expect(positions(out.committed)).toEqual([[2, 2], [3, 3]]);
  });

  it('Fig.2 Leaders 3: if AppendEntries fails because of log inconsistency, decrement nextIndex and retry', () => {
    const p = new Peer(A, storageWithLog([A, B, C], [1, 1, 1, 1], { term: tm(1) }));
    const elected = forceLeader(p);
    expect(only(elected.messages, 'app', B)).toMatchObject({ index: 4, logTerm: 1 });
    // A plain rejection (the hint says nothing beyond "not index 4"): back up by one.
    const retry = p.stepDrain(appResp(B, A, 2, 4, true, 3));
    const m = only(retry.messages, 'app', B);
    expect([m.index, m.logTerm, m.entries[0]?.index]).toEqual([3, 1, 4]);
  });

  it('Fig.2 Leaders 3: a rejection that does not answer the latest probe is stale and ignored', () => {
    const p = new Peer(A, storageWithLog([A, B, C], [1, 1, 1, 1], { term: tm(1) }));
    forceLeader(p);
    p.stepDrain(appResp(B, A, 2, 4, true, 3));
    const dup = p.stepDrain(appResp(B, A, 2, 4, true, 3));
    expect(ofType(dup.messages, 'app', B)).toEqual([]);
  });

  it('Fig.2 Leaders 3 + fast backtracking: the follower hint lets the leader skip a whole conflicting term in one round trip', () => {
    const p = new Peer(A, storageWithLog([A, B, C], [1, 1, 1, 4, 4, 5, 5, 6, 6, 6], { term: tm(7) }));
    forceLeader(p);
    // b holds term 3 at index 10 (Figure 7's follower f): the leader may skip to where terms <= 3 end.
    const out = p.stepDrain(appResp(B, A, 8, 10, true, 10, 3));
    expect(only(out.messages, 'app', B)).toMatchObject({ index: 3, logTerm: 1 });
  });

  it('Fig.2 Leaders: heartbeats carry min(commitIndex, follower matchIndex), so a follower never commits what it may not hold', () => {
    const p = founder(A, [A, B, C]);
    const elected = forceLeader(p);
    ackAll(p, elected.messages, [C]);
    p.drain();
    expect(p.status().committed).toBe(2);
    p.tick();
    const out = p.drain();
    expect(ofType(out.messages, 'heartbeat').map((m) => [m.to, m.commit])).toEqual([[B, 0], [C, 2]]);
  });

  it('Fig.3 Leader Append-Only: a leader never overwrites or deletes entries in its own log', () => {
    const p = founder(A, [A, B, C]);
    forceLeader(p);
    p.propose('x');
    p.drain();
    const before = positions(storedLog(p.storage));
    p.stepDrain(app(B, A, 1, 1, 1, [ent(2, 1, 'other')], 1));
    p.stepDrain(app(B, A, 2, 1, 1, [ent(2, 2, 'other')], 1));
    expect(p.role).toBe('leader');
    expect(positions(storedLog(p.storage))).toEqual(before);
    expect(p.status().lastIndex).toBe(3);
  });

  it('Fig.2 All servers 1 (§5.3): every server applies the committed entries in log order, each exactly once, and all apply the same', () => {
    const net = Network.of(['a', 'b', 'c']);
    net.elect(A);
    for (const x of ['1', '2', '3', '4', '5']) net.propose(A, x);
    for (const p of net.peers.values()) {
      expect(p.applied.map((e) => e.index)).toEqual([2, 3, 4, 5, 6, 7]);
      expect(payloads(p.applied)).toEqual(['1', '2', '3', '4', '5']);
      expect(p.status()).toMatchObject({ applied: 7, committed: 7 });
    }
    expect(net.violations).toEqual([]);
  });

  it('§5.3: the leader commit index reaches followers with the next AppendEntries', () => {
    const net = Network.of(['a', 'b', 'c']);
    net.elect(A);
    net.propose(A, 'x');
    for (const id of [B, C]) expect(net.peer(id).status().committed).toBe(3);
  });
});

describe('Figure 7: a new leader brings every follower log into agreement with its own (§5.3)', () => {
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  // The follower logs (a)-(f) of Figure 7, and how many rejections fast backtracking needs.
  const followers: [string, number[], number][] = [
    ['(a) missing one entry', [1, 1, 1, 4, 4, 5, 5, 6, 6], 1],
    ['(b) missing many entries', [1, 1, 1, 4], 1],
    ['(c) one extra uncommitted entry of term 6', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], 0],
    ['(d) extra entries of term 7', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], 0],
    ['(e) missing entries, extra entries of term 4', [1, 1, 1, 4, 4, 4, 4], 1],
    ['(f) extra entries of terms 2 and 3', [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], 1],
  ];

  it.each(followers)('Figure 7 %s: the follower ends with exactly the leader log (fast backtracking: %i rejections)', (_name, log, rejections) => {
    const net = new Network();
    const voters = [A, B, C];
    const leader = net.add(new Peer(A, storageWithLog(voters, leaderLog, { term: tm(7) })));
    const follower = net.add(new Peer(B, storageWithLog(voters, log)));
    net.add(new Peer(C, storageWithLog(voters, leaderLog, { term: tm(7) })));
    net.elect(A);
    expect(leader.term).toBe(8);
    const expected = [...leaderLog, 8].map((t, k) => [k + 1, t]);
    expect(positions(storedLog(leader.storage))).toEqual(expected);
    expect(positions(storedLog(follower.storage))).toEqual(expected);
    // "...so that the other servers eventually find out": by the next heartbeat at the latest.
    net.tick(1, [A]);
    expect(follower.status().committed).toBe(11);
    const rejected = net.delivered.filter((m) => m.type === 'appResp' && m.from === B && m.reject);
    expect(rejected).toHaveLength(rejections);
    expect(net.violations).toEqual([]);
  });
});
