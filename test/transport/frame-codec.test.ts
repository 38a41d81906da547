import { describe, expect, it } from 'vitest';
import { logIndex as li, nodeId, term as t, type Message } from '../../src/raft/index.js';
import { groupId } from '../../src/storage/key-layout.js';
import { MalformedFrameError } from '../../src/transport/byte-buffer.js';
import { decodeFrame, encodeFrame, type GroupEnvelope } from '../../src/transport/frame-codec.js';

const a = nodeId('node-1');
const b = nodeId('nöde-2');
const env = { from: a, to: b, term: t(2 ** 40 + 7) };
const entries = [
  { type: 'normal' as const, term: t(3), index: li(2 ** 33), data: Uint8Array.of(1, 2, 3) },
  { type: 'normal' as const, term: t(3), index: li(2 ** 33 + 1), data: new Uint8Array(0) },
  { type: 'confChange' as const, term: t(3), index: li(9), change: { type: 'addLearner' as const, nodeId: nodeId('node-4') } },
  { type: 'confChange' as const, term: t(3), index: li(10), change: { type: 'removeNode' as const, nodeId: nodeId('x') } },
];

const every: Message[] = [
  { ...env, type: 'app', index: li(5), logTerm: t(2), commit: li(4), entries },
  { ...env, type: 'appResp', index: li(5), reject: true, rejectHint: li(3), logTerm: t(1) },
  { ...env, type: 'vote', index: li(5), logTerm: t(2), transfer: true },
  { ...env, type: 'preVote', index: li(5), logTerm: t(2), transfer: false },
  { ...env, type: 'voteResp', reject: false },
  { ...env, type: 'preVoteResp', reject: true },
  { ...env, type: 'heartbeat', commit: li(7), context: null },
  { ...env, type: 'heartbeat', commit: li(7), context: 'read-1' },
  { ...env, type: 'heartbeatResp', context: 'read-1' },
  { ...env, type: 'heartbeatResp', context: null },
  { ...env, type: 'timeoutNow' },
  { ...env, type: 'prop', entries },
  { ...env, type: 'readIndex', context: 'ctx' },
  { ...env, type: 'readIndexResp', index: li(8), context: 'ctx' },
  { ...env, type: 'transferLeader', transferee: nodeId('node-3') },
];

describe('raft frame codec', () => {
  it('round-trips every message type, big integers and non-ASCII IDs', () => {
    const envelopes: GroupEnvelope[] = every.map((message, i) => ({ group: groupId(i * 1000 + 1), message }));
    expect(decodeFrame(encodeFrame(envelopes))).toEqual({ envelopes, quiesced: [] });
  });

  it('round-trips a snapshot message only with its data', () => {
    const snap: Message = {
      ...env,
      type: 'snap',
      snapshot: { metadata: { index: li(100), term: t(4), confState: { voters: [a, b], learners: [nodeId('l')] } }, data: Uint8Array.of(9) },
    };
    const frame = encodeFrame([{ group: groupId(3), message: snap }]);
    expect(decodeFrame(frame, Uint8Array.of(9)).envelopes).toEqual([{ group: 3, message: snap }]);
    expect(() => decodeFrame(frame)).toThrow(MalformedFrameError);
  });

  it('round-trips quiesce notices, and an empty frame (a liveness ping)', () => {
    const quiesced = [{ group: groupId(7), term: t(3) }, { group: groupId(2 ** 31), term: t(2 ** 40) }];
    expect(decodeFrame(encodeFrame([{ group: groupId(1), message: every[10]! }], quiesced))).toEqual({
      envelopes: [{ group: 1, message: every[10] }],
      quiesced,
    });
    expect(decodeFrame(encodeFrame([]))).toEqual({ envelopes: [], quiesced: [] });
  });

  it('rejects every truncation of a valid frame', () => {
    const frame = encodeFrame(every.map((message) => ({ group: groupId(1), message })));
    for (let n = 0; n < frame.byteLength; n += 7) {
      expect(() => decodeFrame(frame.subarray(0, n)), `truncated to ${n}`).toThrow(MalformedFrameError);
    }
  });

  it('rejects an unknown version, an unknown type, trailing bytes and bad UTF-8', () => {
    const frame = encodeFrame([{ group: groupId(1), message: every[10]! }]);
    const badVersion = frame.slice();
    badVersion[0] = 9;
    expect(() => decodeFrame(badVersion)).toThrow(/version/);
    const badType = frame.slice();
    badType[1 + 4 + 4] = 200;
    expect(() => decodeFrame(badType)).toThrow(/type/);
    expect(() => decodeFrame(Uint8Array.of(...frame, 0))).toThrow(/trailing/);
    const badUtf8 = frame.slice();
    badUtf8[1 + 4 + 4 + 1 + 8 + 2] = 0xff;
    expect(() => decodeFrame(badUtf8)).toThrow(MalformedFrameError);
  });
});
