import { decodeTaskRowText, taskRowText } from './task-row.js';
import type { Task, TaskId, TaskStatus } from './task.js';

export type TerminalStatus = Extract<TaskStatus, 'completed' | 'dead' | 'cancelled'>;

/**
 * A task in a terminal state as a partition keeps it in memory until retention removes it: its
 * row text (the row it has in RocksDB) and the few fields that stats, listing filters and retention
 * read, instead of the Task. Terminal tasks are most of what a node holds (10,000 per partition by
 * default, every partition on three nodes), and each major collection of V8 visits every object
 * the heap holds: a completed Task with a small payload and result is ~11 objects and boxed
 * numbers (~680 bytes of heap with its index entries), this is 4 (~500 bytes: the row is one
 * string). On the 2-core benchmark machine a major collection of a node holding ~100,000 terminal
 * tasks kept a core busy for ~150 ms, and every node's commits slowed down meanwhile.
 * Reads decode the row (a few microseconds): status reads, listings, re-drives.
 */
export class FinishedTask {
  readonly id: TaskId;
  readonly status: TerminalStatus;
  readonly type: string;
  readonly queue: string;
  readonly finishedAt: number;
  private readonly row: string;

  /** `status` is `t.status`, as the caller's switch narrowed it. */
  constructor(t: Task, status: TerminalStatus) {
    this.id = t.id;
    this.status = status;
    this.type = t.type;
    this.queue = t.queue;
    this.finishedAt = t.finishedAt ?? 0;
    this.row = taskRowText(t);
  }

  /** The row as RocksDB holds it (the same text the constructor encoded). */
  rowText(): string {
    return this.row;
  }

  /** A new copy of the task. */
  task(): Task {
    return decodeTaskRowText(this.row);
  }
}
