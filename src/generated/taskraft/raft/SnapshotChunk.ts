// Original file: proto/raft.proto

import type { GroupMessage as _taskraft_raft_GroupMessage, GroupMessage__Output as _taskraft_raft_GroupMessage__Output } from '../../taskraft/raft/GroupMessage.js';

export interface SnapshotChunk {
  'header'?: (_taskraft_raft_GroupMessage | null);
  'data'?: (Buffer | Uint8Array | string);
  'last'?: (boolean);
}

export interface SnapshotChunk__Output {
  'header': (_taskraft_raft_GroupMessage__Output | null);
  'data': (Buffer);
  'last': (boolean);
}
