import {
  assertNever,
  logIndex,
  nodeId,
  term,
  type ConfChange,
  type Entry,
  type Message,
  type NodeId,
  type Snapshot,
  type Term,
} from '../raft/index.js';
import type { GroupId } from '../storage/key-layout.js';
import { ByteReader, ByteWriter, MalformedFrameError } from './byte-buffer.js';

/**
 * The binary frame that carries raft messages between nodes (inside MessageBatch.frame and
 * SnapshotChunk.header). Hand-rolled rather than one protobuf message per raft message: it is
 * several times cheaper to produce and parse, and a node sends thousands of messages a second.
 *
 *   frame   := version:u8 count:u32 message* quiesced:(n:u32 (group:u32 term:u64)*)
 *   message := group:u32 type:u8 term:u64 from:str to:str body
 *   str     := len:u16 utf8
 *   entry   := kind:u8 term:u64 index:u64 data:(len:u32 bytes)   kind 0 normal, 1-3 conf change
 *                                                                 (data = the node ID, UTF-8)
 *   body by type:
 *     app            index:u64 logTerm:u64 commit:u64 n:u32 entry*n
 *     appResp        index:u64 reject:u8 rejectHint:u64 logTerm:u64
 *     vote, preVote  index:u64 logTerm:u64 transfer:u8
 *     voteResp, preVoteResp  reject:u8
 *     heartbeat      commit:u64 hasContext:u8 [context:str]
 *     heartbeatResp  hasContext:u8 [context:str]
 *     timeoutNow     -
 *     prop           n:u32 entry*n
 *     readIndex      context:str
 *     readIndexResp  index:u64 context:str
 *     transferLeader transferee:str
 *     snap           index:u64 term:u64 voters:(n:u16 str*n) learners:(n:u16 str*n)
 *                    (the snapshot's data travels in SnapshotChunk.data)
 *
 * `quiesced` lists groups the sender leads and has put to sleep (see MultiRaftHost): followers may
 * stop ticking them. An empty frame is a node-level liveness ping.
 */

export interface GroupEnvelope {
  readonly group: GroupId;
  readonly message: Message;
}

/** The sender, leader of `group` in `term`, has stopped ticking it: nothing is pending. */
export interface QuiesceNotice {
  readonly group: GroupId;
  readonly term: Term;
}

export interface Frame {
  readonly envelopes: GroupEnvelope[];
  readonly quiesced: QuiesceNotice[];
}

const VERSION = 2;
const TYPES = [
  'app',
  'appResp',
  'vote',
  'preVote',
  'voteResp',
  'preVoteResp',
  'snap',
  'heartbeat',
  'heartbeatResp',
  'timeoutNow',
  'prop',
  'readIndex',
  'readIndexResp',
  'transferLeader',
] as const satisfies readonly Message['type'][];
const TYPE_CODE = new Map<Message['type'], number>(TYPES.map((t, i) => [t, i]));
const CONF_KINDS = ['addVoter', 'addLearner', 'removeNode'] as const;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function writeEntries(w: ByteWriter, entries: readonly Entry[]): void {
  w.u32(entries.length);
  for (const e of entries) {
    switch (e.type) {
      case 'normal':
        w.u8(0);
        w.u64(e.term);
        w.u64(e.index);
        w.bytes(e.data);
        break;
      case 'confChange':
        w.u8(1 + CONF_KINDS.indexOf(e.change.type));
        w.u64(e.term);
        w.u64(e.index);
        w.bytes(utf8.encode(e.change.nodeId));
        break;
      default:
        assertNever(e);
    }
  }
}

function readEntries(r: ByteReader): Entry[] {
  const n = r.u32();
  const out: Entry[] = [];
  for (let k = 0; k < n; k++) {
    const kind = r.u8();
    const t = term(r.u64());
    const index = logIndex(r.u64());
    const data = r.bytes();
    if (kind === 0) {
      out.push({ type: 'normal', term: t, index, data });
      continue;
    }
    const type = CONF_KINDS[kind - 1];
    if (type === undefined) throw new MalformedFrameError(`unknown entry kind ${kind}`);
    let id: string;
    try {
      id = fromUtf8.decode(data);
    } catch {
      throw new MalformedFrameError('invalid node id in conf change');
    }
    const change: ConfChange = { type, nodeId: nodeId(id) };
    out.push({ type: 'confChange', term: t, index, change });
  }
  return out;
}

function writeIds(w: ByteWriter, ids: readonly NodeId[]): void {
  w.u16(ids.length);
  for (const id of ids) w.str(id);
}

function readIds(r: ByteReader): NodeId[] {
  const n = r.u16();
  return Array.from({ length: n }, () => nodeId(r.str()));
}

function writeMessage(w: ByteWriter, group: GroupId, m: Message): void {
  w.u32(group);
  w.u8(TYPE_CODE.get(m.type)!);
  w.u64(m.term);
  w.str(m.from);
  w.str(m.to);
  switch (m.type) {
    case 'app':
      w.u64(m.index);
      w.u64(m.logTerm);
      w.u64(m.commit);
      writeEntries(w, m.entries);
      return;
    case 'appResp':
      w.u64(m.index);
      w.u8(m.reject ? 1 : 0);
      w.u64(m.rejectHint);
      w.u64(m.logTerm);
      return;
    case 'vote':
    case 'preVote':
      w.u64(m.index);
      w.u64(m.logTerm);
      w.u8(m.transfer ? 1 : 0);
      return;
    case 'voteResp':
    case 'preVoteResp':
      w.u8(m.reject ? 1 : 0);
      return;
    case 'heartbeat':
      w.u64(m.commit);
      w.u8(m.context === null ? 0 : 1);
      if (m.context !== null) w.str(m.context);
      return;
    case 'heartbeatResp':
      w.u8(m.context === null ? 0 : 1);
      if (m.context !== null) w.str(m.context);
      return;
    case 'timeoutNow':
      return;
    case 'prop':
      writeEntries(w, m.entries);
      return;
    case 'readIndex':
      w.str(m.context);
      return;
    case 'readIndexResp':
      w.u64(m.index);
      w.str(m.context);
      return;
    case 'transferLeader':
      w.str(m.transferee);
      return;
    case 'snap': {
      const md = m.snapshot.metadata;
      w.u64(md.index);
      w.u64(md.term);
      writeIds(w, md.confState.voters);
      writeIds(w, md.confState.learners);
      return;
    }
    default:
      assertNever(m);
  }
}

function readMessage(r: ByteReader, snapshotData: Uint8Array | undefined): GroupEnvelope {
  const group = r.u32() as GroupId;
  const code = r.u8();
  const type = TYPES[code];
  if (type === undefined) throw new MalformedFrameError(`unknown message type ${code}`);
  const t = term(r.u64());
  const from = nodeId(r.str());
  const to = nodeId(r.str());
  if (from.length === 0 || to.length === 0) throw new MalformedFrameError('message without from/to');
  let message: Message;
  switch (type) {
    case 'app':
      message = { type, from, to, term: t, index: logIndex(r.u64()), logTerm: term(r.u64()), commit: logIndex(r.u64()), entries: readEntries(r) };
      break;
    case 'appResp':
      message = { type, from, to, term: t, index: logIndex(r.u64()), reject: r.u8() === 1, rejectHint: logIndex(r.u64()), logTerm: term(r.u64()) };
      break;
    case 'vote':
    case 'preVote':
      message = { type, from, to, term: t, index: logIndex(r.u64()), logTerm: term(r.u64()), transfer: r.u8() === 1 };
      break;
    case 'voteResp':
    case 'preVoteResp':
      message = { type, from, to, term: t, reject: r.u8() === 1 };
      break;
    case 'heartbeat': {
      const commit = logIndex(r.u64());
      message = { type, from, to, term: t, commit, context: r.u8() === 1 ? r.str() : null };
      break;
    }
    case 'heartbeatResp':
      message = { type, from, to, term: t, context: r.u8() === 1 ? r.str() : null };
      break;
    case 'timeoutNow':
      message = { type, from, to, term: t };
      break;
    case 'prop':
      message = { type, from, to, term: t, entries: readEntries(r) };
      break;
    case 'readIndex':
      message = { type, from, to, term: t, context: r.str() };
      break;
    case 'readIndexResp':
      message = { type, from, to, term: t, index: logIndex(r.u64()), context: r.str() };
      break;
    case 'transferLeader':
      message = { type, from, to, term: t, transferee: nodeId(r.str()) };
      break;
    case 'snap': {
      if (snapshotData === undefined) throw new MalformedFrameError('snapshot message outside a snapshot stream');
      const index = logIndex(r.u64());
      const snapTerm = term(r.u64());
      const voters = readIds(r);
      const learners = readIds(r);
      const snapshot: Snapshot = { metadata: { index, term: snapTerm, confState: { voters, learners } }, data: snapshotData };
      message = { type, from, to, term: t, snapshot };
      break;
    }
    default:
      return assertNever(type);
  }
  return { group, message };
}

/** Encodes messages (and quiesce notices) into one frame. */
export function encodeFrame(envelopes: readonly GroupEnvelope[], quiesced: readonly QuiesceNotice[] = []): Uint8Array {
  const w = new ByteWriter(256 + envelopes.length * 64 + quiesced.length * 12);
  w.u8(VERSION);
  w.u32(envelopes.length);
  for (const { group, message } of envelopes) writeMessage(w, group, message);
  w.u32(quiesced.length);
  for (const q of quiesced) {
    w.u32(q.group);
    w.u64(q.term);
  }
  return w.finish();
}

/**
 * Decodes a frame. Throws MalformedFrameError on anything but a complete, well-formed frame; a
 * 'snap' message is accepted only with its data (from the snapshot stream).
 */
export function decodeFrame(bytes: Uint8Array, snapshotData?: Uint8Array): Frame {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== VERSION) throw new MalformedFrameError(`unsupported frame version ${version}`);
  const n = r.u32();
  const envelopes: GroupEnvelope[] = [];
  for (let k = 0; k < n; k++) envelopes.push(readMessage(r, snapshotData));
  const q = r.u32();
  const quiesced: QuiesceNotice[] = [];
  for (let k = 0; k < q; k++) quiesced.push({ group: r.u32() as GroupId, term: term(r.u64()) });
  if (!r.done()) throw new MalformedFrameError('trailing bytes after the frame');
  return { envelopes, quiesced };
}
