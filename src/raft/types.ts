/**
 * The vocabulary of the consensus core. IDs and log positions are branded so that a term can never
 * be passed where an index is expected (both are plain numbers at run time).
 */

/** A member of a Raft group (in taskraft, a node of the cluster). */
export type NodeId = string & { readonly __brand: 'NodeId' };
/** A Raft term: a logical clock that only grows (paper §5.1). */
export type Term = number & { readonly __brand: 'Term' };
/** A position in the replicated log; the first real entry has index 1, 0 means "before the log". */
export type LogIndex = number & { readonly __brand: 'LogIndex' };

export const nodeId = (id: string): NodeId => id as NodeId;
export const term = (n: number): Term => n as Term;
export const logIndex = (n: number): LogIndex => n as LogIndex;

/** One change to a group's membership. Applied one at a time (single-server changes, §4.1 of the
 * Raft dissertation), which is safe because a leader has at most one unapplied change in its log. */
export type ConfChange =
  | { readonly type: 'addVoter'; readonly nodeId: NodeId }
  | { readonly type: 'addLearner'; readonly nodeId: NodeId }
  | { readonly type: 'removeNode'; readonly nodeId: NodeId };

export type Entry = NormalEntry | ConfChangeEntry;

interface EntryPosition {
  readonly term: Term;
  readonly index: LogIndex;
}

/** A client command. An empty `data` is the no-op a new leader appends to commit its term. */
export interface NormalEntry extends EntryPosition {
  readonly type: 'normal';
  readonly data: Uint8Array;
}

export interface ConfChangeEntry extends EntryPosition {
  readonly type: 'confChange';
  readonly change: ConfChange;
}

/** Who votes and who only listens. A node is in at most one of the two lists. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** What a node must persist before it sends any message that depends on it (Figure 2,
 * "persistent state on all servers"). */
export interface HardState {
  readonly term: Term;
  /** The candidate this node voted for in `term`, or null. */
  readonly vote: NodeId | null;
  readonly commit: LogIndex;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state the host may want to observe; never persisted. */
export interface SoftState {
  readonly leader: NodeId | null;
  readonly role: Role;
}

export interface SnapshotMetadata {
  /** The index and term of the last entry the snapshot covers. */
  readonly index: LogIndex;
  readonly term: Term;
  /** The membership as of `index`. */
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

/** The answer to a ReadIndex request: once the host has applied up to `index`, a read that reflects
 * every write acknowledged before the request was made may be served (paper §6.4). */
export interface ReadState {
  readonly index: LogIndex;
  readonly context: string;
}

/** Randomness is injected so that a seeded run replays exactly. */
export interface Rng {
  /** A uniformly random integer in [0, bound). */
  nextInt(bound: number): number;
}

export const EMPTY_HARD_STATE: HardState = { term: term(0), vote: null, commit: logIndex(0) };

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === null && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** What an entry carries, without its place in the log: a proposal before the leader stamps it. */
export type EntryPayload =
  | { readonly type: 'normal'; readonly data: Uint8Array }
  | { readonly type: 'confChange'; readonly change: ConfChange };

/** Bytes an entry costs against the message size and uncommitted-size caps. */
export function entryPayloadSize(e: EntryPayload): number {
  switch (e.type) {
    case 'normal':
      return e.data.byteLength;
    case 'confChange':
      return 16 + e.change.nodeId.length;
    default:
      return assertNever(e);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}
