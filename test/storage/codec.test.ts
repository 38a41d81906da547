import { describe, expect, it } from 'vitest';
import { logIndex, nodeId, term } from '../../src/raft/index.js';
import { decodeEntry, decodeHardState, decodeLogOffset, decodeU64, encodeEntry, encodeHardState, encodeLogOffset, encodeU64 } from '../../src/storage/codec.js';
import { groupId, groupOfKey, logEntryKey, logIndexOfKey, readU32, readU64, writeU32, writeU64 } from '../../src/storage/key-layout.js';

const EDGES = [0, 1, 255, 256, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_0001, Number.MAX_SAFE_INTEGER];

describe('binary encodings', () => {
  it('u32 and u64 are big-endian and round-trip at every word edge', () => {
    const b = new Uint8Array(12);
    writeU32(b, 0, 0x01020304);
    expect([...b.subarray(0, 4)]).toEqual([1, 2, 3, 4]);
    for (const n of EDGES) {
      writeU64(b, 3, n);
      expect(readU64(b, 3)).toBe(n);
      if (n <= 0xffff_ffff) {
        writeU32(b, 1, n);
        expect(readU32(b, 1)).toBe(n);
      }
    }
    writeU64(b, 0, 0x0102_0304_0506);
    expect([...b.subarray(0, 8)]).toEqual([0, 0, 1, 2, 3, 4, 5, 6]);
  });

  it('keys sort by group, then index, and give both back', () => {
    const keys = [logEntryKey(groupId(2), 1), logEntryKey(groupId(1), 0x1_0000_0000), logEntryKey(groupId(1), 255), logEntryKey(groupId(1), 256)];
    const cmp = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b);
    expect([...keys].sort(cmp).map((k) => [groupOfKey(k), logIndexOfKey(k)])).toEqual([
      [1, 255],
      [1, 256],
      [1, 0x1_0000_0000],
      [2, 1],
    ]);
  });

  it('records round-trip, also when read from a slice of a larger buffer', () => {
    const inSlice = (v: Uint8Array) => {
      const big = new Uint8Array(v.byteLength + 7);
      big.set(v, 5);
      return big.subarray(5, 5 + v.byteLength);
    };
    for (const n of EDGES) {
      expect(decodeU64(inSlice(encodeU64(n)))).toBe(n);
      expect(decodeLogOffset(inSlice(encodeLogOffset({ index: n, term: 7 })))).toEqual({ index: n, term: 7 });
      const hs = { term: term(n), commit: logIndex(3), vote: nodeId('node-2') };
      expect(decodeHardState(inSlice(encodeHardState(hs)))).toEqual(hs);
      const e = { type: 'normal' as const, term: term(n), index: logIndex(9), data: Uint8Array.of(1, 2, 3) };
      expect(decodeEntry(logIndex(9), inSlice(encodeEntry(e)))).toEqual(e);
    }
  });
});
