import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { WriteOp } from './rocks-database.js';

/**
 * RocksDB writes on a worker thread. This binding writes a batch, fsync included, synchronously on
 * the calling thread; on the main thread that stalls raft ticks, message handling and every other
 * group for the whole fsync. The worker opens the same database through its native handle and
 * applies packed batches strictly in the order they were sent.
 *
 * The worker's code is a plain CommonJS string so that it runs the same under tsx, vitest and a
 * compiled build.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { RocksLevel } = require(workerData.bindingPath);
const db = new RocksLevel(workerData.handle, { keyEncoding: 'view', valueEncoding: 'view' });
db.open().then(() => parentPort.postMessage({ ready: true }), (e) => parentPort.postMessage({ ready: false, error: String(e) }));
// Writes are synchronous here, so batches apply strictly in the order they arrive.
parentPort.on('message', ({ id, buf, sync }) => {
  try {
    const view = new DataView(buf);
    const bytes = Buffer.from(buf);
    const n = view.getUint32(0);
    // The binding's chained batch, driven directly: level's generic batch() validates, transcodes
    // and allocates per op, which cost more CPU than RocksDB's own work on small entries.
    const batch = db._chainedBatch();
    try {
      let pos = 4;
      for (let i = 0; i < n; i++) {
        const type = bytes[pos]; pos += 1;
        const klen = view.getUint32(pos); pos += 4;
        const key = bytes.subarray(pos, pos + klen); pos += klen;
        if (type === 0) {
          const vlen = view.getUint32(pos); pos += 4;
          batch._put(key, bytes.subarray(pos, pos + vlen)); pos += vlen;
        } else {
          batch._del(key);
        }
      }
      batch._writeSync({ sync });
    } finally {
      batch._closeSync();
    }
    parentPort.postMessage({ id });
  } catch (e) {
    parentPort.postMessage({ id, error: String((e && e.stack) || e) });
  }
});
`;

/** ops -> one transferable buffer: count:u32 then (type:u8 klen:u32 key [vlen:u32 value])*. */
function pack(ops: readonly WriteOp[]): ArrayBuffer {
  let size = 4;
  for (const op of ops) size += 5 + op.key.byteLength + (op.type === 'put' ? 4 + op.value.byteLength : 0);
  const buf = new ArrayBuffer(size);
  const view = new DataView(buf);
  const bytes = new Uint8Array(buf);
  view.setUint32(0, ops.length);
  let pos = 4;
  for (const op of ops) {
    bytes[pos] = op.type === 'put' ? 0 : 1;
    view.setUint32(pos + 1, op.key.byteLength);
    bytes.set(op.key, pos + 5);
    pos += 5 + op.key.byteLength;
    if (op.type === 'put') {
      view.setUint32(pos, op.value.byteLength);
      bytes.set(op.value, pos + 4);
      pos += 4 + op.value.byteLength;
    }
  }
  return buf;
}

export class WriteWorkerError extends Error {
  readonly code = 'ERR_WRITE_FAILED';
}

export class WriteWorker {
  private seq = 0;
  /** Settles after the most recent write: stop() waits for it. */
  private last: Promise<unknown> = Promise.resolve();
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: { id: number; error?: string }) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.error === undefined) p.resolve();
      else p.reject(new WriteWorkerError(m.error));
    });
    worker.on('error', (e) => this.failAll(e));
    worker.on('exit', () => this.failAll(new WriteWorkerError('write worker exited')));
  }

  static async start(handle: bigint): Promise<WriteWorker> {
    const bindingPath = createRequire(import.meta.url).resolve('@nxtedition/rocksdb');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { handle, bindingPath } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: { ready: boolean; error?: string }) =>
        m.ready ? resolve() : reject(new WriteWorkerError(m.error ?? 'write worker failed to open the database')),
      );
      worker.once('error', reject);
    });
    return new WriteWorker(worker);
  }

  /** Resolves once the batch is written (and fsynced, with `sync`). Batches apply in call order. */
  write(ops: readonly WriteOp[], sync: boolean): Promise<void> {
    const id = ++this.seq;
    const buf = pack(ops);
    const done = new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, buf, sync }, [buf]);
    });
    this.last = done.catch(() => undefined);
    return done;
  }

  /** Waits for queued writes, then stops the thread (the database itself stays open). */
  async stop(): Promise<void> {
    await this.last;
    await this.worker.terminate();
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
