/**
 * The peer benchmark: BullMQ on one Redis, on this machine, measured the way `npm run bench`
 * measures taskraft, so that the two can be read side by side on the same machine in the same
 * hour. Issue 5 gives BullMQ's figures on "this machine" as its reference (about 14,000 adds/s one
 * at a time, a drain of about 6,000/s, an end-to-end p99 of 60-90 ms at 1,000 jobs/s); machines of
 * this kind differ from day to day by two to three times (see the README), so a comparison holds
 * only between figures taken together.
 *
 * Setup: a fresh `redis-server` (Debian's package: `apt-get install -y redis-server`) on a
 * loopback port with a data directory of its own, unreplicated, persisting as `--aof` says: `no`
 * (the default, Redis's default too: nothing written, a crash loses everything), `everysec` or
 * `always` (an fsync before each reply, the durability taskraft always has, on one disk instead of
 * a majority of three). `--workers` BullMQ worker processes (bench/bullmq-worker.ts), each running
 * a no-op processor with `--worker-concurrency` jobs at once. This process is the load generator:
 * its clients share one Redis connection, as a BullMQ producer's calls do.
 *
 * Phases, as in bench/queue.ts:
 *   - warm-up: --warmup seconds of closed-loop adds by 64 clients, processed as they come,
 *   - end-to-end latency at --rate jobs/s offered (open loop): a job's finishedOn minus the moment
 *     its add was sent,
 *   - add throughput and latency, one job per call, closed loop for --seconds with each count of
 *     clients in --concurrency; the jobs are delayed until the phase is over (as taskraft's runAt),
 *     then run and are waited for,
 *   - drain: --backlog jobs becoming due at once; drain rate = backlog / (last finish - due time),
 *   - the CPU Redis and the workers used per job in each phase (the peer of the nodes' CPU).
 *
 *   npm run bench:bullmq [-- --concurrency 64,256,1024 --seconds 5 --warmup 20 --rate 1000 --backlog 10000 --workers 1 --worker-concurrency 256 --aof no]
 *
 * Prints a table and writes bench/results/bullmq.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Job, Queue } from 'bullmq';
import { describeKdamonds, runningKdamonds } from './kernel-damon.js';
import { type ClosedLoopResult, closedLoop, openLoop, pct, round, sleep } from './load-loops.js';
import { processCpuMs } from './process-cpu.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '64,256,1024' },
    rate: { type: 'string', default: '1000' },
    backlog: { type: 'string', default: '10000' },
    workers: { type: 'string', default: '1' },
    'worker-concurrency': { type: 'string', default: '256' },
    aof: { type: 'string', default: 'no' },
    port: { type: 'string', default: '21700' },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const clientCounts = values.concurrency.split(',').map(Number);
const rate = Number(values.rate);
const backlog = Number(values.backlog);
const workerCount = Number(values.workers);
const workerConcurrency = Number(values['worker-concurrency']);
const aof = values.aof;
const port = Number(values.port);
if (
  !(seconds > 0) ||
  !(warmup >= 0) ||
  clientCounts.some((c) => !(Number.isInteger(c) && c >= 1 && c <= 4096)) ||
  !(rate > 0) ||
  !(backlog >= 1) ||
  !(Number.isInteger(workerCount) && workerCount >= 1 && workerCount <= 16) ||
  !(Number.isInteger(workerConcurrency) && workerConcurrency >= 1) ||
  !(aof === 'no' || aof === 'everysec' || aof === 'always') ||
  !(Number.isInteger(port) && port > 0 && port < 65536)
) {
  console.error(
    'usage: bench:bullmq [--concurrency 64,256,1024] [--seconds S] [--warmup S] [--rate R] [--backlog N] [--workers 1-16] [--worker-concurrency N] [--aof no|everysec|always] [--port P]',
  );
  process.exit(2);
}
const kdamonds = runningKdamonds();
console.log(describeKdamonds(kdamonds));

const QUEUE = 'bench';
const WORKER_SCRIPT = fileURLToPath(new URL('./bullmq-worker.ts', import.meta.url));

/** Resolves when `child` says 'ready' over IPC or prints `marker`; rejects if it exits first or after `timeoutMs`. */
function whenReady(child: ChildProcess, what: string, timeoutMs: number, marker?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${what} not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    child.on('message', (m) => m === 'ready' && done());
    for (const s of [child.stdout, child.stderr]) {
      s?.on('data', (b: Buffer) => {
        output = (output + b.toString()).slice(-4000);
        if (marker !== undefined && output.includes(marker)) done();
      });
    }
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with code ${code}:\n${output}`));
    });
  });
}

function startRedis(dir: string): ChildProcess {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--maxmemory-policy', 'noeviction'];
  args.push('--appendonly', aof === 'no' ? 'no' : 'yes');
  if (aof !== 'no') args.push('--appendfsync', aof);
  return spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

function startWorker(): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
    env: { ...process.env, REDIS_PORT: String(port), BULLMQ_QUEUE: QUEUE, BULLMQ_CONCURRENCY: String(workerConcurrency) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
}

async function add(queue: Queue, id: string, delay: number): Promise<boolean> {
  try {
    await queue.add('noop', {}, delay > 0 ? { jobId: id, delay } : { jobId: id });
    return true;
  } catch {
    return false;
  }
}

/** Closed loop: `clients` clients adding one job after the other for `forSeconds`; the jobs run at `runAt` (or at once). */
function addThroughput(queue: Queue, tag: string, clients: number, forSeconds: number, runAt: number | null): Promise<ClosedLoopResult> {
  return closedLoop(clients, forSeconds, (i) => add(queue, `${tag}-${i}`, runAt === null ? 0 : runAt - Date.now()));
}

/** Waits until Redis counts `target` completed jobs in all; returns the count reached. */
async function waitCompleted(queue: Queue, target: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = (await queue.getJobCounts('completed')).completed ?? 0;
    if (n >= target || Date.now() > deadline) return n;
    await sleep(200);
  }
}

/** The finish times of jobs `ids`, polled until all have one or `timeoutMs` passes. */
async function finishTimes(queue: Queue, ids: string[], timeoutMs: number): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  const finished = new Map<string, number>();
  for (;;) {
    const open = ids.filter((id) => !finished.has(id));
    for (let i = 0; i < open.length; i += 500) {
      const jobs = await Promise.all(open.slice(i, i + 500).map((id) => Job.fromId(queue, id)));
      for (const job of jobs) if (job?.id !== undefined && job.finishedOn !== undefined) finished.set(job.id, job.finishedOn);
    }
    if (finished.size >= ids.length || Date.now() > deadline) return finished;
    await sleep(500);
  }
}

/** Open loop at `rate`/s; end-to-end = finishedOn minus the moment the add was sent. */
async function endToEnd(queue: Queue, tag: string, serverCpuMs: () => number): Promise<{ p50: number; p99: number; lost: number; cpuPerJobUs: number }> {
  const total = Math.round(rate * seconds);
  const ids = Array.from({ length: total }, (_, i) => `${tag}-${i}`);
  const completedBefore = (await queue.getJobCounts('completed')).completed ?? 0;
  const cpuBefore = serverCpuMs();
  const sentAtOf = await openLoop(rate, total, (i) => add(queue, ids[i]!, 0));
  const sentAt = new Map(ids.map((id, i) => [id, sentAtOf[i]!]));
  // The CPU of running them, not of the lookups of their finish times that follow.
  await waitCompleted(queue, completedBefore + total, 60_000);
  const cpuPerJobUs = ((serverCpuMs() - cpuBefore) * 1000) / total;
  const done = await finishTimes(queue, [...sentAt.keys()], 60_000);
  const e2e = [...done].map(([id, finishedOn]) => finishedOn - sentAt.get(id)!).sort((a, b) => a - b);
  return { p50: pct(e2e, 50), p99: pct(e2e, 99), lost: total - done.size, cpuPerJobUs };
}

/** A backlog that becomes due all at once; drain rate = backlog / (last finish - due time). */
async function drain(queue: Queue, tag: string): Promise<{ perSec: number; jobs: number }> {
  const dueAt = Date.now() + 4000 + backlog / 2;
  const ids = Array.from({ length: backlog }, (_, i) => `${tag}-${i}`);
  for (let i = 0; i < backlog; i += 500) {
    await queue.addBulk(ids.slice(i, i + 500).map((jobId) => ({ name: 'noop', data: {}, opts: { jobId, delay: dueAt - Date.now() } })));
  }
  if (Date.now() > dueAt) console.warn('  drain: adding the backlog took past its due time; the drain figure is pessimistic');
  const done = await finishTimes(queue, ids, 120_000);
  const last = Math.max(...done.values());
  return { perSec: done.size / ((last - dueAt) / 1000), jobs: done.size };
}

const dir = mkdtempSync(join(tmpdir(), 'taskraft-bullmq-'));
const redis = startRedis(dir);
const workers: ChildProcess[] = [];
let queue: Queue | null = null;
try {
  await whenReady(redis, 'redis-server', 10_000, 'Ready to accept connections').catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT' ? new Error('bench:bullmq needs redis-server on the PATH (Debian: apt-get install -y redis-server)') : e;
  });
  queue = new Queue(QUEUE, { connection: { host: '127.0.0.1', port } });
  await queue.waitUntilReady();
  for (let i = 0; i < workerCount; i++) workers.push(startWorker());
  await Promise.all(workers.map((w, i) => whenReady(w, `BullMQ worker ${i + 1}`, 30_000)));
  const serverCpuMs = (): number => [redis, ...workers].reduce((sum, p) => sum + processCpuMs(p.pid), 0);

  if (warmup > 0) {
    const w = await addThroughput(queue, 'w', clientCounts[0]!, warmup, null);
    await waitCompleted(queue, w.ok, 120_000);
  }
  const e = await endToEnd(queue, 'e', serverCpuMs);
  let errors = e.lost;
  const rows: Record<string, number | string>[] = [];
  for (const clients of clientCounts) {
    const runAt = Date.now() + seconds * 1000 + 2000;
    const completedBefore = (await queue.getJobCounts('completed')).completed ?? 0;
    const cpuBefore = serverCpuMs();
    const s = await addThroughput(queue, `s${clients}`, clients, seconds, runAt);
    const cpuPerJobUs = ((serverCpuMs() - cpuBefore) * 1000) / s.ok;
    const completed = (await waitCompleted(queue, completedBefore + s.ok, 120_000)) - completedBefore;
    errors += s.errors + (s.ok - completed);
    rows.push({
      clients,
      'adds/s': Math.round(s.perSec),
      'add p50 ms': round(s.p50),
      'add p99 ms': round(s.p99),
      'server CPU µs/job': Math.round(cpuPerJobUs),
    });
  }
  const d = await drain(queue, 'd');
  errors += backlog - d.jobs;
  Object.assign(rows[0]!, {
    [`e2e p50 ms @${rate}/s`]: round(e.p50),
    [`e2e p99 ms @${rate}/s`]: round(e.p99),
    'e2e server CPU µs/job': Math.round(e.cpuPerJobUs),
    'drain jobs/s': Math.round(d.perSec),
    errors,
  });
  for (const row of rows) console.log(JSON.stringify(row));
  console.log(
    `\nBullMQ peer benchmark: redis-server (AOF ${aof}) + ${workerCount} worker process(es) x ${workerConcurrency} + this load generator on one machine; no-op jobs; ${warmup}s warm-up, then ${clientCounts.join('/')} closed-loop adders for ${seconds}s each (jobs delayed past each phase); end-to-end at ${rate}/s; drain of ${backlog}`,
  );
  console.table(rows);
  console.log(describeKdamonds(kdamonds));
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL('./results/bullmq.json', import.meta.url),
    JSON.stringify({ at: new Date().toISOString(), seconds, warmup, clients: clientCounts, rate, backlog, workers: workerCount, workerConcurrency, aof, rows, kdamonds }, null, 2),
  );
  console.log('wrote bench/results/bullmq.json');
} finally {
  await queue?.close().catch(() => undefined);
  await Promise.all(
    workers.map(async (w) => {
      if (w.exitCode !== null || w.signalCode !== null) return;
      const exited = new Promise((r) => w.once('exit', r));
      w.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      w.kill('SIGKILL');
    }),
  );
  if (redis.pid !== undefined && redis.exitCode === null && redis.signalCode === null) {
    const exited = new Promise((r) => redis.once('exit', r));
    redis.kill('SIGKILL');
    await Promise.race([exited, sleep(10_000)]);
  }
  rmSync(dir, { recursive: true, force: true });
}
