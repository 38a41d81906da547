import type { GroupId } from '../storage/key-layout.js';
import type { Placement } from './placement.js';

/** What a group's leader last reported about it. */
export interface LeaderReport {
  readonly group: GroupId;
  readonly leader: string;
  readonly term: number;
  readonly commit: number;
  readonly lastIndex: number;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  /** Match index of every member, as the leader sees it. */
  readonly match: ReadonlyMap<string, number>;
}

export interface ReconcileInput {
  /** Every group of the cluster: the meta group and the partitions. */
  readonly groups: readonly GroupId[];
  /** Fresh leader reports; a group without one (no leader, or a silent one) is left alone. */
  readonly leaders: ReadonlyMap<GroupId, LeaderReport>;
  /** The groups each live node reports holding a replica of. */
  readonly held: ReadonlyMap<string, ReadonlySet<GroupId>>;
  readonly live: ReadonlySet<string>;
  /**
   * Live nodes that are still reporting (heard from within a couple of report intervals): only
   * they are given leaderships. One that went quiet is most likely stopping, and hands off what it
   * leads; a leadership given to it would bounce back, or leave with it. All live nodes if absent.
   */
  readonly reporting?: ReadonlySet<string>;
  /** Where replicas belong: a ring of the active nodes that were not given up for dead. */
  readonly placement: Placement;
  /** Whether `node` was asked to host `group` so recently that its replica may not be known to
   * the group's leader yet (so it must not be dropped as a stray). */
  readonly recentlyHosted: (node: string, group: GroupId) => boolean;
  /** Leadership transfers allowed per round, to let elections settle between rounds. */
  readonly maxTransfers?: number;
}

export type ClusterAction =
  | { readonly kind: 'host' | 'drop'; readonly target: string; readonly group: GroupId }
  | {
      readonly kind: 'addLearner' | 'addVoter' | 'removeNode' | 'transferLeader';
      /** The group's leader, which runs the change. */
      readonly target: string;
      readonly group: GroupId;
      readonly node: string;
    };

/**
 * One round of moving the cluster toward its placement, at most one step per group: a replica is
 * added as a learner, promoted once caught up, and only then is a replica that does not belong
 * removed, so a group never has fewer voters than its placement asks for. A leader that must go
 * hands its leadership over first. Groups already in place have their leaders spread evenly.
 *
 * Pure: the meta leader calls it with what the latest reports say and carries out the actions.
 */
export function reconcile(input: ReconcileInput): ClusterAction[] {
  const actions: ClusterAction[] = [];
  const settled: LeaderReport[] = [];
  for (const group of input.groups) {
    const report = input.leaders.get(group);
    if (report === undefined) continue;
    const step = nextStep(input, report);
    if (step === null) settled.push(report);
    else actions.push(step);
  }
  actions.push(...dropStrays(input));
  actions.push(...spreadLeaders(input, settled.filter((r) => r.group !== 0)));
  return actions;
}

/** Whether a group's replicas are where the placement wants them (for the view's `balanced`). */
export function isPlaced(report: LeaderReport, placement: Placement): boolean {
  const desired = placement.replicas(report.group);
  return report.learners.length === 0 && sameSet(report.voters, desired);
}

function nextStep(input: ReconcileInput, r: LeaderReport): ClusterAction | null {
  const desired = input.placement.replicas(r.group);
  if (desired.length === 0) return null;
  const voters = new Set(r.voters);
  const learners = new Set(r.learners);
  const at = { target: r.leader, group: r.group };

  // A member whose replica is gone (dropped in a race, or its data lost) gets an empty one to be
  // filled by snapshot; otherwise the group would wait on it forever.
  for (const m of [...r.voters, ...r.learners]) {
    if (input.live.has(m) && !(input.held.get(m)?.has(r.group) ?? false)) return { kind: 'host', target: m, group: r.group };
  }
  for (const l of r.learners) {
    if (!desired.includes(l)) return { kind: 'removeNode', ...at, node: l };
    if (input.live.has(l) && (r.match.get(l) ?? 0) >= r.commit) return { kind: 'addVoter', ...at, node: l };
  }
  // One learner at a time: it catches up from a snapshot, which costs the leader.
  if (learners.size > 0) return null;

  const missing = desired.find((d) => !voters.has(d) && input.live.has(d));
  if (missing !== undefined) {
    if (!(input.held.get(missing)?.has(r.group) ?? false)) return { kind: 'host', target: missing, group: r.group };
    return { kind: 'addLearner', ...at, node: missing };
  }
  // Remove a replica only once every desired node votes, so the group never drops below them.
  if (!desired.every((d) => voters.has(d))) return null;
  const extra = r.voters.find((v) => !desired.includes(v));
  if (extra === undefined) return null;
  if (extra === r.leader) {
    const heir = pickHeir(r, desired, input.live);
    return heir === null ? null : { kind: 'transferLeader', ...at, node: heir };
  }
  return { kind: 'removeNode', ...at, node: extra };
}

/** The live, most caught-up voter among `candidates` (other than the leader). */
function pickHeir(r: LeaderReport, candidates: readonly string[], live: ReadonlySet<string>): string | null {
  let best: string | null = null;
  let bestMatch = -1;
  for (const c of candidates) {
    if (c === r.leader || !live.has(c) || !r.voters.includes(c)) continue;
    const m = r.match.get(c) ?? 0;
    if (m > bestMatch) [best, bestMatch] = [c, m];
  }
  return best;
}

/** Replicas on nodes their group no longer counts as members: deleted to free the node. */
function dropStrays(input: ReconcileInput): ClusterAction[] {
  const out: ClusterAction[] = [];
  for (const [node, groups] of input.held) {
    if (!input.live.has(node)) continue;
    for (const group of groups) {
      const r = input.leaders.get(group);
      if (r === undefined || r.voters.includes(node) || r.learners.includes(node)) continue;
      if (input.recentlyHosted(node, group)) continue;
      out.push({ kind: 'drop', target: node, group });
    }
  }
  return out;
}

/** Moves leaderships from the node leading the most placed partitions to the one leading fewest. */
function spreadLeaders(input: ReconcileInput, settled: readonly LeaderReport[]): ClusterAction[] {
  const out: ClusterAction[] = [];
  const candidates = input.placement.nodes.filter((n) => input.live.has(n) && (input.reporting?.has(n) ?? true));
  if (candidates.length < 2) return out;
  const led = new Map<string, LeaderReport[]>(candidates.map((n) => [n, []]));
  for (const r of settled) led.get(r.leader)?.push(r);
  const maxTransfers = input.maxTransfers ?? 2;
  while (out.length < maxTransfers) {
    const byLoad = [...led.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
    const [busiest, busiestLed] = byLoad[0]!;
    let moved = false;
    for (const [idlest, idlestLed] of byLoad.slice(1).reverse()) {
      if (busiestLed.length - idlestLed.length <= 1) break;
      const r = busiestLed.find((x) => x.voters.includes(idlest) && (x.match.get(idlest) ?? 0) >= x.commit);
      if (r === undefined) continue;
      out.push({ kind: 'transferLeader', target: busiest, group: r.group, node: idlest });
      busiestLed.splice(busiestLed.indexOf(r), 1);
      idlestLed.push(r);
      moved = true;
      break;
    }
    if (!moved) break;
  }
  return out;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
