// Original file: proto/raft.proto

export const MessageType = {
  MESSAGE_TYPE_UNSPECIFIED: 'MESSAGE_TYPE_UNSPECIFIED',
  APP: 'APP',
  APP_RESP: 'APP_RESP',
  VOTE: 'VOTE',
  PRE_VOTE: 'PRE_VOTE',
  VOTE_RESP: 'VOTE_RESP',
  PRE_VOTE_RESP: 'PRE_VOTE_RESP',
  SNAP: 'SNAP',
  HEARTBEAT: 'HEARTBEAT',
  HEARTBEAT_RESP: 'HEARTBEAT_RESP',
  TIMEOUT_NOW: 'TIMEOUT_NOW',
  PROP: 'PROP',
  READ_INDEX: 'READ_INDEX',
  READ_INDEX_RESP: 'READ_INDEX_RESP',
  TRANSFER_LEADER: 'TRANSFER_LEADER',
} as const;

export type MessageType =
  | 'MESSAGE_TYPE_UNSPECIFIED'
  | 0
  | 'APP'
  | 1
  | 'APP_RESP'
  | 2
  | 'VOTE'
  | 3
  | 'PRE_VOTE'
  | 4
  | 'VOTE_RESP'
  | 5
  | 'PRE_VOTE_RESP'
  | 6
  | 'SNAP'
  | 7
  | 'HEARTBEAT'
  | 8
  | 'HEARTBEAT_RESP'
  | 9
  | 'TIMEOUT_NOW'
  | 10
  | 'PROP'
  | 11
  | 'READ_INDEX'
  | 12
  | 'READ_INDEX_RESP'
  | 13
  | 'TRANSFER_LEADER'
  | 14

export type MessageType__Output = typeof MessageType[keyof typeof MessageType]
