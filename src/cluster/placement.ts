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
