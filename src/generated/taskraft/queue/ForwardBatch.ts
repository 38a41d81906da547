// Original file: proto/queue.proto

import type { ProposeRequest as _taskraft_queue_ProposeRequest, ProposeRequest__Output as _taskraft_queue_ProposeRequest__Output } from '../../taskraft/queue/ProposeRequest.js';

export interface ForwardBatch {
  'requests'?: (_taskraft_queue_ProposeRequest)[];
}

export interface ForwardBatch__Output {
  'requests': (_taskraft_queue_ProposeRequest__Output)[];
}
