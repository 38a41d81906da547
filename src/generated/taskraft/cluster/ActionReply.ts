// Original file: proto/cluster.proto


export interface ActionReply {
  'ok'?: (boolean);
  'code'?: (string);
  'message'?: (string);
  'leaderHint'?: (string);
}

export interface ActionReply__Output {
  'ok': (boolean);
  'code': (string);
  'message': (string);
  'leaderHint': (string);
}
