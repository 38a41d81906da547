// Original file: proto/raft.proto

import type { GroupMessage as _taskraft_raft_GroupMessage, GroupMessage__Output as _taskraft_raft_GroupMessage__Output } from '../../taskraft/raft/GroupMessage.js';

export interface MessageBatch {
  'messages'?: (_taskraft_raft_GroupMessage)[];
}

export interface MessageBatch__Output {
  'messages': (_taskraft_raft_GroupMessage__Output)[];
}
