import HashRing from 'hashring';
import type { GroupId } from '../storage/key-layout.js';

export const REPLICATION_FACTOR = 3;

/** The ring key of a group: stable, so a group's place depends only on the set of nodes. */
export function placementKey(group: GroupId): string {
  return group === 0 ? 'meta' : `partition-${group}`;
}

/**
 * Where each group's replicas belong: the first REPLICATION_FACTOR distinct nodes clockwise from
 * the group's key on a consistent-hash ring of the placeable nodes. Adding or removing a node
 * changes the replica sets of only about its share of groups.
 */
export class Placement {
  private readonly ring: HashRing | null;

  constructor(readonly nodes: readonly string[]) {
    // The ring depends on the set, not on the order the nodes were listed in.
    this.ring = nodes.length === 0 ? null : new HashRing([...nodes].sort());
  }

  replicas(group: GroupId): string[] {
    if (this.ring === null) return [];
    return this.ring.range(placementKey(group), Math.min(REPLICATION_FACTOR, this.nodes.length), true);
  }
}

/**
 * The nodes replicas may be placed on: active nodes not silent for longer than `replaceAfterMs`.
 * Replacing a node needs somewhere to put its replicas, so with fewer than REPLICATION_FACTOR such
 * nodes the given-up ones (most recently seen first) keep their places rather than groups
 * shrinking below three voters.
 */
export function placeableNodes(active: readonly { id: string; lastSeen: number }[], now: number, replaceAfterMs: number): string[] {
  const placeable = active.filter((n) => now - n.lastSeen <= replaceAfterMs).map((n) => n.id);
  const givenUp = active.filter((n) => !placeable.includes(n.id)).sort((a, b) => b.lastSeen - a.lastSeen);
  while (placeable.length < REPLICATION_FACTOR && givenUp.length > 0) placeable.push(givenUp.shift()!.id);
  return placeable;
}
