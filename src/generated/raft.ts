import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { MessageBatch as _taskraft_raft_MessageBatch, MessageBatch__Output as _taskraft_raft_MessageBatch__Output } from './taskraft/raft/MessageBatch.js';
import type { RaftTransportClient as _taskraft_raft_RaftTransportClient, RaftTransportDefinition as _taskraft_raft_RaftTransportDefinition } from './taskraft/raft/RaftTransport.js';
import type { SnapshotChunk as _taskraft_raft_SnapshotChunk, SnapshotChunk__Output as _taskraft_raft_SnapshotChunk__Output } from './taskraft/raft/SnapshotChunk.js';
import type { SnapshotReceived as _taskraft_raft_SnapshotReceived, SnapshotReceived__Output as _taskraft_raft_SnapshotReceived__Output } from './taskraft/raft/SnapshotReceived.js';
import type { StreamClosed as _taskraft_raft_StreamClosed, StreamClosed__Output as _taskraft_raft_StreamClosed__Output } from './taskraft/raft/StreamClosed.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  taskraft: {
    raft: {
      MessageBatch: MessageTypeDefinition<_taskraft_raft_MessageBatch, _taskraft_raft_MessageBatch__Output>
      RaftTransport: SubtypeConstructor<typeof grpc.Client, _taskraft_raft_RaftTransportClient> & { service: _taskraft_raft_RaftTransportDefinition }
      SnapshotChunk: MessageTypeDefinition<_taskraft_raft_SnapshotChunk, _taskraft_raft_SnapshotChunk__Output>
      SnapshotReceived: MessageTypeDefinition<_taskraft_raft_SnapshotReceived, _taskraft_raft_SnapshotReceived__Output>
      StreamClosed: MessageTypeDefinition<_taskraft_raft_StreamClosed, _taskraft_raft_StreamClosed__Output>
    }
  }
}

