import type { KeyRange, WriteOp } from './rocks-database.js';

/**
 * Writes staged for the next durable flush of the node's database. Every group's raft state and
 * every state machine stage into one WriteBatch, so one write (one fsync) carries everything the
 * host's turns staged while the previous write was in flight.
 */
export class WriteBatch {
  private ops: WriteOp[] = [];
  private bytes = 0;
  private drops: KeyRange[] = [];

  put(key: Uint8Array, value: Uint8Array): void {
    this.ops.push({ type: 'put', key, value });
    this.bytes += key.byteLength + value.byteLength;
  }

  del(key: Uint8Array): void {
    this.ops.push({ type: 'del', key });
    this.bytes += key.byteLength;
  }

  /** Stages a range of garbage to drop once this batch is written (see RocksDatabase.dropRanges). */
  dropAfterWrite(range: KeyRange): void {
    this.drops.push(range);
  }

  size(): number {
    return this.ops.length;
  }

  byteSize(): number {
    return this.bytes;
  }

  /** Hands over the ranges to drop after the ops taken with them are written. */
  takeDrops(): KeyRange[] {
    const drops = this.drops;
    this.drops = [];
    return drops;
  }

  /** Hands over the staged ops and starts a fresh batch. */
  take(): WriteOp[] {
    const ops = this.ops;
    this.ops = [];
    this.bytes = 0;
    return ops;
  }
}
