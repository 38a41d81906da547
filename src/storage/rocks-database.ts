import { createRequire } from 'node:module';
import { WriteWorker } from './write-worker.js';

/**
 * The node's one RocksDB (@nxtedition/rocksdb), narrowed to what taskraft uses and typed (the
 * binding ships no types).
 *
 * Durability trap: this binding drops `sync` on `put`, so a put is never fsynced. Every write here
 * goes through `batch(ops, { sync })`, which does fsync. The batch write also runs synchronously on
 * the calling thread, so callers batch as much as they can into one write.
 */

export type WriteOp =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: Uint8Array };

/** Keys from `gte` (inclusive) to `lt` (exclusive). */
export interface KeyRange {
  readonly gte: Uint8Array;
  readonly lt: Uint8Array;
}

interface RocksLevelLike {
  readonly handle: bigint;
  open(): Promise<void>;
  close(): Promise<void>;
  batch(ops: readonly WriteOp[], options: { sync: boolean }): Promise<void>;
  clear(options: { gte: Uint8Array; lt: Uint8Array }): Promise<void>;
  getMany(keys: readonly Uint8Array[], options: { keyEncoding: 'view'; valueEncoding: 'view'; fillCache?: boolean }): Promise<(Uint8Array | undefined)[]>;
  // The native sync path knows only 'buffer' and 'string' encodings (Buffer is a Uint8Array).
  _getManySync(keys: readonly Uint8Array[], options: { valueEncoding: 'buffer' }): (Uint8Array | undefined)[];
  iterator(options: {
    gte: Uint8Array;
    lt: Uint8Array;
    keyEncoding: 'view';
    valueEncoding: 'view';
    keys?: boolean;
    values?: boolean;
  }): AsyncIterableIterator<[Uint8Array, Uint8Array]>;
}

const require = createRequire(import.meta.url);
const { RocksLevel } = require('@nxtedition/rocksdb') as {
  RocksLevel: new (location: string, options: RocksLevelOptions) => RocksLevelLike;
};

interface RocksLevelOptions {
  keyEncoding: 'view';
  valueEncoding: 'view';
  walCompression?: boolean;
  compression?: boolean;
  compaction?: 'level' | 'universal';
  memtableMemoryBudget?: number;
}

/**
 * Options the binding takes when it opens the database.
 *
 * Compression: the binding compresses the WAL and every SST with ZSTD (with dictionary training)
 * unless told otherwise. Compressing the WAL runs inside each synced write, on the write path of
 * every commit; the table files hold mostly raft log entries deleted soon after and task rows
 * rewritten a few times, so compressing them buys little disk and costs CPU in every flush and
 * compaction (~3% of the machine's CPU under the queue benchmark). With level compaction the
 * binding still compresses levels 2 and up, where the long-lived rows end.
 *
 * Memtables: RocksDB's default is one 64 MB memtable, flushed in one piece, which keeps the disk
 * busy long enough for the WAL's fsyncs, which every commit waits for, to queue behind it. A 32 MB
 * budget (8 MB memtables, flushed two at a time) makes each flush a quarter of that. Measured in
 * bench:raft: the same throughput; the p99 at a fixed load is bimodal on this shared machine with
 * either setting (5-10 ms in some runs, 16-27 ms in others, with the runs' slow-write counts), and
 * in one hour of alternating runs its median was ~8 ms with this budget and ~18 ms without, but
 * later runs with it spread as widely, so the gain there is uncertain.
 */
const MEMTABLE_BUDGET_BYTES = 32 * 1024 * 1024;

const LEVEL_OPTIONS: RocksLevelOptions = {
  keyEncoding: 'view',
  valueEncoding: 'view',
  walCompression: false,
  compression: false,
  compaction: 'level',
  memtableMemoryBudget: MEMTABLE_BUDGET_BYTES,
};

export interface RocksDatabaseOptions {
  /** Write on a worker thread so fsyncs never block the event loop (see write-worker.ts). */
  readonly writeWorker?: boolean;
}

export class RocksDatabase {
  private constructor(
    private readonly db: RocksLevelLike,
    readonly location: string,
    private readonly worker: WriteWorker | null,
  ) {}

  static async open(location: string, options: RocksDatabaseOptions = {}): Promise<RocksDatabase> {
    const db = new RocksLevel(location, LEVEL_OPTIONS);
    await db.open();
    const worker = options.writeWorker === true ? await WriteWorker.start(db.handle) : null;
    return new RocksDatabase(db, location, worker);
  }

  /** Writes all ops atomically; with `sync`, returns only after they are fsynced. */
  async write(ops: readonly WriteOp[], sync: boolean): Promise<void> {
    if (ops.length === 0) return;
    if (this.worker !== null) await this.worker.write(ops, sync);
    else await this.db.batch(ops, { sync });
  }

  /**
   * Deletes every key in [gte, lt) durably. The binding's range delete does not sync, so a synced
   * write follows it: the WAL is sequential, so that fsync covers the delete too. Callers make sure
   * no write for the range is still queued.
   */
  async deleteRange(gte: Uint8Array, lt: Uint8Array, marker: WriteOp): Promise<void> {
    await this.dropRanges([{ gte, lt }]);
    await this.write([marker], true);
  }

  /**
   * Drops garbage: one range tombstone per range (RocksDB DeleteRange), not durable by itself (the
   * next synced write's fsync covers it). Only for keys nothing reads any more and nothing writes
   * again, such as log entries behind a compaction point that is already on disk: a crash that
   * loses the drop leaves leftovers that loaders skip and the next drop removes. Dropping a range
   * costs the same whatever it holds, where deleting compacted entries one by one cost as much
   * as writing them.
   */
  async dropRanges(ranges: readonly KeyRange[]): Promise<void> {
    for (const r of ranges) await this.db.clear(r);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const [v] = await this.db.getMany([key], { keyEncoding: 'view', valueEncoding: 'view' });
    return v;
  }

  /** A synchronous point read, for the rare reads the synchronous raft core needs from disk. */
  getSync(key: Uint8Array): Uint8Array | undefined {
    return this.db._getManySync([key], { valueEncoding: 'buffer' })[0];
  }

  /** Every [key, value] in [gte, lt), in key order. */
  async *range(gte: Uint8Array, lt: Uint8Array): AsyncGenerator<[Uint8Array, Uint8Array]> {
    const it = this.db.iterator({ gte, lt, keyEncoding: 'view', valueEncoding: 'view' });
    for await (const kv of it) yield kv;
  }

  async close(): Promise<void> {
    await this.worker?.stop();
    await this.db.close();
  }
}
