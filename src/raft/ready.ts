import type { Message } from './message.js';
import type { Entry, HardState, ReadState, Snapshot, SoftState } from './types.js';

/**
 * Everything the host must do after feeding the core input. Order matters:
 * 1. persist `snapshot`, `entries` and `hardState` (one durable write when `mustSync`);
 * 2. only then send `messages` (a vote or an append acknowledgement must not outlive a crash);
 * 3. apply `committedEntries` in order (they are durable on a quorum already);
 * 4. call `advance(ready)`.
 * A host that writes asynchronously (etcd's async storage writes) instead stages step 1 in a write
 * it does not wait for, sends only a leader's appends and heartbeats at once (the rest when the
 * write is durable), applies `committedEntries` (a commit means a majority holds them on disk),
 * calls `advanceBeforeDurable(ready)` and, once the write is durable, `persisted(mark)`: only
 * then does a leader count its own copy of the write's entries.
 */
export interface Ready {
  /** Set when leader or role changed since the last Ready. */
  readonly softState: SoftState | null;
  /** Set when term, vote or commit changed since the last Ready. */
  readonly hardState: HardState | null;
  readonly readStates: readonly ReadState[];
  /** New entries to append to storage (truncating any conflicting suffix there). */
  readonly entries: readonly Entry[];
  /** A snapshot to install in storage and the state machine, before `committedEntries`. */
  readonly snapshot: Snapshot | null;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  /** Whether the write must be fsynced before `messages` go out: false only when nothing that
   * Figure 2 calls persistent changed (e.g. only commit moved). */
  readonly mustSync: boolean;
}
