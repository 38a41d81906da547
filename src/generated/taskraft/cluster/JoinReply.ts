// Original file: proto/cluster.proto


export interface JoinReply {
  'clusterId'?: (string);
  'viewJson'?: (string);
}

export interface JoinReply__Output {
  'clusterId': (string);
  'viewJson': (string);
}
