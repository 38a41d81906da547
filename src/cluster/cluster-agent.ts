import type { Logger } from 'pino';
import type { ActionReply } from '../generated/taskraft/cluster/ActionReply.js';
import type { GroupReport } from '../generated/taskraft/cluster/GroupReport.js';
import type { JoinReply } from '../generated/taskraft/cluster/JoinReply.js';
import { nodeId, type NodeId } from '../raft/index.js';
import { groupId, type GroupId } from '../storage/key-layout.js';
import type { ClusterActionMessage, ClusterRpc, JoinMessage, NodeReportMessage } from '../transport/cluster-rpc.js';
import { PeerCallError } from '../transport/unary-calls.js';
import type { ClusterView, ClusterViewGroup, ClusterViewNode } from './cluster-view.js';
import { ClusterError, NotLeaderError } from './errors.js';
import { META_GROUP, encodeMetaCommand, type MetaCommand, type MetaResult, type MetaStateMachine, type NodeRecord } from './meta-state-machine.js';
import type { MultiRaftHost } from './multi-raft-host.js';
import { Placement, placeableNodes } from './placement.js';
import { isPlaced, reconcile, type ClusterAction, type LeaderReport } from './reconciler.js';

export interface ClusterAgentOptions {
  readonly self: NodeId;
  readonly incarnation: string;
  readonly clusterId: string;
  readonly httpAddr: string;
  readonly grpcAddr: string;
  readonly host: MultiRaftHost;
  readonly rpc: ClusterRpc;
  readonly logger: Logger;
  /** The meta group's state machine on this node, or null while it holds no meta replica. */
  readonly meta: () => MetaStateMachine | null;
  /** Set only on the node that created the cluster: the meta group still needs its `init`. */
  readonly founding: { readonly partitions: number } | null;
  /** Addresses learned from views, kept so that a restart finds its peers (see node-store). */
  readonly savePeers: (peers: readonly PeerAddress[]) => void;
  readonly initialPeers: readonly PeerAddress[];
  readonly reportIntervalMs: number;
  readonly reconcileIntervalMs: number;
  readonly nodeDownAfterMs: number;
  readonly replaceAfterMs: number;
  readonly requestTimeoutMs: number;
  readonly now?: () => number;
}

export interface PeerAddress {
  readonly id: string;
  readonly httpAddr: string;
  readonly grpcAddr: string;
}

/** A join refused for good (the ID belongs to another data directory, ...). */
export class JoinRefusedError extends ClusterError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class UnknownNodeError extends ClusterError {
  readonly code = 'ERR_UNKNOWN_NODE';
  constructor(readonly nodeId: string) {
    super(`no node "${nodeId}" in this cluster`);
  }
}

/**
 * A node not heard from for this many report intervals (though still live) gets no leaderships
 * from the balancer: a stopping node stops reporting first (see ReconcileInput.reporting).
 */
export const REPORTING_WITHIN_INTERVALS = 2;

/** No meta leader could be reached or none is elected. */
export class NoMetaLeaderError extends ClusterError {
  readonly code = 'ERR_NO_META_LEADER';
  constructor(detail: string) {
    super(`no reachable meta leader: ${detail}`);
  }
}

interface Observation {
  readonly live: ReadonlySet<string>;
  readonly lastSeen: ReadonlyMap<string, number>;
  readonly held: ReadonlyMap<string, ReadonlySet<GroupId>>;
  readonly leaders: ReadonlyMap<GroupId, LeaderReport>;
  readonly placement: Placement;
}

interface ReceivedReport {
  readonly at: number;
  readonly report: NodeReportMessage;
}

/**
 * Every node's link to the cluster's control plane. Each node reports to the meta group's leader
 * what it holds and leads; the meta leader keeps those reports (soft state: a new meta leader
 * rebuilds them within one report interval), answers each with the cluster view, and reconciles
 * reality with the placement by sending nodes one step per partition at a time.
 */
export class ClusterAgent {
  private readonly reports = new Map<string, ReceivedReport>();
  private readonly peers = new Map<string, PeerAddress>();
  /** `${node}/${group}` -> when this meta leader asked the node to host the group. */
  private readonly hostedAt = new Map<string, number>();
  /** Groups with an action in flight: one step at a time per group. */
  private readonly acting = new Set<GroupId>();
  private currentView: ClusterView | null = null;
  private ring: Placement | null = null;
  private metaLeaderSince: number | null = null;
  private reportTarget = 0;
  private timers: NodeJS.Timeout[] = [];
  private reporting = false;
  private reconciling = false;
  private readonly now: () => number;

  constructor(private readonly opts: ClusterAgentOptions) {
    this.now = opts.now ?? Date.now;
    for (const p of opts.initialPeers) this.peers.set(p.id, p);
    this.peers.set(opts.self, { id: opts.self, httpAddr: opts.httpAddr, grpcAddr: opts.grpcAddr });
  }

  start(): void {
    this.timers.push(setInterval(() => void this.reportOnce(), this.opts.reportIntervalMs));
    this.timers.push(setInterval(() => void this.reconcileOnce(), this.opts.reconcileIntervalMs));
    void this.reportOnce();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** The gRPC address of a peer, for the raft transport and cluster calls. */
  grpcAddress(peer: NodeId): string | null {
    return this.metaNodes().find((n) => n.id === peer)?.grpcAddr ?? this.peers.get(peer)?.grpcAddr ?? null;
  }

  /** The latest view; on the meta leader, assembled afresh at most every 50 ms (request paths
   * ask for it on every call). */
  view(): ClusterView | null {
    if (!this.isMetaLeader()) return this.currentView;
    if (this.currentView === null || this.currentView.metaLeader !== this.opts.self || this.now() - this.currentView.at > 50) {
      this.currentView = this.assembleView();
    }
    return this.currentView;
  }

  // ---- requests any node accepts, forwarded to the meta leader -------------------------------

  /** Admits a node (from POST /cluster/join on any member). */
  async join(req: JoinMessage): Promise<JoinReply> {
    if (!this.isMetaLeader()) return this.forward((leader) => this.opts.rpc.join(leader, req, this.opts.requestTimeoutMs));
    // A joiner may arrive before the founder's first reconcile round recorded the cluster.
    await this.ensureInitialized();
    const result = await this.proposeMeta({
      type: 'join',
      id: req.nodeId,
      httpAddr: req.httpAddr,
      grpcAddr: req.grpcAddr,
      incarnation: req.incarnation,
      at: this.now(),
    });
    if (!result.ok) throw new JoinRefusedError(result.code, result.message);
    this.opts.logger.info({ joiner: req.nodeId, httpAddr: req.httpAddr }, 'node admitted');
    return { clusterId: this.opts.clusterId, viewJson: JSON.stringify(this.assembleView()) };
  }

  async decommission(id: string): Promise<void> {
    if (!this.isMetaLeader()) {
      const reply = await this.forward((leader) => this.opts.rpc.decommission(leader, { nodeId: id }, this.opts.requestTimeoutMs));
      if (reply.found !== true) throw new UnknownNodeError(id);
      return;
    }
    const known = this.metaNodes().find((n) => n.id === id);
    if (known === undefined) throw new UnknownNodeError(id);
    if (known.state !== 'active') return;
    const result = await this.proposeMeta({ type: 'setState', id, state: 'decommissioning' });
    if (!result.ok) throw new UnknownNodeError(id);
    this.opts.logger.info({ target: id }, 'node decommissioning: moving its replicas away');
  }

  /** Calls the meta leader, following hints; fails with NoMetaLeaderError when none answers. */
  private async forward<T>(call: (leader: NodeId) => Promise<T>): Promise<T> {
    let lastError = 'no meta leader known';
    for (const candidate of this.metaLeaderCandidates()) {
      if (candidate === this.opts.self) continue;
      try {
        return await call(candidate);
      } catch (e) {
        // A refusal for good is the answer; anything else means: ask the next candidate.
        if (e instanceof PeerCallError && e.remoteCode === 'ERR_NODE_ID_IN_USE') throw new JoinRefusedError(e.remoteCode, e.remoteMessage);
        lastError = e instanceof Error ? e.message : String(e);
      }
    }
    throw new NoMetaLeaderError(lastError);
  }

  private metaLeaderCandidates(): NodeId[] {
    const out: NodeId[] = [];
    const add = (id: string | null | undefined): void => {
      if (id !== null && id !== undefined && !out.includes(nodeId(id))) out.push(nodeId(id));
    };
    if (this.opts.host.groupIds().includes(META_GROUP)) add(this.opts.host.leaderOf(META_GROUP));
    add(this.currentView?.metaLeader);
    for (const id of this.currentView?.meta.voters ?? []) add(id);
    for (const id of this.peers.keys()) add(id);
    return out;
  }

  // ---- the Cluster service (proto/cluster.proto) ---------------------------------------------

  async handleReport(from: NodeId, report: NodeReportMessage): Promise<string> {
    if (!this.isMetaLeader()) throw new NotLeaderError(META_GROUP, this.opts.host.groupIds().includes(META_GROUP) ? this.opts.host.leaderOf(META_GROUP) : null);
    if (report.nodeId !== from) throw new JoinRefusedError('ERR_BAD_REPORT', `report for "${report.nodeId}" sent by "${from}"`);
    // Only admitted nodes, on the data directory they were admitted with, count.
    const known = this.metaNodes().find((n) => n.id === from);
    if (known === undefined || known.incarnation !== report.incarnation) throw new UnknownNodeError(from);
    this.receiveReport(report);
    return JSON.stringify(this.assembleView());
  }

  async handleAct(action: ClusterActionMessage): Promise<ActionReply> {
    const g = groupId(action.group);
    const host = this.opts.host;
    try {
      switch (action.kind) {
        case 'host': {
          const partitions = this.view()?.partitionCount ?? 0;
          if (g !== META_GROUP && (g < 1 || g > partitions)) return { ok: false, code: 'ERR_BAD_GROUP', message: `no group ${g} in this cluster` };
          host.joinGroup(g);
          this.opts.logger.info({ group: g }, 'hosting a new replica');
          return { ok: true };
        }
        case 'drop':
          if (host.groupIds().includes(g) && host.leaderOf(g) === this.opts.self) {
            return { ok: false, code: 'ERR_LEADER', message: `refusing to drop group ${g}: this node leads it` };
          }
          await host.removeGroup(g);
          this.opts.logger.info({ group: g }, 'dropped a replica the group no longer counts');
          return { ok: true };
        case 'addLearner':
          await host.proposeConfChange(g, { type: 'addLearner', nodeId: nodeId(action.addLearner ?? '') });
          return { ok: true };
        case 'addVoter':
          await host.proposeConfChange(g, { type: 'addVoter', nodeId: nodeId(action.addVoter ?? '') });
          return { ok: true };
        case 'removeNode':
          await host.proposeConfChange(g, { type: 'removeNode', nodeId: nodeId(action.removeNode ?? '') });
          return { ok: true };
        case 'transferLeader':
          host.transferLeader(g, nodeId(action.transferLeader ?? ''));
          return { ok: true };
        default:
          return { ok: false, code: 'ERR_BAD_ACTION', message: `unknown action ${String(action.kind)}` };
      }
    } catch (e) {
      const code = e instanceof ClusterError ? e.code : 'ERR_INTERNAL';
      const hint = e instanceof NotLeaderError ? (e.leaderHint ?? '') : '';
      return { ok: false, code, message: e instanceof Error ? e.message : String(e), leaderHint: hint };
    }
  }

  // ---- reporting (every node) ----------------------------------------------------------------

  private async reportOnce(): Promise<void> {
    if (this.reporting) return;
    this.reporting = true;
    try {
      const report = this.buildReport();
      if (this.isMetaLeader()) {
        this.receiveReport(report);
        // Kept on disk like any node's, so that this node finds its peers after a restart.
        this.adoptView(this.assembleView());
        return;
      }
      const candidates = this.metaLeaderCandidates().filter((c) => c !== this.opts.self);
      if (candidates.length === 0) return;
      // The known leader first; after a failure, walk the other candidates one per interval.
      const target = candidates[this.reportTarget % candidates.length]!;
      try {
        const reply = await this.opts.rpc.report(target, report, Math.max(500, this.opts.reportIntervalMs * 2));
        this.adoptView(JSON.parse(reply.viewJson) as ClusterView);
        this.reportTarget = 0;
      } catch (e) {
        this.reportTarget++;
        this.opts.logger.debug({ target, err: e instanceof Error ? e.message : String(e) }, 'report to meta leader failed');
      }
    } finally {
      this.reporting = false;
    }
  }

  private buildReport(): NodeReportMessage {
    const groups: GroupReport[] = [];
    for (const g of this.opts.host.groupIds()) {
      const { role, leader, status } = this.opts.host.groupSummary(g);
      groups.push({
        group: g,
        role,
        leader: leader ?? '',
        term: status.hardState.term,
        commit: status.committed,
        applied: status.applied,
        lastIndex: status.lastIndex,
        voters: [...status.confState.voters],
        learners: [...status.confState.learners],
        progress: [...(status.progress ?? new Map())].map(([id, pr]) => ({ nodeId: id, match: pr.match, state: pr.state })),
      });
    }
    return {
      nodeId: this.opts.self,
      incarnation: this.opts.incarnation,
      httpAddr: this.opts.httpAddr,
      grpcAddr: this.opts.grpcAddr,
      groups: groups as NodeReportMessage['groups'],
    };
  }

  private adoptView(view: ClusterView): void {
    this.currentView = view;
    let changed = false;
    for (const n of view.nodes) {
      const known = this.peers.get(n.id);
      if (known?.grpcAddr !== n.grpcAddr || known.httpAddr !== n.httpAddr) {
        this.peers.set(n.id, { id: n.id, httpAddr: n.httpAddr, grpcAddr: n.grpcAddr });
        changed = true;
      }
    }
    if (changed) this.opts.savePeers([...this.peers.values()]);
  }

  // ---- the meta leader's side ------------------------------------------------------------------

  private isMetaLeader(): boolean {
    const meta = this.opts.meta();
    const leads = meta !== null && this.opts.host.groupIds().includes(META_GROUP) && this.opts.host.leaderOf(META_GROUP) === this.opts.self;
    if (leads && this.metaLeaderSince === null) this.metaLeaderSince = this.now();
    if (!leads) this.metaLeaderSince = null;
    return leads;
  }

  private metaNodes(): readonly NodeRecord[] {
    return this.opts.meta()?.state().nodes ?? [];
  }

  private receiveReport(report: NodeReportMessage): void {
    this.reports.set(report.nodeId, { at: this.now(), report });
    const known = this.metaNodes().find((n) => n.id === report.nodeId);
    // A node restarted on other addresses: record them (same incarnation only).
    if (known !== undefined && known.incarnation === report.incarnation && (known.httpAddr !== report.httpAddr || known.grpcAddr !== report.grpcAddr)) {
      void this.proposeMeta({ type: 'join', id: known.id, httpAddr: report.httpAddr, grpcAddr: report.grpcAddr, incarnation: known.incarnation, at: this.now() }).catch(
        () => undefined,
      );
    }
  }

  private async proposeMeta(c: MetaCommand): Promise<MetaResult> {
    return (await this.opts.host.propose(META_GROUP, encodeMetaCommand(c))) as MetaResult;
  }

  /** Active nodes not given up for dead; a node never heard by this meta leader gets the benefit
   * of the doubt from the moment this node took over. */
  private placement(now: number, lastSeen: ReadonlyMap<string, number>): Placement {
    const since = this.metaLeaderSince ?? now;
    const active = this.metaNodes()
      .filter((n) => n.state === 'active')
      .map((n) => ({ id: n.id, lastSeen: lastSeen.get(n.id) ?? since }));
    const nodes = placeableNodes(active, now, this.opts.replaceAfterMs).sort();
    // Building a ring hashes every node's virtual points: do it only when the set changes.
    if (this.ring === null || this.ring.nodes.join('\n') !== nodes.join('\n')) this.ring = new Placement(nodes);
    return this.ring;
  }

  /**
   * What the latest reports say, as both the view and the reconciler read it: who is live, when
   * each node was last heard, what each live node holds, and each group's freshest leader report
   * (the highest term wins a dispute).
   */
  private observe(now: number): Observation {
    const live = new Set<string>([this.opts.self]);
    const lastSeen = new Map<string, number>();
    const held = new Map<string, Set<GroupId>>();
    const leaders = new Map<GroupId, LeaderReport>();
    for (const [id, r] of this.reports) {
      lastSeen.set(id, r.at);
      if (now - r.at <= this.opts.nodeDownAfterMs) live.add(id);
    }
    for (const [id, { report }] of this.reports) {
      if (!live.has(id)) continue;
      held.set(id, new Set(report.groups.map((g) => groupId(g.group))));
      for (const g of report.groups) {
        if (g.role !== 'leader') continue;
        const prev = leaders.get(groupId(g.group));
        if (prev !== undefined && prev.term >= g.term) continue;
        leaders.set(groupId(g.group), {
          group: groupId(g.group),
          leader: id,
          term: g.term,
          commit: g.commit,
          lastIndex: g.lastIndex,
          voters: g.voters,
          learners: g.learners,
          match: new Map(g.progress.map((p) => [p.nodeId, p.match])),
        });
      }
    }
    return { live, lastSeen, held, leaders, placement: this.placement(now, lastSeen) };
  }

  private assembleView(): ClusterView {
    const now = this.now();
    const meta = this.opts.meta()?.state();
    const { live, lastSeen, held, leaders, placement } = this.observe(now);
    const partitionCount = meta?.partitions ?? 0;

    const led = new Map<string, number[]>();
    const anyReplica = new Map<number, { term: number; voters: string[]; learners: string[]; commit: number; applied: number }>();
    for (const [id, { report }] of this.reports) {
      if (!live.has(id)) continue;
      for (const g of report.groups) {
        const prev = anyReplica.get(g.group);
        if (prev === undefined || prev.term < g.term) anyReplica.set(g.group, { term: g.term, voters: g.voters, learners: g.learners, commit: g.commit, applied: g.applied });
      }
    }
    const appliedOf = (g: GroupId, node: string): number =>
      this.reports.get(node)?.report.groups.find((x) => x.group === g)?.applied ?? 0;
    const groupView = (g: GroupId): ClusterViewGroup => {
      const r = leaders.get(g);
      if (r !== undefined) {
        if (g !== META_GROUP) led.set(r.leader, [...(led.get(r.leader) ?? []), g]);
        return { id: g, voters: [...r.voters], learners: [...r.learners], leader: r.leader, term: r.term, commit: r.commit, applied: appliedOf(g, r.leader) };
      }
      const any = anyReplica.get(g);
      return { id: g, voters: any?.voters ?? [], learners: any?.learners ?? [], leader: null, term: any?.term ?? 0, commit: any?.commit ?? 0, applied: any?.applied ?? 0 };
    };
    const metaView = groupView(META_GROUP);
    const partitions: ClusterViewGroup[] = [];
    for (let p = 1; p <= partitionCount; p++) partitions.push(groupView(groupId(p)));

    const nodes: ClusterViewNode[] = this.metaNodes().map((n) => ({
      id: n.id,
      httpAddr: n.httpAddr,
      grpcAddr: n.grpcAddr,
      state: n.state,
      live: live.has(n.id),
      lastSeenMsAgo: n.id === this.opts.self ? 0 : lastSeen.has(n.id) ? now - lastSeen.get(n.id)! : null,
      partitionsHeld: [...(held.get(n.id) ?? [])].filter((g) => g !== META_GROUP).sort((a, b) => a - b),
      partitionsLed: (led.get(n.id) ?? []).sort((a, b) => a - b),
    }));
    const liveActive = nodes.filter((n) => n.live && n.state === 'active').length;
    const cap = liveActive === 0 ? 0 : Math.ceil(partitionCount / liveActive) + 1;
    const balanced =
      partitionCount > 0 &&
      partitions.every((p) => {
        const r = leaders.get(groupId(p.id));
        return r !== undefined && isPlaced(r, placement);
      }) &&
      nodes.every((n) => n.partitionsLed.length <= cap);
    return {
      clusterId: meta?.clusterId ?? this.opts.clusterId,
      metaLeader: this.opts.self,
      at: now,
      partitionCount,
      nodes,
      partitions,
      meta: metaView,
      balanced,
    };
  }

  private async reconcileOnce(): Promise<void> {
    if (this.reconciling || !this.isMetaLeader()) return;
    this.reconciling = true;
    try {
      await this.ensureInitialized();
      const meta = this.opts.meta()?.state();
      if (meta === undefined || meta.clusterId === null) return;
      const now = this.now();
      const { live, held, leaders, placement } = this.observe(now);
      const groups = [META_GROUP, ...Array.from({ length: meta.partitions }, (_, i) => groupId(i + 1))];
      const graceMs = Math.max(10_000, this.opts.reportIntervalMs * 10);
      const reporting = new Set([...live].filter((id) => id === this.opts.self || now - (this.reports.get(id)?.at ?? 0) <= REPORTING_WITHIN_INTERVALS * this.opts.reportIntervalMs));
      const actions = reconcile({
        groups,
        leaders,
        held,
        live,
        reporting,
        placement,
        // A new meta leader does not know what its predecessor asked for: it waits out the grace.
        recentlyHosted: (node, g) => now - (this.hostedAt.get(`${node}/${g}`) ?? this.metaLeaderSince ?? now) < graceMs,
      });
      for (const a of actions) void this.carryOut(a);
      await this.finishDecommissions(held, live);
    } catch (e) {
      this.opts.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'reconcile round failed');
    } finally {
      this.reconciling = false;
    }
  }

  /** The founder's first meta leadership: record the cluster and itself. */
  private async ensureInitialized(): Promise<void> {
    const meta = this.opts.meta()?.state();
    if (meta === undefined) return;
    if (meta.clusterId === null) {
      if (this.opts.founding === null) return;
      await this.proposeMeta({ type: 'init', clusterId: this.opts.clusterId, partitions: this.opts.founding.partitions });
    }
    if (!this.metaNodes().some((n) => n.id === this.opts.self)) {
      await this.proposeMeta({
        type: 'join',
        id: this.opts.self,
        httpAddr: this.opts.httpAddr,
        grpcAddr: this.opts.grpcAddr,
        incarnation: this.opts.incarnation,
        at: this.now(),
      });
    }
  }

  /** A decommissioning node that holds nothing any more has left. */
  private async finishDecommissions(held: ReadonlyMap<string, ReadonlySet<GroupId>>, live: ReadonlySet<string>): Promise<void> {
    for (const n of this.metaNodes()) {
      if (n.state !== 'decommissioning' || !live.has(n.id)) continue;
      if ((held.get(n.id)?.size ?? 1) > 0) continue;
      await this.proposeMeta({ type: 'setState', id: n.id, state: 'removed' });
      this.opts.logger.info({ target: n.id }, 'node decommissioned: it holds no replicas');
    }
  }

  private async carryOut(a: ClusterAction): Promise<void> {
    if (this.acting.has(a.group)) return;
    this.acting.add(a.group);
    try {
      if (a.kind === 'host') this.hostedAt.set(`${a.target}/${a.group}`, this.now());
      const message: ClusterActionMessage = 'node' in a ? { group: a.group, kind: a.kind, [a.kind]: a.node } : { group: a.group, kind: a.kind, [a.kind]: true };
      const reply = a.target === this.opts.self ? await this.handleAct(message) : await this.opts.rpc.act(nodeId(a.target), message, this.opts.requestTimeoutMs);
      this.opts.logger.info({ action: a, ok: reply.ok, code: reply.code || undefined }, 'placement step');
    } catch (e) {
      this.opts.logger.debug({ action: a, err: e instanceof Error ? e.message : String(e) }, 'placement step failed');
    } finally {
      this.acting.delete(a.group);
    }
  }
}
