/**
 * One taskraft node: `NODE_ID=node-1 HTTP_ADDR=:8080 npm run node`. Without JOIN_ADDR and without
 * data it creates a cluster; with JOIN_ADDR it joins the cluster of that member. Settings: see
 * src/cli/node-config.ts and config/default.json.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { ClusterAgent, REPORTING_WITHIN_INTERVALS, UnknownNodeError, type PeerAddress } from '../cluster/cluster-agent.js';
import { META_GROUP, MetaStateMachine } from '../cluster/meta-state-machine.js';
import { MultiRaftHost } from '../cluster/multi-raft-host.js';
import { NodeStore, type NodeIdentity } from '../cluster/node-store.js';
import { buildApp } from '../http/app.js';
import { nodeId } from '../raft/index.js';
import { CpuPool } from '../queue/cpu-pool.js';
import { builtInHandlers } from '../queue/handlers.js';
import { Processor } from '../queue/processor.js';
import { QueueNode } from '../queue/queue-node.js';
import { QueueStateMachine, type TaskObserver } from '../queue/queue-state-machine.js';
import { TaskWaiters } from '../queue/task-waiters.js';
import { TaskService } from '../queue/task-service.js';
import { groupId, groupOfKey, stateMachinesRange, type GroupId } from '../storage/key-layout.js';
import { RocksDatabase } from '../storage/rocks-database.js';
import { ClusterRpc } from '../transport/cluster-rpc.js';
import { QueueRpc } from '../transport/queue-rpc.js';
import { RaftTransport } from '../transport/raft-transport.js';
import { AdmissionRefusedError, joinCluster } from './join-cluster.js';
import { HandlersModuleError, loadHandlers } from './load-handlers.js';
import { ConfigError, loadNodeConfig, type NodeConfig } from './node-config.js';

/** Start-up failures end the process with one JSON line naming a stable code. */
function fatal(code: string, message: string): never {
  process.stdout.write(`${JSON.stringify({ level: 60, time: Date.now(), code, msg: message })}\n`);
  process.exit(1);
}

async function establishIdentity(config: NodeConfig, store: NodeStore, httpAddr: string, grpcAddr: string, logger: Logger): Promise<NodeIdentity> {
  let identity = await store.identity();
  if (identity !== null && identity.nodeId !== config.nodeId) {
    fatal('ERR_DATA_DIR_IN_USE', `data directory ${config.dataDir} belongs to node "${identity.nodeId}", not "${config.nodeId}"`);
  }
  if (identity === null) {
    const founding = config.joinAddrs.length === 0;
    identity = {
      nodeId: config.nodeId,
      incarnation: randomUUID(),
      clusterId: founding ? randomUUID() : null,
      founding: founding ? { partitions: config.partitions, groupsCreated: false } : null,
    };
    // Saved before asking to join: a crash mid-join retries with the same incarnation.
    await store.saveIdentity(identity);
  }
  const incarnation = identity.incarnation;
  const join = (timeoutMs: number): ReturnType<typeof joinCluster> =>
    joinCluster(config.joinAddrs, { nodeId: config.nodeId, httpAddr, grpcAddr, incarnation }, timeoutMs, (seed, reason) =>
      logger.info({ seed, reason }, 'waiting to be admitted'),
    );
  try {
    if (identity.clusterId === null) {
      if (config.joinAddrs.length === 0) fatal('ERR_CONFIG', `JOIN_ADDR is required: ${config.dataDir} was set up to join a cluster`);
      const admitted = await join(120_000);
      await store.savePeers(admitted.view.nodes.map((n) => ({ id: n.id, httpAddr: n.httpAddr, grpcAddr: n.grpcAddr })));
      identity = { ...identity, clusterId: admitted.clusterId };
      await store.saveIdentity(identity);
      logger.info({ clusterId: identity.clusterId }, 'admitted to the cluster');
    } else if (config.joinAddrs.length > 0) {
      // A known node coming back: asking again refreshes its addresses and its list of peers.
      const again = await join(1_000).catch((e: unknown) => {
        if (e instanceof AdmissionRefusedError) throw e;
        logger.warn({ err: (e as Error).message }, 'could not reach a seed; starting from the peers on disk');
        return null;
      });
      if (again !== null) await store.savePeers(again.view.nodes.map((n) => ({ id: n.id, httpAddr: n.httpAddr, grpcAddr: n.grpcAddr })));
    }
  } catch (e) {
    if (e instanceof AdmissionRefusedError) fatal(e.code, e.message);
    throw e;
  }
  return identity;
}

async function main(): Promise<void> {
  let config: NodeConfig;
  try {
    config = loadNodeConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) fatal(e.code, e.message);
    throw e;
  }
  const logger = pino({ level: config.logLevel, base: { node: config.nodeId } });
  // User handlers load first: a broken module stops the node before it joins anything.
  const cpu = new CpuPool();
  const handlers = builtInHandlers(cpu);
  if (config.handlersModule !== null) {
    try {
      const user = await loadHandlers(config.handlersModule);
      for (const [type, fn] of user) handlers.set(type, fn);
      logger.info({ module: config.handlersModule, types: [...user.keys()] }, 'loaded task handlers');
    } catch (e) {
      if (e instanceof HandlersModuleError) fatal(e.code, e.message);
      throw e;
    }
  }
  const self = nodeId(config.nodeId);
  const advertised = config.advertiseHost.includes(':') ? `[${config.advertiseHost}]` : config.advertiseHost;
  const httpAddr = `${advertised}:${config.httpPort}`;
  const grpcAddr = `${advertised}:${config.grpcPort}`;

  mkdirSync(config.dataDir, { recursive: true });
  const db = await RocksDatabase.open(config.dataDir, { writeWorker: true });
  const store = new NodeStore(db);
  let identity = await establishIdentity(config, store, httpAddr, grpcAddr, logger);
  const clusterId = identity.clusterId!;

  // Every partition's tasks are loaded before the host replays the log on top of them.
  const preloaded = new Map<GroupId, [Uint8Array, Uint8Array][]>();
  const everyMachine = stateMachinesRange();
  for await (const [k, v] of db.range(everyMachine.gte, everyMachine.lt)) {
    const g = groupOfKey(k);
    if (g === META_GROUP) continue;
    let rows = preloaded.get(g);
    if (rows === undefined) preloaded.set(g, (rows = []));
    rows.push([k.slice(), v.slice()]);
  }
  const machines = new Map<GroupId, QueueStateMachine>();
  // Replicas apply entries from the start, before the processing loop exists (it aborts the
  // handlers of attempts that end while they run); long-polls wake when their task finishes here.
  let processorRef: Processor | null = null;
  const waiters = new TaskWaiters();
  const observer: TaskObserver = {
    attemptEnded: (id, token, status) => processorRef?.attemptEnded(id, token, status),
    finished: (id) => waiters.finished(id),
  };
  let metaSm: MetaStateMachine | null = null;
  let host: MultiRaftHost | null = null;
  let agent: ClusterAgent | null = null;
  const peersOnDisk = await store.peers();
  const resolve = (p: string): string | null => agent?.grpcAddress(nodeId(p)) ?? peersOnDisk.find((x) => x.id === p)?.grpcAddr ?? null;

  const transport = new RaftTransport({
    self,
    clusterId,
    listen: `${config.grpcHost.includes(':') ? `[${config.grpcHost}]` : config.grpcHost}:${config.grpcPort}`,
    resolve: (p) => resolve(p),
    logger,
    handler: {
      onFrame: (from, frame) => host?.receive(from, frame),
      onUnreachable: (p) => host?.reportUnreachable(p),
      onSnapshotStatus: (p, g, s) => host?.reportSnapshot(p, g, s),
    },
  });
  const rpc = new ClusterRpc(self, clusterId, (p) => resolve(p));
  const queueRpc = new QueueRpc(self, clusterId, (p) => resolve(p));
  let queue: QueueNode | null = null;
  queueRpc.serve(transport, {
    propose: (p, ops) => (queue !== null ? queue.handlePropose(p, ops) : Promise.reject(new Error('node is starting'))),
    read: (p, id, lin) => (queue !== null ? queue.handleRead(p, id, lin) : Promise.reject(new Error('node is starting'))),
  });
  const ready = (): ClusterAgent => {
    if (agent === null) throw new Error('node is starting');
    return agent;
  };
  rpc.serve(transport, {
    join: (req) => ready().join(req),
    report: async (from, req) => ({ viewJson: await ready().handleReport(from, req) }),
    act: (_from, req) => ready().handleAct(req),
    decommission: async (req) => {
      try {
        await ready().decommission(req.nodeId);
        return { found: true };
      } catch (e) {
        if (e instanceof UnknownNodeError) return { found: false };
        throw e;
      }
    },
  });
  await transport.start();

  const openHost = await MultiRaftHost.open({
    self,
    db,
    send: (e, control) => transport.send(e, control),
    logger,
    tickMs: config.tickMs,
    electionTicks: config.electionTicks,
    requestTimeoutMs: config.requestTimeoutMs,
    snapshotEntries: config.snapshotEntries,
    keepEntries: config.keepEntries,
    stateMachine: (g) => {
      if (g !== META_GROUP) {
        // A replica created after start (placement) starts empty; one on disk was loaded above.
        const sm = new QueueStateMachine(g, observer);
        sm.loadRows(preloaded.get(g) ?? []);
        preloaded.delete(g);
        machines.set(g, sm);
        return sm;
      }
      const sm = new MetaStateMachine();
      sm.load(db.getSync(sm.stateKey()));
      metaSm = sm;
      return sm;
    },
  });
  host = openHost;
  if (identity.founding !== null && !identity.founding.groupsCreated) {
    openHost.createGroup(META_GROUP, [self]);
    for (let p = 1; p <= identity.founding.partitions; p++) openHost.createGroup(groupId(p), [self]);
    await openHost.flush();
    identity = { ...identity, founding: { ...identity.founding, groupsCreated: true } };
    await store.saveIdentity(identity);
    logger.info({ clusterId, partitions: identity.founding!.partitions }, 'created a new cluster');
  }

  agent = new ClusterAgent({
    self,
    incarnation: identity.incarnation,
    clusterId,
    httpAddr,
    grpcAddr,
    host: openHost,
    rpc,
    logger,
    meta: () => (metaSm !== null && openHost.holds(META_GROUP) ? metaSm : null),
    founding: identity.founding === null ? null : { partitions: identity.founding.partitions },
    savePeers: (peers: readonly PeerAddress[]) => void store.savePeers(peers).catch(() => undefined),
    initialPeers: peersOnDisk,
    reportIntervalMs: config.reportIntervalMs,
    reconcileIntervalMs: config.reconcileIntervalMs,
    nodeDownAfterMs: config.nodeDownAfterMs,
    replaceAfterMs: config.replaceAfterMs,
    requestTimeoutMs: config.requestTimeoutMs,
  });
  agent.start();

  const clusterAgent = agent;
  const heldMachines = function* (): Generator<[GroupId, QueueStateMachine]> {
    for (const g of openHost.groupIds()) {
      const sm = machines.get(g);
      if (sm !== undefined) yield [g, sm];
    }
  };
  queue = new QueueNode({
    self,
    host: openHost,
    rpc: queueRpc,
    logger,
    machine: (g) => (openHost.holds(g) ? machines.get(g) : undefined),
    partitionCount: () => clusterAgent.view()?.partitionCount ?? metaSm?.state().partitions ?? 0,
    viewLeader: (g) => clusterAgent.view()?.partitions.find((p) => p.id === g)?.leader ?? null,
    requestTimeoutMs: config.requestTimeoutMs,
  });
  const processor = new Processor({
    self,
    queue,
    handlers,
    machines: heldMachines,
    logger,
    concurrency: config.concurrency,
    pollMs: config.pollIntervalMs,
    retainCount: config.retainCount,
    retainMs: config.retainMs,
  });
  processorRef = processor;
  // A new leader runs the partition's tasks at once, not at its next round: those it holds when
  // elected, and those the old leader's last entries carried once they are applied.
  openHost.onLeadership(() => processor.kick());
  processor.start();
  const tasks = new TaskService(queue, heldMachines, processor, waiters, () => openHost.stats());

  const app = buildApp({ nodeId: config.nodeId, clusterId, cluster: agent, tasks, logger });
  await app.listen({ host: config.httpHost, port: config.httpPort });
  logger.info({ http: httpAddr, grpc: grpcAddr, dataDir: config.dataDir, clusterId }, 'node started');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'stopping');
    agent?.stop();
    // The partitions this node leads get new leaders at once, which go on processing while the
    // handlers running here finish (their results reach the new leaders) or their tasks are
    // released to them: no partition waits for an election, no task for its lease to expire. Raft
    // gives a transfer an election timeout; one not done by then will not be (the transferee may be
    // stopping too, as when `npm start` stops all three nodes). Reports stopped above: after a few
    // report intervals and a reconcile round the balancer gives this node no more leaderships, and
    // until then it hands on what it is given.
    const [, handOff] = await Promise.all([processor.drain(config.shutdownGraceMs), openHost.handOffLeadership(config.tickMs * config.electionTicks, (REPORTING_WITHIN_INTERVALS + 1) * config.reportIntervalMs + config.reconcileIntervalMs)]);
    logger.info(handOff, 'handed over leadership');
    processor.stop();
    tasks.endLongPolls();
    // Requests in flight get their answers; their keep-alive connections then go idle, and fastify
    // would keep them open for its keep-alive timeout (72 s) before the server counts as closed.
    const closing = app.close();
    const idle = setInterval(() => app.server.closeIdleConnections(), 50);
    await closing;
    clearInterval(idle);
    await cpu.close();
    await openHost.stop();
    rpc.close();
    queueRpc.close();
    await transport.stop();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((e: unknown) => fatal((e as { code?: string }).code ?? 'ERR_START', e instanceof Error ? (e.stack ?? e.message) : String(e)));
