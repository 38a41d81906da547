import { describe, expect, it } from 'vitest';
import { MemoryStorage, type Message, type Role } from '../../src/raft/index.js';
import {
  A,
  B,
  C,
  D,
  E,
  Network,
  PAPER,
  PRODUCTION,
  Peer,
  app,
  appResp,
  founder,
  forceLeader,
  heartbeat,
  heartbeatResp,
  ids,
  ofType,
  only,
  payloads,
  positions,
  seededRng,
  storageWithLog,
  tm,
  voteReq,
} from './harness.js';

// Figure 2 of the Raft paper, "RequestVote RPC", "Rules for Servers" (all servers, followers,
// candidates) and "Persistent state on all servers", plus the election rules of §5.2 and §5.4.1.

const voteResps = (msgs: readonly Message[]): [string, number, boolean][] =>
  ofType(msgs, 'voteResp').map((m) => [m.to, m.term, m.reject]);

describe('Fig.2 Rules for all servers: terms (§5.1)', () => {
  it('Fig.2 Followers: a server starts as a follower, in the term it persisted, with no leader (§5.2)', () => {
    const p = founder(A, [A, B, C]);
    const st = p.status();
    expect(st.softState).toEqual({ role: 'follower', leader: null });
    expect(st.hardState).toEqual({ term: 1, vote: null, commit: 1 });
    expect([st.applied, st.committed, st.lastIndex]).toEqual([1, 1, 1]);
    expect(p.node.hasReady()).toBe(false);
  });

  const roles: [Role, () => Peer][] = [
    ['follower', () => founder(A, [A, B, C])],
    ['preCandidate', () => {
      const p = founder(A, [A, B, C], PRODUCTION);
      p.node.campaign();
      p.drain();
      return p;
    }],
    ['candidate', () => {
      const p = founder(A, [A, B, C]);
      p.node.campaign();
      p.drain();
      return p;
    }],
    ['leader', () => {
      const p = founder(A, [A, B, C]);
      forceLeader(p);
      return p;
    }],
  ];

  it.each(roles)(
    'Fig.2 All servers 2: a %s that receives AppendEntries with term T > currentTerm sets currentTerm = T and becomes a follower of the sender (§5.1)',
    (role, make) => {
      const p = make();
      expect(p.role).toBe(role);
      const out = p.stepDrain(heartbeat(C, A, 5, 1));
      expect(p.status().softState).toEqual({ role: 'follower', leader: C });
      expect(out.hardState).toEqual({ term: 5, vote: null, commit: 1 });
      // The new term is persistent state: it must be synced before the answer leaves.
      expect(out.readies[0]?.mustSync).toBe(true);
      expect(only(out.messages, 'heartbeatResp', C).term).toBe(5);
    },
  );

  it.each([
    ['appResp', appResp(B, A, 7, 0)],
    ['heartbeatResp', heartbeatResp(B, A, 7)],
    ['voteResp', { type: 'voteResp', from: B, to: A, term: tm(7), reject: true } as Message],
  ] as const)('Fig.2 All servers 2: a leader that receives a %s with a higher term steps down to follower in that term (§5.1)', (_name, m) => {
    const p = founder(A, [A, B, C]);
    forceLeader(p);
    expect(p.term).toBe(2);
    p.step(m);
    expect(p.status().softState).toEqual({ role: 'follower', leader: null });
    expect(p.status().hardState).toMatchObject({ term: 7, vote: null });
  });

  it('Fig.2 All servers 2: a candidate that receives a vote request with a higher term steps down and may vote for it (§5.1)', () => {
    const p = founder(A, [A, B, C]);
    p.node.campaign();
    p.drain();
    const out = p.stepDrain(voteReq(B, A, 3, 1, 1));
    expect(p.role).toBe('follower');
    expect(out.hardState).toEqual({ term: 3, vote: B, commit: 1 });
    expect(voteResps(out.messages)).toEqual([[B, 3, false]]);
  });

  it('§5.2: campaign() on a leader does nothing (no new term)', () => {
    const p = founder(A, [A, B, C]);
    forceLeader(p);
    p.node.campaign();
    const out = p.drain();
    expect(p.role).toBe('leader');
    expect(p.term).toBe(2);
    expect(ofType(out.messages, 'vote')).toEqual([]);
  });
});

describe('Fig.2 RequestVote RPC, receiver implementation', () => {
  it('Fig.2 RequestVote receiver 1: a candidate whose term < currentTerm gets no vote (§5.1)', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1], { term: tm(5) }));
    const out = p.stepDrain(voteReq(A, B, 3, 9, 4));
    expect(ofType(out.messages, 'voteResp').filter((m) => !m.reject)).toEqual([]);
    expect(out.hardState).toBeNull();
    expect(p.status().hardState).toEqual({ term: 5, vote: null, commit: 0 });
  });

  it('Fig.2 RequestVote receiver 2: grants when votedFor is null, and the Ready carrying the grant persists term and votedFor with mustSync (persist before responding)', () => {
    const p = founder(B, [A, B, C]);
    const out = p.stepDrain(voteReq(A, B, 2, 1, 1));
    expect(out.readies).toHaveLength(1);
    const rd = out.readies[0]!;
    expect(rd.hardState).toEqual({ term: 2, vote: A, commit: 1 });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([{ type: 'voteResp', from: B, to: A, term: 2, reject: false }]);
    expect(p.storage.initialState().hardState).toEqual({ term: 2, vote: A, commit: 1 });
  });

  it('Fig.2 Persistent state: a vote granted within the current term (no term change) is persisted with mustSync before the grant leaves', () => {
    const p = new Peer(B, storageWithLog([A, B, C], [1], { term: tm(2) }));
    const out = p.stepDrain(voteReq(A, B, 2, 1, 1));
    expect(out.readies).toHaveLength(1);
    expect(out.readies[0]).toMatchObject({ hardState: { term: 2, vote: A, commit: 0 }, mustSync: true });
    expect(voteResps(out.readies[0]!.messages)).toEqual([[A, 2, false]]);
  });

  it('Fig.2 RequestVote receiver 2: grants again to the candidate it already voted for (a retransmitted request, §5.5)', () => {
    const p = founder(B, [A, B, C]);
    p.stepDrain(voteReq(A, B, 2, 1, 1));
    const again = p.stepDrain(voteReq(A, B, 2, 1, 1));
    expect(voteResps(again.messages)).toEqual([[A, 2, false]]);
    expect(again.hardState).toBeNull();
  });

  it('Fig.2 RequestVote receiver 2: refuses a second candidate in the same term: at most one vote per term (§5.2)', () => {
    const p = founder(B, [A, B, C]);
    p.stepDrain(voteReq(A, B, 2, 1, 1));
    const out = p.stepDrain(voteReq(C, B, 2, 5, 1));
    expect(voteResps(out.messages)).toEqual([[C, 2, true]]);
    expect(p.status().hardState.vote).toBe(A);
  });

  // The voter's log is [1:1, 2:2, 3:2]: last term 2, last index 3.
  it.each([
    ['same last term, same length', 3, 2, false],
    ['same last term, longer', 4, 2, false],
    ['same last term, shorter', 2, 2, true],
    ['higher last term, shorter', 1, 3, false],
    ['lower last term, longer', 9, 1, true],
  ] as const)(
    "Fig.2 RequestVote receiver 2: grants only if the candidate's log is at least as up-to-date (§5.4.1): %s",
    (_case, index, logTerm, reject) => {
      const p = new Peer(B, storageWithLog([A, B, C], [1, 2, 2]));
      const out = p.stepDrain(voteReq(A, B, 3, index, logTerm));
      expect(voteResps(out.messages)).toEqual([[A, 3, reject]]);
      expect(p.status().hardState).toMatchObject({ term: 3, vote: reject ? null : A });
    },
  );
});

describe('Fig.2 Persistent state on all servers', () => {
  it('Fig.2 Persistent state: after a restart from storage the node keeps currentTerm and votedFor, so it cannot vote twice in a term (§5.2)', () => {
    const p = founder(B, [A, B, C]);
    p.stepDrain(voteReq(A, B, 2, 1, 1));
    p.restart();
    expect(p.status().hardState).toEqual({ term: 2, vote: A, commit: 1 });
    expect(voteResps(p.stepDrain(voteReq(C, B, 2, 1, 1)).messages)).toEqual([[C, 2, true]]);
    expect(voteResps(p.stepDrain(voteReq(A, B, 2, 1, 1)).messages)).toEqual([[A, 2, false]]);
  });

  it('Fig.2 Persistent state: a restarted node keeps its log and commit index, and committed entries after its snapshot are applied again', () => {
    const net = Network.of(['a', 'b', 'c']);
    net.elect(A);
    net.propose(A, 'x');
    net.propose(A, 'y');
    const b = net.restart(B);
    expect(b.status().hardState).toEqual({ term: 2, vote: A, commit: 4 });
    expect(b.status().lastIndex).toBe(4);
    const out = b.drain();
    expect(positions(out.committed)).toEqual([[2, 2], [3, 2], [4, 2]]);
    expect(payloads(out.committed)).toEqual(['x', 'y']);
    expect(b.status().applied).toBe(4);
  });
});

describe('Fig.2 Rules for followers (§5.2)', () => {
  it('Fig.2 Followers 2: a follower that hears nothing for an election timeout becomes a candidate', () => {
    const p = founder(A, [A, B, C]);
    p.tick(9);
    expect(p.role).toBe('follower');
    p.tick(1);
    expect(p.role).toBe('candidate');
    expect(p.term).toBe(2);
  });

  it('Fig.2 Followers 2: AppendEntries (a heartbeat) from the current leader resets the election timer', () => {
    const p = founder(A, [A, B, C]);
    p.tick(9);
    p.stepDrain(heartbeat(B, A, 1, 1));
    p.tick(9);
    expect(p.status().softState).toEqual({ role: 'follower', leader: B });
    p.tick(1);
    expect(p.role).toBe('candidate');
  });

  it('Fig.2 Followers 2: granting a vote resets the election timer; refusing one does not', () => {
    const granting = new Peer(A, storageWithLog([A, B, C], [1], { term: tm(2) }));
    granting.tick(5);
    expect(voteResps(granting.stepDrain(voteReq(B, A, 2, 1, 1)).messages)).toEqual([[B, 2, false]]);
    granting.tick(9);
    expect(granting.role).toBe('follower');

    const refusing = new Peer(A, storageWithLog([A, B, C], [1, 2], { term: tm(2) }));
    refusing.tick(5);
    expect(voteResps(refusing.stepDrain(voteReq(B, A, 2, 1, 1)).messages)).toEqual([[B, 2, true]]);
    refusing.tick(5);
    expect(refusing.role).toBe('candidate');
  });
});

describe('Fig.2 Rules for candidates (§5.2)', () => {
  it('Fig.2 Candidates 1: on conversion, increment currentTerm, vote for self (persisted), and send RequestVote with lastLogIndex/lastLogTerm to all other servers', () => {
    const p = new Peer(A, storageWithLog([A, B, C], [1, 1, 2]));
    p.node.campaign();
    const out = p.drain();
    expect(out.softState).toEqual({ role: 'candidate', leader: null });
    expect(out.hardState).toEqual({ term: 3, vote: A, commit: 0 });
    expect(out.readies[0]?.mustSync).toBe(true);
    expect(out.messages).toEqual([
      { type: 'vote', from: A, to: B, term: 3, index: 3, logTerm: 2, transfer: false },
      { type: 'vote', from: A, to: C, term: 3, index: 3, logTerm: 2, transfer: false },
    ]);
  });

  const rounds: [string, number, Record<string, boolean>, Role][] = [
    ['1 voter', 1, {}, 'leader'],
    ['3 voters, 2 grants', 3, { b: true, c: true }, 'leader'],
    ['3 voters, 1 grant', 3, { b: true }, 'leader'],
    ['5 voters, 4 grants', 5, { b: true, c: true, d: true, e: true }, 'leader'],
    ['5 voters, 2 grants', 5, { b: true, c: true }, 'leader'],
    ['5 voters, 1 grant, 3 rejections', 5, { b: true, c: false, d: false, e: false }, 'follower'],
    ['3 voters, 2 rejections', 3, { b: false, c: false }, 'follower'],
    ['5 voters, 1 grant, 2 rejections', 5, { b: true, c: false, d: false }, 'candidate'],
    ['3 voters, no answer', 3, {}, 'candidate'],
  ];

  it.each(rounds)(
    'Fig.2 Candidates 2: a candidate becomes leader iff it receives votes from a majority (§5.2): %s',
    (_name, size, answers, role) => {
      const voters = [A, B, C, D, E].slice(0, size);
      const p = founder(A, voters);
      p.node.campaign();
      p.drain();
      for (const [from, granted] of Object.entries(answers)) {
        p.step({ type: 'voteResp', from: ids(from)[0]!, to: A, term: tm(2), reject: !granted });
      }
      p.drain();
      expect(p.role).toBe(role);
      expect(p.term).toBe(2);
    },
  );

  it('Fig.2 Leaders 1 (and §8): upon election the leader sends each server an AppendEntries carrying a no-op entry of its term', () => {
    const p = founder(A, [A, B, C]);
    const out = forceLeader(p);
    expect(out.softState).toEqual({ role: 'leader', leader: A });
    expect(positions(out.entries)).toEqual([[2, 2]]);
    for (const to of [B, C]) {
      const m = only(out.messages, 'app', to);
      expect([m.term, m.index, m.logTerm, m.commit]).toEqual([2, 1, 1, 1]);
      expect(positions(m.entries)).toEqual([[2, 2]]);
    }
  });

  it('Fig.2 Candidates 3: AppendEntries from a new leader of the same term makes a candidate its follower', () => {
    const p = founder(A, [A, B, C]);
    p.node.campaign();
    p.drain();
    const out = p.stepDrain(app(B, A, 2, 1, 1, [], 1));
    expect(p.status().softState).toEqual({ role: 'follower', leader: B });
    expect(p.term).toBe(2);
    expect(only(out.messages, 'appResp', B)).toMatchObject({ term: 2, reject: false, index: 1 });
  });

  it('Fig.2 Candidates 4: if the election timeout elapses, start a new election in the next term', () => {
    const p = founder(A, [A, B, C]);
    p.node.campaign();
    p.drain();
    p.tick(9);
    expect([p.role, p.term]).toEqual(['candidate', 2]);
    p.tick(1);
    const out = p.drain();
    expect([p.role, p.term]).toEqual(['candidate', 3]);
    expect(out.hardState).toEqual({ term: 3, vote: A, commit: 1 });
    expect(ofType(out.messages, 'vote').map((m) => [m.to, m.term])).toEqual([[B, 3], [C, 3]]);
  });

  it('§5.2: a candidate ignores a vote granted in an earlier term', () => {
    const p = founder(A, [A, B, C]);
    p.node.campaign();
    p.tick(10); // second campaign: term 3
    p.drain();
    p.step({ type: 'voteResp', from: B, to: A, term: tm(2), reject: false });
    expect(p.role).toBe('candidate');
    p.step({ type: 'voteResp', from: B, to: A, term: tm(3), reject: false });
    expect(p.role).toBe('leader');
  });
});

describe('§5.2 Leader election: timeouts and Election Safety', () => {
  it('§5.2: election timeouts are randomized in [electionTick, 2*electionTick) for followers and candidates', () => {
    const followerWaits = new Set<number>();
    const candidateWaits = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const p = new Peer(A, MemoryStorage.bootstrap([A, B, C]), { ...PAPER, rng: seededRng(seed) });
      let ticks = 0;
      while (p.role === 'follower') {
        p.tick();
        ticks++;
      }
      followerWaits.add(ticks);
      ticks = 0;
      while (p.term === 2) {
        p.tick();
        ticks++;
      }
      candidateWaits.add(ticks);
    }
    for (const waits of [followerWaits, candidateWaits]) {
      expect(Math.min(...waits)).toBe(10);
      expect(Math.max(...waits)).toBe(19);
      expect(waits.size).toBe(10);
    }
  });

  it('§5.2: randomized timeouts make it rare that two of five followers time out on the same tick', () => {
    let conflicts = 0;
    const rounds = 500;
    for (let round = 0; round < rounds; round++) {
      const peers = [A, B, C, D, E].map((id, k) => new Peer(id, MemoryStorage.bootstrap([A, B, C, D, E]), { ...PAPER, rng: seededRng(round * 5 + k) }));
      let candidates = 0;
      while (candidates === 0) {
        for (const p of peers) p.tick();
        candidates = peers.filter((p) => p.role === 'candidate').length;
      }
      if (candidates > 1) conflicts++;
    }
    expect(conflicts / rounds).toBeLessThan(0.35);
  });

  it('§5.2 Election Safety: when two candidates duel in one term, at most one wins', () => {
    const net = Network.of(['a', 'b', 'c', 'd', 'e']);
    net.peer(A).node.campaign();
    net.peer(B).node.campaign();
    net.settle();
    expect(net.leaderIds()).toEqual([A]);
    expect(net.peer(B).status().softState).toEqual({ role: 'follower', leader: A });
    expect([...net.leaders]).toEqual([[2, A]]);
    expect(net.violations).toEqual([]);
  });

  it('§5.2: a split vote elects nobody in that term; randomized timeouts then elect one leader in a later term', () => {
    const net = Network.of(['a', 'b', 'c', 'd'], PAPER, { rngSeed: 11 });
    // a's request reaches c first and b's reaches d first: 2 votes each, 3 needed.
    net.dropIf((m) => m.type === 'vote' && ((m.from === A && m.to === D) || (m.from === B && m.to === C)));
    net.peer(A).node.campaign();
    net.peer(B).node.campaign();
    net.settle();
    expect(net.leaderIds()).toEqual([]);
    expect(net.leaders.has(2)).toBe(false);
    net.heal();
    for (let i = 0; i < 100 && net.leaderIds().length === 0; i++) net.tick();
    expect(net.leaderIds()).toHaveLength(1);
    expect(Math.min(...net.leaders.keys())).toBeGreaterThanOrEqual(3);
    expect(net.violations).toEqual([]);
  });

  it('Fig.2 Leaders 1: heartbeats sent every heartbeatTick during idle periods keep followers from starting elections', () => {
    const net = Network.of(['a', 'b', 'c'], PAPER, { rngSeed: 3 });
    net.elect(A);
    const before = net.delivered.length;
    net.tick(100);
    const beats = net.delivered.slice(before).filter((m) => m.type === 'heartbeat' && m.from === A);
    expect(beats).toHaveLength(200);
    expect(net.leaderIds()).toEqual([A]);
    for (const p of net.peers.values()) expect([p.term, p.status().softState.leader]).toEqual([2, A]);
  });
});
