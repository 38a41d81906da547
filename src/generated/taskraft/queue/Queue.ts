// Original file: proto/queue.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ForwardBatch as _taskraft_queue_ForwardBatch, ForwardBatch__Output as _taskraft_queue_ForwardBatch__Output } from '../../taskraft/queue/ForwardBatch.js';
import type { ForwardReplies as _taskraft_queue_ForwardReplies, ForwardReplies__Output as _taskraft_queue_ForwardReplies__Output } from '../../taskraft/queue/ForwardReplies.js';
import type { ReadReply as _taskraft_queue_ReadReply, ReadReply__Output as _taskraft_queue_ReadReply__Output } from '../../taskraft/queue/ReadReply.js';
import type { ReadRequest as _taskraft_queue_ReadRequest, ReadRequest__Output as _taskraft_queue_ReadRequest__Output } from '../../taskraft/queue/ReadRequest.js';

export interface QueueClient extends grpc.Client {
  Forward(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_taskraft_queue_ForwardBatch, _taskraft_queue_ForwardReplies__Output>;
  Forward(options?: grpc.CallOptions): grpc.ClientDuplexStream<_taskraft_queue_ForwardBatch, _taskraft_queue_ForwardReplies__Output>;
  forward(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_taskraft_queue_ForwardBatch, _taskraft_queue_ForwardReplies__Output>;
  forward(options?: grpc.CallOptions): grpc.ClientDuplexStream<_taskraft_queue_ForwardBatch, _taskraft_queue_ForwardReplies__Output>;
  
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
  Forward: grpc.handleBidiStreamingCall<_taskraft_queue_ForwardBatch__Output, _taskraft_queue_ForwardReplies>;
  
  Read: grpc.handleUnaryCall<_taskraft_queue_ReadRequest__Output, _taskraft_queue_ReadReply>;
  
}

export interface QueueDefinition extends grpc.ServiceDefinition {
  Forward: MethodDefinition<_taskraft_queue_ForwardBatch, _taskraft_queue_ForwardReplies, _taskraft_queue_ForwardBatch__Output, _taskraft_queue_ForwardReplies__Output>
  Read: MethodDefinition<_taskraft_queue_ReadRequest, _taskraft_queue_ReadReply, _taskraft_queue_ReadRequest__Output, _taskraft_queue_ReadReply__Output>
}
