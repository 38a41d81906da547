import { describe, expect, it } from 'vitest';
import { Placement, placeableNodes } from '../../src/cluster/placement.js';
import { reconcile, type LeaderReport, type ReconcileInput } from '../../src/cluster/reconciler.js';
import { groupId, type GroupId } from '../../src/storage/key-layout.js';

const G = groupId(1);

function report(voters: string[], opts: Partial<Omit<LeaderReport, 'match'>> & { match?: Record<string, number> } = {}): LeaderReport {
  const match = new Map(Object.entries(opts.match ?? Object.fromEntries([...voters, ...(opts.learners ?? [])].map((v) => [v, 10]))));
  return { group: G, leader: voters[0]!, term: 2, commit: 10, lastIndex: 10, voters, learners: [], ...opts, match };
}

function input(nodes: string[], r: LeaderReport, over: Partial<ReconcileInput> = {}): ReconcileInput {
  const held = new Map<string, Set<GroupId>>();
  for (const n of [...r.voters, ...r.learners]) held.set(n, new Set([r.group]));
  return {
    groups: [r.group],
    leaders: new Map([[r.group, r]]),
    held,
    live: new Set(nodes),
    placement: new Placement(nodes),
    recentlyHosted: () => false,
    ...over,
  };
}

describe('reconcile: one safe step per group toward the placement', () => {
  const four = ['n1', 'n2', 'n3', 'n4'];
  const desired = new Placement(four).replicas(G);
  const newcomer = desired.find((d) => !['n1', 'n2', 'n3'].includes(d));
  const leaving = ['n1', 'n2', 'n3'].find((v) => !desired.includes(v));

  it('has a node that belongs to the group but holds nothing create an empty replica first', () => {
    if (newcomer === undefined) return expect(desired.sort()).toEqual(['n1', 'n2', 'n3']);
    const r = report(['n1', 'n2', 'n3']);
    expect(reconcile(input(four, r))).toEqual([{ kind: 'host', target: newcomer, group: G }]);
  });

  it('adds the newcomer as a learner once it holds a replica, run by the group leader', () => {
    if (newcomer === undefined) return;
    const r = report(['n1', 'n2', 'n3']);
    const held = new Map<string, Set<GroupId>>(['n1', 'n2', 'n3', newcomer].map((n) => [n, new Set([G])]));
    expect(reconcile(input(four, r, { held, recentlyHosted: (n) => n === newcomer }))).toEqual([
      { kind: 'addLearner', target: 'n1', group: G, node: newcomer },
    ]);
  });

  it('promotes a learner only once it has caught up with the commit index', () => {
    if (newcomer === undefined) return;
    const lagging = report(['n1', 'n2', 'n3'], { learners: [newcomer], match: { n1: 10, n2: 10, n3: 10, [newcomer]: 3 } });
    expect(reconcile(input(four, lagging))).toEqual([]);
    const caughtUp = report(['n1', 'n2', 'n3'], { learners: [newcomer], match: { n1: 10, n2: 10, n3: 10, [newcomer]: 10 } });
    expect(reconcile(input(four, caughtUp))).toEqual([{ kind: 'addVoter', target: 'n1', group: G, node: newcomer }]);
  });

  it('removes the replica that does not belong only after every desired node votes', () => {
    if (newcomer === undefined || leaving === undefined) return;
    const before = report(['n1', 'n2', 'n3']);
    expect(reconcile(input(four, before, { live: new Set(['n1', 'n2', 'n3']) }))).toEqual([]);
    const voters = ['n1', 'n2', 'n3', newcomer];
    const leader = voters.find((v) => v !== leaving)!;
    const after = report([leader, ...voters.filter((v) => v !== leader)]);
    expect(reconcile(input(four, after))).toEqual([{ kind: 'removeNode', target: leader, group: G, node: leaving }]);
  });

  it('hands leadership over before removing the leader itself, to the most caught-up desired voter', () => {
    if (newcomer === undefined || leaving === undefined) return;
    const others = ['n1', 'n2', 'n3', newcomer].filter((v) => v !== leaving);
    const match = Object.fromEntries(others.map((v, i) => [v, 7 + i]));
    const r = report([leaving, ...others], { match: { ...match, [leaving]: 10 } });
    expect(reconcile(input(four, r))).toEqual([{ kind: 'transferLeader', target: leaving, group: G, node: others[others.length - 1] }]);
  });

  it('does not add a desired node that is down (within its replacement window)', () => {
    if (newcomer === undefined) return;
    const r = report(['n1', 'n2', 'n3']);
    const held = new Map<string, Set<GroupId>>(['n1', 'n2', 'n3', newcomer].map((n) => [n, new Set([G])]));
    expect(reconcile(input(four, r, { held, live: new Set(['n1', 'n2', 'n3']), recentlyHosted: () => true }))).toEqual([]);
  });

  it('replaces a node given up for dead: the placement without it asks for a new replica', () => {
    const r = report(['n1', 'n2', 'n3']);
    const live = new Set(['n1', 'n2', 'n4']);
    const actions = reconcile(input(four, r, { live, placement: new Placement(['n1', 'n2', 'n4']) }));
    expect(actions).toEqual([{ kind: 'host', target: 'n4', group: G }]);
  });

  it('removes a learner that no longer belongs', () => {
    const r = report(['n1', 'n2', 'n3'], { learners: ['n9'] });
    expect(reconcile(input(['n1', 'n2', 'n3'], r))).toEqual([{ kind: 'removeNode', target: 'n1', group: G, node: 'n9' }]);
  });

  it('drops a stray replica, but not one it just asked a node to host', () => {
    const r = report(['n1', 'n2', 'n3']);
    const held = new Map<string, Set<GroupId>>(['n1', 'n2', 'n3', 'n4'].map((n) => [n, new Set([G])]));
    const three = new Placement(['n1', 'n2', 'n3']);
    expect(reconcile(input(four, r, { held, placement: three }))).toEqual([{ kind: 'drop', target: 'n4', group: G }]);
    expect(reconcile(input(four, r, { held, placement: three, recentlyHosted: (n) => n === 'n4' }))).toEqual([]);
  });

  it('spreads leaders: the busiest node hands groups to the idlest, a bounded number per round', () => {
    const nodes = ['n1', 'n2', 'n3'];
    const groups = [1, 2, 3, 4, 5, 6].map(groupId);
    const leaders = new Map(groups.map((g) => [g, { ...report(nodes), group: g }]));
    const actions = reconcile({
      groups,
      leaders,
      held: new Map(nodes.map((n) => [n, new Set(groups)])),
      live: new Set(nodes),
      placement: new Placement(nodes),
      recentlyHosted: () => false,
      maxTransfers: 3,
    });
    expect(actions).toHaveLength(3);
    for (const a of actions) expect(a).toMatchObject({ kind: 'transferLeader', target: 'n1' });
    const to = actions.map((a) => ('node' in a ? a.node : ''));
    expect(to.filter((n) => n === 'n2').length + to.filter((n) => n === 'n3').length).toBe(3);
    expect(Math.abs(to.filter((n) => n === 'n2').length - to.filter((n) => n === 'n3').length)).toBeLessThanOrEqual(1);
  });

  it('gives no leadership to a live node that stopped reporting (a node stopping hands its own off)', () => {
    const nodes = ['n1', 'n2', 'n3'];
    const groups = [1, 2, 3, 4, 5, 6].map(groupId);
    const leaders = new Map(groups.map((g) => [g, { ...report(nodes), group: g }]));
    const actions = reconcile({
      groups,
      leaders,
      held: new Map(nodes.map((n) => [n, new Set(groups)])),
      live: new Set(nodes),
      reporting: new Set(['n1', 'n2']),
      placement: new Placement(nodes),
      recentlyHosted: () => false,
      maxTransfers: 3,
    });
    expect(actions.length).toBeGreaterThan(0);
    for (const a of actions) expect(a).toMatchObject({ kind: 'transferLeader', target: 'n1', node: 'n2' });
  });

  it('gives a member whose replica is missing an empty one to be filled by snapshot', () => {
    const r = report(['n1', 'n2', 'n3']);
    const held = new Map<string, Set<GroupId>>([
      ['n1', new Set([G])],
      ['n2', new Set([G])],
      ['n3', new Set<GroupId>()],
    ]);
    expect(reconcile(input(['n1', 'n2', 'n3'], r, { held }))).toEqual([{ kind: 'host', target: 'n3', group: G }]);
  });

  it('leaves a group without a leader report alone', () => {
    const r = report(['n1', 'n2', 'n3']);
    expect(reconcile(input(four, r, { leaders: new Map() }))).toEqual([]);
  });
});

describe('placement', () => {
  it('moves only about the share of a joining node, and only onto it', () => {
    const before = new Placement(['n1', 'n2', 'n3']);
    const after = new Placement(['n1', 'n2', 'n3', 'n4']);
    let moved = 0;
    for (let p = 1; p <= 64; p++) {
      const a = new Set(before.replicas(groupId(p)));
      const b = after.replicas(groupId(p));
      expect(b).toHaveLength(3);
      for (const x of b) if (!a.has(x)) {
        expect(x).toBe('n4');
        moved++;
      }
    }
    // n4's fair share of 64 x 3 replicas is 48.
    expect(moved).toBeGreaterThan(24);
    expect(moved).toBeLessThan(72);
  });

  it('does not depend on the order nodes are listed in', () => {
    const a = new Placement(['n1', 'n2', 'n3', 'n4', 'n5']);
    const b = new Placement(['n5', 'n3', 'n1', 'n4', 'n2']);
    for (let p = 0; p <= 32; p++) expect(a.replicas(groupId(p))).toEqual(b.replicas(groupId(p)));
  });
});

describe('placeable nodes', () => {
  it('gives up on nodes silent past the replacement window, but never below three', () => {
    const nodes = [
      { id: 'a', lastSeen: 1000 },
      { id: 'b', lastSeen: 1000 },
      { id: 'c', lastSeen: 1000 },
      { id: 'd', lastSeen: 100 },
    ];
    expect(placeableNodes(nodes, 1000, 500).sort()).toEqual(['a', 'b', 'c']);
    expect(placeableNodes(nodes, 1000, 5000).sort()).toEqual(['a', 'b', 'c', 'd']);
    // Two left of three: the dead one keeps its place rather than every group shrinking to two.
    const three = [
      { id: 'a', lastSeen: 1000 },
      { id: 'b', lastSeen: 1000 },
      { id: 'c', lastSeen: 100 },
    ];
    expect(placeableNodes(three, 1000, 500).sort()).toEqual(['a', 'b', 'c']);
    // Of two silent ones, the more recently seen fills the gap.
    const four = [
      { id: 'a', lastSeen: 1000 },
      { id: 'b', lastSeen: 1000 },
      { id: 'c', lastSeen: 100 },
      { id: 'd', lastSeen: 200 },
    ];
    expect(placeableNodes(four, 1000, 500).sort()).toEqual(['a', 'b', 'd']);
  });
});
