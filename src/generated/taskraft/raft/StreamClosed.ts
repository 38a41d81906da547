// Original file: proto/raft.proto


export interface StreamClosed {
}

export interface StreamClosed__Output {
}
