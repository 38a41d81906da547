import { describe, expect, it } from 'vitest';
import { MemoryStorage, ProposalDroppedError, nodeId } from '../../src/raft/index.js';
import { A, B, C, D, Network, PAPER, PRODUCTION, Peer, founder, forceLeader, heartbeat, ofType, only, payloads, type NodeConfig } from './harness.js';

// Leadership transfer (dissertation §3.10): the leader brings the transferee up to date, stops
// accepting proposals, and sends TimeoutNow; the transferee campaigns at once.

function dropReason(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof ProposalDroppedError) return e.reason;
    throw e;
  }
}

function cluster(config: NodeConfig = PRODUCTION): Network {
  const net = Network.of(['a', 'b', 'c'], config, { rngSeed: 12 });
  net.elect(A);
  net.propose(A, 'before');
  return net;
}

describe('§3.10 leadership transfer', () => {
  it('§3.10: to an up-to-date follower the leader sends TimeoutNow at once; the transferee campaigns without PreVote (transfer flag) and wins; the old leader follows it', () => {
    const net = cluster();
    const a = net.peer(A);
    a.node.transferLeader(B);
    expect(a.status().leadTransferee).toBe(B);
    const sent = net.collect();
    expect(sent).toEqual([{ type: 'timeoutNow', from: A, to: B, term: 2 }]);
    const from = net.delivered.length;
    net.settle();
    const b = net.peer(B);
    expect(b.status().softState).toEqual({ role: 'leader', leader: B });
    expect(b.term).toBe(3);
    expect(a.status().softState).toEqual({ role: 'follower', leader: B });
    const campaign = net.delivered.slice(from).filter((m) => m.from === B && (m.type === 'vote' || m.type === 'preVote'));
    expect(campaign.map((m) => [m.type, m.to, m.type === 'vote' && m.transfer])).toEqual([['vote', A, true], ['vote', C, true]]);
    net.propose(B, 'after');
    for (const p of net.peers.values()) expect(payloads(p.applied)).toEqual(['before', 'after']);
  });

  it('§3.10: the transferee vote request bypasses the followers leader lease (CheckQuorum)', () => {
    const net = cluster();
    net.peer(A).node.transferLeader(C);
    net.settle();
    expect(net.peer(C).role).toBe('leader');
    expect(net.peer(B).status().hardState).toMatchObject({ term: 3, vote: C });
  });

  it('§3.10: the leader refuses proposals while a transfer is in progress (ProposalDroppedError transferring)', () => {
    const net = cluster();
    net.isolate(B);
    const a = net.peer(A);
    a.node.transferLeader(B);
    net.settle();
    expect(dropReason(() => a.propose('during'))).toBe('transferring');
    expect(a.status().leadTransferee).toBe(B);
  });

  it('§3.10: a transfer that does not complete within an election timeout is abandoned, and proposals are accepted again', () => {
    const net = cluster(PAPER);
    net.isolate(B);
    const a = net.peer(A);
    a.node.transferLeader(B);
    net.tick(9, [A]);
    expect(a.status().leadTransferee).toBe(B);
    net.tick(1, [A]);
    expect(a.status().leadTransferee).toBeNull();
    expect([a.role, a.term]).toEqual(['leader', 2]);
    expect(dropReason(() => a.propose('later'))).toBeNull();
  });

  it('§3.10: a lagging transferee is first caught up with the log, then sent TimeoutNow', () => {
    const net = cluster();
    net.isolate(C);
    for (const x of ['m1', 'm2', 'm3']) net.propose(A, x);
    net.heal();
    const a = net.peer(A);
    const from = net.delivered.length;
    a.node.transferLeader(C);
    net.settle();
    const toC = net.delivered.slice(from).filter((m) => m.from === A && m.to === C);
    const firstTimeoutNow = toC.findIndex((m) => m.type === 'timeoutNow');
    expect(firstTimeoutNow).toBeGreaterThan(0);
    expect(toC.slice(0, firstTimeoutNow).every((m) => m.type === 'app')).toBe(true);
    const c = net.peer(C);
    expect(c.role).toBe('leader');
    expect(payloads(c.applied)).toEqual(['before', 'm1', 'm2', 'm3']);
  });

  it('§3.10: transferLeader on a follower is forwarded to the leader', () => {
    const net = cluster();
    const b = net.peer(B);
    b.node.transferLeader(C);
    const out = b.drain();
    expect(only(out.messages, 'transferLeader', A)).toMatchObject({ transferee: C, term: 2 });
    net.queue.push(...out.messages);
    net.settle();
    expect(net.leaderIds()).toEqual([C]);
  });

  it('§3.10: a transfer to the leader itself, to a non-member, or to a learner is ignored', () => {
    const net = cluster();
    net.add(new Peer(D, new MemoryStorage(), PRODUCTION));
    net.peer(A).node.proposeConfChange({ type: 'addLearner', nodeId: D });
    net.settle();
    const a = net.peer(A);
    for (const to of [A, nodeId('zz'), D]) {
      a.node.transferLeader(to);
      expect(a.status().leadTransferee).toBeNull();
      expect(ofType(a.drain().messages, 'timeoutNow')).toEqual([]);
    }
    expect(dropReason(() => a.propose('still-leading'))).toBeNull();
  });

  it('§3.10: repeating a transfer to the same node does not restart its timer; a transfer to another node replaces it', () => {
    const net = cluster(PAPER);
    net.isolate(B);
    const a = net.peer(A);
    a.node.transferLeader(B);
    net.tick(5, [A]);
    a.node.transferLeader(B);
    net.tick(5, [A]);
    expect(a.status().leadTransferee).toBeNull();
    a.node.transferLeader(B);
    a.node.transferLeader(C);
    expect(a.status().leadTransferee).toBe(C);
    net.settle();
    expect(net.leaderIds()).toEqual([C]);
  });

  it('§3.10: a leader that loses its leadership during a transfer clears the transfer', () => {
    const p = founder(A, [A, B, C]);
    forceLeader(p);
    p.node.transferLeader(B);
    expect(p.status().leadTransferee).toBe(B);
    p.step(heartbeat(C, A, 9, 1));
    expect(p.status()).toMatchObject({ leadTransferee: null, softState: { role: 'follower', leader: C } });
  });
});
