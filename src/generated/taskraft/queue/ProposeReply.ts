// Original file: proto/queue.proto

import type { Long } from '@grpc/proto-loader';

export interface ProposeReply {
  'ok'?: (boolean);
  'resultsJson'?: (string);
  'code'?: (string);
  'message'?: (string);
  'leaderHint'?: (string);
  'id'?: (number | string | Long);
}

export interface ProposeReply__Output {
  'ok': (boolean);
  'resultsJson': (string);
  'code': (string);
  'message': (string);
  'leaderHint': (string);
  'id': (number);
}
