// Original file: proto/queue.proto


export interface ReadRequest {
  'partition'?: (number);
  'taskId'?: (string);
  'linearizable'?: (boolean);
}

export interface ReadRequest__Output {
  'partition': (number);
  'taskId': (string);
  'linearizable': (boolean);
}
