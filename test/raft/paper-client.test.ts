import { describe, expect, it } from 'vitest';
import { ProposalDroppedError, ReadIndexDroppedError } from '../../src/raft/index.js';
import {
  A,
  B,
  C,
  Network,
  PAPER,
  PRODUCTION,
  Peer,
  ackAll,
  appResp,
  founder,
  forceLeader,
  heartbeatResp,
  ofType,
  only,
  payloads,
  positions,
  storageWithLog,
  li,
  tm,
} from './harness.js';

// Client interaction (§8 of the paper; §6.4 of the dissertation for ReadIndex): the leader's no-op,
// proposals forwarded to the leader, and linearizable reads without writing to the log.

function reason(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof ProposalDroppedError || e instanceof ReadIndexDroppedError) return e.reason;
    throw e;
  }
}

/** A leader of term 2 over a, b, c whose no-op at index 2 is committed. */
function readyLeader(config = PAPER): Peer {
  const p = founder(A, [A, B, C], config);
  const elected = forceLeader(p);
  ackAll(p, elected.messages, [B, C]);
  p.drain();
  expect(p.status().committed).toBe(2);
  return p;
}

describe('§8 the leader no-op', () => {
  it('§8: a new leader commits a blank no-op entry of its term at the start of its term', () => {
    const net = Network.of(['a', 'b', 'c']);
    net.elect(A);
    expect(positions(net.peer(A).applied)).toEqual([[2, 2]]);
    // Followers learn the commit index with the next AppendEntries or heartbeat.
    net.tick(1, [A]);
    for (const p of net.peers.values()) {
      expect(positions(p.applied)).toEqual([[2, 2]]);
      expect(p.applied[0]).toMatchObject({ type: 'normal', data: new Uint8Array(0) });
    }
  });

  it('§8 (and §5.4.2): the no-op commits the entries of earlier terms left uncommitted, without any client write', () => {
    const net = new Network();
    for (const id of [A, B, C]) net.add(new Peer(id, storageWithLog([A, B, C], [1, 2], { term: tm(2), commit: li(1) })));
    net.elect(A);
    net.tick(1, [A]);
    for (const p of net.peers.values()) {
      expect(p.status().committed).toBe(3);
      expect(positions(p.applied)).toEqual([[1, 1], [2, 2], [3, 3]]);
    }
  });
});

describe('§8 proposals', () => {
  it('§8: propose on the leader returns the index and term the entry got; the entry applied there has that term', () => {
    const net = Network.of(['a', 'b', 'c']);
    net.elect(A);
    expect(net.propose(A, 'x')).toEqual({ index: 3, term: 2 });
    for (const p of net.peers.values()) expect(p.applied.find((e) => e.index === 3)).toMatchObject({ term: 2 });
  });

  it('§8: a proposal on a follower is forwarded to the leader, which stamps it with its term and index', () => {
    const net = Network.of(['a', 'b', 'c']);
    net.elect(A);
    const b = net.peer(B);
    expect(b.propose('from-b')).toBeNull();
    const out = b.drain();
    const prop = only(out.messages, 'prop', A);
    expect(payloads(prop.entries)).toEqual(['from-b']);
    net.queue.push(...out.messages);
    net.settle();
    for (const p of net.peers.values()) {
      expect(positions(p.applied.filter((e) => e.index === 3))).toEqual([[3, 2]]);
      expect(payloads(p.applied)).toEqual(['from-b']);
    }
  });

  it('§8: with no known leader a proposal is refused with reason noLeader (followers, candidates and pre-candidates)', () => {
    const follower = founder(B, [A, B, C]);
    expect(reason(() => follower.propose('x'))).toBe('noLeader');
    const candidate = founder(B, [A, B, C]);
    candidate.node.campaign();
    expect(reason(() => candidate.propose('x'))).toBe('noLeader');
    const pre = founder(B, [A, B, C], PRODUCTION);
    pre.node.campaign();
    expect(pre.role).toBe('preCandidate');
    expect(reason(() => pre.propose('x'))).toBe('noLeader');
  });

  it('§8: with proposal forwarding disabled a follower refuses, naming the leader', () => {
    const net = Network.of(['a', 'b', 'c'], { ...PAPER, disableProposalForwarding: true });
    net.elect(A);
    let err: unknown = null;
    try {
      net.peer(B).propose('x');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProposalDroppedError);
    expect(err).toMatchObject({ reason: 'forwardingDisabled', leaderHint: A });
  });

  it('§8: a forwarded proposal that reaches a node that is no longer leader is dropped, not appended', () => {
    const p = founder(B, [A, B, C]);
    const out = p.stepDrain({ type: 'prop', from: C, to: B, term: tm(1), entries: [{ type: 'normal', term: tm(0), index: li(0), data: new Uint8Array([1]) }] });
    expect(out.entries).toEqual([]);
    expect(out.messages).toEqual([]);
    expect(p.status().lastIndex).toBe(1);
  });
});

describe('§6.4 ReadIndex: linearizable reads', () => {
  it('§6.4 ReadIndex 2-3: the leader records its commit index and answers only after a heartbeat round acknowledged by a majority', () => {
    const p = readyLeader();
    p.node.readIndex('r1');
    const out = p.drain();
    expect(out.readStates).toEqual([]);
    expect(ofType(out.messages, 'heartbeat').map((m) => [m.to, m.context])).toEqual([[B, 'r1'], [C, 'r1']]);
    const answered = p.stepDrain(heartbeatResp(B, A, 2, 'r1'));
    expect(answered.readStates).toEqual([{ index: 2, context: 'r1' }]);
    // A late acknowledgement changes nothing.
    expect(p.stepDrain(heartbeatResp(C, A, 2, 'r1')).readStates).toEqual([]);
  });

  it('§6.4: the read index is the commit index when the request arrived, even if more commits before the confirmation', () => {
    const p = readyLeader();
    p.node.readIndex('r1');
    p.drain();
    p.propose('w');
    p.drain();
    p.step(appResp(B, A, 2, 3));
    p.drain();
    expect(p.status().committed).toBe(3);
    expect(p.stepDrain(heartbeatResp(B, A, 2, 'r1')).readStates).toEqual([{ index: 2, context: 'r1' }]);
  });

  it('§6.4 ReadIndex 1: a new leader answers reads only once it has committed an entry of its own term', () => {
    const p = founder(A, [A, B, C]);
    const elected = forceLeader(p);
    p.node.readIndex('early');
    const waiting = p.drain();
    expect(ofType(waiting.messages, 'heartbeat')).toEqual([]);
    ackAll(p, elected.messages, [B]);
    const released = p.drain();
    expect(ofType(released.messages, 'heartbeat').map((m) => [m.to, m.context])).toEqual([[B, 'early'], [C, 'early']]);
    expect(p.stepDrain(heartbeatResp(C, A, 2, 'early')).readStates).toEqual([{ index: 2, context: 'early' }]);
  });

  it('§6.4: a quorum acknowledging a later read also confirms every earlier pending read, in order', () => {
    const p = readyLeader();
    p.node.readIndex('r1');
    p.node.readIndex('r2');
    p.drain();
    expect(p.stepDrain(heartbeatResp(B, A, 2, 'r2')).readStates).toEqual([
      { index: 2, context: 'r1' },
      { index: 2, context: 'r2' },
    ]);
  });

  it('§6.4: a leader cut off from the majority never answers a read (it may have been deposed)', () => {
    const net = Network.of(['a', 'b', 'c'], PAPER, { rngSeed: 4 });
    const a = net.elect(A);
    net.isolate(A);
    a.node.readIndex('stale?');
    net.tick(5, [A]);
    net.elect(B);
    net.propose(B, 'newer');
    net.tick(5, [A]);
    expect(a.readStates).toEqual([]);
    expect(a.role).toBe('leader');
  });

  it('§6.4: a read on a follower is forwarded to the leader and the read index comes back as a ReadState on the follower', () => {
    const net = Network.of(['a', 'b', 'c']);
    net.elect(A);
    net.propose(A, 'x');
    const b = net.peer(B);
    b.node.readIndex('rb');
    expect(only(b.drain().messages, 'readIndex', A).context).toBe('rb');
    b.node.readIndex('rb2');
    net.settle();
    expect(b.readStates).toEqual([{ index: 3, context: 'rb2' }]);
    expect(net.peer(A).readStates).toEqual([]);
  });

  it('§6.4 linearizability: a read requested after a write was acknowledged gets a read index at or after that write', () => {
    const net = Network.of(['a', 'b', 'c']);
    net.elect(A);
    const w = net.propose(A, 'w')!;
    expect(payloads(net.peer(A).applied)).toEqual(['w']);
    const c = net.peer(C);
    c.node.readIndex('after-w');
    net.settle();
    expect(c.readStates).toHaveLength(1);
    expect(c.readStates[0]!.index).toBeGreaterThanOrEqual(w.index);
    expect(c.status().applied).toBeGreaterThanOrEqual(c.readStates[0]!.index);
  });

  it('§6.4: without a known leader a read request is refused with ReadIndexDroppedError(noLeader)', () => {
    const p = founder(B, [A, B, C]);
    expect(reason(() => p.node.readIndex('r'))).toBe('noLeader');
    p.node.campaign();
    expect(reason(() => p.node.readIndex('r'))).toBe('noLeader');
  });

  it('§6.4: a single-voter leader answers a read at once, with no messages', () => {
    const p = founder(A, [A]);
    forceLeader(p);
    p.node.readIndex('solo');
    const out = p.drain();
    expect(out.readStates).toEqual([{ index: 2, context: 'solo' }]);
    expect(out.messages).toEqual([]);
  });

  it('§6.4: reads are confirmed by a quorum even with CheckQuorum on (no lease shortcut)', () => {
    const p = readyLeader(PRODUCTION);
    p.node.readIndex('no-lease');
    const out = p.drain();
    expect(out.readStates).toEqual([]);
    expect(ofType(out.messages, 'heartbeat').map((m) => [m.to, m.context])).toEqual([[B, 'no-lease'], [C, 'no-lease']]);
    expect(p.stepDrain(heartbeatResp(C, A, 2, 'no-lease')).readStates).toEqual([{ index: 2, context: 'no-lease' }]);
  });

  it('§6.4 with §4.1: a pending read whose acknowledgements make a quorum of the new configuration is answered when a change is applied', () => {
    const p = founder(A, [A, B]);
    const elected = forceLeader(p);
    ackAll(p, elected.messages, [B]);
    p.drain();
    p.node.readIndex('r');
    p.drain();
    expect(p.node.proposeConfChange({ type: 'removeNode', nodeId: B })).toEqual({ index: 3, term: 2 });
    p.drain();
    // b acknowledges the removal entry but never answers the read's heartbeat.
    const out = p.stepDrain(appResp(B, A, 2, 3));
    expect(p.status().confState.voters).toEqual([A]);
    expect(out.readStates).toEqual([{ index: 2, context: 'r' }]);
  });
});
