/**
 * The partition benchmark: for each partition count, a fresh 3-node cluster on this machine (real
 * processes, RocksDB, gRPC, HTTP), `noop` tasks submitted over HTTP by concurrent clients spread
 * over all three nodes, and:
 *   - submit throughput and latency, one task per request (closed loop, --seconds, once for each
 *     count of clients in --concurrency),
 *   - end-to-end latency, submit to completed, at fixed offered loads (--rate tasks/s: a run per
 *     rate, in the order given; the main table shows the first),
 *   - drain throughput: a backlog of --backlog tasks becoming due at once, until all completed,
 *   - the CPU time the three nodes used per task submitted in each submit phase: far less noisy on
 *     a shared machine than throughput, it is the figure to compare changes by; and per task of
 *     the end-to-end run, which tells whether that run had the machine to itself or saturated it.
 *
 * A second table gives every end-to-end run: p50/p90/p99, the nodes' CPU per task, the cores they
 * kept busy (their CPU time over the run's wall time; this machine has 2) and each node's CPU in
 * ms per second. With several rates (e.g. --rate 100,300,1000) it is the curve of latency and CPU
 * against the offered load.
 *
 * The submit phases measure the submit path alone, as the add benchmarks of queues such as BullMQ
 * do (no workers while jobs are added): their tasks are due only after the phase ends, then run
 * and are waited for before the next phase. Processing is what the drain measures. Throughput
 * depends on how many requests are in flight: each partition's leader puts what waits into one
 * log entry, so with few clients per partition every task pays for a replicated entry of its own,
 * and with many the entry's cost is shared. Hence several client counts, each with its latency
 * (etcd's benchmark reports its throughput with 1,000 clients).
 *
 * Each cluster runs with the production timings (config/default.json) and first takes --warmup
 * seconds of closed-loop load (tasks processed as they come, so every path gets compiled),
 * unmeasured: on this 2-core machine V8 spends the first tens of seconds of load compiling the hot
 * paths (single TurboFan jobs take 100-300 ms here), and a server runs warm. Clients use
 * keep-alive connections, as a real client would; the load generator shares the machine with the
 * three nodes, so it must cost them as little as it can.
 *
 *   npm run bench [-- --partitions 1,4,16,64 --concurrency 64,256,1024 --seconds 5 --warmup 20 --rate 1000 --backlog 10000 --route spread]
 *
 * `--route spread` (the default) sends each submit to the next node in turn, as the issue's
 * benchmark asks: two in three reach a node that forwards them to the partition's leader.
 * `--route leader` sends each to its partition's leader, found from `GET /cluster` and the task
 * ID's hash, as a client that knows the placement would: it measures what the forward costs.
 *
 * The end-to-end run also counts the nodes' writes over 10 ms, timed on their event loops: a count
 * that rises with the disk's slow fsyncs and with the moments the nodes wait for a core (on this
 * 2-core machine the stalls of the end-to-end runs were CPU: see the README).
 *
 * Prints a table (a row per partition count and client count; the end-to-end and drain figures on
 * the first row of each partition count) and writes bench/results/queue.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ClusterView } from '../src/cluster/cluster-view.js';
import { partitionOf } from '../src/queue/partition-of.js';
import type { Task } from '../src/queue/task.js';
import { TestCluster, fullyReplicated } from '../test/support/taskraft-node.js';
import { HttpPool } from './http-pool.js';
import { type ClosedLoopResult, closedLoop, openLoop, pct, round, sleep } from './load-loops.js';
import { describeKdamonds, runningKdamonds } from './kernel-damon.js';
import { processCpuMs } from './process-cpu.js';

const { values } = parseArgs({
  options: {
    partitions: { type: 'string', default: '1,4,16,64' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '64,256,1024' },
    rate: { type: 'string', default: '1000' },
    backlog: { type: 'string', default: '10000' },
    route: { type: 'string', default: 'spread' },
  },
});
const partitionCounts = values.partitions.split(',').map(Number);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const clientCounts = values.concurrency.split(',').map(Number);
const rates = values.rate.split(',').map(Number);
const backlog = Number(values.backlog);
const route = values.route;
if (partitionCounts.some((p) => !(p >= 1 && p <= 1024)) || !(seconds > 0) || !(warmup >= 0) || clientCounts.some((c) => !(Number.isInteger(c) && c >= 1 && c <= 4096)) || rates.some((r) => !(r > 0 && r <= 100_000)) || !(backlog >= 1) || !(route === 'spread' || route === 'leader')) {
  console.error('usage: bench [--partitions 1,4,16,64] [--concurrency 64,256,1024] [--seconds S] [--warmup S] [--rate R[,R...]] [--backlog N] [--route spread|leader]');
  process.exit(2);
}


const kdamonds = runningKdamonds();
console.log(describeKdamonds(kdamonds));

const pools = new Map<string, HttpPool>();

/**
 * With --route leader, each task's partition leader's URL (from GET /cluster and the partition
 * hash), read before each phase; empty with --route spread, where `target` keeps the node given.
 */
let leaderUrls = new Map<number, string>();
let partitionCountNow = 0;

async function readLeaders(url: string): Promise<void> {
  if (route !== 'leader') return;
  const res = await fetch(`${url}/cluster`, { signal: AbortSignal.timeout(10_000) });
  const view = (await res.json()) as ClusterView;
  const httpOf = new Map(view.nodes.map((n) => [n.id, `http://${n.httpAddr.startsWith(':') ? `127.0.0.1${n.httpAddr}` : n.httpAddr}`]));
  leaderUrls = new Map(view.partitions.flatMap((p) => (p.leader !== null && httpOf.has(p.leader) ? [[p.id, httpOf.get(p.leader)!] as [number, string]] : [])));
  partitionCountNow = view.partitionCount;
  if (leaderUrls.size < partitionCountNow) console.warn(`  --route leader: ${partitionCountNow - leaderUrls.size} partitions without a known leader; their submits go to the spread's node`);
}

/** Where a task goes: the node the spread gives, or with --route leader its partition's leader. */
function target(id: string, spread: string): string {
  return route === 'leader' && partitionCountNow > 0 ? (leaderUrls.get(partitionOf(id, partitionCountNow)) ?? spread) : spread;
}

/** POST /tasks/submit on a kept-alive connection; the task, or null on any failure. */
async function submit(url: string, body: object): Promise<Task | null> {
  let pool = pools.get(url);
  if (pool === undefined) pools.set(url, (pool = HttpPool.forUrl(url, 1024)));
  try {
    const res = await pool.post('/tasks/submit', JSON.stringify(body));
    return res.status >= 300 ? null : (JSON.parse(res.body.toString()) as Task);
  } catch {
    return null;
  }
}

/**
 * Closed loop: `clients` clients, each submitting one task after the other, for `forSeconds`;
 * the tasks run at once, or only from `runAt` on (ms since the epoch).
 */
function submitThroughput(urls: string[], tag: string, clients: number, forSeconds: number, runAt: number | null): Promise<ClosedLoopResult> {
  return closedLoop(clients, forSeconds, async (i, c) => {
    const id = `${tag}-${i}`;
    return (await submit(target(id, urls[(c + i) % urls.length]!), { type: 'noop', id, ...(runAt === null ? {} : { runAt }) })) !== null;
  });
}

interface EndToEnd {
  readonly offered: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly lost: number;
  /** The nodes' writes over 10 ms from the first submit to the last task listed. */
  readonly slowWrites: number;
  readonly cpuPerTaskUs: number;
  /** The nodes' CPU time over the run's wall time: cores kept busy (2 is all of this machine). */
  readonly cores: number;
  /** Each node's CPU, ms per second of the run. */
  readonly nodeMsPerSec: readonly number[];
}

/**
 * Open loop at `offered`/s; end-to-end = the task's finishedAt minus the moment its submit was
 * sent. Also the nodes' writes over 10 ms over the run, and the CPU they (`nodeCpuMs`, one reading
 * per node) spent from the first submit to the last answer: near 2,000,000 µs / offered per task
 * (two cores' worth on this 2-core machine) the machine is saturated and tasks queue for a core at
 * every hop, whatever latency the code has on a free machine.
 */
async function endToEnd(urls: string[], tag: string, offered: number, nodeCpuMs: () => number[]): Promise<EndToEnd> {
  const total = Math.round(offered * seconds);
  const ids = Array.from({ length: total }, (_, i) => `${tag}-${i}`);
  await readLeaders(urls[0]!);
  const slowBefore = await slowWrites(urls);
  const cpuBefore = nodeCpuMs();
  const startedAt = performance.now();
  const sentAtOf = await openLoop(offered, total, (i) => submit(target(ids[i]!, urls[i % urls.length]!), { type: 'noop', id: ids[i]! }));
  const wallMs = performance.now() - startedAt;
  const cpuMs = nodeCpuMs().map((ms, k) => ms - cpuBefore[k]!);
  const cpuSumMs = cpuMs.reduce((a, b) => a + b, 0);
  const sentAt = new Map(ids.map((id, i) => [id, sentAtOf[i]!]));
  const done = await collectCompleted(urls[0]!, tag, total, 60_000);
  const e2e: number[] = [];
  for (const [id, t] of done) e2e.push(t.finishedAt! - sentAt.get(id)!);
  e2e.sort((a, b) => a - b);
  return {
    offered,
    slowWrites: (await slowWrites(urls)) - slowBefore,
    p50: pct(e2e, 50),
    p90: pct(e2e, 90),
    p99: pct(e2e, 99),
    lost: total - done.size,
    cpuPerTaskUs: (cpuSumMs * 1000) / total,
    cores: cpuSumMs / wallMs,
    nodeMsPerSec: cpuMs.map((ms) => (ms * 1000) / wallMs),
  };
}

/** A backlog that becomes due all at once; drain rate = backlog / (last finish - due time). */
async function drain(urls: string[], tag: string): Promise<{ perSec: number; tasks: number }> {
  const delayMs = 4000 + backlog / 2;
  const dueAt = Date.now() + delayMs;
  const batches: object[][] = [];
  for (let i = 0; i < backlog; i += 500) batches.push(Array.from({ length: Math.min(500, backlog - i) }, (_, j) => ({ type: 'noop', id: `${tag}-${i + j}`, runAt: dueAt })));
  await Promise.all(
    batches.map((tasks, b) =>
      fetch(`${urls[b % urls.length]}/tasks/batch`, { method: 'POST', body: JSON.stringify({ tasks }), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(60_000) }),
    ),
  );
  if (Date.now() > dueAt) console.warn(`  drain: submitting the backlog took past its due time; the drain figure is pessimistic`);
  const done = await collectCompleted(urls[0]!, tag, backlog, 120_000);
  const last = Math.max(...[...done.values()].map((t) => t.finishedAt!));
  return { perSec: done.size / ((last - dueAt) / 1000), tasks: done.size };
}

/** The nodes' count of writes over 10 ms so far (`raft.slowWrites` of GET /tasks/stats), summed. */
async function slowWrites(urls: string[]): Promise<number> {
  let n = 0;
  for (const url of urls) {
    const res = await fetch(`${url}/tasks/stats`, { signal: AbortSignal.timeout(10_000) });
    const stats = (await res.json()) as { raft?: { slowWrites?: number } };
    n += stats.raft?.slowWrites ?? 0;
  }
  return n;
}

/** Tasks the cluster has completed so far (GET /stats: each partition's leader counts its own). */
async function completedCount(url: string): Promise<number> {
  const res = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(10_000) });
  const stats = (await res.json()) as { partitionCounters?: { completed?: number } };
  return stats.partitionCounters?.completed ?? 0;
}

/**
 * Waits until the cluster has completed `target` tasks in all, by its counters; returns the count
 * reached. The warm-up and the submit phases wait for their tasks this way: they only need them
 * done, and listing them (~100,000 after a warm-up, in pages fanned out to every node) cost the
 * nodes CPU and garbage right before the next measurement. The end-to-end run and the drain list
 * theirs, for their timestamps.
 */
async function waitCompleted(url: string, target: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await completedCount(url);
    if (n >= target || Date.now() > deadline) return n;
    await sleep(200);
  }
}

/** Polls the cluster-wide list until `expected` tasks with the tag's prefix are completed. */
async function collectCompleted(url: string, tag: string, expected: number, timeoutMs: number): Promise<Map<string, Task>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = new Map<string, Task>();
    let cursor: string | null = `${tag}-`;
    while (cursor !== null) {
      const res = await fetch(`${url}/tasks?status=completed&limit=1000&cursor=${encodeURIComponent(cursor)}`, { signal: AbortSignal.timeout(30_000) });
      const page = (await res.json()) as { tasks: Task[]; nextCursor: string | null };
      for (const t of page.tasks) if (t.id.startsWith(`${tag}-`)) found.set(t.id, t);
      const lastId = page.tasks[page.tasks.length - 1]?.id;
      cursor = page.nextCursor !== null && lastId !== undefined && lastId.startsWith(`${tag}-`) ? page.nextCursor : null;
    }
    if (found.size >= expected || Date.now() > deadline) return found;
    await sleep(500);
  }
}

const rows: Record<string, number | string>[] = [];
const e2eRows: Record<string, number | string>[] = [];
let basePort = 21100;
for (const partitions of partitionCounts) {
  const cluster = new TestCluster(basePort, {
    PARTITIONS: String(partitions),
    LOG_LEVEL: 'error',
    NODE_DOWN_AFTER_MS: '5000',
    REPLACE_AFTER_MS: '300000',
    REQUEST_TIMEOUT_MS: '10000',
    // Production timings, not the tests' fast ones.
    TICK_MS: '100',
    REPORT_INTERVAL_MS: '500',
    RECONCILE_INTERVAL_MS: '1000',
    CONCURRENCY: '256',
    RETAIN_COUNT: '1000000',
  });
  basePort += 10;
  try {
    cluster.node(1).start();
    await cluster.waitFor('node-1 up', 60_000, (v) => fullyReplicated(v, ['node-1']));
    cluster.node(2).start({ JOIN_ADDR: `127.0.0.1:${basePort - 10}` });
    cluster.node(3).start({ JOIN_ADDR: `127.0.0.1:${basePort - 10}` });
    await cluster.waitFor('3 replicas, balanced', 180_000, (v) => fullyReplicated(v, ['node-1', 'node-2', 'node-3']) && v.balanced);
    const urls = [1, 2, 3].map((k) => cluster.node(k).url);
    if (warmup > 0) {
      await readLeaders(urls[0]!);
      const before = await completedCount(urls[0]!);
      const w = await submitThroughput(urls, `w${partitions}`, clientCounts[0]!, warmup, null);
      await waitCompleted(urls[0]!, before + w.ok, 120_000);
    }
    // End-to-end latency first, on a cluster that has only the warm-up behind it: the submit
    // phases leave RocksDB hundreds of thousands of rows to compact, on CPU the nodes then share.
    const eachNodeCpuMs = (): number[] => [1, 2, 3].map((k) => processCpuMs(cluster.node(k).child?.pid));
    const nodeCpuMs = (): number => eachNodeCpuMs().reduce((a, b) => a + b, 0);
    const e2eRuns: EndToEnd[] = [];
    for (const [k, offered] of rates.entries()) {
      const e = await endToEnd(urls, `e${partitions}r${k}`, offered, eachNodeCpuMs);
      e2eRuns.push(e);
      const row = {
        partitions,
        'offered/s': e.offered,
        'p50 ms': round(e.p50),
        'p90 ms': round(e.p90),
        'p99 ms': round(e.p99),
        'writes over 10 ms': e.slowWrites,
        'node CPU µs/task': Math.round(e.cpuPerTaskUs),
        'node cores': round(e.cores, 2),
        'CPU ms/s by node': e.nodeMsPerSec.map((ms) => Math.round(ms)).join(' / '),
        lost: e.lost,
      };
      e2eRows.push(row);
      console.log(JSON.stringify(row));
    }
    const e = e2eRuns[0]!;
    const submitRows: Record<string, number>[] = [];
    let errors = 0;
    for (const clients of clientCounts) {
      const tag = `s${partitions}c${clients}`;
      // Due once the phase is over (plus a margin for the last responses), so that no task runs
      // while submits are measured.
      const runAt = Date.now() + seconds * 1000 + 2000;
      const completedBefore = await completedCount(urls[0]!);
      await readLeaders(urls[0]!);
      const cpuBefore = nodeCpuMs();
      const s = await submitThroughput(urls, tag, clients, seconds, runAt);
      const cpuPerTaskUs = ((nodeCpuMs() - cpuBefore) * 1000) / s.ok;
      // Let them run to completion, so that the next phase (or the drain) has a quiet cluster.
      const completed = (await waitCompleted(urls[0]!, completedBefore + s.ok, 120_000)) - completedBefore;
      errors += s.errors + (s.ok - completed);
      submitRows.push({
        partitions,
        clients,
        'submits/s': Math.round(s.perSec),
        'submit p50 ms': round(s.p50),
        'submit p99 ms': round(s.p99),
        'node CPU µs/task': Math.round(cpuPerTaskUs),
      });
    }
    const d = await drain(urls, `d${partitions}`);
    errors += e2eRuns.reduce((n, r) => n + r.lost, 0) + (backlog - d.tasks);
    submitRows.forEach((r, k) => {
      const row: Record<string, number | string> =
        k > 0
          ? r
          : {
              ...r,
              [`e2e p50 ms @${e.offered}/s`]: round(e.p50),
              [`e2e p99 ms @${e.offered}/s`]: round(e.p99),
              'e2e writes over 10 ms': e.slowWrites,
              'e2e node CPU µs/task': Math.round(e.cpuPerTaskUs),
              'drain tasks/s': Math.round(d.perSec),
              errors,
            };
      rows.push(row);
      console.log(JSON.stringify(row));
    });
  } finally {
    for (const pool of pools.values()) pool.close();
    pools.clear();
    await cluster.destroy();
  }
}

console.log(
  `\ntaskraft partition benchmark: 3 nodes + this load generator on one machine; noop tasks; ${warmup}s warm-up, then ${clientCounts.join('/')} closed-loop submitters for ${seconds}s each (tasks run after each phase); end-to-end at ${rates.join(', ')}/s (this table: ${rates[0]}/s); drain of ${backlog}; ${route === 'leader' ? 'submits sent to their partition leaders' : 'submits spread over all nodes'}`,
);
console.table(rows);
console.log('\nend-to-end runs (open loop, submit to completed); node cores: the three nodes\' CPU time over the run\'s wall time, of the 2 this machine has');
console.table(e2eRows);
console.log(describeKdamonds(kdamonds));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/queue.json', import.meta.url), JSON.stringify({ at: new Date().toISOString(), seconds, warmup, clients: clientCounts, rates, backlog, route, rows, endToEnd: e2eRows, kdamonds }, null, 2));
console.log('wrote bench/results/queue.json');
