/**
 * Every key in a node's RocksDB, in one place. All integers are big-endian so that keys sort in
 * numeric order, which makes a group's log a contiguous, ordered range.
 *
 *   0x00 'node'                         -> node identity (NodeIdentity, JSON)
 *   0x00 'peers'                        -> last known addresses of the other nodes (JSON)
 *   0x01 group:u32 0x01                 -> hard state (term, vote, commit)
 *   0x01 group:u32 0x02                 -> snapshot metadata (index, term, conf state)
 *   0x01 group:u32 0x03                 -> applied index of the group's state machine
 *   0x01 group:u32 0x04 index:u64       -> raft log entry at `index`
 *   0x01 group:u32 0x05                 -> log offset: index and term of the entry before the log
 *   0x01 group:u32 0x06                 -> snapshot data: a snapshot installed from a leader; empty
 *                                          for a local compaction point (the state is under 0x02)
 *   0x02 group:u32 ...                  -> the group's state machine data (its own sub-layout)
 *
 * A group's raft metadata and its state machine share one database, so the state an entry produced
 * and the applied index that records it are written in one atomic batch. Compacted log entries are
 * dropped as one range tombstone after the new log offset is written (RocksDatabase.dropRanges).
 */

export type GroupId = number & { readonly __brand: 'GroupId' };
export const groupId = (n: number): GroupId => {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new RangeError(`invalid group id ${n}`);
  return n as GroupId;
};

const NODE_PREFIX = 0x00;
const RAFT_PREFIX = 0x01;
const STATE_PREFIX = 0x02;

const HARD_STATE = 0x01;
const SNAPSHOT_META = 0x02;
const APPLIED = 0x03;
const LOG_ENTRY = 0x04;
const LOG_OFFSET = 0x05;
const SNAPSHOT_DATA = 0x06;

export const NODE_IDENTITY_KEY = Uint8Array.of(NODE_PREFIX, ...new TextEncoder().encode('node'));
export const NODE_PEERS_KEY = Uint8Array.of(NODE_PREFIX, ...new TextEncoder().encode('peers'));

function groupKey(prefix: number, g: GroupId, kind: number, extra = 0): Uint8Array {
  const key = new Uint8Array(6 + extra);
  key[0] = prefix;
  writeU32(key, 1, g);
  key[5] = kind;
  return key;
}

// Big-endian integers written and read byte by byte. A DataView needs the array's `.buffer`,
// and asking a small typed array for it moves it off V8's heap into a malloc'd backing store that
// the collector must track and free; keys and small values are made by the thousand per second.

export function writeU32(bytes: Uint8Array, offset: number, n: number): void {
  bytes[offset] = n >>> 24;
  bytes[offset + 1] = n >>> 16;
  bytes[offset + 2] = n >>> 8;
  bytes[offset + 3] = n;
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

export function writeU64(bytes: Uint8Array, offset: number, n: number): void {
  // Indexes and terms stay below 2^53 (Number.MAX_SAFE_INTEGER): split into two u32 words.
  writeU32(bytes, offset, Math.floor(n / 0x1_0000_0000));
  writeU32(bytes, offset + 4, n >>> 0);
}

export function readU64(bytes: Uint8Array, offset: number): number {
  return readU32(bytes, offset) * 0x1_0000_0000 + readU32(bytes, offset + 4);
}

export const hardStateKey = (g: GroupId): Uint8Array => groupKey(RAFT_PREFIX, g, HARD_STATE);
export const snapshotMetaKey = (g: GroupId): Uint8Array => groupKey(RAFT_PREFIX, g, SNAPSHOT_META);
export const appliedKey = (g: GroupId): Uint8Array => groupKey(RAFT_PREFIX, g, APPLIED);
export const logOffsetKey = (g: GroupId): Uint8Array => groupKey(RAFT_PREFIX, g, LOG_OFFSET);
export const snapshotDataKey = (g: GroupId): Uint8Array => groupKey(RAFT_PREFIX, g, SNAPSHOT_DATA);

/** Which raft record a key of the 0x01 range is. */
export type RaftKeyKind = 'hardState' | 'snapshotMeta' | 'applied' | 'logEntry' | 'logOffset' | 'snapshotData';

export function raftKeyKind(key: Uint8Array): RaftKeyKind | null {
  switch (key[5]) {
    case HARD_STATE:
      return 'hardState';
    case SNAPSHOT_META:
      return 'snapshotMeta';
    case APPLIED:
      return 'applied';
    case LOG_ENTRY:
      return 'logEntry';
    case LOG_OFFSET:
      return 'logOffset';
    case SNAPSHOT_DATA:
      return 'snapshotData';
    default:
      return null;
  }
}

export function logEntryKey(g: GroupId, index: number): Uint8Array {
  const key = groupKey(RAFT_PREFIX, g, LOG_ENTRY, 8);
  writeU64(key, 6, index);
  return key;
}

/** The index encoded in a log entry key. */
export function logIndexOfKey(key: Uint8Array): number {
  return readU64(key, 6);
}

/** [start, end) covering every log entry of group g. */
export function logRange(g: GroupId): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: logEntryKey(g, 0), lt: groupKey(RAFT_PREFIX, g, LOG_ENTRY + 1) };
}

/** [start, end) of group g's raft keys (hard state, log, snapshot, applied index). */
export function groupRaftRange(g: GroupId): { gte: Uint8Array; lt: Uint8Array } {
  const gte = Uint8Array.of(RAFT_PREFIX, 0, 0, 0, 0);
  writeU32(gte, 1, g);
  if (g === 0xffff_ffff) return { gte, lt: Uint8Array.of(RAFT_PREFIX + 1) };
  const lt = Uint8Array.of(RAFT_PREFIX, 0, 0, 0, 0);
  writeU32(lt, 1, g + 1);
  return { gte, lt };
}

/** [start, end) covering every raft key of every group: used to find the groups a node holds. */
export function raftRange(): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: Uint8Array.of(RAFT_PREFIX), lt: Uint8Array.of(RAFT_PREFIX + 1) };
}

/** The group a raft or state-machine key belongs to (both carry it right after the prefix). */
export function groupOfKey(key: Uint8Array): GroupId {
  return readU32(key, 1) as GroupId;
}

/** The prefix under which group g's state machine keeps its data. */
export function stateMachinePrefix(g: GroupId): Uint8Array {
  const key = new Uint8Array(5);
  key[0] = STATE_PREFIX;
  writeU32(key, 1, g);
  return key;
}

/** [start, end) of every group's state machine data, for loading them all at start. */
export function stateMachinesRange(): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: Uint8Array.of(STATE_PREFIX), lt: Uint8Array.of(STATE_PREFIX + 1) };
}

/** [start, end) of group g's state machine data. */
export function stateMachineRange(g: GroupId): { gte: Uint8Array; lt: Uint8Array } {
  const gte = stateMachinePrefix(g);
  const lt = stateMachinePrefix(g);
  // The next group's prefix; for the last possible group, the next top-level prefix.
  if (g === 0xffff_ffff) return { gte, lt: Uint8Array.of(STATE_PREFIX + 1) };
  writeU32(lt, 1, g + 1);
  return { gte, lt };
}
