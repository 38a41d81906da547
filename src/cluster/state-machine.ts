import type { NormalEntry } from '../raft/index.js';
import type { WriteBatch } from '../storage/write-batch.js';

/**
 * What a raft group replicates. The host applies committed entries in log order and stages the
 * writes they cause in the same batch as the group's applied index (which the host keeps), so a
 * restart neither loses an applied entry nor applies one twice.
 *
 * Apply is deterministic: the same entries on the same state produce the same writes and results
 * on every replica. Time, randomness and I/O come from the entry's data, never from the replica.
 */
export interface StateMachine<Result = unknown> {
  /** Applies entries in order. Returns one result per entry, for whoever proposed it. */
  apply(entries: readonly NormalEntry[], batch: WriteBatch): Result[];
  /** The whole state as of the last applied entry, for a snapshot. */
  snapshot(): Uint8Array;
  /** Replaces the whole state with a snapshot's. */
  restore(data: Uint8Array, batch: WriteBatch): void;
}
