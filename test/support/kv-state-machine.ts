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
  private readonly values = new Map<string, Uint8Array>();
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
    for (const [key, value] of rows) this.values.set(this.dec.decode(key.subarray(this.prefix.length)), value.slice());
  }

  apply(entries: readonly NormalEntry[], batch: WriteBatch): number[] {
    const out = new Array<number>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      out[i] = e.index;
      if (e.data.byteLength === 0) continue;
      // The benchmark measures the runtime, so this stays cheap: the key is decoded once for the
      // map, the value only when read, and the row's key is built from the entry's own bytes. The
      // map keeps a copy: the entry may be a view into a whole received frame.
      const sep = e.data.indexOf(0);
      const keyBytes = e.data.subarray(0, sep);
      const value = e.data.subarray(sep + 1);
      this.values.set(this.dec.decode(keyBytes), value.slice());
      const rowKey = new Uint8Array(this.prefix.length + keyBytes.length);
      rowKey.set(this.prefix);
      rowKey.set(keyBytes, this.prefix.length);
      batch.put(rowKey, value);
    }
    return out;
  }

  get(key: string): string | undefined {
    const v = this.values.get(key);
    return v === undefined ? undefined : this.dec.decode(v);
  }

  /** Every key and value, decoded (for comparing replicas). */
  get data(): Map<string, string> {
    return new Map([...this.values].map(([k, v]) => [k, this.dec.decode(v)]));
  }

  snapshot(): Uint8Array {
    return this.enc.encode(JSON.stringify([...this.data]));
  }

  restore(data: Uint8Array, batch: WriteBatch): void {
    for (const k of this.values.keys()) batch.del(this.key(k));
    this.values.clear();
    if (data.byteLength === 0) return;
    for (const [k, v] of JSON.parse(this.dec.decode(data)) as [string, string][]) {
      const value = this.enc.encode(v);
      this.values.set(k, value);
      batch.put(this.key(k), value);
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
