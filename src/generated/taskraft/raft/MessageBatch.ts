// Original file: proto/raft.proto


export interface MessageBatch {
  'frame'?: (Buffer | Uint8Array | string);
}

export interface MessageBatch__Output {
  'frame': (Buffer);
}
