import type { Task, TaskId, TaskSpec } from './task.js';

/**
 * One log entry of a partition: operations applied in order, with the time and a random number
 * the leader drew when it proposed them. Apply uses these and never a clock or an rng of its own,
 * so every replica computes the same state.
 */
export interface QueueEntry {
  readonly now: number;
  /** In [0, 1): backoff jitter. */
  readonly random: number;
  readonly ops: readonly QueueOp[];
}

export type QueueOp =
  | { readonly op: 'submit'; readonly task: TaskSpec }
  /** Lease up to `max` runnable tasks (priority first, then FIFO), optionally of some types only. */
  | { readonly op: 'claim'; readonly owner: string; readonly max: number; readonly types: readonly string[] | null }
  /** A heartbeat: the lease runs for the task's timeout from now; `progress`, if given, is recorded. */
  | { readonly op: 'extend'; readonly id: TaskId; readonly token: number; readonly progress?: unknown }
  | { readonly op: 'complete'; readonly id: TaskId; readonly token: number; readonly result: unknown }
  | { readonly op: 'fail'; readonly id: TaskId; readonly token: number; readonly error: string }
  /**
   * Withdraws a running attempt (its node is stopping): the task is pending again at its old place
   * in the queue, and the attempt does not count against maxAttempts.
   */
  | { readonly op: 'release'; readonly id: TaskId; readonly token: number }
  | { readonly op: 'cancel'; readonly id: TaskId }
  /** Re-drive a dead task: pending again with a fresh budget of attempts. */
  | { readonly op: 'retry'; readonly id: TaskId }
  /** Re-drive up to `max` dead tasks of a queue and type (null: any), the first by ID. */
  | { readonly op: 'retryDead'; readonly queue: string | null; readonly type: string | null; readonly max: number }
  /** Every lease expired by `now` counts as a failed attempt. */
  | { readonly op: 'expire' }
  /** Forget terminal tasks beyond the newest `keep`, or older than `maxAgeMs`. */
  | { readonly op: 'sweep'; readonly keep: number; readonly maxAgeMs: number };

export type QueueErrorCode = 'ERR_TASK_NOT_FOUND' | 'ERR_STALE_TOKEN' | 'ERR_INVALID_STATE';

export type OpResult =
  | { readonly ok: true; readonly task: Task; readonly created?: boolean }
  | { readonly ok: true; readonly tasks: readonly Task[] }
  | { readonly ok: true; readonly count: number }
  | { readonly ok: false; readonly code: QueueErrorCode; readonly message: string };

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function encodeEntry(e: QueueEntry): Uint8Array {
  return utf8Encoder.encode(JSON.stringify(e));
}

export function decodeEntry(data: Uint8Array): QueueEntry {
  return JSON.parse(utf8Decoder.decode(data)) as QueueEntry;
}
