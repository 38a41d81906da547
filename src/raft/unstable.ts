import { RaftInvariantError } from './errors.js';
import { logIndex, type Entry, type LogIndex, type Snapshot, type Term } from './types.js';

/**
 * The tail of the log (and possibly a snapshot) that the core holds but the host has not yet
 * persisted. Invariant: entries[k] has index offset + k; if a snapshot is held, offset equals
 * its index + 1.
 */
export class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  offset: LogIndex;

  constructor(offset: LogIndex) {
    this.offset = offset;
  }

  maybeFirstIndex(): LogIndex | null {
    return this.snapshot === null ? null : logIndex(this.snapshot.metadata.index + 1);
  }

  maybeLastIndex(): LogIndex | null {
    if (this.entries.length > 0) return logIndex(this.offset + this.entries.length - 1);
    if (this.snapshot !== null) return this.snapshot.metadata.index;
    return null;
  }

  maybeTerm(i: LogIndex): Term | null {
    if (i < this.offset) {
      if (this.snapshot !== null && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return null;
    }
    return this.entries[i - this.offset]?.term ?? null;
  }

  /** The host persisted entries up to `i`, whose term was `t`. If the entry at i has since been
   * replaced (a newer leader's entry with another term), the persisted one was stale: keep ours. */
  stableTo(i: LogIndex, t: Term): void {
    if (i < this.offset) return;
    const e = this.entries[i - this.offset];
    if (e === undefined || e.term !== t) return;
    this.entries = this.entries.slice(i + 1 - this.offset);
    this.offset = logIndex(i + 1);
  }

  stableSnapTo(i: LogIndex): void {
    if (this.snapshot !== null && this.snapshot.metadata.index === i) this.snapshot = null;
  }

  restore(snap: Snapshot): void {
    this.offset = logIndex(snap.metadata.index + 1);
    this.entries = [];
    this.snapshot = snap;
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const after = first.index;
    if (after === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (after <= this.offset) {
      // The new entries replace everything unstable; storage will be truncated when they persist.
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(ents);
    }
  }

  slice(lo: LogIndex, hi: LogIndex): Entry[] {
    if (lo > hi || lo < this.offset || hi > this.offset + this.entries.length) {
      throw new RaftInvariantError(
        `unstable.slice[${lo},${hi}) out of bounds [${this.offset},${this.offset + this.entries.length})`,
      );
    }
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
