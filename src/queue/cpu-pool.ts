import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * CPU-bound handler work on worker threads, so a long computation never delays raft ticks or
 * heartbeats on the event loop. The jobs are the built-in CPU handlers' (a prime sieve); the
 * worker's code is a string so it runs the same under tsx, vitest and a compiled build.
 */
const SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, n }) => {
  try {
    const sieve = new Uint8Array(n);
    let count = 0;
    for (let i = 2; i < n; i++) {
      if (sieve[i] === 1) continue;
      count++;
      for (let j = i * i; j < n; j += i) sieve[j] = 1;
    }
    parentPort.postMessage({ id, count });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e) });
  }
});
`;

interface Job {
  readonly id: number;
  readonly n: number;
  readonly resolve: (count: number) => void;
  readonly reject: (e: Error) => void;
}

export class CpuPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private seq = 0;

  constructor(size: number = Math.max(1, availableParallelism() - 1)) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  /** The number of primes below n. */
  countPrimes(n: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: ++this.seq, n, resolve, reject });
      this.next();
    });
  }

  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) job.reject(new Error('worker pool closed'));
    await Promise.all([...this.idle, ...this.busy.keys()].map((w) => w.terminate()));
  }

  private spawn(): Worker {
    const w = new Worker(SOURCE, { eval: true });
    w.unref();
    w.on('message', (m: { id: number; count?: number; error?: string }) => {
      const job = this.busy.get(w);
      this.busy.delete(w);
      this.idle.push(w);
      if (job !== undefined) {
        if (m.error === undefined) job.resolve(m.count ?? 0);
        else job.reject(new Error(m.error));
      }
      this.next();
    });
    w.on('error', (e) => {
      this.busy.get(w)?.reject(e);
      this.busy.delete(w);
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      this.idle.push(this.spawn());
      this.next();
    });
    return w;
  }

  private next(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.busy.set(w, job);
      w.postMessage({ id: job.id, n: job.n });
    }
  }
}
