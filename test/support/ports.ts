/**
 * The ports of every test that starts real servers, in one place. Vitest runs test files in
 * parallel (one worker per core, less one), so two files on the same ports fail each other with
 * EADDRINUSE on any machine with three cores or more, and pass on a 2-core one: the local cluster
 * and the client routing tests once both took 19710-19712. test/lint/test-ports.test.ts checks that
 * the ranges below are disjoint.
 *
 * A test owns PORT_SPAN ports from its base. A taskraft node (TestCluster, `npm start`) on HTTP
 * port p also binds p + 1000 for gRPC (the node's default), so those tests own that range too; a
 * KvCluster node binds only its base + index, for gRPC.
 */
export const PORT_SPAN = 20;

/** Taskraft node tests: HTTP from the base, gRPC from the base + GRPC_OFFSET. */
export const GRPC_OFFSET = 1000;

export const NODE_TEST_PORTS = {
  clusterMembership: 19310,
  clusterFailover: 19410,
  queueE2e: 19610,
  localCluster: 19710,
  dashboard: 19760,
  queueMoves: 19810,
  clientRouting: 19860,
  metrics: 19900,
  gracefulStop: 19940,
} as const;

export const KV_TEST_PORTS = {
  snapshotOnDemand: 18500,
  crashSafety: 18600,
  replication: 18700,
  quiescence: 18800,
  kvHarness: 18900,
  quiescenceQuiet: 18950,
} as const;
