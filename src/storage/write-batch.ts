import type { WriteOp } from './rocks-database.js';

/**
 * Writes staged for the next durable flush of the node's database. Every group's raft state and
 * every state machine stage into one WriteBatch, so one host loop turn costs one fsync.
 */
export class WriteBatch {
  private ops: WriteOp[] = [];
  private bytes = 0;

  put(key: Uint8Array, value: Uint8Array): void {
    this.ops.push({ type: 'put', key, value });
    this.bytes += key.byteLength + value.byteLength;
  }

  del(key: Uint8Array): void {
    this.ops.push({ type: 'del', key });
    this.bytes += key.byteLength;
  }

  size(): number {
    return this.ops.length;
  }

  byteSize(): number {
    return this.bytes;
  }

  /** Hands over the staged ops and starts a fresh batch. */
  take(): WriteOp[] {
    const ops = this.ops;
    this.ops = [];
    this.bytes = 0;
    return ops;
  }
}
