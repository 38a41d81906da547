import { describe, expect, it } from 'vitest';
import { MemoryStorage, RawNode, logIndex as li, nodeId, term as t, type Message } from '../../src/raft/index.js';
import { TestCluster, data, fixedRng } from './cluster-harness.js';

const [a, b, c] = [nodeId('a'), nodeId('b'), nodeId('c')];

function lone(name: string, peers: string[], overrides = {}): { raw: RawNode; storage: MemoryStorage } {
  const storage = MemoryStorage.bootstrap(peers.map(nodeId));
  const raw = new RawNode({ id: nodeId(name), storage, rng: fixedRng(), electionTick: 10, heartbeatTick: 1, preVote: false, checkQuorum: false, applied: li(1), ...overrides });
  return { raw, storage };
}

const vote = (from: string, to: string, term: number, index: number, logTerm: number): Message => ({
  type: 'vote', from: nodeId(from), to: nodeId(to), term: t(term), index: li(index), logTerm: t(logTerm), transfer: false,
});

describe('Figure 2: persistent state on all servers', () => {
  it('currentTerm and votedFor are persisted before the vote is sent, and survive a restart', () => {
    const { raw, storage } = lone('b', ['a', 'b', 'c']);
    raw.step(vote('a', 'b', 5, 1, 1));
    const rd = raw.ready();
    expect(rd.hardState).toMatchObject({ term: 5, vote: 'a' });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([{ type: 'voteResp', from: b, to: a, term: 5, reject: false }]);
    storage.setHardState(rd.hardState!);
    raw.advance(rd);
    // Restart from storage alone: the vote is remembered, so a second candidate in term 5 is refused.
    const again = new RawNode({ id: b, storage, rng: fixedRng(), electionTick: 10, heartbeatTick: 1, preVote: false, checkQuorum: false, applied: li(1) });
    expect(again.status().hardState).toMatchObject({ term: 5, vote: 'a' });
    again.step(vote('c', 'b', 5, 1, 1));
    expect(again.ready().messages).toEqual([{ type: 'voteResp', from: b, to: c, term: 5, reject: true }]);
  });

  it('log entries are handed out for persistence before any acknowledgement, and survive a restart', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.propose('a', 'x');
    const b1 = cl.restart('b');
    expect(b1.raw.status().lastIndex).toBe(3);
    expect(b1.storage.entries(li(3), li(4), Infinity)[0]).toMatchObject({ term: 2, index: 3 });
  });
});

describe('Figure 2: rules for all servers', () => {
  it('if commitIndex > lastApplied, apply log[lastApplied+1], in order', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    for (const x of ['1', '2', '3']) cl.propose('a', x);
    for (const m of cl.members.values()) {
      expect(m.applied.map((e) => e.index)).toEqual([2, 3, 4, 5]);
      expect(m.raw.status().applied).toBe(5);
    }
  });

  it('a message with a higher term makes the receiver a follower in that term (§5.1)', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.raw('a').step({ type: 'appResp', from: b, to: a, term: t(9), index: li(0), reject: false, rejectHint: li(0), logTerm: t(0) });
    expect(cl.raw('a').status().softState.role).toBe('follower');
    expect(cl.raw('a').status().hardState.term).toBe(9);
  });
});

describe('Figure 2: RequestVote receiver', () => {
  it('1. reply false if term < currentTerm', () => {
    const { raw } = lone('b', ['a', 'b', 'c']);
    raw.step(vote('c', 'b', 4, 1, 1));
    raw.advance(raw.ready());
    raw.step(vote('a', 'b', 3, 5, 3));
    expect(raw.hasReady()).toBe(false);
    expect(raw.status().hardState).toMatchObject({ term: 4, vote: 'c' });
  });

  it('2. grant if votedFor is null or the same candidate; refuse a second candidate in the term', () => {
    const { raw } = lone('b', ['a', 'b', 'c']);
    raw.step(vote('a', 'b', 2, 1, 1));
    raw.step(vote('a', 'b', 2, 1, 1));
    raw.step(vote('c', 'b', 2, 1, 1));
    const resps = raw.ready().messages.map((m) => [m.to, m.type === 'voteResp' && m.reject]);
    expect(resps).toEqual([[a, false], [a, false], [c, true]]);
  });

  it('2. and §5.4.1: refuse a candidate whose log is less up-to-date (older last term, or same term and shorter)', () => {
    const { storage } = lone('b', ['a', 'b', 'c']);
    storage.append([{ type: 'normal', term: t(3), index: li(2), data: data('x') }, { type: 'normal', term: t(3), index: li(3), data: data('y') }]);
    const fresh = new RawNode({ id: b, storage, rng: fixedRng(), electionTick: 10, heartbeatTick: 1, preVote: false, checkQuorum: false, applied: li(1) });
    const answer = (m: Message): unknown[] => {
      fresh.step(m);
      const rd = fresh.ready();
      fresh.advance(rd);
      return rd.messages.map((r) => (r.type === 'voteResp' ? [r.to, r.term, r.reject] : null));
    };
    expect(answer(vote('a', 'b', 5, 9, 2))).toEqual([[a, 5, true]]); // longer log, older last term
    expect(answer(vote('c', 'b', 6, 2, 3))).toEqual([[c, 6, true]]); // same last term, shorter log
    expect(answer(vote('a', 'b', 7, 3, 3))).toEqual([[a, 7, false]]); // same term and length: up to date
  });
});

describe('Figure 2: rules for candidates', () => {
  it('on conversion: increment currentTerm, vote for self, reset the timer, send RequestVote to all others', () => {
    const { raw } = lone('a', ['a', 'b', 'c']);
    for (let i = 0; i < 10; i++) raw.tick();
    const rd = raw.ready();
    expect(rd.softState?.role).toBe('candidate');
    expect(rd.hardState).toMatchObject({ term: 2, vote: 'a' });
    expect(rd.messages.map((m) => [m.type, m.to, m.term])).toEqual([['vote', b, 2], ['vote', c, 2]]);
  });

  it('votes from a majority: become leader', () => {
    const cl = new TestCluster(['a', 'b', 'c', 'd', 'e']);
    cl.filter = (m) => !(m.to === nodeId('d') || m.to === nodeId('e') || m.from === nodeId('d') || m.from === nodeId('e'));
    expect(cl.elect('a').raw.status().softState.leader).toBe(a);
  });

  it('without a majority the candidate stays a candidate, then times out and starts a new term', () => {
    const cl = new TestCluster(['a', 'b', 'c', 'd', 'e']);
    cl.isolate('a');
    cl.raw('a').campaign();
    cl.drain();
    expect(cl.raw('a').status().softState.role).toBe('candidate');
    cl.tick(20, ['a']);
    expect(cl.raw('a').status().hardState.term).toBeGreaterThanOrEqual(3);
    expect(cl.raw('a').status().softState.role).toBe('candidate');
  });

  it('AppendEntries from a new leader of the same term: become follower', () => {
    const { raw } = lone('a', ['a', 'b', 'c']);
    raw.campaign();
    raw.advance(raw.ready());
    raw.step({ type: 'app', from: b, to: a, term: t(2), index: li(1), logTerm: t(1), commit: li(1), entries: [] });
    expect(raw.status().softState).toEqual({ role: 'follower', leader: b });
  });

  it('§5.2: the election timeout is randomized in [electionTick, 2*electionTick)', () => {
    for (const offset of [0, 5, 9]) {
      const storage = MemoryStorage.bootstrap([a, b, c]);
      const raw = new RawNode({ id: a, storage, rng: fixedRng(offset), electionTick: 10, heartbeatTick: 1, preVote: false, checkQuorum: false, applied: li(1) });
      let ticks = 0;
      while (raw.status().softState.role === 'follower' && ticks < 100) {
        raw.tick();
        ticks++;
      }
      expect(ticks).toBe(10 + offset);
    }
  });
});

describe('Figure 2 / §5.2: Election Safety', () => {
  it('a split vote elects nobody in that term, and at most one leader per term ever', () => {
    const cl = new TestCluster(['a', 'b', 'c', 'd']);
    cl.raw('a').campaign();
    cl.raw('b').campaign();
    cl.drain();
    const leaders = [...cl.members.values()].filter((m) => m.raw.status().softState.role === 'leader');
    expect(leaders.length).toBeLessThanOrEqual(1);
    const byTerm = new Map<number, string[]>();
    for (const m of cl.members.values()) {
      for (const rd of m.readies) {
        if (rd.softState?.role === 'leader') byTerm.set(rd.hardState?.term ?? m.raw.status().hardState.term, [...(byTerm.get(m.raw.status().hardState.term) ?? []), m.id]);
      }
    }
    for (const ls of byTerm.values()) expect(ls.length).toBe(1);
  });
});
