import type { CpuPool } from './cpu-pool.js';
import type { Task } from './task.js';

export interface HandlerContext {
  /** The claim's fencing token: the queue accepts this attempt's result only with it. */
  readonly fencingToken: number;
  /**
   * Aborted when the attempt's lease runs out (the task's timeout, counted from the start and again
   * from each heartbeat): what the handler then throws or returns is recorded as usual. Also
   * aborted when the task is cancelled, when the attempt loses its lease otherwise (it expired
   * and was taken back), or when the node stops: then nothing the attempt returns is recorded.
   */
  readonly signal: AbortSignal;
  /** Pushes the lease out by the task's timeout (a heartbeat for long work). Rejects when the
   * attempt no longer holds the task. */
  extendLease(): Promise<void>;
  /**
   * Records how far the attempt got (any JSON value up to MAX_PROGRESS_BYTES, e.g.
   * `{ done: 40, of: 100 }`) where status reads show it, as `progress`; it is a heartbeat too. Each
   * report is a log entry: report at human rates (every second or so), not per item of a loop.
   * Rejects when the value is not JSON or too large, or the attempt no longer holds the task.
   */
  reportProgress(progress: unknown): Promise<void>;
}

export type Handler = (task: Task, ctx: HandlerContext) => Promise<unknown>;

/** A handler's failure, reported as the attempt's error. */
export class HandlerError extends Error {}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new HandlerError(String(signal.reason ?? 'aborted')));
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new HandlerError(String(signal.reason ?? 'aborted')));
      },
      { once: true },
    );
  });
}

const payloadNumber = (task: Task, key: string, fallback: number): number => {
  const v = (task.payload as Record<string, unknown> | null)?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
};

/**
 * The built-in task types: the seed project's simulated work (email 1 s, image 3 s, report 5 s,
 * default 2 s), `noop` for benchmarks, `sleep` (payload.ms), `prime` (counts primes below
 * payload.n on the CPU pool) and `fail` (always fails, for retries and dead letters).
 */
export function builtInHandlers(cpu: CpuPool): Map<string, Handler> {
  const simulated = (ms: number): Handler => async (task, ctx) => {
    await sleep(ms, ctx.signal);
    return { processedBy: task.type, ms };
  };
  return new Map<string, Handler>([
    ['email', simulated(1000)],
    ['image', simulated(3000)],
    ['report', simulated(5000)],
    ['default', simulated(2000)],
    ['noop', () => Promise.resolve(null)],
    [
      'sleep',
      async (task, ctx) => {
        const ms = Math.max(0, Math.min(payloadNumber(task, 'ms', 0), 3_600_000));
        await sleep(ms, ctx.signal);
        return { slept: ms };
      },
    ],
    [
      'prime',
      async (task) => {
        const n = Math.max(2, Math.min(Math.floor(payloadNumber(task, 'n', 100_000)), 200_000_000));
        return { n, primes: await cpu.countPrimes(n) };
      },
    ],
    [
      'fail',
      () => {
        throw new HandlerError('this handler always fails');
      },
    ],
  ]);
}
