// Original file: proto/raft.proto

export const EntryType = {
  ENTRY_TYPE_NORMAL: 'ENTRY_TYPE_NORMAL',
  ENTRY_TYPE_ADD_VOTER: 'ENTRY_TYPE_ADD_VOTER',
  ENTRY_TYPE_ADD_LEARNER: 'ENTRY_TYPE_ADD_LEARNER',
  ENTRY_TYPE_REMOVE_NODE: 'ENTRY_TYPE_REMOVE_NODE',
} as const;

export type EntryType =
  | 'ENTRY_TYPE_NORMAL'
  | 0
  | 'ENTRY_TYPE_ADD_VOTER'
  | 1
  | 'ENTRY_TYPE_ADD_LEARNER'
  | 2
  | 'ENTRY_TYPE_REMOVE_NODE'
  | 3

export type EntryType__Output = typeof EntryType[keyof typeof EntryType]
