import type { NodeState } from './meta-state-machine.js';

/**
 * The cluster as the meta leader sees it, assembled from every node's latest report. Served by
 * `GET /cluster` on every node (non-leaders relay the copy the meta leader last sent them) and
 * sent to each node in reply to its report.
 */
export interface ClusterView {
  readonly clusterId: string;
  readonly metaLeader: string | null;
  /** Milliseconds since the epoch at which the meta leader assembled this view. */
  readonly at: number;
  readonly partitionCount: number;
  readonly nodes: readonly ClusterViewNode[];
  /** Partitions 1..partitionCount; the meta group is `meta`. */
  readonly partitions: readonly ClusterViewGroup[];
  readonly meta: ClusterViewGroup;
  /** Every partition has exactly its placement's voters, no learners, and no live node leads more
   * than ceil(partitions / live nodes) + 1 of them. */
  readonly balanced: boolean;
}

export interface ClusterViewNode {
  readonly id: string;
  readonly httpAddr: string;
  readonly grpcAddr: string;
  readonly state: NodeState;
  /** Reported within the node-down window. */
  readonly live: boolean;
  /** Milliseconds since the node's last report, or null if this meta leader never heard it. */
  readonly lastSeenMsAgo: number | null;
  readonly partitionsHeld: readonly number[];
  readonly partitionsLed: readonly number[];
}

export interface ClusterViewGroup {
  readonly id: number;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  readonly leader: string | null;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
}
