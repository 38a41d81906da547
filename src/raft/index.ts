export * from './types.js';
export * from './message.js';
export * from './errors.js';
export type { Storage } from './storage.js';
export { MemoryStorage } from './memory-storage.js';
export * from './config.js';
export type { Ready } from './ready.js';
export { RawNode, type RaftStatus, type ProgressStatus, type ProposalPosition, type DurableMark } from './raw-node.js';
