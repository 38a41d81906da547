import {
  MemoryStorage,
  ProposalDroppedError,
  ReadIndexDroppedError,
  nodeId,
  type Message,
  type NodeId,
} from '../../src/raft/index.js';
import { SafetyChecker, Violation, type NodeView } from './checker.js';
import { History } from './history.js';
import { Prng } from './prng.js';
import { SimNode, commandData, type ReadyHooks } from './sim-node.js';

export interface SimOptions {
  readonly seed: number;
  readonly steps: number;
  /** Founding voters; drawn by the seed when absent (3..5, or one in a tenth of the seeds). */
  readonly nodes?: number;
  /** Whether writes complete asynchronously (see SimNode); drawn by the seed when absent. */
  readonly asyncWrites?: boolean;
  readonly verbose?: boolean;
}

export interface SimStats {
  steps: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  crashes: number;
  partitions: number;
  confChanges: number;
  transfers: number;
  snapshots: number;
  proposals: number;
  acked: number;
  reads: number;
  readsServed: number;
  maxTerm: number;
  healTicks: number;
  /** 1 when the seed ran with asynchronous writes. */
  asyncWrites: number;
  /** 1 when the seed's leaders skipped commit-only appends (RaftConfig.skipBcastCommit). */
  skipBcastCommit: number;
  /** Writes in flight that crashes lost. */
  writesLost: number;
}

export interface SimResult {
  readonly seed: number;
  readonly violation: Error | null;
  readonly stats: SimStats;
  readonly trace: readonly string[];
}

interface InFlight {
  readonly m: Message;
  readonly at: number;
}

/** How rough this seed's world is: some seeds are calm, some brutal. */
interface FaultProfile {
  readonly drop: number;
  readonly dup: number;
  readonly maxDelay: number;
  readonly crash: number;
  readonly partition: number;
  readonly confChange: number;
  readonly transfer: number;
  readonly snapshot: number;
  readonly propose: number;
  readonly read: number;
  readonly skew: number;
  /** Chance that a newly elected leader is crashed within a few ticks: the moments right after
   * an election, with entries of older terms still uncommitted, are where Raft is subtlest. */
  readonly leaderKill: number;
  /** Chance, per Ready a leader handles, of crashing between persisting it and sending. */
  readonly midReadyCrash: number;
  /** Chance of crashing in the very first Ready of a new leader: its no-op (and any entries of
   * older terms it now holds) persisted and never sent. */
  readonly newLeaderCrash: number;
  /** Chance per tick of cutting the current leader off from everyone. */
  readonly isolateLeader: number;
  /** Some nodes' clocks run at half speed: a deposed leader then believes in itself longer. */
  readonly slowClocks: boolean;
}

const MAX_NODES = 7;
const HEAL_TICKS = 400;
const RAFT = { electionTick: 10, heartbeatTick: 1, preVote: true, checkQuorum: true, maxSizePerMsg: 512, maxInflightMsgs: 8 } as const;

export function runSeed(opts: SimOptions): SimResult {
  const root = new Prng(opts.seed);
  const rnd = { net: root.fork(), fault: root.fork(), client: root.fork(), raft: root.fork() };
  const profile: FaultProfile = {
    drop: root.pick([0, 0.01, 0.05, 0.2]),
    dup: root.pick([0, 0.02, 0.1]),
    maxDelay: root.pick([0, 1, 2, 5]),
    crash: root.pick([0, 0.003, 0.01, 0.03]),
    partition: root.pick([0, 0.005, 0.02]),
    confChange: root.pick([0, 0.01, 0.04, 0.1]),
    transfer: root.pick([0, 0.005, 0.02]),
    snapshot: root.pick([0.005, 0.02, 0.1]),
    propose: root.pick([0.2, 0.5, 1]),
    read: root.pick([0, 0.1, 0.3]),
    skew: root.pick([0, 0.05]),
    leaderKill: root.pick([0, 0.1, 0.3, 0.6]),
    midReadyCrash: root.pick([0, 0.002, 0.01, 0.03]),
    newLeaderCrash: root.pick([0, 0.05, 0.2]),
    isolateLeader: root.pick([0, 0.005, 0.02]),
    slowClocks: root.chance(0.3),
  };
  const drawnFounders = 3 + root.nextInt(3);
  // Half the seeds run the host's pipeline: writes complete later, in order, and a crash loses
  // those still in flight (drawn after everything else so other seeds keep their schedules).
  const drawnAsync = root.chance(0.5);
  const asyncWrites = opts.asyncWrites ?? drawnAsync;
  const diskRng = root.fork();
  // Some seeds start as every partition does: one voter, which elects itself alone, and members
  // that join as learners.
  const drawnLone = root.chance(0.1);
  const founders = opts.nodes ?? (drawnLone ? 1 : drawnFounders);
  // Half the seeds run as the host does: leaders tell followers a new commit index only in the
  // appends and heartbeats that go out anyway.
  const skipBcastCommit = root.chance(0.5);
  const raftConfig = { ...RAFT, skipBcastCommit };
  const stats: SimStats = {
    steps: 0, delivered: 0, dropped: 0, duplicated: 0, crashes: 0, partitions: 0, confChanges: 0,
    transfers: 0, snapshots: 0, proposals: 0, acked: 0, reads: 0, readsServed: 0, maxTerm: 0, healTicks: 0,
    asyncWrites: asyncWrites ? 1 : 0, writesLost: 0, skipBcastCommit: skipBcastCommit ? 1 : 0,
  };
  const trace: string[] = [];
  const log = (now: number, s: string): void => {
    if (opts.verbose === true) trace.push(`[${now}] ${s}`);
  };

  const nodes = new Map<NodeId, SimNode>();
  const checker = new SafetyChecker();
  const history = new History();
  let inflight: InFlight[] = [];
  const blocked = new Set<string>();
  const heals: { at: number; edges: string[] }[] = [];
  const restarts = new Map<NodeId, number>();
  let now = 0;
  let nextId = founders + 1;
  let seq = 0;
  let healing = false;
  /** Leaders scheduled to be crashed, and when (see FaultProfile.leaderKill). */
  const kills = new Map<NodeId, number>();

  const ids = Array.from({ length: founders }, (_, i) => nodeId(`n${i + 1}`));
  const addNode = (id: NodeId, storage: MemoryStorage): SimNode => {
    const n = new SimNode(id, storage, raftConfig, rnd.raft, asyncWrites);
    nodes.set(id, n);
    n.start();
    return n;
  };
  for (const id of ids) addNode(id, MemoryStorage.bootstrap(ids));

  const edge = (from: NodeId, to: NodeId): string => `${from}>${to}`;
  const hooks: ReadyHooks = {
    send(m) {
      const drop = !healing && rnd.net.chance(profile.drop);
      if (drop || blocked.has(edge(m.from, m.to))) {
        stats.dropped++;
        if (m.type === 'snap') nodes.get(m.from)?.raw?.reportSnapshot(m.to, 'failure');
        return;
      }
      inflight.push({ m, at: now + rnd.net.nextInt(profile.maxDelay + 1) });
      if (!healing && rnd.net.chance(profile.dup)) {
        stats.duplicated++;
        inflight.push({ m, at: now + rnd.net.nextInt(profile.maxDelay + 1) });
      }
    },
    applied(e) {
      checker.onApply(e);
      history.onApply(e, now);
    },
    readState(node, rs) {
      const n = nodes.get(node)!;
      history.onReadState(node, n.incarnation, rs.context, rs.index);
    },
    persisted(node, storage, sent) {
      checker.onPersistedSend(node, storage, sent);
    },
    writeDue(node) {
      // Most writes end within the tick; some take a few ticks, longer on a node with a slow disk.
      const slowDisk = node === ids[0] ? 4 : 1;
      return diskRng.chance(0.5) ? now : now + 1 + diskRng.nextInt(2 * slowDisk);
    },
    crashAfterPersist(node, becameLeader) {
      const n = nodes.get(node)!;
      if (healing || n.raw?.status().softState.role !== 'leader') return false;
      if (!rnd.fault.chance(becameLeader ? profile.newLeaderCrash : profile.midReadyCrash)) return false;
      crashed(n, 'after persisting, before sending');
      return true;
    },
  };

  /** Bookkeeping after a node's process died (SimNode.crash already dropped its memory). */
  const crashed = (v: SimNode, where: string): void => {
    kills.delete(v.id);
    // Messages to a dead process are lost; a lost snapshot is reported, as a transport would.
    for (const f of inflight) {
      if (f.m.to === v.id && f.m.type === 'snap') nodes.get(f.m.from)?.raw?.reportSnapshot(v.id, 'failure');
    }
    inflight = inflight.filter((f) => f.m.to !== v.id);
    restarts.set(v.id, now + 5 + rnd.fault.nextInt(60));
    stats.crashes++;
    log(now, `crash ${v.id} (${where})`);
  };

  const live = (): SimNode[] => [...nodes.values()].filter((n) => n.alive);
  const leader = (): SimNode | null => {
    let best: SimNode | null = null;
    for (const n of live()) {
      const st = n.raw!.status();
      if (st.softState.role === 'leader' && (best === null || st.hardState.term > best.raw!.status().hardState.term)) best = n;
    }
    return best;
  };
  const views = (): NodeView[] =>
    [...nodes.values()].map((n) => {
      const st = n.raw?.status();
      return {
        id: n.id,
        storage: n.alive ? n.storage : n.disk,
        role: st?.softState.role ?? null,
        term: st?.hardState.term ?? n.disk.initialState().hardState.term,
        lastIndex: (n.alive ? n.storage : n.disk).lastIndex(),
        committed: st?.committed ?? null,
      };
    });

  /** Runs readies and deliveries until nothing is left for this tick. */
  const pump = (): void => {
    for (let round = 0; round < 100; round++) {
      let busy = false;
      for (const n of nodes.values()) {
        if (n.handleReadies(hooks)) busy = true;
        // Writes end in order, each at its tick; meanwhile the node goes on.
        while (n.alive && (healing ? n.nextWriteDue() < Infinity : n.nextWriteDue() <= now)) {
          n.completeWrite(hooks);
          busy = true;
        }
      }
      const due = inflight.filter((f) => f.at <= now);
      if (due.length > 0) {
        inflight = inflight.filter((f) => f.at > now);
        // Reorder: deliver this tick's messages in a random order.
        for (let i = due.length - 1; i > 0; i--) {
          const j = rnd.net.nextInt(i + 1);
          [due[i], due[j]] = [due[j]!, due[i]!];
        }
        for (const { m } of due) {
          const target = nodes.get(m.to);
          if (target === undefined || !target.alive || blocked.has(edge(m.from, m.to))) {
            stats.dropped++;
            if (m.type === 'snap') nodes.get(m.from)?.raw?.reportSnapshot(m.to, 'failure');
            continue;
          }
          target.raw!.step(m);
          stats.delivered++;
          if (m.type === 'snap') nodes.get(m.from)?.raw?.reportSnapshot(m.to, 'finish');
        }
        busy = true;
      }
      if (!busy) return;
    }
  };

  const slow = new Set<NodeId>(profile.slowClocks ? [nodeId('n1'), nodeId(`n${founders}`)] : []);
  const tickAll = (): void => {
    for (const n of live()) {
      if (!healing && rnd.fault.chance(profile.skew)) continue;
      if (!healing && slow.has(n.id) && now % 2 === 0) continue;
      n.raw!.tick();
    }
  };

  const faults = (): void => {
    for (const [id, at] of restarts) {
      if (at <= now) {
        restarts.delete(id);
        nodes.get(id)!.start();
        log(now, `restart ${id}`);
      }
    }
    for (let i = heals.length - 1; i >= 0; i--) {
      if (heals[i]!.at <= now) {
        for (const e of heals[i]!.edges) blocked.delete(e);
        heals.splice(i, 1);
        log(now, 'partition healed');
      }
    }
    const l = leader();
    const assassinate = l !== null && kills.get(l.id) !== undefined && kills.get(l.id)! <= now;
    if (assassinate || rnd.fault.chance(profile.crash)) {
      const victims = live();
      if (victims.length > 0) {
        // Leaders are the interesting victims: prefer them.
        const v = assassinate || (l !== null && rnd.fault.chance(0.4)) ? l! : rnd.fault.pick(victims);
        v.crash();
        crashed(v, 'between ticks');
      }
    }
    if (l !== null && rnd.fault.chance(profile.isolateLeader)) {
      const edges: string[] = [];
      for (const other of nodes.keys()) if (other !== l.id) edges.push(edge(l.id, other), edge(other, l.id));
      for (const e of edges) blocked.add(e);
      heals.push({ at: now + 10 + rnd.fault.nextInt(60), edges });
      stats.partitions++;
      log(now, `leader ${l.id} isolated`);
    }
    if (rnd.fault.chance(profile.partition)) {
      const all = [...nodes.keys()];
      const edges: string[] = [];
      if (rnd.fault.chance(0.5)) {
        // Symmetric: a random minority or majority side cut off from the rest.
        const side = new Set(all.filter(() => rnd.fault.chance(0.4)));
        for (const a of all) for (const b of all) if (side.has(a) !== side.has(b)) edges.push(edge(a, b));
        log(now, `partition {${[...side].join(',')}} | rest`);
      } else {
        // One-way: a node can send but not hear, or hear but not send.
        const victim = rnd.fault.pick(all);
        const inbound = rnd.fault.chance(0.5);
        for (const other of all) if (other !== victim) edges.push(inbound ? edge(other, victim) : edge(victim, other));
        log(now, `one-way partition: ${victim} ${inbound ? 'deaf' : 'mute'}`);
      }
      for (const e of edges) blocked.add(e);
      heals.push({ at: now + 10 + rnd.fault.nextInt(80), edges });
      stats.partitions++;
    }
  };

  const clients = (): void => {
    const c = rnd.client;
    if (c.chance(profile.propose)) {
      const targets = live();
      if (targets.length > 0) {
        const n = c.pick(targets);
        const id = `p${++seq}`;
        try {
          n.raw!.propose(commandData(id));
          history.propose(id, n.id, n.incarnation, now);
          stats.proposals++;
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
      }
    }
    if (c.chance(profile.read)) {
      const targets = live();
      if (targets.length > 0) {
        const n = c.pick(targets);
        const ctx = `r${++seq}`;
        try {
          n.raw!.readIndex(ctx);
          history.read(ctx, n.id, n.incarnation, now);
          stats.reads++;
        } catch (e) {
          if (!(e instanceof ReadIndexDroppedError)) throw e;
        }
      }
    }
    const l = leader();
    if (l === null) return;
    const conf = l.raw!.status().confState;
    if (c.chance(profile.confChange)) {
      // Sometimes an impatient operator asks for a second change right after the first.
      const changes = c.chance(0.3) ? 2 : 1;
      for (let k = 0; k < changes; k++) {
        const roll = c.nextInt(3);
        try {
          if (roll === 0 && nodes.size < MAX_NODES) {
            const id = nodeId(`n${nextId}`);
            l.raw!.proposeConfChange({ type: 'addLearner', nodeId: id });
            nextId++;
            addNode(id, new MemoryStorage());
            log(now, `${l.id} proposes addLearner ${id}`);
            stats.confChanges++;
          } else if (roll === 1 && conf.learners.length > 0) {
            const id = c.pick(conf.learners);
            l.raw!.proposeConfChange({ type: 'addVoter', nodeId: id });
            log(now, `${l.id} proposes addVoter ${id}`);
            stats.confChanges++;
          } else if (roll === 2 && conf.voters.length > 2) {
            const id = c.pick(conf.voters);
            l.raw!.proposeConfChange({ type: 'removeNode', nodeId: id });
            log(now, `${l.id} proposes removeNode ${id}`);
            stats.confChanges++;
          }
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
      }
    }
    if (c.chance(profile.transfer) && conf.voters.length > 1) {
      const to = c.pick(conf.voters.filter((v) => v !== l.id));
      l.raw!.transferLeader(to);
      log(now, `${l.id} transfers leadership to ${to}`);
      stats.transfers++;
    }
    if (c.chance(profile.snapshot)) {
      const targets = live();
      if (targets.length > 0 && c.pick(targets).snapshotAndCompact(c.nextInt(20))) stats.snapshots++;
    }
  };

  let lastLeader = '';
  const step = (): void => {
    now++;
    if (!healing) {
      faults();
      clients();
    }
    tickAll();
    pump();
    const vs = views();
    checker.afterStep(vs);
    if (now % 25 === 0) checker.checkLogMatching(vs);
    const l = leader();
    const desc = l === null ? 'none' : `${l.id}@t${l.raw!.status().hardState.term}`;
    if (desc !== lastLeader) {
      log(now, `leader: ${desc}`);
      lastLeader = desc;
      if (l !== null && !healing && rnd.fault.chance(profile.leaderKill)) kills.set(l.id, now + rnd.fault.nextInt(4));
    }
    for (const v of vs) stats.maxTerm = Math.max(stats.maxTerm, v.term);
  };

  let violation: Error | null = null;
  try {
    for (let i = 0; i < opts.steps; i++) {
      step();
      stats.steps++;
    }
    // Heal everything, then the cluster must elect a leader and commit a new proposal on every
    // member within a bounded number of ticks.
    healing = true;
    blocked.clear();
    heals.length = 0;
    for (const id of restarts.keys()) nodes.get(id)!.start();
    restarts.clear();
    log(now, 'heal: network repaired, every node restarted');
    // Like a client, re-propose when the leader it proposed to is gone or a while has passed.
    let finalId: string | null = null;
    let finalTo = '';
    let finalAt = 0;
    let attempts = 0;
    let done = false;
    for (let t = 0; t < HEAL_TICKS && !done; t++) {
      step();
      stats.healTicks++;
      const l = leader();
      if (l === null) continue;
      const who = `${l.id}@${l.raw!.status().hardState.term}`;
      if (finalId === null || who !== finalTo || now - finalAt > 60) {
        const id = `final-${++attempts}`;
        try {
          l.raw!.propose(commandData(id));
          history.propose(id, l.id, l.incarnation, now);
          finalId = id;
          finalTo = who;
          finalAt = now;
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
        continue;
      }
      const st = l.raw!.status();
      const members = [...st.confState.voters, ...st.confState.learners].map((id) => nodes.get(id)!);
      const applied = finalId;
      done = members.every((m) => m.alive && m.applied >= st.committed && m.sm.includes(applied));
    }
    if (!done) {
      const l = leader();
      const progress = l === null ? 'no leader' : [...(l.raw!.status().progress ?? new Map())]
        .map(([id, p]) => `${id}:${p.state} match=${p.match} next=${p.next} active=${p.recentActive} snap=${p.pendingSnapshot}`).join('; ');
      const members = [...nodes.values()].map((n) => `${n.id}(${n.alive ? n.raw!.status().softState.role : 'down'} applied=${n.applied} last=${n.storage.lastIndex()} first=${n.storage.firstIndex()})`).join(' ');
      throw new Violation('Liveness after heal', `no leader committed a new proposal on every member within ${HEAL_TICKS} ticks of healing; leader ${l?.id ?? '-'} sees [${progress}]; nodes ${members}`);
    }
    const l = leader()!;
    const st = l.raw!.status();
    const finals = new Map<NodeId, readonly string[]>();
    for (const id of [...st.confState.voters, ...st.confState.learners]) finals.set(id, nodes.get(id)!.sm);
    history.checkNoAckedLoss(finals);
    checker.checkLogMatching(views());
  } catch (e) {
    violation = e as Error;
    log(now, `VIOLATION ${violation.message}`);
  }
  stats.acked = history.acked;
  for (const n of nodes.values()) stats.writesLost += n.writesLost;
  stats.readsServed = history.readsServed;
  return { seed: opts.seed, violation, stats, trace };
}
