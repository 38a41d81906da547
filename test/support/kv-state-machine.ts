import type { StateMachine } from '../../src/cluster/state-machine.js';
import type { NormalEntry } from '../../src/raft/index.js';
import { stateMachinePrefix, type GroupId } from '../../src/storage/key-layout.js';
import type { WriteBatch } from '../../src/storage/write-batch.js';

/**
 * The replicated key-value machine the runtime is tested with (the task queue comes later).
 * Commands are `key \0 value` in UTF-8; applying one sets the key and returns the entry index.
 * State lives in memory and in RocksDB under the group's state-machine prefix.
 */
export class KvStateMachine implements StateMachine<number> {
  readonly data = new Map<string, string>();
  private readonly prefix: Uint8Array;
  private readonly enc = new TextEncoder();
  private readonly dec = new TextDecoder();

  constructor(readonly group: GroupId) {
    this.prefix = stateMachinePrefix(group);
  }

  static command(k: string, v: string): Uint8Array {
    return new TextEncoder().encode(`${k}\0${v}`);
  }

  /** Rebuilds the in-memory map from the rows persisted under the group's prefix. */
  load(rows: Iterable<[Uint8Array, Uint8Array]>): void {
    for (const [key, value] of rows) this.data.set(this.dec.decode(key.subarray(this.prefix.length)), this.dec.decode(value));
  }

  apply(entries: readonly NormalEntry[], batch: WriteBatch): number[] {
    return entries.map((e) => {
      if (e.data.byteLength === 0) return e.index;
      const sep = e.data.indexOf(0);
      const k = this.dec.decode(e.data.subarray(0, sep));
      const value = e.data.subarray(sep + 1);
      this.data.set(k, this.dec.decode(value));
      batch.put(this.key(k), value);
      return e.index;
    });
  }

  snapshot(): Uint8Array {
    return this.enc.encode(JSON.stringify([...this.data]));
  }

  restore(data: Uint8Array, batch: WriteBatch): void {
    for (const k of this.data.keys()) batch.del(this.key(k));
    this.data.clear();
    if (data.byteLength === 0) return;
    for (const [k, v] of JSON.parse(this.dec.decode(data)) as [string, string][]) {
      this.data.set(k, v);
      batch.put(this.key(k), this.enc.encode(v));
    }
  }

  private key(k: string): Uint8Array {
    const kb = this.enc.encode(k);
    const out = new Uint8Array(this.prefix.length + kb.length);
    out.set(this.prefix);
    out.set(kb, this.prefix.length);
    return out;
  }
}
