// Original file: proto/queue.proto

import type { Long } from '@grpc/proto-loader';

export interface ProposeRequest {
  'id'?: (number | string | Long);
  'partition'?: (number);
  'opsJson'?: (string);
}

export interface ProposeRequest__Output {
  'id': (number);
  'partition': (number);
  'opsJson': (string);
}
