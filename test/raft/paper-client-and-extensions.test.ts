import { describe, expect, it } from 'vitest';
import { ProposalDroppedError, ReadIndexDroppedError, nodeId, type Message } from '../../src/raft/index.js';
import { TestCluster, appliedTexts, data } from './cluster-harness.js';

const [b, c] = [nodeId('b'), nodeId('c')];

describe('§8: client interaction', () => {
  it('a proposal on a follower is forwarded to the leader and applied everywhere', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.propose('b', 'via-b');
    for (const m of cl.members.values()) expect(appliedTexts(m)).toEqual(['via-b']);
  });

  it('a proposal with no known leader is refused with a reason', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    expect(() => cl.raw('b').propose(data('x'))).toThrow(ProposalDroppedError);
    expect(() => cl.raw('b').readIndex('r')).toThrow(ReadIndexDroppedError);
  });

  it('ReadIndex: answered only after a heartbeat round confirms leadership, with the commit index', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.propose('a', 'w');
    cl.raw('a').readIndex('r1');
    cl.hold = true;
    cl.drain();
    expect(cl.get('a').readStates).toEqual([]);
    const heartbeats = cl.pending.filter((m: Message) => m.type === 'heartbeat');
    expect(heartbeats.map((m) => (m.type === 'heartbeat' ? m.context : null))).toEqual(['r1', 'r1']);
    cl.hold = false;
    cl.drain();
    expect(cl.get('a').readStates).toEqual([{ index: 3, context: 'r1' }]);
  });

  it('ReadIndex: an isolated leader cannot answer', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.isolate('a');
    cl.raw('a').readIndex('r2');
    cl.drain();
    cl.tick(3, ['a']);
    expect(cl.get('a').readStates).toEqual([]);
  });

  it('ReadIndex: a new leader answers only once it has committed an entry of its own term', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.raw('a').campaign();
    // Deliver only the election; hold back the no-op's replication.
    cl.filter = (m) => m.type === 'vote' || m.type === 'voteResp' || m.type === 'heartbeat' || m.type === 'heartbeatResp';
    cl.drain();
    expect(cl.raw('a').status().softState.role).toBe('leader');
    cl.raw('a').readIndex('early');
    cl.drain();
    cl.tick(2);
    expect(cl.get('a').readStates).toEqual([]);
    cl.heal();
    cl.tick(2);
    expect(cl.get('a').readStates.map((r) => r.context)).toEqual(['early']);
    expect(cl.get('a').readStates[0]!.index).toBeGreaterThanOrEqual(2);
  });

  it('ReadIndex: a read pending when the group shrinks to one voter is answered', () => {
    // Found in review: pending reads were re-checked only on heartbeat answers, which a lone
    // voter never gets.
    const cl = new TestCluster(['a', 'b']);
    cl.elect('a');
    cl.propose('a', 'w');
    cl.filter = (m) => m.type !== 'heartbeatResp';
    cl.raw('a').readIndex('r1');
    cl.drain();
    expect(cl.get('a').readStates).toEqual([]);
    cl.raw('a').proposeConfChange({ type: 'removeNode', nodeId: b });
    cl.drain();
    expect(cl.raw('a').status().confState.voters).toEqual(['a']);
    expect(cl.get('a').readStates.map((r) => r.context)).toEqual(['r1']);
  });

  it('ReadIndex on a follower is forwarded to the leader and the answer comes back', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.propose('a', 'w');
    cl.raw('c').readIndex('from-c');
    cl.drain();
    expect(cl.get('c').readStates).toEqual([{ index: 3, context: 'from-c' }]);
  });
});

describe('PreVote (dissertation §9.6) and CheckQuorum', () => {
  it('PreVote: a partitioned node does not inflate its term, so it cannot disrupt when it returns', () => {
    const cl = new TestCluster(['a', 'b', 'c'], { preVote: true, checkQuorum: true });
    cl.elect('a');
    cl.isolate('c');
    cl.tick(50, ['c']);
    expect(cl.raw('c').status().hardState.term).toBe(2);
    cl.heal();
    cl.tick(3);
    expect(cl.raw('a').status().softState.role).toBe('leader');
    expect(cl.raw('a').status().hardState.term).toBe(2);
  });

  it('CheckQuorum: a leader that hears from no quorum for an election timeout steps down', () => {
    const cl = new TestCluster(['a', 'b', 'c'], { checkQuorum: true });
    cl.elect('a');
    cl.isolate('a');
    cl.tick(25, ['a']);
    expect(cl.raw('a').status().softState.role).toBe('follower');
  });

  it('leader lease: a follower that heard from the leader recently ignores a disruptive vote', () => {
    const cl = new TestCluster(['a', 'b', 'c'], { checkQuorum: true });
    cl.elect('a');
    cl.tick(1);
    cl.raw('b').step({ type: 'vote', from: c, to: b, term: cl.raw('b').status().hardState.term + 1 as never, index: 99 as never, logTerm: 99 as never, transfer: false });
    expect(cl.raw('b').hasReady()).toBe(false);
    expect(cl.raw('b').status().hardState.term).toBe(2);
  });
});

describe('leadership transfer (dissertation §3.10)', () => {
  it('the transferee campaigns at once and wins; the old leader follows', () => {
    const cl = new TestCluster(['a', 'b', 'c'], { preVote: true, checkQuorum: true });
    cl.elect('a');
    cl.propose('a', 'w');
    cl.raw('a').transferLeader(b);
    cl.drain();
    expect(cl.raw('b').status().softState.role).toBe('leader');
    expect(cl.raw('a').status().softState).toEqual({ role: 'follower', leader: b });
  });

  it('proposals are refused while a transfer is in progress, and the transfer is abandoned after an election timeout', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.isolate('b');
    cl.raw('a').transferLeader(b);
    cl.drain();
    expect(() => cl.raw('a').propose(data('blocked'))).toThrow(ProposalDroppedError);
    cl.tick(12, ['a']);
    expect(cl.raw('a').status().leadTransferee).toBeNull();
    expect(() => cl.raw('a').propose(data('ok'))).not.toThrow();
  });

  it('a transfer to a lagging follower first catches it up, then hands over', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.isolate('c');
    for (const x of ['1', '2', '3']) cl.propose('a', x);
    cl.heal();
    cl.raw('a').transferLeader(c);
    cl.drain();
    expect(cl.raw('c').status().softState.role).toBe('leader');
    expect(cl.raw('c').status().lastIndex).toBeGreaterThanOrEqual(5);
  });
});
