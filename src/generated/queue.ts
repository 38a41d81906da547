import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ForwardBatch as _taskraft_queue_ForwardBatch, ForwardBatch__Output as _taskraft_queue_ForwardBatch__Output } from './taskraft/queue/ForwardBatch.js';
import type { ForwardReplies as _taskraft_queue_ForwardReplies, ForwardReplies__Output as _taskraft_queue_ForwardReplies__Output } from './taskraft/queue/ForwardReplies.js';
import type { ProposeReply as _taskraft_queue_ProposeReply, ProposeReply__Output as _taskraft_queue_ProposeReply__Output } from './taskraft/queue/ProposeReply.js';
import type { ProposeRequest as _taskraft_queue_ProposeRequest, ProposeRequest__Output as _taskraft_queue_ProposeRequest__Output } from './taskraft/queue/ProposeRequest.js';
import type { QueueClient as _taskraft_queue_QueueClient, QueueDefinition as _taskraft_queue_QueueDefinition } from './taskraft/queue/Queue.js';
import type { ReadReply as _taskraft_queue_ReadReply, ReadReply__Output as _taskraft_queue_ReadReply__Output } from './taskraft/queue/ReadReply.js';
import type { ReadRequest as _taskraft_queue_ReadRequest, ReadRequest__Output as _taskraft_queue_ReadRequest__Output } from './taskraft/queue/ReadRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  taskraft: {
    queue: {
      ForwardBatch: MessageTypeDefinition<_taskraft_queue_ForwardBatch, _taskraft_queue_ForwardBatch__Output>
      ForwardReplies: MessageTypeDefinition<_taskraft_queue_ForwardReplies, _taskraft_queue_ForwardReplies__Output>
      ProposeReply: MessageTypeDefinition<_taskraft_queue_ProposeReply, _taskraft_queue_ProposeReply__Output>
      ProposeRequest: MessageTypeDefinition<_taskraft_queue_ProposeRequest, _taskraft_queue_ProposeRequest__Output>
      Queue: SubtypeConstructor<typeof grpc.Client, _taskraft_queue_QueueClient> & { service: _taskraft_queue_QueueDefinition }
      ReadReply: MessageTypeDefinition<_taskraft_queue_ReadReply, _taskraft_queue_ReadReply__Output>
      ReadRequest: MessageTypeDefinition<_taskraft_queue_ReadRequest, _taskraft_queue_ReadRequest__Output>
    }
  }
}

