import {
  assertNever,
  logIndex,
  nodeId,
  term,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type LogIndex,
  type SnapshotMetadata,
  type Term,
} from '../raft/index.js';
import { readU64, writeU64 } from './key-layout.js';

/**
 * Binary encodings of what the raft layer persists. Compact and allocation-light on the hot path
 * (log entries); JSON where size does not matter (snapshot metadata).
 *
 * Entry value: kind:u8 term:u64 body. kind 0 = normal (body = data), kind 1..3 = conf change
 * (addVoter, addLearner, removeNode; body = node id in UTF-8). The index is in the key.
 */

export class CorruptRecordError extends Error {
  readonly code = 'ERR_CORRUPT_RECORD';
}

const KIND_NORMAL = 0;
const CONF_KINDS = ['addVoter', 'addLearner', 'removeNode'] as const;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeEntry(e: Entry): Uint8Array {
  let kind: number;
  let body: Uint8Array;
  switch (e.type) {
    case 'normal':
      kind = KIND_NORMAL;
      body = e.data;
      break;
    case 'confChange':
      kind = 1 + CONF_KINDS.indexOf(e.change.type);
      body = utf8.encode(e.change.nodeId);
      break;
    default:
      return assertNever(e);
  }
  const out = new Uint8Array(9 + body.byteLength);
  out[0] = kind;
  writeU64(out, 1, e.term);
  out.set(body, 9);
  return out;
}

export function decodeEntry(index: LogIndex, value: Uint8Array): Entry {
  if (value.byteLength < 9) throw new CorruptRecordError(`log entry ${index}: ${value.byteLength} bytes`);
  const kind = value[0]!;
  const t = term(readU64(value, 1));
  const body = value.subarray(9);
  if (kind === KIND_NORMAL) return { type: 'normal', term: t, index, data: body };
  const changeType = CONF_KINDS[kind - 1];
  if (changeType === undefined) throw new CorruptRecordError(`log entry ${index}: unknown kind ${kind}`);
  const change: ConfChange = { type: changeType, nodeId: nodeId(fromUtf8.decode(body)) };
  return { type: 'confChange', term: t, index, change };
}

/** The term of an encoded entry, without decoding its body. */
export function termOfEncodedEntry(value: Uint8Array): number {
  return readU64(value, 1);
}

/** Hard state value: term:u64 commit:u64 vote (UTF-8, empty for none). */
export function encodeHardState(hs: HardState): Uint8Array {
  const vote = hs.vote === null ? new Uint8Array(0) : utf8.encode(hs.vote);
  const out = new Uint8Array(16 + vote.byteLength);
  writeU64(out, 0, hs.term);
  writeU64(out, 8, hs.commit);
  out.set(vote, 16);
  return out;
}

export function decodeHardState(value: Uint8Array): HardState {
  if (value.byteLength < 16) throw new CorruptRecordError(`hard state: ${value.byteLength} bytes`);
  const vote = value.byteLength === 16 ? null : nodeId(fromUtf8.decode(value.subarray(16)));
  return { term: term(readU64(value, 0)), commit: logIndex(readU64(value, 8)), vote };
}

export function encodeSnapshotMeta(m: SnapshotMetadata): Uint8Array {
  return utf8.encode(JSON.stringify({ index: m.index, term: m.term, voters: m.confState.voters, learners: m.confState.learners }));
}

export function decodeSnapshotMeta(value: Uint8Array): SnapshotMetadata {
  let raw: unknown;
  try {
    raw = JSON.parse(fromUtf8.decode(value));
  } catch (e) {
    throw new CorruptRecordError(`snapshot metadata: ${(e as Error).message}`);
  }
  const r = raw as { index?: unknown; term?: unknown; voters?: unknown; learners?: unknown };
  const isIds = (x: unknown): x is string[] => Array.isArray(x) && x.every((v) => typeof v === 'string');
  if (typeof r.index !== 'number' || typeof r.term !== 'number' || !isIds(r.voters) || !isIds(r.learners)) {
    throw new CorruptRecordError('snapshot metadata: malformed');
  }
  const confState: ConfState = { voters: r.voters.map(nodeId), learners: r.learners.map(nodeId) };
  return { index: logIndex(r.index), term: term(r.term), confState };
}

export function encodeU64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  writeU64(out, 0, n);
  return out;
}

export function decodeU64(value: Uint8Array): number {
  if (value.byteLength !== 8) throw new CorruptRecordError(`u64: ${value.byteLength} bytes`);
  return readU64(value, 0);
}

/** Log offset value: index:u64 term:u64. */
export function encodeLogOffset(o: { index: number; term: number }): Uint8Array {
  const out = new Uint8Array(16);
  writeU64(out, 0, o.index);
  writeU64(out, 8, o.term);
  return out;
}

export function decodeLogOffset(value: Uint8Array): { index: LogIndex; term: Term } {
  if (value.byteLength !== 16) throw new CorruptRecordError(`log offset: ${value.byteLength} bytes`);
  return { index: logIndex(readU64(value, 0)), term: term(readU64(value, 8)) };
}
