// Original file: proto/cluster.proto


export interface ViewReply {
  'viewJson'?: (string);
}

export interface ViewReply__Output {
  'viewJson': (string);
}
