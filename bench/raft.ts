/**
 * Runtime benchmark: 3 node processes on loopback (real gRPC, real RocksDB with fsync), P raft
 * groups of the test KV machine replicated on all three, for P in 1, 8, 64. Load is generated
 * inside each node against the groups it leads, so the figures are the runtime's, not an RPC
 * client's.
 *
 * The fixed-load run is preceded by --settle seconds of the same load, unmeasured, so that it
 * measures the steady state at that load: right after the max-load run the nodes are still
 * flushing to disk (and collecting garbage) what that run wrote, at a rate the fixed load alone
 * never causes.
 *
 * Each cluster first takes --warmup seconds of full load, unmeasured: on this 2-core machine V8
 * needs that long to compile the hot paths, and a node runs warm.
 *
 * Writes overwrite a fixed key space (--keys, over all nodes), as etcd's benchmark does with its
 * key space size: with a fresh key per write, the state grew for as long as the benchmark ran, and
 * so did the state machine's map and RocksDB's compaction work, so the figures depended on how long
 * the run was.
 *
 *   npm run bench:raft [-- --groups 1,8,64 --seconds 5 --warmup 10 --settle 3 --rate 5000 --concurrency 256 --keys 100000]
 *
 * It also counts the nodes' writes (with their fsync) that took over 10 ms in the fixed-load run.
 * The three nodes share this machine's disk, and that disk has slow moments that come and go by
 * the minute, whatever this program does (seen: the same settings, a minute apart, p99 5 ms with
 * none and 22 ms with 18): the column says which runs had them.
 *
 * Prints a table and writes bench/results/raft.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KvCluster } from '../test/support/kv-cluster.js';
import type { LoadReport } from '../test/support/kv-node-protocol.js';
import { describeKdamonds, runningKdamonds } from './kernel-damon.js';

const { values } = parseArgs({
  options: {
    groups: { type: 'string', default: '1,8,64' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '10' },
    settle: { type: 'string', default: '3' },
    rate: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '256' },
    bytes: { type: 'string', default: '100' },
    keys: { type: 'string', default: '100000' },
    writer: { type: 'string', default: 'worker' },
  },
});
const groupCounts = values.groups.split(',').map(Number);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const settle = Number(values.settle);
const rate = Number(values.rate);
const concurrency = Number(values.concurrency);
const valueBytes = Number(values.bytes);
const keys = Number(values.keys);
const writer = values.writer;
if (groupCounts.some((g) => !(g >= 1)) || !(seconds > 0) || !(warmup >= 0) || !(settle >= 0) || !(rate > 0) || !(concurrency >= 1) || !(keys >= 1) || (writer !== 'worker' && writer !== 'inline')) {
  console.error('usage: bench:raft [--groups 1,8,64] [--seconds S] [--warmup S] [--settle S] [--rate R] [--concurrency C] [--bytes B] [--keys K] [--writer worker|inline]');
  process.exit(2);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

async function leadersOf(cluster: KvCluster, groups: number, timeoutMs: number): Promise<number[][]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const led = await Promise.all(
      cluster.nodes.map(async (n) => {
        const r = await n.request({ op: 'leaders' });
        return r.ok ? (r.leaders ?? []) : [];
      }),
    );
    if (led.flat().length === groups) return led;
    if (Date.now() > deadline) throw new Error(`only ${led.flat().length}/${groups} groups have leaders`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function runLoad(cluster: KvCluster, led: number[][], groups: number, offered: number, forSeconds = seconds): Promise<LoadReport[]> {
  return Promise.all(
    cluster.nodes.map(async (n, i) => {
      const share = led[i]!.length / groups;
      if (share === 0) return { committed: 0, errors: 0, seconds: forSeconds, latenciesMs: [], loopDelayP99Ms: 0, loopDelayMaxMs: 0, host: {} };
      const r = await n.request(
        { op: 'load', seconds: forSeconds, concurrency: offered > 0 ? Math.max(4, Math.ceil(concurrency * share)) : concurrency, ratePerSec: offered * share, valueBytes, keys: Math.max(1, Math.round(keys / cluster.nodes.length)) },
        (forSeconds + 30) * 1000,
      );
      if (!r.ok || r.load === undefined) throw new Error(`${n.id}: load failed`);
      return r.load;
    }),
  );
}

const kdamonds = runningKdamonds();
console.log(describeKdamonds(kdamonds));
const rows = [];
let basePort = 17100;
for (const groups of groupCounts) {
  const cluster = new KvCluster({ size: 3, groups, basePort, tickMs: 100, extraEnv: { WRITE_WORKER: writer === 'worker' ? '1' : '0' } });
  basePort += 10;
  try {
    await cluster.start();
    const led = await leadersOf(cluster, groups, 30_000);
    if (warmup > 0) await runLoad(cluster, led, groups, 0, warmup);
    const max = await runLoad(cluster, led, groups, 0);
    if (settle > 0) await runLoad(cluster, led, groups, rate, settle);
    const fixed = await runLoad(cluster, led, groups, rate);
    const maxCommitted = max.reduce((n, r) => n + r.committed, 0);
    const maxSeconds = Math.max(...max.map((r) => r.seconds));
    const fixedLat = fixed.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
    const fixedSeconds = Math.max(...fixed.map((r) => r.seconds));
    rows.push({
      groups,
      'max entries/s': Math.round(maxCommitted / maxSeconds),
      'max p50 ms': round(percentile(max.flatMap((r) => r.latenciesMs).sort((a, b) => a - b), 50)),
      [`@${rate}/s achieved`]: Math.round(fixedLat.length / fixedSeconds),
      [`@${rate}/s p50 ms`]: round(percentile(fixedLat, 50)),
      [`@${rate}/s p99 ms`]: round(percentile(fixedLat, 99)),
      'loop delay p99 ms (max load)': round(Math.max(...max.map((r) => r.loopDelayP99Ms))),
      [`loop delay p99 ms (@${rate}/s)`]: round(Math.max(...fixed.map((r) => r.loopDelayP99Ms))),
      [`writes over 10 ms (@${rate}/s)`]: fixed.reduce((n, r) => n + (r.host.slowWrites ?? 0), 0),
      errors: max.reduce((n, r) => n + r.errors, 0) + fixed.reduce((n, r) => n + r.errors, 0),
    });
  } finally {
    await cluster.destroy();
  }
}

console.log(`raft runtime: 3 processes on loopback, ${valueBytes}-byte entries over ${keys} keys, ${warmup}s warm-up, then ${seconds}s per run, closed loop with ${concurrency} writers for max, ${settle}s of the fixed load unmeasured before it is measured, RocksDB writes ${writer === 'worker' ? 'on a worker thread' : 'inline'}`);
console.table(rows);
console.log(describeKdamonds(kdamonds));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/raft.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), seconds, warmup, settle, rate, concurrency, valueBytes, keys, writer, rows, kdamonds }, null, 2));
console.log('wrote bench/results/raft.json');
