import type { Entry, LogIndex, NodeId, Snapshot, Term } from './types.js';

/**
 * Every message the core exchanges with its peers. Local events (ticks, campaigns, unreachable
 * peers, snapshot reports) are RawNode methods, not messages, so this union is exactly what goes on
 * the wire.
 *
 * `term` is the sender's term. Messages with term 0 do not exist on the wire: forwarded proposals,
 * read requests and leadership-transfer requests carry the sender's current term like the rest.
 */
export type Message =
  | AppendMessage
  | AppendResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | SnapshotMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | TimeoutNowMessage
  | ProposeMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage
  | TransferLeaderMessage;

export type MessageType = Message['type'];

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
}

/** AppendEntries (Figure 2). `index`/`logTerm` identify the entry preceding `entries`. */
export interface AppendMessage extends Envelope {
  readonly type: 'app';
  readonly index: LogIndex;
  readonly logTerm: Term;
  readonly entries: readonly Entry[];
  readonly commit: LogIndex;
}

export interface AppendResponseMessage extends Envelope {
  readonly type: 'appResp';
  /** On success, the last index the follower now matches; on rejection, the rejected `index`. */
  readonly index: LogIndex;
  readonly reject: boolean;
  /** On rejection: the follower's hint for fast backtracking, an index <= its last index whose
   * term is `logTerm`, so the leader can skip a whole term of conflicting entries per round trip. */
  readonly rejectHint: LogIndex;
  readonly logTerm: Term;
}

/** RequestVote, or its PreVote probe (§9.6 of the dissertation), which changes no state. */
export interface VoteMessage extends Envelope {
  readonly type: 'vote' | 'preVote';
  /** Last log index and term of the candidate. */
  readonly index: LogIndex;
  readonly logTerm: Term;
  /** Set when the campaign was started by a leadership transfer: it bypasses leader leases. */
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends Envelope {
  readonly type: 'voteResp' | 'preVoteResp';
  readonly reject: boolean;
}

/** InstallSnapshot (§7). Sent whole; chunking belongs to the transport. */
export interface SnapshotMessage extends Envelope {
  readonly type: 'snap';
  readonly snapshot: Snapshot;
}

export interface HeartbeatMessage extends Envelope {
  readonly type: 'heartbeat';
  /** min(leader commit, follower's match): never tells a follower to commit what it may not have. */
  readonly commit: LogIndex;
  /** The ReadIndex round this heartbeat confirms leadership for, if any. */
  readonly context: string | null;
}

export interface HeartbeatResponseMessage extends Envelope {
  readonly type: 'heartbeatResp';
  readonly context: string | null;
}

/** Tells the transferee to campaign at once (leadership transfer, dissertation §3.10). */
export interface TimeoutNowMessage extends Envelope {
  readonly type: 'timeoutNow';
}

/** A follower forwarding a client proposal to the leader it knows. */
export interface ProposeMessage extends Envelope {
  readonly type: 'prop';
  readonly entries: readonly Entry[];
}

/** A follower forwarding a ReadIndex request to the leader. */
export interface ReadIndexMessage extends Envelope {
  readonly type: 'readIndex';
  readonly context: string;
}

export interface ReadIndexResponseMessage extends Envelope {
  readonly type: 'readIndexResp';
  readonly index: LogIndex;
  readonly context: string;
}

/** A follower forwarding a request to move leadership to `transferee`. */
export interface TransferLeaderMessage extends Envelope {
  readonly type: 'transferLeader';
  readonly transferee: NodeId;
}

export function isResponse(m: Message): boolean {
  switch (m.type) {
    case 'appResp':
    case 'voteResp':
    case 'preVoteResp':
    case 'heartbeatResp':
    case 'readIndexResp':
      return true;
    case 'app':
    case 'vote':
    case 'preVote':
    case 'snap':
    case 'heartbeat':
    case 'timeoutNow':
    case 'prop':
    case 'readIndex':
    case 'transferLeader':
      return false;
  }
}
