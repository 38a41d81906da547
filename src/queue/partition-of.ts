import { groupId, type GroupId } from '../storage/key-layout.js';

/**
 * The partition (1..count) a task ID belongs to: FNV-1a over the ID's UTF-16 code units. Stable
 * across versions and platforms, since every node must route an ID to the same partition forever.
 */
export function partitionOf(id: string, count: number): GroupId {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return groupId((h % count) + 1);
}
