/**
 * What waking another thread or process costs on this machine, in time and in CPU: the price of
 * every hop a task takes (HTTP request, forward to the leader, raft message to each follower, the
 * answer back, each write handed to a node's writer thread and its completion). The queue's CPU
 * per task at a moderate load is mostly such hops, so this figure explains much of how the same
 * code measures on two machines.
 *
 * Four ping-pongs of a small message, one after the other, each for --count round trips:
 *   - same thread: a TCP connection to a server in this process (no thread wakes up; the floor),
 *   - worker thread: postMessage to a worker_threads worker and back (as a node's writer thread),
 *   - worker thread, shared memory: Atomics.notify and Atomics.waitAsync (the cheapest handoff
 *     between threads Node offers),
 *   - another process: a TCP connection to a child process (as between nodes, and client to node).
 * Each reports the time per round trip and the CPU it took, both sides counted.
 *
 *   npm run bench:wake-cost [-- --count 20000]
 *
 * On a machine whose idle cores halt (virtual machines without halt polling), each wake of a
 * sleeping thread costs tens of microseconds of CPU. Measured on 2026-12-02 on this 2-core virtual
 * machine, time / CPU per round trip in three runs: same thread 14 / 16 µs, worker (postMessage)
 * 117-142 / 92-110 µs, worker (Atomics) 91-92 / 68 µs, another process 139-143 / 117-123 µs. With
 * the guest's halt polling turned on for a test (/sys/module/haltpoll/parameters/guest_halt_poll_ns
 * set to 100000; it is 0 there) the same round trips took 24 / 25 µs (worker, postMessage),
 * 17 / 19 µs (Atomics) and 43 / 51 µs (another process).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const { values } = parseArgs({ options: { count: { type: 'string', default: '20000' }, child: { type: 'boolean', default: false } } });
const count = Number(values.count);
if (!(Number.isInteger(count) && count >= 100)) {
  console.error('usage: bench:wake-cost [--count N>=100]');
  process.exit(2);
}

/** An echo server: every chunk it reads goes straight back. */
function echoServer(): Promise<{ port: number; close: () => void }> {
  const server = createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => s.write(d));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as AddressInfo).port, close: () => server.close() })));
}

if (values.child) {
  // The other process of the cross-process ping-pong: serve, tell the parent where, wait to be killed.
  const { port } = await echoServer();
  process.send!(port);
} else {
  const rows: Record<string, string | number>[] = [];
  const cpuMsOf = (pid: number): number => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  };
  /** Runs `roundTrip` count times; CPU of this process (all threads) plus `otherPid`'s, if any. */
  async function measure(name: string, roundTrip: () => Promise<unknown>, otherPid?: number): Promise<void> {
    for (let i = 0; i < 200; i++) await roundTrip();
    const cpu0 = process.cpuUsage();
    const other0 = otherPid === undefined ? 0 : cpuMsOf(otherPid);
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await roundTrip();
    const wallUs = ((performance.now() - t0) * 1000) / count;
    const own = process.cpuUsage(cpu0);
    const otherUs = otherPid === undefined ? 0 : (cpuMsOf(otherPid) - other0) * 1000;
    rows.push({ 'round trip': name, 'µs each': Math.round(wallUs * 10) / 10, 'CPU µs each': Math.round(((own.user + own.system + otherUs) / count) * 10) / 10 });
  }
  const pingPong = (sock: Socket): (() => Promise<unknown>) => {
    const msg = Buffer.alloc(200, 1);
    return () =>
      new Promise((resolve) => {
        sock.once('data', resolve);
        sock.write(msg);
      });
  };
  const dial = async (port: number): Promise<Socket> => {
    const sock = connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    await new Promise((resolve) => sock.once('connect', resolve));
    return sock;
  };

  const local = await echoServer();
  const localSock = await dial(local.port);
  await measure('same thread (TCP in-process)', pingPong(localSock));
  localSock.destroy();
  local.close();

  const worker = new Worker(`require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m))`, { eval: true });
  await measure('worker thread (postMessage)', () =>
    new Promise((resolve) => {
      worker.once('message', resolve);
      worker.postMessage(1);
    }),
  );
  await worker.terminate();

  const shared = new Int32Array(new SharedArrayBuffer(8));
  const waiter = new Worker(
    `const { workerData } = require('node:worker_threads'); const a = new Int32Array(workerData); let seen = 0;
     for (;;) { Atomics.wait(a, 0, seen); seen = Atomics.load(a, 0); if (seen < 0) break; Atomics.store(a, 1, seen); Atomics.notify(a, 1); }`,
    { eval: true, workerData: shared.buffer },
  );
  // Atomics.waitAsync is in Node 16+ (V8), but not in this project's TypeScript lib (ES2022).
  const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;
  let seq = 0;
  await measure('worker thread (Atomics)', async () => {
    seq++;
    Atomics.store(shared, 0, seq);
    Atomics.notify(shared, 0);
    const r = waitAsync(shared, 1, seq - 1);
    if (r.async) await r.value;
  });
  Atomics.store(shared, 0, -1);
  Atomics.notify(shared, 0);
  await waiter.terminate();

  const child = fork(new URL(import.meta.url).pathname, ['--child'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve(m as number));
      child.once('exit', () => reject(new Error('the echo process exited before it served')));
    });
    const sock = await dial(port);
    await measure('another process (TCP)', pingPong(sock), child.pid);
    sock.destroy();
  } finally {
    child.kill();
  }
  console.log(`${count} round trips of each kind, CPU counted on both sides:`);
  console.table(rows);
}
