/**
 * One BullMQ worker process for `bench/bullmq.ts`: a no-op processor (the peer of taskraft's `noop`
 * handler) with `BULLMQ_CONCURRENCY` jobs at once, on the Redis at `REDIS_PORT`. It tells its parent
 * it is ready over IPC and closes on SIGTERM, letting the jobs in hand finish.
 */
import { Worker } from 'bullmq';

const port = Number(process.env.REDIS_PORT);
const queue = process.env.BULLMQ_QUEUE ?? 'bench';
const concurrency = Number(process.env.BULLMQ_CONCURRENCY ?? 256);
if (!(port > 0) || !(concurrency >= 1)) {
  console.error('bullmq-worker: set REDIS_PORT and BULLMQ_CONCURRENCY');
  process.exit(2);
}

// maxRetriesPerRequest: null is what BullMQ requires of a worker's connection (its blocking
// commands must not fail after a retry count).
const worker = new Worker(queue, async () => null, { connection: { host: '127.0.0.1', port, maxRetriesPerRequest: null }, concurrency });
worker.on('error', (e) => console.error(`bullmq-worker: ${e.message}`));
await worker.waitUntilReady();
process.send?.('ready');

process.once('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
