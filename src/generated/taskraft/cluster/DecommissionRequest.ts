// Original file: proto/cluster.proto


export interface DecommissionRequest {
  'nodeId'?: (string);
}

export interface DecommissionRequest__Output {
  'nodeId': (string);
}
