/**
 * The load shapes the queue benchmarks share (bench/queue.ts for taskraft, bench/bullmq.ts for its
 * peer), so that both systems are driven and counted the same way, and the figures' helpers.
 */

/** The p-th percentile of an ascending array (NaN when empty). */
export const pct = (sorted: number[], p: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!);
export const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ClosedLoopResult {
  /** Successful calls per second over the whole loop. */
  readonly perSec: number;
  /** Latency of the successful calls, ms. */
  readonly p50: number;
  readonly p99: number;
  readonly ok: number;
  readonly errors: number;
}

/**
 * Closed loop: `clients` clients, each making one call after the other for `forSeconds`. `call`
 * gets a sequence number unique over all clients and the client's number, and says whether the
 * call succeeded.
 */
export async function closedLoop(clients: number, forSeconds: number, call: (i: number, client: number) => Promise<boolean>): Promise<ClosedLoopResult> {
  const lat: number[] = [];
  let errors = 0;
  let n = 0;
  const started = performance.now();
  const end = started + forSeconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        if (await call(n++, client)) lat.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { perSec: lat.length / ((performance.now() - started) / 1000), p50: pct(lat, 50), p99: pct(lat, 99), ok: lat.length, errors };
}

/**
 * Open loop: `total` calls at `rate` per second, each sent at its due time whatever the earlier
 * ones are doing; resolves once all have answered, with the moment (ms since the epoch) each was
 * sent.
 */
export async function openLoop(rate: number, total: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const sentAt: number[] = [];
  const inflight: Promise<unknown>[] = [];
  const start = Date.now();
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - Date.now();
    if (wait > 1) await sleep(wait);
    sentAt.push(Date.now());
    inflight.push(call(i));
  }
  await Promise.all(inflight);
  return sentAt;
}
