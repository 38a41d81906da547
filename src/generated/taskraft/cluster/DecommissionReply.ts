// Original file: proto/cluster.proto


export interface DecommissionReply {
  'found'?: (boolean);
}

export interface DecommissionReply__Output {
  'found': (boolean);
}
