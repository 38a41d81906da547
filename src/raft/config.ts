import { RaftConfigError } from './errors.js';
import type { Storage } from './storage.js';
import type { LogIndex, NodeId, Rng } from './types.js';

export interface RaftLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: Storage;
  /** Injected randomness for election timeouts. */
  readonly rng: Rng;
  /** Ticks without hearing from a leader before campaigning; the real timeout is drawn uniformly
   * from [electionTick, 2*electionTick). Must be > heartbeatTick. */
  readonly electionTick: number;
  /** Ticks between a leader's heartbeats. */
  readonly heartbeatTick: number;
  /** The last index the host had applied before this node (re)started; 0 for a fresh node. */
  readonly applied?: LogIndex;
  /** Bytes of entries per append message (one entry always fits, however large). */
  readonly maxSizePerMsg?: number;
  /** Append messages in flight per follower in replicate state. */
  readonly maxInflightMsgs?: number;
  /** Bytes of proposed-but-uncommitted entries a leader accepts before refusing proposals. */
  readonly maxUncommittedEntriesSize?: number;
  /** Bytes of committed entries handed to the host in one Ready. */
  readonly maxCommittedSizePerReady?: number;
  /** A leader that has not heard from a quorum within an election timeout steps down, and
   * followers that heard from a leader recently ignore votes (leader lease). */
  readonly checkQuorum?: boolean;
  /** Campaign in two phases so a partitioned node cannot disrupt the cluster when it returns. */
  readonly preVote?: boolean;
  /** Refuse proposals on followers instead of forwarding them to the leader. */
  readonly disableProposalForwarding?: boolean;
  /** When the commit index moves, tell followers only in the appends and heartbeats that go out
   * anyway, instead of an append of its own to each (raft-rs's `skip_bcast_commit`). Under load
   * the next append follows within a turn, so this halves the messages per entry (no commit-only
   * append and no answer to it) at the cost of followers applying one append or heartbeat later.
   * A committed membership change is still broadcast at once. */
  readonly skipBcastCommit?: boolean;
  readonly logger?: RaftLogger;
}

export interface ResolvedRaftConfig extends Required<Omit<RaftConfig, 'logger' | 'applied'>> {
  readonly applied: LogIndex;
  readonly logger: RaftLogger | null;
}

export const RAFT_DEFAULTS = {
  maxSizePerMsg: 1024 * 1024,
  maxInflightMsgs: 256,
  maxUncommittedEntriesSize: 64 * 1024 * 1024,
  maxCommittedSizePerReady: 16 * 1024 * 1024,
  checkQuorum: true,
  preVote: true,
  disableProposalForwarding: false,
  skipBcastCommit: false,
} as const;

export function resolveRaftConfig(c: RaftConfig): ResolvedRaftConfig {
  if (c.heartbeatTick <= 0 || !Number.isInteger(c.heartbeatTick)) {
    throw new RaftConfigError(`heartbeatTick must be a positive integer, got ${c.heartbeatTick}`);
  }
  if (!Number.isInteger(c.electionTick) || c.electionTick <= c.heartbeatTick) {
    throw new RaftConfigError(
      `electionTick (${c.electionTick}) must be an integer greater than heartbeatTick (${c.heartbeatTick})`,
    );
  }
  if (c.id.length === 0) throw new RaftConfigError('id must not be empty');
  const resolved: ResolvedRaftConfig = {
    id: c.id,
    storage: c.storage,
    rng: c.rng,
    electionTick: c.electionTick,
    heartbeatTick: c.heartbeatTick,
    applied: c.applied ?? (0 as LogIndex),
    maxSizePerMsg: c.maxSizePerMsg ?? RAFT_DEFAULTS.maxSizePerMsg,
    maxInflightMsgs: c.maxInflightMsgs ?? RAFT_DEFAULTS.maxInflightMsgs,
    maxUncommittedEntriesSize: c.maxUncommittedEntriesSize ?? RAFT_DEFAULTS.maxUncommittedEntriesSize,
    maxCommittedSizePerReady: c.maxCommittedSizePerReady ?? RAFT_DEFAULTS.maxCommittedSizePerReady,
    checkQuorum: c.checkQuorum ?? RAFT_DEFAULTS.checkQuorum,
    preVote: c.preVote ?? RAFT_DEFAULTS.preVote,
    disableProposalForwarding: c.disableProposalForwarding ?? RAFT_DEFAULTS.disableProposalForwarding,
    skipBcastCommit: c.skipBcastCommit ?? RAFT_DEFAULTS.skipBcastCommit,
    logger: c.logger ?? null,
  };
  if (resolved.maxInflightMsgs < 1) throw new RaftConfigError('maxInflightMsgs must be >= 1');
  if (resolved.maxSizePerMsg < 1) throw new RaftConfigError('maxSizePerMsg must be >= 1');
  if (resolved.maxUncommittedEntriesSize < 1) {
    throw new RaftConfigError('maxUncommittedEntriesSize must be >= 1');
  }
  return resolved;
}
