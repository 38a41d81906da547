import type { ConfState, Entry, HardState, LogIndex, Snapshot, Term } from './types.js';

/**
 * What the core reads of a group's persisted state. Writes are the host's: it persists what each
 * Ready hands it, then calls advance. Implementations: MemoryStorage here, RocksDB in src/storage.
 *
 * Reads are synchronous: an implementation over a disk keeps the live part of the log (everything
 * after the last compaction) readable without I/O.
 *
 * Errors: `entries` and `term` throw CompactedError below firstIndex()-1 and UnavailableError past
 * lastIndex(); `snapshot` may throw SnapshotTemporarilyUnavailableError.
 */
export interface Storage {
  /** The persisted hard state and membership, read once when a node starts. */
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries [lo, hi), at least one if any exist, then as many as fit in maxBytes. */
  entries(lo: LogIndex, hi: LogIndex, maxBytes: number): Entry[];
  /** The term of entry i, for i in [firstIndex()-1, lastIndex()]. */
  term(i: LogIndex): Term;
  /** The index of the first entry still in the log (the snapshot's index + 1). */
  firstIndex(): LogIndex;
  lastIndex(): LogIndex;
  /** The most recent snapshot. */
  snapshot(): Snapshot;
}
