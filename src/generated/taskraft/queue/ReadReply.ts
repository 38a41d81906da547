// Original file: proto/queue.proto


export interface ReadReply {
  'ok'?: (boolean);
  'taskJson'?: (string);
  'code'?: (string);
  'message'?: (string);
  'leaderHint'?: (string);
}

export interface ReadReply__Output {
  'ok': (boolean);
  'taskJson': (string);
  'code': (string);
  'message': (string);
  'leaderHint': (string);
}
