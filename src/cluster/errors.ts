import type { NodeId } from '../raft/index.js';
import type { GroupId } from '../storage/key-layout.js';

/** Errors of the cluster layer; each has a stable code the HTTP layer maps to a status. */
export abstract class ClusterError extends Error {
  abstract readonly code: string;
}

/** This node does not lead the group; `leaderHint` is the leader it knows of, if any. */
export class NotLeaderError extends ClusterError {
  readonly code = 'ERR_NOT_LEADER';
  constructor(
    readonly group: GroupId,
    readonly leaderHint: NodeId | null,
  ) {
    super(`not the leader of group ${group}${leaderHint === null ? ' (no leader known)' : `; leader is ${leaderHint}`}`);
  }
}

/** The proposal's entry was overwritten by a new leader's log: it will never apply. Retry. */
export class ProposalLostError extends ClusterError {
  readonly code = 'ERR_PROPOSAL_LOST';
  constructor(readonly group: GroupId) {
    super(`proposal to group ${group} was lost in a leadership change`);
  }
}

/** A proposal or read did not complete in time; a proposal may still apply later. */
export class RequestTimeoutError extends ClusterError {
  readonly code = 'ERR_TIMEOUT';
  constructor(
    readonly group: GroupId,
    readonly what: 'proposal' | 'read',
  ) {
    super(`${what} on group ${group} timed out`);
  }
}

export class GroupNotFoundError extends ClusterError {
  readonly code = 'ERR_GROUP_NOT_FOUND';
  constructor(readonly group: GroupId) {
    super(`this node holds no replica of group ${group}`);
  }
}

/** The proposal was refused before entering the log (e.g. the uncommitted-bytes cap). Retry later. */
export class ProposalRejectedError extends ClusterError {
  readonly code = 'ERR_PROPOSAL_REJECTED';
  constructor(
    readonly group: GroupId,
    readonly reason: string,
  ) {
    super(`proposal to group ${group} refused: ${reason}`);
  }
}

/** The node is still deleting an earlier replica of the group; hosting it again must wait, or the
 * deletion would wipe what the new replica writes. Retry later. */
export class GroupBeingRemovedError extends ClusterError {
  readonly code = 'ERR_GROUP_BEING_REMOVED';
  constructor(readonly group: GroupId) {
    super(`this node is still deleting its earlier replica of group ${group}`);
  }
}

/** The host is shutting down. */
export class HostStoppedError extends ClusterError {
  readonly code = 'ERR_STOPPED';
  constructor() {
    super('the raft host is stopped');
  }
}
