// Original file: proto/raft.proto

import type { EntryType as _taskraft_raft_EntryType, EntryType__Output as _taskraft_raft_EntryType__Output } from '../../taskraft/raft/EntryType.js';
import type { Long } from '@grpc/proto-loader';

export interface Entry {
  'term'?: (number | string | Long);
  'index'?: (number | string | Long);
  'type'?: (_taskraft_raft_EntryType);
  'data'?: (Buffer | Uint8Array | string);
  'nodeId'?: (string);
}

export interface Entry__Output {
  'term': (number);
  'index': (number);
  'type': (_taskraft_raft_EntryType__Output);
  'data': (Buffer);
  'nodeId': (string);
}
