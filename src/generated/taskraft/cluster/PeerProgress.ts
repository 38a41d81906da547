// Original file: proto/cluster.proto

import type { Long } from '@grpc/proto-loader';

export interface PeerProgress {
  'nodeId'?: (string);
  'match'?: (number | string | Long);
  'state'?: (string);
}

export interface PeerProgress__Output {
  'nodeId': (string);
  'match': (number);
  'state': (string);
}
