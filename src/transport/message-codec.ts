import type { Entry as WireEntry, Entry__Output as WireEntryOut } from '../generated/taskraft/raft/Entry.js';
import type { GroupMessage, GroupMessage__Output } from '../generated/taskraft/raft/GroupMessage.js';
import type { MessageType__Output } from '../generated/taskraft/raft/MessageType.js';
import {
  assertNever,
  logIndex,
  nodeId,
  term,
  type Entry,
  type Message,
  type Snapshot,
} from '../raft/index.js';
import type { GroupId } from '../storage/key-layout.js';

/** A raft message of one group, as the transport carries it. */
export interface GroupEnvelope {
  readonly group: GroupId;
  readonly message: Message;
}

/** A message that cannot be decoded: from a buggy or hostile peer. It is dropped, never stepped. */
export class MalformedMessageError extends Error {
  readonly code = 'ERR_MALFORMED_MESSAGE';
}

const TYPE_TO_WIRE = {
  app: 'APP',
  appResp: 'APP_RESP',
  vote: 'VOTE',
  preVote: 'PRE_VOTE',
  voteResp: 'VOTE_RESP',
  preVoteResp: 'PRE_VOTE_RESP',
  snap: 'SNAP',
  heartbeat: 'HEARTBEAT',
  heartbeatResp: 'HEARTBEAT_RESP',
  timeoutNow: 'TIMEOUT_NOW',
  prop: 'PROP',
  readIndex: 'READ_INDEX',
  readIndexResp: 'READ_INDEX_RESP',
  transferLeader: 'TRANSFER_LEADER',
} as const satisfies Record<Message['type'], MessageType__Output>;

function entryToWire(e: Entry): WireEntry {
  switch (e.type) {
    case 'normal':
      return { term: e.term, index: e.index, type: 'ENTRY_TYPE_NORMAL', data: e.data };
    case 'confChange': {
      const type =
        e.change.type === 'addVoter'
          ? 'ENTRY_TYPE_ADD_VOTER'
          : e.change.type === 'addLearner'
            ? 'ENTRY_TYPE_ADD_LEARNER'
            : 'ENTRY_TYPE_REMOVE_NODE';
      return { term: e.term, index: e.index, type, nodeId: e.change.nodeId };
    }
    default:
      return assertNever(e);
  }
}

function entryFromWire(w: WireEntryOut): Entry {
  const t = term(w.term);
  const index = logIndex(w.index);
  switch (w.type) {
    case 'ENTRY_TYPE_NORMAL':
      return { type: 'normal', term: t, index, data: w.data };
    case 'ENTRY_TYPE_ADD_VOTER':
      return { type: 'confChange', term: t, index, change: { type: 'addVoter', nodeId: nodeId(w.nodeId) } };
    case 'ENTRY_TYPE_ADD_LEARNER':
      return { type: 'confChange', term: t, index, change: { type: 'addLearner', nodeId: nodeId(w.nodeId) } };
    case 'ENTRY_TYPE_REMOVE_NODE':
      return { type: 'confChange', term: t, index, change: { type: 'removeNode', nodeId: nodeId(w.nodeId) } };
    default:
      throw new MalformedMessageError(`unknown entry type ${String(w.type)}`);
  }
}

/** Encodes a message; for 'snap', the snapshot's data travels separately (see encodeSnapshotData). */
export function encodeMessage(group: GroupId, m: Message): GroupMessage {
  const base: GroupMessage = { group, type: TYPE_TO_WIRE[m.type], from: m.from, to: m.to, term: m.term };
  switch (m.type) {
    case 'app':
      return { ...base, index: m.index, logTerm: m.logTerm, commit: m.commit, entries: m.entries.map(entryToWire) };
    case 'appResp':
      return { ...base, index: m.index, reject: m.reject, rejectHint: m.rejectHint, logTerm: m.logTerm };
    case 'vote':
    case 'preVote':
      return { ...base, index: m.index, logTerm: m.logTerm, transfer: m.transfer };
    case 'voteResp':
    case 'preVoteResp':
      return { ...base, reject: m.reject };
    case 'snap': {
      const md = m.snapshot.metadata;
      return {
        ...base,
        snapshot: { index: md.index, term: md.term, voters: [...md.confState.voters], learners: [...md.confState.learners] },
      };
    }
    case 'heartbeat':
      return { ...base, commit: m.commit, hasContext: m.context !== null, context: m.context ?? '' };
    case 'heartbeatResp':
      return { ...base, hasContext: m.context !== null, context: m.context ?? '' };
    case 'timeoutNow':
      return base;
    case 'prop':
      return { ...base, entries: m.entries.map(entryToWire) };
    case 'readIndex':
      return { ...base, context: m.context, hasContext: true };
    case 'readIndexResp':
      return { ...base, index: m.index, context: m.context, hasContext: true };
    case 'transferLeader':
      return { ...base, transferee: m.transferee };
    default:
      return assertNever(m);
  }
}

/**
 * Decodes a message. `snapshotData` completes a 'snap' message (it arrives in chunks on its own
 * stream). Throws MalformedMessageError on anything that is not a well-formed message.
 */
export function decodeMessage(w: GroupMessage__Output, snapshotData?: Uint8Array): GroupEnvelope {
  if (w.from.length === 0 || w.to.length === 0) throw new MalformedMessageError('message without from/to');
  const group = w.group as GroupId;
  const env = { from: nodeId(w.from), to: nodeId(w.to), term: term(w.term) };
  const context = w.hasContext ? w.context : null;
  let message: Message;
  switch (w.type) {
    case 'APP':
      message = { ...env, type: 'app', index: logIndex(w.index), logTerm: term(w.logTerm), commit: logIndex(w.commit), entries: w.entries.map(entryFromWire) };
      break;
    case 'APP_RESP':
      message = { ...env, type: 'appResp', index: logIndex(w.index), reject: w.reject, rejectHint: logIndex(w.rejectHint), logTerm: term(w.logTerm) };
      break;
    case 'VOTE':
    case 'PRE_VOTE':
      message = { ...env, type: w.type === 'VOTE' ? 'vote' : 'preVote', index: logIndex(w.index), logTerm: term(w.logTerm), transfer: w.transfer };
      break;
    case 'VOTE_RESP':
    case 'PRE_VOTE_RESP':
      message = { ...env, type: w.type === 'VOTE_RESP' ? 'voteResp' : 'preVoteResp', reject: w.reject };
      break;
    case 'SNAP': {
      const md = w.snapshot;
      if (md === null || snapshotData === undefined) throw new MalformedMessageError('snapshot message without snapshot');
      const snapshot: Snapshot = {
        metadata: {
          index: logIndex(md.index),
          term: term(md.term),
          confState: { voters: md.voters.map(nodeId), learners: md.learners.map(nodeId) },
        },
        data: snapshotData,
      };
      message = { ...env, type: 'snap', snapshot };
      break;
    }
    case 'HEARTBEAT':
      message = { ...env, type: 'heartbeat', commit: logIndex(w.commit), context };
      break;
    case 'HEARTBEAT_RESP':
      message = { ...env, type: 'heartbeatResp', context };
      break;
    case 'TIMEOUT_NOW':
      message = { ...env, type: 'timeoutNow' };
      break;
    case 'PROP':
      message = { ...env, type: 'prop', entries: w.entries.map(entryFromWire) };
      break;
    case 'READ_INDEX':
      message = { ...env, type: 'readIndex', context: w.context };
      break;
    case 'READ_INDEX_RESP':
      message = { ...env, type: 'readIndexResp', index: logIndex(w.index), context: w.context };
      break;
    case 'TRANSFER_LEADER':
      if (w.transferee.length === 0) throw new MalformedMessageError('transfer without transferee');
      message = { ...env, type: 'transferLeader', transferee: nodeId(w.transferee) };
      break;
    case 'MESSAGE_TYPE_UNSPECIFIED':
    default:
      throw new MalformedMessageError(`unknown message type ${String(w.type)}`);
  }
  return { group, message };
}
