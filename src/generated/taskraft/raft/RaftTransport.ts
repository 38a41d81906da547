// Original file: proto/raft.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { MessageBatch as _taskraft_raft_MessageBatch, MessageBatch__Output as _taskraft_raft_MessageBatch__Output } from '../../taskraft/raft/MessageBatch.js';
import type { SnapshotChunk as _taskraft_raft_SnapshotChunk, SnapshotChunk__Output as _taskraft_raft_SnapshotChunk__Output } from '../../taskraft/raft/SnapshotChunk.js';
import type { SnapshotReceived as _taskraft_raft_SnapshotReceived, SnapshotReceived__Output as _taskraft_raft_SnapshotReceived__Output } from '../../taskraft/raft/SnapshotReceived.js';
import type { StreamClosed as _taskraft_raft_StreamClosed, StreamClosed__Output as _taskraft_raft_StreamClosed__Output } from '../../taskraft/raft/StreamClosed.js';

export interface RaftTransportClient extends grpc.Client {
  SendSnapshot(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_raft_SnapshotReceived__Output>): grpc.ClientWritableStream<_taskraft_raft_SnapshotChunk>;
  SendSnapshot(metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_raft_SnapshotReceived__Output>): grpc.ClientWritableStream<_taskraft_raft_SnapshotChunk>;
  SendSnapshot(options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_raft_SnapshotReceived__Output>): grpc.ClientWritableStream<_taskraft_raft_SnapshotChunk>;
  SendSnapshot(callback: grpc.requestCallback<_taskraft_raft_SnapshotReceived__Output>): grpc.ClientWritableStream<_taskraft_raft_SnapshotChunk>;
  sendSnapshot(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_raft_SnapshotReceived__Output>): grpc.ClientWritableStream<_taskraft_raft_SnapshotChunk>;
  sendSnapshot(metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_raft_SnapshotReceived__Output>): grpc.ClientWritableStream<_taskraft_raft_SnapshotChunk>;
  sendSnapshot(options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_raft_SnapshotReceived__Output>): grpc.ClientWritableStream<_taskraft_raft_SnapshotChunk>;
  sendSnapshot(callback: grpc.requestCallback<_taskraft_raft_SnapshotReceived__Output>): grpc.ClientWritableStream<_taskraft_raft_SnapshotChunk>;
  
  Stream(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_raft_StreamClosed__Output>): grpc.ClientWritableStream<_taskraft_raft_MessageBatch>;
  Stream(metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_raft_StreamClosed__Output>): grpc.ClientWritableStream<_taskraft_raft_MessageBatch>;
  Stream(options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_raft_StreamClosed__Output>): grpc.ClientWritableStream<_taskraft_raft_MessageBatch>;
  Stream(callback: grpc.requestCallback<_taskraft_raft_StreamClosed__Output>): grpc.ClientWritableStream<_taskraft_raft_MessageBatch>;
  stream(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_raft_StreamClosed__Output>): grpc.ClientWritableStream<_taskraft_raft_MessageBatch>;
  stream(metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_raft_StreamClosed__Output>): grpc.ClientWritableStream<_taskraft_raft_MessageBatch>;
  stream(options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_raft_StreamClosed__Output>): grpc.ClientWritableStream<_taskraft_raft_MessageBatch>;
  stream(callback: grpc.requestCallback<_taskraft_raft_StreamClosed__Output>): grpc.ClientWritableStream<_taskraft_raft_MessageBatch>;
  
}

export interface RaftTransportHandlers extends grpc.UntypedServiceImplementation {
  SendSnapshot: grpc.handleClientStreamingCall<_taskraft_raft_SnapshotChunk__Output, _taskraft_raft_SnapshotReceived>;
  
  Stream: grpc.handleClientStreamingCall<_taskraft_raft_MessageBatch__Output, _taskraft_raft_StreamClosed>;
  
}

export interface RaftTransportDefinition extends grpc.ServiceDefinition {
  SendSnapshot: MethodDefinition<_taskraft_raft_SnapshotChunk, _taskraft_raft_SnapshotReceived, _taskraft_raft_SnapshotChunk__Output, _taskraft_raft_SnapshotReceived__Output>
  Stream: MethodDefinition<_taskraft_raft_MessageBatch, _taskraft_raft_StreamClosed, _taskraft_raft_MessageBatch__Output, _taskraft_raft_StreamClosed__Output>
}
