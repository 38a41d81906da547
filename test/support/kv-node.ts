/**
 * A node process for the runtime's tests and benchmark: real RocksDB, real gRPC, the multi-raft
 * host, G groups of the test KV machine replicated on a fixed set of peers. Driven by its parent
 * over the IPC channel (see KvNodeRequest); prints nothing but warnings.
 *
 * Environment: NODE_ID, DATA_DIR, PEERS ("n1=127.0.0.1:7001,n2=..."), GROUPS, TICK_MS,
 * SNAPSHOT_ENTRIES, KEEP_ENTRIES.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { ClusterError } from '../../src/cluster/errors.js';
import { MultiRaftHost } from '../../src/cluster/multi-raft-host.js';
import { logIndex, nodeId, type NodeId } from '../../src/raft/index.js';
import { groupId, stateMachinePrefix, stateMachineRange, type GroupId } from '../../src/storage/key-layout.js';
import { RocksDatabase } from '../../src/storage/rocks-database.js';
import { RaftTransport } from '../../src/transport/raft-transport.js';
import { KvStateMachine } from './kv-state-machine.js';
import type { KvNodeRequest, KvNodeResponse, GroupDump, LoadReport } from './kv-node-protocol.js';

function env(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`kv-node: ${name} is required`);
  return v;
}

const self = nodeId(env('NODE_ID'));
const peers = new Map<NodeId, string>(
  env('PEERS')
    .split(',')
    .map((p) => p.split('=') as [string, string])
    .map(([id, addr]) => [nodeId(id), addr]),
);
const groupCount = Number(env('GROUPS', '1'));
const logger = pino({ level: env('LOG_LEVEL', 'warn') }, pino.destination(2));
const db = await RocksDatabase.open(env('DATA_DIR'), { writeWorker: env('WRITE_WORKER', '1') === '1' });
const machines = new Map<GroupId, KvStateMachine>();

// Persisted KV rows are loaded before the host replays the log on top of them.
async function loadMachine(g: GroupId): Promise<KvStateMachine> {
  const sm = new KvStateMachine(g);
  const { gte, lt } = stateMachineRange(g);
  const rows: [Uint8Array, Uint8Array][] = [];
  for await (const [k, v] of db.range(gte, lt)) rows.push([k.slice(), v.slice()]);
  sm.load(rows);
  machines.set(g, sm);
  return sm;
}
for (let g = 1; g <= groupCount; g++) await loadMachine(groupId(g));
void stateMachinePrefix;

let host: MultiRaftHost | null = null;
const transport = new RaftTransport({
  self,
  clusterId: 'kv-test',
  listen: peers.get(self)!,
  resolve: (p) => peers.get(p) ?? null,
  logger,
  handler: {
    onFrame: (from, frame) => host?.receive(from, frame),
    onUnreachable: (p) => host?.reportUnreachable(p),
    onSnapshotStatus: (p, g, s) => host?.reportSnapshot(p, g, s),
  },
});
await transport.start();
host = await MultiRaftHost.open({
  self,
  db,
  send: (e, control) => transport.send(e, control),
  quiesceAfterTicks: Number(env('QUIESCE_TICKS', '3')),
  logger,
  tickMs: Number(env('TICK_MS', '100')),
  // Unset, the host's defaults apply, as on a taskraft node.
  ...(process.env.SNAPSHOT_ENTRIES === undefined ? {} : { snapshotEntries: Number(process.env.SNAPSHOT_ENTRIES) }),
  ...(process.env.KEEP_ENTRIES === undefined ? {} : { keepEntries: Number(process.env.KEEP_ENTRIES) }),
  stateMachine: (g) => machines.get(g) ?? new KvStateMachine(g),
});
const existing = new Set(host.groupIds());
for (let g = 1; g <= groupCount; g++) {
  if (!existing.has(groupId(g))) host.createGroup(groupId(g), [...peers.keys()]);
}

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();

function reply(r: KvNodeResponse): void {
  process.send?.(r);
}

function errorCode(e: unknown): string {
  return e instanceof ClusterError ? e.code : String((e as Error)?.message ?? e);
}

function dump(g: GroupId): GroupDump {
  const st = host!.status(g);
  const sm = machines.get(g)!;
  return {
    group: g,
    role: st.softState.role,
    leader: st.softState.leader,
    term: st.hardState.term,
    commit: st.committed,
    applied: st.applied,
    lastIndex: st.lastIndex,
    voters: [...st.confState.voters],
    data: Object.fromEntries(sm.data),
    terms: host!.logTerms(g, logIndex(Math.max(1, st.committed - 199)), st.committed).map((x) => [x.index, x.term]),
  };
}

/** Closed-loop load from inside the node: `concurrency` writers on the groups this node leads. */
async function runLoad(seconds: number, concurrency: number, ratePerSec: number, valueBytes: number, keys: number): Promise<LoadReport> {
  const latencies: number[] = [];
  let errors = 0;
  const value = 'x'.repeat(valueBytes);
  const deadline = performance.now() + seconds * 1000;
  let seq = 0;
  loop.reset();
  const before = host!.stats();
  const started = performance.now();
  // At a fixed offered rate, requests start on a schedule regardless of how fast earlier ones end.
  const interval = ratePerSec > 0 ? 1000 / ratePerSec : 0;
  let nextStart = started;
  // The groups this node leads, looked up every 50 ms rather than for every write.
  let ledCache: GroupId[] = [];
  let ledAt = -Infinity;
  const led = (): GroupId[] => {
    const now = performance.now();
    if (now - ledAt > 50) {
      ledCache = host!.groupIds().filter((g) => host!.leaderOf(g) === self);
      ledAt = now;
    }
    return ledCache;
  };
  async function writer(w: number): Promise<void> {
    while (performance.now() < deadline) {
      if (interval > 0) {
        const wait = nextStart - performance.now();
        nextStart += interval;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const groups = led();
      if (groups.length === 0) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      // Each key belongs to one group, so the state stays as big as the key space.
      const k = (seq++ + w) % keys;
      const g = groups[k % groups.length]!;
      const t0 = performance.now();
      try {
        await host!.propose(g, KvStateMachine.command(`${self}-${k}`, value));
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, w) => writer(w)));
  const elapsed = (performance.now() - started) / 1000;
  return {
    committed: latencies.length,
    errors,
    seconds: elapsed,
    latenciesMs: latencies,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    loopDelayMaxMs: loop.max / 1e6,
    host: Object.fromEntries(Object.entries(host!.stats()).map(([k, v]) => [k, Math.round(v - before[k as keyof typeof before])])),
  };
}

process.on('message', (raw: KvNodeRequest) => {
  void (async () => {
    switch (raw.op) {
      case 'put': {
        const g = groupId(raw.group);
        try {
          const index = await host!.propose(g, KvStateMachine.command(raw.key, raw.value));
          reply({ id: raw.id, ok: true, index: index as number });
        } catch (e) {
          reply({ id: raw.id, ok: false, error: errorCode(e), leader: host!.leaderOf(g) });
        }
        return;
      }
      case 'read': {
        const g = groupId(raw.group);
        try {
          await host!.linearizableBarrier(g);
          reply({ id: raw.id, ok: true, value: machines.get(g)!.get(raw.key) ?? null });
        } catch (e) {
          reply({ id: raw.id, ok: false, error: errorCode(e), leader: host!.leaderOf(g) });
        }
        return;
      }
      case 'leaders':
        reply({ id: raw.id, ok: true, leaders: host!.groupIds().filter((g) => host!.leaderOf(g) === self) });
        return;
      case 'stats': {
        const quiesced = host!.groupIds().filter((g) => host!.isQuiesced(g)).length;
        reply({ id: raw.id, ok: true, stats: { ...host!.stats(), quiesced } });
        return;
      }
      case 'dump':
        reply({ id: raw.id, ok: true, groups: host!.groupIds().map(dump) });
        return;
      case 'pause':
        transport.setPaused(raw.paused);
        reply({ id: raw.id, ok: true });
        return;
      case 'load':
        reply({ id: raw.id, ok: true, load: await runLoad(raw.seconds, raw.concurrency, raw.ratePerSec, raw.valueBytes, raw.keys) });
        return;
      case 'stop':
        await host!.stop();
        await transport.stop();
        await db.close();
        reply({ id: raw.id, ok: true });
        process.exit(0);
    }
  })();
});

reply({ id: 0, ok: true, ready: true });
