// Original file: proto/cluster.proto


export interface JoinRequest {
  'nodeId'?: (string);
  'httpAddr'?: (string);
  'grpcAddr'?: (string);
  'incarnation'?: (string);
}

export interface JoinRequest__Output {
  'nodeId': (string);
  'httpAddr': (string);
  'grpcAddr': (string);
  'incarnation': (string);
}
