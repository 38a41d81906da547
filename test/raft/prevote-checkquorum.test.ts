import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/raft/index.js';
import {
  A,
  B,
  C,
  Network,
  PRODUCTION,
  Peer,
  app,
  constRng,
  founder,
  forceLeader,
  heartbeat,
  ofType,
  storageWithLog,
  tm,
  voteReq,
  type NodeConfig,
} from './harness.js';

// PreVote (dissertation §9.6) and CheckQuorum with its leader lease (dissertation §6.2 / §9.6, as
// etcd/raft implements them).

const answers = (msgs: readonly Message[], type: 'voteResp' | 'preVoteResp'): [string, number, boolean][] =>
  ofType(msgs, type).map((m) => [m.to, m.term, m.reject]);

const preVoteOnly: NodeConfig = { ...PRODUCTION, checkQuorum: false };

describe('PreVote (dissertation §9.6)', () => {
  it('PreVote: a pre-candidate keeps its term and vote (nothing to persist) and asks with term + 1 and its last log position', () => {
    const p = new Peer(A, storageWithLog([A, B, C], [1, 1, 2], { term: tm(2) }), PRODUCTION);
    p.tick(10);
    const out = p.drain();
    expect(out.softState).toEqual({ role: 'preCandidate', leader: null });
    expect(out.hardState).toBeNull();
    expect(p.status().hardState).toEqual({ term: 2, vote: null, commit: 0 });
    expect(out.messages).toEqual([
      { type: 'preVote', from: A, to: B, term: 3, index: 3, logTerm: 2, transfer: false },
      { type: 'preVote', from: A, to: C, term: 3, index: 3, logTerm: 2, transfer: false },
    ]);
  });

  it('PreVote: a majority of pre-votes starts the real election in term + 1', () => {
    const p = new Peer(A, storageWithLog([A, B, C], [1, 1, 2], { term: tm(2) }), PRODUCTION);
    p.node.campaign();
    p.drain();
    p.step({ type: 'preVoteResp', from: B, to: A, term: tm(3), reject: false });
    const out = p.drain();
    expect(out.softState).toEqual({ role: 'candidate', leader: null });
    expect(out.hardState).toEqual({ term: 3, vote: A, commit: 0 });
    expect(ofType(out.messages, 'vote').map((m) => [m.to, m.term])).toEqual([[B, 3], [C, 3]]);
  });

  it('PreVote: granting a pre-vote changes neither the voter term nor its vote', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1, 2], { term: tm(2) }), PRODUCTION);
    const out = p.stepDrain(voteReq(A, B, 3, 3, 2, 'preVote'));
    expect(answers(out.messages, 'preVoteResp')).toEqual([[A, 3, false]]);
    expect(out.hardState).toBeNull();
    expect(p.status().hardState).toEqual({ term: 2, vote: null, commit: 0 });
    // The real vote in term 3 is still free.
    expect(answers(p.stepDrain(voteReq(C, B, 3, 3, 2)).messages, 'voteResp')).toEqual([[C, 3, false]]);
  });

  it('PreVote: a pre-vote is refused when the candidate log is less up-to-date (§5.4.1 applies to pre-votes)', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1, 1, 2], { term: tm(2) }), PRODUCTION);
    const out = p.stepDrain(voteReq(A, B, 3, 2, 1, 'preVote'));
    expect(answers(out.messages, 'preVoteResp')).toEqual([[A, 2, true]]);
    expect(p.term).toBe(2);
  });

  it('PreVote: a pre-candidate refused by a majority returns to follower in the same term', () => {
    const p = new Peer(A, storageWithLog([A, B, C], [1], { term: tm(2) }), PRODUCTION);
    p.node.campaign();
    p.drain();
    for (const from of [B, C]) p.step({ type: 'preVoteResp', from, to: A, term: tm(2), reject: true });
    expect([p.role, p.term]).toEqual(['follower', 2]);
  });

  it('PreVote: a pre-candidate that hears from a leader of its term becomes its follower', () => {
    const p = new Peer(A, storageWithLog([A, B, C], [1], { term: tm(2) }), PRODUCTION);
    p.node.campaign();
    p.drain();
    p.stepDrain(app(B, A, 2, 1, 1, [], 1));
    expect(p.status().softState).toEqual({ role: 'follower', leader: B });
    expect(p.term).toBe(2);
  });

  it('PreVote: a pre-vote from an older term is refused with the newer term, which the pre-candidate adopts', () => {
    const voter = new Peer(B, storageWithLog([A, B, C], [1], { term: tm(5) }), PRODUCTION);
    const out = voter.stepDrain(voteReq(A, B, 3, 1, 1, 'preVote'));
    expect(answers(out.messages, 'preVoteResp')).toEqual([[A, 5, true]]);
    const pre = new Peer(A, storageWithLog([A, B, C], [1], { term: tm(2) }), PRODUCTION);
    pre.node.campaign();
    pre.drain();
    pre.step(out.messages[0]!);
    expect([pre.role, pre.term]).toEqual(['follower', 5]);
  });

  it('PreVote: a node cut off from the cluster does not inflate its term, so it cannot depose the leader when it returns', () => {
    const net = Network.of(['a', 'b', 'c'], preVoteOnly, { rngSeed: 1 });
    net.elect(A);
    net.isolate(C);
    net.tick(60);
    expect(net.peer(C).term).toBe(2);
    net.heal();
    net.tick(20);
    expect(net.leaderIds()).toEqual([A]);
    for (const p of net.peers.values()) expect([p.term, p.status().softState.leader]).toEqual([2, A]);
  });

  it('PreVote (why it exists): without it the same cut-off node inflates its term and forces an election when it returns', () => {
    const net = Network.of(['a', 'b', 'c'], { ...PRODUCTION, preVote: false, checkQuorum: false }, { rngSeed: 1 });
    net.elect(A);
    net.isolate(C);
    net.tick(60);
    const inflated = net.peer(C).term;
    expect(inflated).toBeGreaterThan(4);
    net.heal();
    net.tick(40);
    expect(net.leaderIds()).toHaveLength(1);
    expect(net.peer(A).term).toBeGreaterThanOrEqual(inflated);
  });
});

describe('CheckQuorum and the leader lease', () => {
  it('CheckQuorum: a leader that has not heard from a majority within an election timeout steps down, keeping its term', () => {
    const net = Network.of(['a', 'b', 'c'], PRODUCTION);
    const a = net.elect(A);
    net.isolate(A);
    net.tick(9, [A]);
    expect(a.role).toBe('leader');
    net.tick(11, [A]);
    expect(a.status().softState).toEqual({ role: 'follower', leader: null });
    expect(a.term).toBe(2);
  });

  it('CheckQuorum: a leader that hears from a majority stays leader (one follower down)', () => {
    const net = Network.of(['a', 'b', 'c'], PRODUCTION, { rngSeed: 2 });
    const a = net.elect(A);
    net.crash(C);
    net.tick(100);
    expect([a.role, a.term]).toEqual(['leader', 2]);
  });

  it('CheckQuorum leader lease: a follower that heard from its leader within the election timeout ignores a vote request, whatever its term', () => {
    for (const kind of ['vote', 'preVote'] as const) {
      const p = founder(B, [A, B, C], PRODUCTION);
      p.stepDrain(heartbeat(A, B, 1, 1));
      p.tick(5);
      const out = p.stepDrain(voteReq(C, B, 3, 5, 1, kind));
      expect(out.messages).toEqual([]);
      expect(p.status().hardState).toEqual({ term: 1, vote: null, commit: 1 });
      expect(p.status().softState.leader).toBe(A);
    }
  });

  it('CheckQuorum leader lease: once the follower has not heard from the leader for an election timeout, it grants', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1], { term: tm(1) }), { ...PRODUCTION, rng: constRng(9) });
    p.stepDrain(heartbeat(A, B, 1, 0));
    p.tick(10);
    expect(p.role).toBe('follower');
    const out = p.stepDrain(voteReq(C, B, 2, 1, 1));
    expect(answers(out.messages, 'voteResp')).toEqual([[C, 2, false]]);
  });

  it('CheckQuorum leader lease: a vote request flagged as a leadership transfer bypasses the lease', () => {
    const p = founder(B, [A, B, C], PRODUCTION);
    p.stepDrain(heartbeat(A, B, 1, 1));
    const out = p.stepDrain(voteReq(C, B, 2, 1, 1, 'vote', true));
    expect(answers(out.messages, 'voteResp')).toEqual([[C, 2, false]]);
    expect(p.status().hardState).toMatchObject({ term: 2, vote: C });
  });

  it('CheckQuorum: a leader ignores a higher-term vote request while its quorum is active (it holds the lease)', () => {
    const p = founder(A, [A, B, C], PRODUCTION);
    forceLeader(p);
    const out = p.stepDrain(voteReq(C, A, 9, 9, 9));
    expect([p.role, p.term]).toEqual(['leader', 2]);
    expect(out.messages).toEqual([]);
  });

  it('CheckQuorum + PreVote: a deposed leader that rejoins learns the newer term from the answer to its stale heartbeat and steps down', () => {
    const net = Network.of(['a', 'b', 'c'], PRODUCTION, { rngSeed: 8 });
    const a = net.elect(A);
    net.isolate(A);
    for (let i = 0; i < 60 && net.leaderIds().filter((id) => id !== A).length === 0; i++) net.tick(1, [B, C]);
    const [newLeader] = net.leaderIds().filter((id) => id !== A);
    expect([B, C]).toContain(newLeader);
    const newTerm = net.peer(newLeader!).term;
    expect(a.role).toBe('leader');
    net.heal();
    net.tick(1, [A]);
    expect(a.status().softState.role).toBe('follower');
    expect(a.term).toBe(newTerm);
    net.tick(2, [newLeader!]);
    expect(a.status().softState.leader).toBe(newLeader);
    expect(net.violations).toEqual([]);
  });

  it('CheckQuorum without PreVote: a stuck candidate with a high term is freed when it rejoins (the leader adopts its term and a new election follows)', () => {
    const net = Network.of(['a', 'b', 'c'], { ...PRODUCTION, preVote: false }, { rngSeed: 6 });
    net.elect(A);
    net.isolate(C);
    net.tick(40);
    const stuck = net.peer(C);
    expect(stuck.role).toBe('candidate');
    const high = stuck.term;
    net.heal();
    for (let i = 0; i < 60 && (net.leaderIds().length !== 1 || net.peer(net.leaderIds()[0]!).term < high); i++) net.tick();
    expect(net.leaderIds()).toHaveLength(1);
    expect(net.peer(net.leaderIds()[0]!).term).toBeGreaterThanOrEqual(high);
    expect(net.violations).toEqual([]);
  });
});
