// Original file: proto/queue.proto


export interface ProposeReply {
  'ok'?: (boolean);
  'resultsJson'?: (string);
  'code'?: (string);
  'message'?: (string);
  'leaderHint'?: (string);
}

export interface ProposeReply__Output {
  'ok': (boolean);
  'resultsJson': (string);
  'code': (string);
  'message': (string);
  'leaderHint': (string);
}
