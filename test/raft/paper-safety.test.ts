import { describe, expect, it } from 'vitest';
import { MemoryStorage, ProposalDroppedError, type NodeId } from '../../src/raft/index.js';
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
  ids,
  li,
  payloads,
  seededRng,
  storedLog,
  type NodeConfig,
} from './harness.js';

// The safety properties of Figure 3 and the scenarios of §5.4: the election restriction (§5.4.1),
// committing entries from previous terms (§5.4.2, Figure 8), and Leader Completeness / State
// Machine Safety under faults.

const termAt = (p: Peer, i: number): number => p.storage.term(li(i));

describe('§5.4.2 Figure 8: committing entries from previous terms', () => {
  /**
   * Plays Figure 8 (a)-(c) on five servers s1..s5 = a..e (indexes shifted by one: index 2 holds the
   * first leader's no-op, committed everywhere). Ends in (c): a leads term 4 and has replicated the
   * term-2 entry at index 3 to a majority (a, b, c), its own term-4 entry only to a and b.
   */
  function figure8c(): Network {
    const net = Network.of(['a', 'b', 'c', 'd', 'e']);
    const [a, b, c, d, e] = [A, B, C, D, E].map((id) => net.peer(id));
    // (a) a leads term 2 and replicates index 3 only to b.
    net.elect(A);
    net.dropIf((m) => m.type === 'app' && m.from === A && m.to !== B);
    expect(net.propose(A, 'xx')).toEqual({ index: 3, term: 2 });
    expect(termAt(b!, 3)).toBe(2);
    expect(a!.status().committed).toBe(2);
    // (b) a crashes; e is elected in term 3 by c, d and itself, appends index 3, replicates nothing.
    net.crash(A);
    net.heal();
    net.dropIf((m) => m.type === 'app' && m.from === E);
    net.elect(E);
    expect(e!.term).toBe(3);
    expect(termAt(e!, 3)).toBe(3);
    net.crash(E);
    net.heal();
    // (c) a restarts; c and d voted for e in term 3, so a needs term 4. It replicates its term-2
    // entry to c, and its term-4 entry to b only.
    net.restart(A);
    a!.node.campaign();
    net.settle();
    expect([a!.role, a!.term]).toEqual(['candidate', 3]);
    net.dropIf((m) => m.type === 'app' && m.from === A && m.entries.some((x) => x.term === 4) && (m.to === D || (m.to === C && c!.storage.lastIndex() >= 3)));
    net.elect(A);
    expect(a!.term).toBe(4);
    expect([a, b, c].map((p) => termAt(p!, 3))).toEqual([2, 2, 2]);
    expect([termAt(a!, 4), termAt(b!, 4)]).toEqual([4, 4]);
    expect(d!.storage.lastIndex()).toBe(2);
    return net;
  }

  it('§5.4.2 Figure 8 (c): a leader does not commit an entry of an earlier term although a majority stores it', () => {
    const net = figure8c();
    const a = net.peer(A);
    const progress = a.status().progress!;
    expect([progress.get(B)?.match, progress.get(C)?.match]).toEqual([4, 3]);
    expect(a.status().committed).toBe(2);
    for (const p of net.peers.values()) expect(p.status().committed).toBeLessThanOrEqual(2);
    expect(net.appliedTerms.has(3)).toBe(false);
  });

  it('§5.4.2 Figure 8 (d): so when that leader crashes, a server with a newer last term may be elected and overwrite the entry, which nobody applied', () => {
    const net = figure8c();
    net.crash(A);
    net.heal();
    const e = net.restart(E);
    e.node.campaign(); // term 4: b, c and d voted for a in term 4
    net.settle();
    expect(e.role).not.toBe('leader');
    net.elect(E); // term 5: c and d grant, b (last term 4) refuses
    expect(e.term).toBe(5);
    for (const id of [B, C, D, E]) {
      expect(termAt(net.peer(id), 3)).toBe(3);
      expect(payloads(net.peer(id).applied)).not.toContain('xx');
    }
    expect(net.appliedTerms.get(3)).toBe(3);
    expect(net.violations).toEqual([]);
  });

  it('§5.4.2 Figure 8 (e): once an entry of the leader term is on a majority, the earlier entries commit with it and can no longer be lost', () => {
    const net = figure8c();
    net.heal();
    net.tick(1, [A]);
    const a = net.peer(A);
    expect(a.status().committed).toBe(4);
    expect(net.appliedTerms.get(3)).toBe(2);
    net.crash(A);
    const e = net.restart(E);
    for (let i = 0; i < 2; i++) {
      e.node.campaign();
      net.settle();
      expect(e.role).not.toBe('leader');
    }
    net.elect(B);
    for (const id of [B, C, D, E]) expect(payloads(net.peer(id).applied)).toContain('xx');
    expect(termAt(e, 3)).toBe(2);
    expect(net.violations).toEqual([]);
  });
});

describe('§5.4.1 Election restriction', () => {
  it('§5.4.1: a server missing a committed entry cannot be elected; one holding it can', () => {
    const net = Network.of(['a', 'b', 'c']);
    net.elect(A);
    net.isolate(C);
    net.propose(A, 'x');
    expect(net.peer(A).status().committed).toBe(3);
    net.crash(A);
    net.heal();
    const c = net.peer(C);
    c.node.campaign();
    net.settle();
    expect([c.role, c.term]).toEqual(['candidate', 3]);
    // b has the committed entry; c's log is behind, so c grants and b wins.
    net.elect(B);
    expect(net.peer(B).term).toBe(4);
    expect(payloads(c.applied)).toEqual(['x']);
    expect(net.violations).toEqual([]);
  });

  it('§5.4.3 Leader Completeness: every later leader holds every committed entry', () => {
    const net = Network.of(['a', 'b', 'c', 'd', 'e'], PAPER, { rngSeed: 5 });
    const written: string[] = [];
    for (const leader of [A, B, C, D, E]) {
      net.elect(leader);
      const v = `by-${leader}`;
      net.propose(leader, v);
      written.push(v);
      expect(payloads(storedLog(net.peer(leader).storage))).toEqual(written);
    }
    expect(net.violations).toEqual([]);
  });
});

describe('Figure 3 safety properties under random faults (seeded)', () => {
  interface ChaosResult {
    net: Network;
    proposed: number;
  }

  /** Five voters, random partitions, crashes, restarts, compaction, loss, duplication and
   * reordering for `steps` ticks, then a healed network until the cluster converges. */
  function runChaos(seed: number, config: NodeConfig, steps: number): ChaosResult {
    const rng = seededRng(seed);
    const chaos = { rng: seededRng(seed ^ 0x5eed), loss: 0.1, duplicate: 0.03, reorder: true };
    const net = new Network({ chaos });
    const voters = ids('a', 'b', 'c', 'd', 'e');
    voters.forEach((id, k) => net.add(new Peer(id, MemoryStorage.bootstrap(voters), { ...config, rng: seededRng(seed * 31 + k) })));
    const pick = <T>(xs: readonly T[]): T => xs[rng.nextInt(xs.length)]!;
    const live = (): NodeId[] => voters.filter((id) => !net.down.has(id));
    let proposed = 0;
    for (let step = 0; step < steps; step++) {
      const r = rng.nextFloat();
      if (r < 0.03) {
        const shuffled = [...voters].sort(() => rng.nextFloat() - 0.5);
        const cut = 1 + rng.nextInt(voters.length - 1);
        net.heal();
        net.partition(shuffled.slice(0, cut), shuffled.slice(cut));
      } else if (r < 0.06) {
        net.heal();
      } else if (r < 0.08 && net.down.size < 2) {
        net.crash(pick(live()));
      } else if (r < 0.12 && net.down.size > 0) {
        net.restart(pick([...net.down]));
      } else if (r < 0.15) {
        const p = net.peer(pick(live()));
        const applied = p.status().applied;
        if (applied > p.storage.snapshot().metadata.index) {
          p.storage.createSnapshot(applied, p.confState, new Uint8Array(0));
          p.storage.compact(applied);
        }
      }
      if (rng.nextFloat() < 0.5) {
        try {
          net.peer(pick(live())).propose(`v${seed}-${proposed}`);
          proposed++;
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
      }
      for (const id of live()) net.peer(id).node.tick();
      for (let k = 0; k < 3; k++) net.deliverOnce();
    }
    net.setChaos(null);
    net.heal();
    for (const id of [...net.down]) net.restart(id);
    net.settle();
    for (let i = 0; i < 60; i++) net.tick();
    return { net, proposed };
  }

  const seeds = Array.from({ length: 12 }, (_, k) => k + 1);

  it.each([
    ['plain Raft', PAPER],
    ['PreVote + CheckQuorum', PRODUCTION],
  ] as const)(
    'Fig.3 Election Safety, Leader Completeness, State Machine Safety and Log Matching hold under faults (%s)',
    (_name, config) => {
      for (const seed of seeds) {
        const { net, proposed } = runChaos(seed, config, 250);
        expect(net.violations, `seed ${seed}`).toEqual([]);
        // Liveness once healed: one leader, everyone applied the same entries.
        expect(net.leaderIds(), `seed ${seed}`).toHaveLength(1);
        const peers = [...net.peers.values()];
        const applied = peers.map((p) => p.status().applied);
        expect(new Set(applied).size, `seed ${seed}: applied ${applied}`).toBe(1);
        expect(proposed).toBeGreaterThan(0);
        // Log Matching: same (index, term) at the last common index means identical logs up to it.
        const logs = peers.map((p) => new Map(storedLog(p.storage).map((e) => [e.index as number, e])));
        for (const x of logs) {
          for (const y of logs) {
            for (const [i, ex] of x) {
              const ey = y.get(i);
              if (ey === undefined) continue;
              expect(ey.term, `seed ${seed} index ${i}`).toBe(ex.term);
              expect(payloads([ey]), `seed ${seed} index ${i}`).toEqual(payloads([ex]));
            }
          }
        }
      }
    },
  );

  it('Fig.3 State Machine Safety holds when a node restarts from storage mid-run and re-applies its committed entries', () => {
    const net = Network.of(['a', 'b', 'c'], PAPER, { rngSeed: 9 });
    net.elect(A);
    for (let i = 0; i < 5; i++) net.propose(A, `w${i}`);
    const b = net.peer(B);
    b.storage.createSnapshot(li(4), b.confState, new Uint8Array(0));
    b.storage.compact(li(3));
    net.crash(B);
    net.propose(A, 'while-down');
    net.restart(B);
    net.settle();
    net.tick(2);
    expect(payloads(b.applied)).toEqual(['w2', 'w3', 'w4', 'while-down']);
    expect(b.applied[0]?.index).toBe(5);
    expect(net.violations).toEqual([]);
  });
});
