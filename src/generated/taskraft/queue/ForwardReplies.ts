// Original file: proto/queue.proto

import type { ProposeReply as _taskraft_queue_ProposeReply, ProposeReply__Output as _taskraft_queue_ProposeReply__Output } from '../../taskraft/queue/ProposeReply.js';

export interface ForwardReplies {
  'replies'?: (_taskraft_queue_ProposeReply)[];
}

export interface ForwardReplies__Output {
  'replies': (_taskraft_queue_ProposeReply__Output)[];
}
