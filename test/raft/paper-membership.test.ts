import { describe, expect, it } from 'vitest';
import { MemoryStorage, ProposalDroppedError, type ConfChange, type NodeId } from '../../src/raft/index.js';
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
  forceLeader,
  ofType,
  payloads,
  positions,
  storageWithLog,
  storedLog,
  tm,
  li,
  ids,
  seededRng,
  type NodeConfig,
} from './harness.js';

// Cluster membership changes, Raft paper §6 and dissertation chapter 4: single-server changes (one
// at a time, effective when applied, as etcd does), learners (non-voting members, §4.2.1),
// removing the leader (§4.2.2) and disruptive removed servers (§4.2.3).

const addVoter = (nodeId: NodeId): ConfChange => ({ type: 'addVoter', nodeId });
const addLearner = (nodeId: NodeId): ConfChange => ({ type: 'addLearner', nodeId });
const removeNode = (nodeId: NodeId): ConfChange => ({ type: 'removeNode', nodeId });

function dropReason(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof ProposalDroppedError) return e.reason;
    throw e;
  }
}

/** a, b, c founded the group; `joiners` start from empty storage and learn it from the leader. */
function group(joiners: NodeId[] = [], config: NodeConfig = PAPER, rngSeed?: number): Network {
  const net = Network.of(['a', 'b', 'c'], config, rngSeed === undefined ? {} : { rngSeed });
  for (const id of joiners) net.add(new Peer(id, new MemoryStorage(), config));
  return net;
}

/** Proposes a change, lets it commit and apply, then lets the leader's next heartbeat reach any
 * new member (a leader first contacts a new member with its next heartbeat). */
function change(net: Network, on: NodeId, cc: ConfChange): void {
  net.peer(on).node.proposeConfChange(cc);
  net.settle();
  const leaders = net.leaderIds();
  net.tick(1, leaders);
}

describe('§4.1 single-server membership changes', () => {
  it('§4.1: a new voter joins from empty storage: it takes effect when applied, and the joiner learns the group from the leader (snapshot, then log)', () => {
    const net = group([D]);
    const a = net.elect(A);
    a.node.proposeConfChange(addVoter(D));
    expect(a.status().progress?.has(D)).toBe(false);
    net.settle();
    expect(a.status().confState).toEqual({ voters: [A, B, C, D], learners: [] });
    // The leader first contacts the new member with its next heartbeat.
    net.tick(1, [A]);
    expect(a.status().progress?.get(D)).toMatchObject({ match: 3, state: 'replicate', isLearner: false });
    const d = net.peer(D);
    // The founding configuration came with the snapshot; the change itself with the log.
    expect(net.delivered.filter((m) => m.type === 'snap' && m.to === D)).toHaveLength(1);
    expect(d.confState).toEqual({ voters: [A, B, C, D], learners: [] });
    for (const id of [B, C]) expect(net.peer(id).confState).toEqual({ voters: [A, B, C, D], learners: [] });
    expect(positions(storedLog(d.storage))).toEqual(positions(storedLog(a.storage)).filter(([i]) => i >= 2));
    expect(net.violations).toEqual([]);
  });

  it('§4.1: after adding a fourth voter the majority is three: two of four cannot commit', () => {
    const net = group([D]);
    const a = net.elect(A);
    change(net, A, addVoter(D));
    net.isolate(C);
    net.isolate(D);
    const at = a.propose('y')!;
    net.settle();
    expect(a.status().committed).toBe(at.index - 1);
    net.heal();
    net.tick(1, [A]);
    expect(a.status().committed).toBe(at.index);
  });

  it('§4.1: after removing a voter the majority shrinks: two of three commit what two of four could not', () => {
    const net = Network.of(['a', 'b', 'c', 'd']);
    const a = net.elect(A);
    net.isolate(C);
    net.isolate(D);
    const stuck = a.propose('stuck')!;
    net.settle();
    expect(a.status().committed).toBe(stuck.index - 1);
    net.heal();
    change(net, A, removeNode(D));
    expect(a.status().confState.voters).toEqual([A, B, C]);
    net.isolate(C);
    net.isolate(D);
    const pos = net.propose(A, 'z')!;
    expect(a.status().committed).toBe(pos.index);
  });

  it('§4.1: the leader accepts one membership change at a time: a second is refused while the first is unapplied', () => {
    const net = group();
    const a = net.elect(A);
    expect(a.node.proposeConfChange(addLearner(D))).toEqual({ index: 3, term: 2 });
    expect(dropReason(() => a.node.proposeConfChange(addLearner(E)))).toBe('confChangePending');
    net.settle();
    expect(a.status().applied).toBe(3);
    expect(dropReason(() => a.node.proposeConfChange(addLearner(E)))).toBeNull();
    net.settle();
    expect(a.status().confState.learners).toEqual([D, E]);
  });

  it('§4.1 (the single-server change bug fix): a new leader accepts no membership change until the entries of earlier terms in its log are applied', () => {
    // a holds an unapplied entry of term 2 (it might be a membership change) and becomes leader of 3.
    const a = new Peer(A, storageWithLog([A, B, C], [1, 2], { term: tm(2), commit: li(1) }));
    const elected = forceLeader(a);
    expect(a.status().applied).toBe(1);
    expect(dropReason(() => a.node.proposeConfChange(addLearner(D)))).toBe('confChangePending');
    const toB = ofType(elected.messages, 'app', B)[0]!;
    a.step({ type: 'appResp', from: B, to: A, term: tm(3), index: li(toB.index + toB.entries.length), reject: false, rejectHint: li(0), logTerm: tm(0) });
    a.drain();
    expect(a.status().applied).toBe(3);
    expect(a.node.proposeConfChange(addLearner(D))).toEqual({ index: 4, term: 3 });
  });

  it('§4.1: a membership change proposed on a follower is forwarded to the leader and applied by every member in log order', () => {
    const net = group([D]);
    net.elect(A);
    expect(net.peer(B).node.proposeConfChange(addLearner(D))).toBeNull();
    net.settle();
    net.tick(1, [A]);
    for (const id of [A, B, C, D]) {
      expect(net.peer(id).confState, id).toEqual({ voters: [A, B, C], learners: [D] });
      const cc = net.peer(id).applied.filter((e) => e.type === 'confChange');
      expect(positions(cc), id).toEqual([[3, 2]]);
    }
  });

  it('§4.1: entries waiting for the acknowledgement of a removed voter commit as soon as the removal is applied', () => {
    const a = new Peer(A, MemoryStorage.bootstrap([A, B]));
    const elected = forceLeader(a);
    const noop = ofType(elected.messages, 'app', B)[0]!;
    a.step({ type: 'appResp', from: B, to: A, term: tm(2), index: li(noop.index + 1), reject: false, rejectHint: li(0), logTerm: tm(0) });
    a.drain();
    expect(a.node.proposeConfChange(removeNode(B))).toEqual({ index: 3, term: 2 });
    expect(a.propose('x')).toEqual({ index: 4, term: 2 });
    a.drain();
    // b acknowledges the removal but never the entry after it.
    a.step({ type: 'appResp', from: B, to: A, term: tm(2), index: li(3), reject: false, rejectHint: li(0), logTerm: tm(0) });
    a.drain();
    expect(a.status().confState.voters).toEqual([A]);
    expect(a.status().committed).toBe(4);
    expect(payloads(a.applied)).toEqual(['x']);
  });

  it('§4.1: a removed member no longer gets replication traffic from the leader', () => {
    const net = group();
    const a = net.elect(A);
    change(net, A, removeNode(C));
    expect([...a.status().progress!.keys()].sort()).toEqual([A, B]);
    const before = net.delivered.length;
    net.propose(A, 'after');
    net.tick(3);
    expect(net.delivered.slice(before).filter((m) => m.to === C)).toEqual([]);
    expect(a.status().committed).toBe(a.status().lastIndex);
  });

  it('§4.1: a candidate counts only the votes of voters in its configuration', () => {
    const a = new Peer(A, MemoryStorage.bootstrap([A, B, C]));
    a.node.campaign();
    a.drain();
    for (const from of [D, E]) a.step({ type: 'voteResp', from, to: A, term: tm(2), reject: false });
    expect(a.role).toBe('candidate');
    a.step({ type: 'voteResp', from: B, to: A, term: tm(2), reject: false });
    expect(a.role).toBe('leader');
  });

  it('§4.1: addLearner on a current voter is ignored: a voter is never demoted in one step', () => {
    const net = group();
    const a = net.elect(A);
    change(net, A, addLearner(B));
    expect(a.status().confState).toEqual({ voters: [A, B, C], learners: [] });
    expect(net.peer(B).confState).toEqual({ voters: [A, B, C], learners: [] });
  });
});

describe('§4.1 with CheckQuorum', () => {
  it('§4.1 + CheckQuorum: a freshly added voter counts as active, so the leader is not deposed by a quorum check that falls before the newcomer could answer', () => {
    const net = new Network();
    const a = net.add(new Peer(A, MemoryStorage.bootstrap([A]), PRODUCTION));
    net.add(new Peer(B, new MemoryStorage(), PRODUCTION));
    net.elect(A);
    net.tick(9, [A]);
    a.node.proposeConfChange(addVoter(B));
    net.settle();
    expect(a.status().confState.voters).toEqual([A, B]);
    // The quorum check of this tick runs before b has answered anything.
    net.tick(1, [A]);
    expect([a.role, a.term]).toEqual(['leader', 2]);
    net.tick(30, [A]);
    expect(a.role).toBe('leader');
    expect(net.peer(B).status().softState.leader).toBe(A);
  });
});

describe('§4.2.1 learners (non-voting members)', () => {
  it('§4.2.1: a learner receives the log but does not count toward the commit majority', () => {
    const net = group([D]);
    const a = net.elect(A);
    change(net, A, addLearner(D));
    net.isolate(B);
    net.isolate(C);
    const pos = a.propose('only-on-a-and-d')!;
    net.settle();
    expect(net.peer(D).status().lastIndex).toBe(pos.index);
    expect(a.status().committed).toBe(pos.index - 1);
    expect(a.status().progress?.get(D)).toMatchObject({ isLearner: true, match: pos.index });
    net.heal();
    net.tick(1, [A]);
    expect(a.status().committed).toBe(pos.index);
    expect(payloads(net.peer(D).applied)).toEqual(['only-on-a-and-d']);
  });

  it('§4.2.1: a learner never campaigns and is never asked for its vote', () => {
    const net = group([D], PAPER, 3);
    net.elect(A);
    change(net, A, addLearner(D));
    const d = net.peer(D);
    net.isolate(D);
    net.tick(60, [D]);
    expect([d.role, d.term]).toEqual(['follower', 2]);
    net.heal();
    net.elect(B);
    const sentByD = [...net.delivered, ...net.lost].filter((m) => m.from === D && (m.type === 'vote' || m.type === 'preVote'));
    expect(sentByD).toEqual([]);
    const askedD = [...net.delivered, ...net.lost].filter((m) => m.to === D && (m.type === 'vote' || m.type === 'preVote'));
    expect(askedD).toEqual([]);
  });

  it('§4.2.1: a learner promoted with addVoter votes and can be elected', () => {
    const net = group([D]);
    net.elect(A);
    change(net, A, addLearner(D));
    const d = net.peer(D);
    d.node.campaign();
    net.settle();
    expect(d.role).toBe('follower');
    change(net, A, addVoter(D));
    expect(net.peer(A).status().progress?.get(D)?.isLearner).toBe(false);
    net.crash(A);
    net.elect(D);
    expect(d.status().softState).toEqual({ role: 'leader', leader: D });
    expect(d.term).toBe(3);
  });

  it('§4.2.1: TimeoutNow at a learner does not make it campaign', () => {
    const p = new Peer(D, storageWithLog([A, B, C], [1], { term: tm(2) }, [D]));
    const out = p.stepDrain({ type: 'timeoutNow', from: A, to: D, term: tm(2) });
    expect([p.role, p.term]).toEqual(['follower', 2]);
    expect(out.messages).toEqual([]);
  });
});

describe('§4.2.2-4.2.3 removing servers', () => {
  it('§4.2.2: a leader that removes itself steps down once the change is applied, and the others elect a new leader', () => {
    const net = group([], PAPER, 21);
    const a = net.elect(A);
    change(net, A, removeNode(A));
    const removedAt = net.delivered.length;
    expect(a.status().softState).toEqual({ role: 'follower', leader: null });
    expect(dropReason(() => a.propose('x'))).toBe('noLeader');
    for (const id of [B, C]) expect(net.peer(id).confState.voters).toEqual([B, C]);
    for (let i = 0; i < 40 && net.leaderIds().length === 0; i++) net.tick();
    const [leader] = net.leaderIds();
    expect([B, C]).toContain(leader);
    // a is no longer a voter: it never campaigns again.
    net.tick(40);
    expect(a.role).toBe('follower');
    expect(net.delivered.slice(removedAt).filter((m) => m.from === A && m.type === 'vote')).toHaveLength(0);
    expect(net.violations).toEqual([]);
  });

  it('§4.2.3: a removed server that never learned of its removal cannot disrupt the cluster (PreVote + CheckQuorum)', () => {
    const net = group([], PRODUCTION, 7);
    const a = net.elect(A);
    net.isolate(C);
    change(net, A, removeNode(C));
    expect(net.peer(C).confState.voters).toEqual([A, B, C]);
    net.heal();
    net.tick(60);
    expect(net.leaderIds()).toEqual([A]);
    expect(a.term).toBe(2);
    expect(net.peer(B).term).toBe(2);
    expect(net.peer(C).term).toBe(2);
  });
});

describe('§4.1 with Figure 3: safety across random membership changes (seeded)', () => {
  it('§4.1 Fig.3: Election Safety, State Machine Safety and Leader Completeness hold while learners join, are promoted and voters are removed under faults', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const rng = seededRng(seed);
      const net = new Network({ chaos: { rng: seededRng(seed + 1000), loss: 0.05, duplicate: 0.02, reorder: true } });
      const founders = [A, B, C];
      const joiners = ids('d', 'e', 'f', 'g', 'h');
      founders.forEach((id, k) => net.add(new Peer(id, MemoryStorage.bootstrap(founders), { ...PRODUCTION, rng: seededRng(seed * 17 + k) })));
      joiners.forEach((id, k) => net.add(new Peer(id, new MemoryStorage(), { ...PRODUCTION, rng: seededRng(seed * 17 + 3 + k) })));
      const everyone = [...founders, ...joiners];
      const removed = new Set<NodeId>();
      const pick = <T>(xs: readonly T[]): T => xs[rng.nextInt(xs.length)]!;
      for (let step = 0; step < 300; step++) {
        const r = rng.nextFloat();
        const [leader] = net.leaderIds();
        if (r < 0.08 && leader !== undefined) {
          const conf = net.peer(leader).status().confState;
          const fresh = joiners.filter((j) => !conf.voters.includes(j) && !conf.learners.includes(j) && !removed.has(j));
          const options: ConfChange[] = [
            ...fresh.slice(0, 1).map(addLearner),
            ...conf.learners.map(addVoter),
            ...(conf.voters.length > 3 ? conf.voters.map(removeNode) : []),
          ];
          if (options.length > 0) {
            const cc = pick(options);
            try {
              net.peer(leader).node.proposeConfChange(cc);
              if (cc.type === 'removeNode') removed.add(cc.nodeId);
            } catch (e) {
              if (!(e instanceof ProposalDroppedError)) throw e;
            }
          }
        } else if (r < 0.11) {
          net.heal();
          net.isolate(pick(everyone));
        } else if (r < 0.14) {
          net.heal();
        } else if (r < 0.16 && net.down.size === 0) {
          net.crash(pick(everyone));
        } else if (r < 0.2 && net.down.size > 0) {
          net.restart(pick([...net.down]));
        }
        if (leader !== undefined && rng.nextFloat() < 0.5) {
          try {
            net.peer(leader).propose(`s${seed}-${step}`);
          } catch (e) {
            if (!(e instanceof ProposalDroppedError)) throw e;
          }
        }
        for (const p of net.peers.values()) if (!net.down.has(p.id)) p.node.tick();
        for (let k = 0; k < 3; k++) net.deliverOnce();
      }
      net.setChaos(null);
      net.heal();
      for (const id of [...net.down]) net.restart(id);
      net.settle();
      for (let i = 0; i < 80; i++) net.tick();
      expect(net.violations, `seed ${seed}`).toEqual([]);
      const live = net.leaderIds().filter((id) => net.peer(id).status().confState.voters.includes(id));
      expect(live, `seed ${seed}`).toHaveLength(1);
      const leader = net.peer(live[0]!);
      const conf = leader.status().confState;
      for (const id of [...conf.voters, ...conf.learners]) {
        const p = net.peer(id);
        expect(p.status().applied, `seed ${seed}: ${id}`).toBe(leader.status().applied);
        expect(p.confState, `seed ${seed}: ${id}`).toEqual(conf);
      }
    }
  });
});
