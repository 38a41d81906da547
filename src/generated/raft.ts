import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Entry as _taskraft_raft_Entry, Entry__Output as _taskraft_raft_Entry__Output } from './taskraft/raft/Entry.js';
import type { GroupMessage as _taskraft_raft_GroupMessage, GroupMessage__Output as _taskraft_raft_GroupMessage__Output } from './taskraft/raft/GroupMessage.js';
import type { MessageBatch as _taskraft_raft_MessageBatch, MessageBatch__Output as _taskraft_raft_MessageBatch__Output } from './taskraft/raft/MessageBatch.js';
import type { RaftTransportClient as _taskraft_raft_RaftTransportClient, RaftTransportDefinition as _taskraft_raft_RaftTransportDefinition } from './taskraft/raft/RaftTransport.js';
import type { SnapshotChunk as _taskraft_raft_SnapshotChunk, SnapshotChunk__Output as _taskraft_raft_SnapshotChunk__Output } from './taskraft/raft/SnapshotChunk.js';
import type { SnapshotMetadata as _taskraft_raft_SnapshotMetadata, SnapshotMetadata__Output as _taskraft_raft_SnapshotMetadata__Output } from './taskraft/raft/SnapshotMetadata.js';
import type { SnapshotReceived as _taskraft_raft_SnapshotReceived, SnapshotReceived__Output as _taskraft_raft_SnapshotReceived__Output } from './taskraft/raft/SnapshotReceived.js';
import type { StreamClosed as _taskraft_raft_StreamClosed, StreamClosed__Output as _taskraft_raft_StreamClosed__Output } from './taskraft/raft/StreamClosed.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  taskraft: {
    raft: {
      Entry: MessageTypeDefinition<_taskraft_raft_Entry, _taskraft_raft_Entry__Output>
      EntryType: EnumTypeDefinition
      GroupMessage: MessageTypeDefinition<_taskraft_raft_GroupMessage, _taskraft_raft_GroupMessage__Output>
      MessageBatch: MessageTypeDefinition<_taskraft_raft_MessageBatch, _taskraft_raft_MessageBatch__Output>
      MessageType: EnumTypeDefinition
      RaftTransport: SubtypeConstructor<typeof grpc.Client, _taskraft_raft_RaftTransportClient> & { service: _taskraft_raft_RaftTransportDefinition }
      SnapshotChunk: MessageTypeDefinition<_taskraft_raft_SnapshotChunk, _taskraft_raft_SnapshotChunk__Output>
      SnapshotMetadata: MessageTypeDefinition<_taskraft_raft_SnapshotMetadata, _taskraft_raft_SnapshotMetadata__Output>
      SnapshotReceived: MessageTypeDefinition<_taskraft_raft_SnapshotReceived, _taskraft_raft_SnapshotReceived__Output>
      StreamClosed: MessageTypeDefinition<_taskraft_raft_StreamClosed, _taskraft_raft_StreamClosed__Output>
    }
  }
}

