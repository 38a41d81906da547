/**
 * The machine's own floor for commit latency: three processes (as many as the cluster benchmarks
 * run) each write small fsynced batches through taskraft's storage path (RocksDatabase with its
 * write worker) back to back at a fixed rate, as a node's host loop does, and report how long one
 * synced write takes: median, p99, p99.9 and the share of writes over 5 and 10 ms.
 *
 * A commit waits for at least two such writes (the leader's and a follower's, in parallel) and
 * for the write each of them is queued behind, so a write tail here is a commit tail there.
 *
 *   npm run bench:fsync-latency [-- --seconds 10 --rate 1300 --ops 20]
 *
 * --rate is writes per second per process (1,300 is what a node's host loop issued at an offered
 * 5,000 entries/s with 64 groups), --ops the puts of ~130 bytes per write.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RocksDatabase, type WriteOp } from '../src/storage/rocks-database.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1300' },
    ops: { type: 'string', default: '20' },
    processes: { type: 'string', default: '3' },
    child: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const opsPerWrite = Number(values.ops);
const processes = Number(values.processes);
if (!(seconds > 0) || !(rate > 0) || !(opsPerWrite >= 1) || !(processes >= 1)) {
  console.error('usage: bench:fsync-latency [--seconds S] [--rate writes/s per process] [--ops puts per write] [--processes N]');
  process.exit(2);
}

if (values.child !== undefined) {
  const db = await RocksDatabase.open(values.child, { writeWorker: true });
  const latencies: number[] = [];
  const value = new Uint8Array(120).fill(7);
  const started = performance.now();
  const end = started + seconds * 1000;
  let seq = 0;
  // Back to back like a host loop, but no faster than the rate: a write starts when the previous
  // one ended or when its slot comes, whichever is later.
  for (let next = started; performance.now() < end; next += 1000 / rate) {
    const wait = next - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const ops: WriteOp[] = [];
    for (let k = 0; k < opsPerWrite; k++) {
      const key = new Uint8Array(13);
      new DataView(key.buffer).setBigUint64(5, BigInt(seq++));
      ops.push({ type: 'put', key, value });
    }
    const t0 = performance.now();
    await db.write(ops, true);
    latencies.push(performance.now() - t0);
  }
  await db.close();
  // Exit only once the (large) message has been handed over, or it can be lost.
  process.send?.(latencies, () => process.exit(0));
} else {
  const dirs = Array.from({ length: processes }, () => mkdtempSync(join(tmpdir(), 'taskraft-fsync-')));
  try {
    const results = await Promise.all(
      dirs.map(
        (dir) =>
          new Promise<number[]>((resolve, reject) => {
            const child = fork(new URL(import.meta.url).pathname, ['--child', dir, '--seconds', String(seconds), '--rate', String(rate), '--ops', String(opsPerWrite)], {
              execArgv: ['--import', 'tsx'],
            });
            const timer = setTimeout(() => {
              child.kill('SIGKILL');
              reject(new Error('a writer did not finish in time'));
            }, (seconds + 60) * 1000);
            child.once('message', (m) => {
              clearTimeout(timer);
              resolve(m as number[]);
            });
            child.once('exit', (code) => {
              clearTimeout(timer);
              reject(new Error(`writer exited (${code}) without sending its figures`));
            });
          }),
      ),
    );
    const all = results.flat().sort((a, b) => a - b);
    const pct = (p: number): number => all[Math.min(all.length - 1, Math.floor((all.length * p) / 100))]!;
    const over = (ms: number): string => `${((100 * all.filter((x) => x > ms).length) / all.length).toFixed(2)}%`;
    const round = (x: number): number => Math.round(x * 100) / 100;
    console.log(`fsynced RocksDB writes: ${processes} processes, ${rate} writes/s each (achieved ${Math.round(all.length / processes / seconds)}), ${opsPerWrite} puts per write, ${seconds}s`);
    console.table([{ writes: all.length, 'p50 ms': round(pct(50)), 'p99 ms': round(pct(99)), 'p99.9 ms': round(pct(99.9)), 'max ms': round(all[all.length - 1]!), '> 5 ms': over(5), '> 10 ms': over(10) }]);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
