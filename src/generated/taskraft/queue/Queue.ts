// Original file: proto/queue.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ProposeReply as _taskraft_queue_ProposeReply, ProposeReply__Output as _taskraft_queue_ProposeReply__Output } from '../../taskraft/queue/ProposeReply.js';
import type { ProposeRequest as _taskraft_queue_ProposeRequest, ProposeRequest__Output as _taskraft_queue_ProposeRequest__Output } from '../../taskraft/queue/ProposeRequest.js';
import type { ReadReply as _taskraft_queue_ReadReply, ReadReply__Output as _taskraft_queue_ReadReply__Output } from '../../taskraft/queue/ReadReply.js';
import type { ReadRequest as _taskraft_queue_ReadRequest, ReadRequest__Output as _taskraft_queue_ReadRequest__Output } from '../../taskraft/queue/ReadRequest.js';

export interface QueueClient extends grpc.Client {
  Propose(argument: _taskraft_queue_ProposeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_queue_ProposeReply__Output>): grpc.ClientUnaryCall;
  Propose(argument: _taskraft_queue_ProposeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_queue_ProposeReply__Output>): grpc.ClientUnaryCall;
  Propose(argument: _taskraft_queue_ProposeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_queue_ProposeReply__Output>): grpc.ClientUnaryCall;
  Propose(argument: _taskraft_queue_ProposeRequest, callback: grpc.requestCallback<_taskraft_queue_ProposeReply__Output>): grpc.ClientUnaryCall;
  propose(argument: _taskraft_queue_ProposeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_queue_ProposeReply__Output>): grpc.ClientUnaryCall;
  propose(argument: _taskraft_queue_ProposeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_queue_ProposeReply__Output>): grpc.ClientUnaryCall;
  propose(argument: _taskraft_queue_ProposeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_queue_ProposeReply__Output>): grpc.ClientUnaryCall;
  propose(argument: _taskraft_queue_ProposeRequest, callback: grpc.requestCallback<_taskraft_queue_ProposeReply__Output>): grpc.ClientUnaryCall;
  
  Read(argument: _taskraft_queue_ReadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_queue_ReadReply__Output>): grpc.ClientUnaryCall;
  Read(argument: _taskraft_queue_ReadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_queue_ReadReply__Output>): grpc.ClientUnaryCall;
  Read(argument: _taskraft_queue_ReadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_queue_ReadReply__Output>): grpc.ClientUnaryCall;
  Read(argument: _taskraft_queue_ReadRequest, callback: grpc.requestCallback<_taskraft_queue_ReadReply__Output>): grpc.ClientUnaryCall;
  read(argument: _taskraft_queue_ReadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_queue_ReadReply__Output>): grpc.ClientUnaryCall;
  read(argument: _taskraft_queue_ReadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_queue_ReadReply__Output>): grpc.ClientUnaryCall;
  read(argument: _taskraft_queue_ReadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_queue_ReadReply__Output>): grpc.ClientUnaryCall;
  read(argument: _taskraft_queue_ReadRequest, callback: grpc.requestCallback<_taskraft_queue_ReadReply__Output>): grpc.ClientUnaryCall;
  
}

export interface QueueHandlers extends grpc.UntypedServiceImplementation {
  Propose: grpc.handleUnaryCall<_taskraft_queue_ProposeRequest__Output, _taskraft_queue_ProposeReply>;
  
  Read: grpc.handleUnaryCall<_taskraft_queue_ReadRequest__Output, _taskraft_queue_ReadReply>;
  
}

export interface QueueDefinition extends grpc.ServiceDefinition {
  Propose: MethodDefinition<_taskraft_queue_ProposeRequest, _taskraft_queue_ProposeReply, _taskraft_queue_ProposeRequest__Output, _taskraft_queue_ProposeReply__Output>
  Read: MethodDefinition<_taskraft_queue_ReadRequest, _taskraft_queue_ReadReply, _taskraft_queue_ReadRequest__Output, _taskraft_queue_ReadReply__Output>
}
