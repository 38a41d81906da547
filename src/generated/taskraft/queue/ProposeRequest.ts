// Original file: proto/queue.proto


export interface ProposeRequest {
  'partition'?: (number);
  'opsJson'?: (string);
}

export interface ProposeRequest__Output {
  'partition': (number);
  'opsJson': (string);
}
