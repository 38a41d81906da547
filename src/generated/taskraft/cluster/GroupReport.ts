// Original file: proto/cluster.proto

import type { PeerProgress as _taskraft_cluster_PeerProgress, PeerProgress__Output as _taskraft_cluster_PeerProgress__Output } from '../../taskraft/cluster/PeerProgress.js';
import type { Long } from '@grpc/proto-loader';

export interface GroupReport {
  'group'?: (number);
  'role'?: (string);
  'leader'?: (string);
  'term'?: (number | string | Long);
  'commit'?: (number | string | Long);
  'applied'?: (number | string | Long);
  'lastIndex'?: (number | string | Long);
  'voters'?: (string)[];
  'learners'?: (string)[];
  'progress'?: (_taskraft_cluster_PeerProgress)[];
}

export interface GroupReport__Output {
  'group': (number);
  'role': (string);
  'leader': (string);
  'term': (number);
  'commit': (number);
  'applied': (number);
  'lastIndex': (number);
  'voters': (string)[];
  'learners': (string)[];
  'progress': (_taskraft_cluster_PeerProgress__Output)[];
}
