import type { NormalEntry } from '../raft/index.js';
import type { StateMachine } from './state-machine.js';

/**
 * The state machine of a partition that carries no data of its own: the leader's no-op entries
 * and membership changes are all its log holds. Partitions get the task queue's machine once the
 * queue (src/queue) plugs in through MultiRaftHost's `stateMachine` factory.
 */
export class EmptyStateMachine implements StateMachine<undefined> {
  apply(entries: readonly NormalEntry[]): undefined[] {
    return entries.map(() => undefined);
  }

  snapshot(): Uint8Array {
    return new Uint8Array(0);
  }

  restore(): void {}
}
