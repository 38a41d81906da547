// Original file: proto/raft.proto

import type { MessageType as _taskraft_raft_MessageType, MessageType__Output as _taskraft_raft_MessageType__Output } from '../../taskraft/raft/MessageType.js';
import type { Entry as _taskraft_raft_Entry, Entry__Output as _taskraft_raft_Entry__Output } from '../../taskraft/raft/Entry.js';
import type { SnapshotMetadata as _taskraft_raft_SnapshotMetadata, SnapshotMetadata__Output as _taskraft_raft_SnapshotMetadata__Output } from '../../taskraft/raft/SnapshotMetadata.js';
import type { Long } from '@grpc/proto-loader';

export interface GroupMessage {
  'group'?: (number);
  'type'?: (_taskraft_raft_MessageType);
  'from'?: (string);
  'to'?: (string);
  'term'?: (number | string | Long);
  'index'?: (number | string | Long);
  'logTerm'?: (number | string | Long);
  'commit'?: (number | string | Long);
  'entries'?: (_taskraft_raft_Entry)[];
  'reject'?: (boolean);
  'rejectHint'?: (number | string | Long);
  'transfer'?: (boolean);
  'hasContext'?: (boolean);
  'context'?: (string);
  'transferee'?: (string);
  'snapshot'?: (_taskraft_raft_SnapshotMetadata | null);
}

export interface GroupMessage__Output {
  'group': (number);
  'type': (_taskraft_raft_MessageType__Output);
  'from': (string);
  'to': (string);
  'term': (number);
  'index': (number);
  'logTerm': (number);
  'commit': (number);
  'entries': (_taskraft_raft_Entry__Output)[];
  'reject': (boolean);
  'rejectHint': (number);
  'transfer': (boolean);
  'hasContext': (boolean);
  'context': (string);
  'transferee': (string);
  'snapshot': (_taskraft_raft_SnapshotMetadata__Output | null);
}
