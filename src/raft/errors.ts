import type { LogIndex, NodeId } from './types.js';

/** Every error the core throws has a stable `code` the layers above can map without parsing text. */
export abstract class RaftError extends Error {
  abstract readonly code: string;
}

/** A proposal was not appended: there is no leader, this node is transferring leadership, the
 * uncommitted-bytes cap is reached, or forwarding is disabled. The caller may retry later. */
export class ProposalDroppedError extends RaftError {
  readonly code = 'ERR_PROPOSAL_DROPPED';
  constructor(
    readonly reason:
      | 'noLeader'
      | 'transferring'
      | 'uncommittedSizeCap'
      | 'forwardingDisabled'
      | 'notMember'
      | 'confChangePending',
    readonly leaderHint: NodeId | null = null,
  ) {
    super(`proposal dropped: ${reason}`);
  }
}

/** The requested entries were discarded by log compaction; a snapshot covers them. */
export class CompactedError extends RaftError {
  readonly code = 'ERR_COMPACTED';
  constructor(readonly index: LogIndex) {
    super(`log index ${index} is compacted`);
  }
}

/** The requested entries are past the end of the log. */
export class UnavailableError extends RaftError {
  readonly code = 'ERR_UNAVAILABLE';
  constructor(readonly index: LogIndex) {
    super(`log index ${index} is unavailable`);
  }
}

/** The storage cannot produce a snapshot right now; the leader retries on a later round. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  readonly code = 'ERR_SNAPSHOT_TEMPORARILY_UNAVAILABLE';
  constructor() {
    super('snapshot is temporarily unavailable');
  }
}

/** A snapshot older than the one already held was offered to storage. */
export class SnapshotOutOfDateError extends RaftError {
  readonly code = 'ERR_SNAPSHOT_OUT_OF_DATE';
  constructor(readonly index: LogIndex) {
    super(`snapshot at ${index} is older than the one held`);
  }
}

/** The configuration given to the core is invalid. */
export class RaftConfigError extends RaftError {
  readonly code = 'ERR_RAFT_CONFIG';
}

/** An invariant of the core or its contract with the host was broken: a bug, never user input. */
export class RaftInvariantError extends RaftError {
  readonly code = 'ERR_RAFT_INVARIANT';
}

/** A ReadIndex request cannot be served now (no leader, or the leader has not yet committed an
 * entry of its term). The caller may retry. */
export class ReadIndexDroppedError extends RaftError {
  readonly code = 'ERR_READ_INDEX_DROPPED';
  constructor(readonly reason: 'noLeader' | 'leaderNotReady' | 'notMember') {
    super(`read index dropped: ${reason}`);
  }
}
