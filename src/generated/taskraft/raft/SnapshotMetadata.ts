// Original file: proto/raft.proto

import type { Long } from '@grpc/proto-loader';

export interface SnapshotMetadata {
  'index'?: (number | string | Long);
  'term'?: (number | string | Long);
  'voters'?: (string)[];
  'learners'?: (string)[];
}

export interface SnapshotMetadata__Output {
  'index': (number);
  'term': (number);
  'voters': (string)[];
  'learners': (string)[];
}
