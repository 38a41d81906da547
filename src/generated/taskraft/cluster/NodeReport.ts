// Original file: proto/cluster.proto

import type { GroupReport as _taskraft_cluster_GroupReport, GroupReport__Output as _taskraft_cluster_GroupReport__Output } from '../../taskraft/cluster/GroupReport.js';

export interface NodeReport {
  'nodeId'?: (string);
  'incarnation'?: (string);
  'httpAddr'?: (string);
  'grpcAddr'?: (string);
  'groups'?: (_taskraft_cluster_GroupReport)[];
}

export interface NodeReport__Output {
  'nodeId': (string);
  'incarnation': (string);
  'httpAddr': (string);
  'grpcAddr': (string);
  'groups': (_taskraft_cluster_GroupReport__Output)[];
}
