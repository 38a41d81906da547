/** The task model: what a client submits and what the queue keeps about it. */

export type TaskId = string & { readonly __brand: 'TaskId' };
export const taskId = (s: string): TaskId => s as TaskId;

/**
 * pending: runnable now. delayed: waits for runAt (a new task with a delay, or a failed attempt
 * waiting for its retry). running: leased to a worker. completed / dead / cancelled: terminal.
 */
export type TaskStatus = 'pending' | 'delayed' | 'running' | 'completed' | 'dead' | 'cancelled';

export const TERMINAL: ReadonlySet<TaskStatus> = new Set(['completed', 'dead', 'cancelled']);

export interface Backoff {
  readonly type: 'fixed' | 'exponential';
  /** First retry delay. */
  readonly delayMs: number;
  /** Upper bound on any one delay. */
  readonly maxDelayMs: number;
  /** Exponential only: a random fraction of the delay (0..1) subtracted, so retries spread out. */
  readonly jitter: number;
}

/** What a submit carries (after defaults are applied). */
export interface TaskSpec {
  readonly id: TaskId;
  readonly queue: string;
  readonly type: string;
  readonly payload: unknown;
  /** Higher runs first. */
  readonly priority: number;
  /** Absolute time (ms since the epoch) before which the task does not run; null: now. */
  readonly runAt: number | null;
  /** A delay counted from acceptance, which the leader turns into runAt when it applies the
   * submit (so time spent forwarding or retrying does not eat into it). */
  readonly delayMs: number | null;
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  /** How long one attempt may hold its lease without extending it. */
  readonly timeoutMs: number;
}

export interface Task extends TaskSpec {
  readonly status: TaskStatus;
  /** Attempts started (claims), including the running one. */
  readonly attempts: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Submission order within the partition: FIFO among equal priorities. */
  readonly seq: number;
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: number | null;
  /** The log index of the claim that leased the task: a worker must present it to finish. */
  readonly fencingToken: number | null;
  /**
   * What the running attempt last reported (JSON, up to MAX_PROGRESS_BYTES), with a heartbeat;
   * null until an attempt reports. A new attempt starts from null; a dead or completed task keeps
   * its last attempt's, which shows how far it got.
   */
  readonly progress: unknown;
  readonly result: unknown;
  readonly lastError: string | null;
  readonly finishedAt: number | null;
}

/**
 * The largest progress report, as JSON bytes: every report is a log entry on three disks, and a
 * copy lives in the task's row until the task is removed.
 */
export const MAX_PROGRESS_BYTES = 16 * 1024;

/**
 * What is wrong with `value` as a JSON field of at most `max` bytes (payload, progress), or null:
 * not JSON at all (undefined, a function, a BigInt, a cycle), or too large as UTF-8 JSON, which is
 * what the log and the rows hold (a payload of CJK text takes three bytes a character).
 */
export function jsonSizeProblem(what: string, value: unknown, max: number): string | null {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) return `${what} must be a JSON value`;
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes > max ? `${what} is ${bytes} bytes as JSON, over the limit of ${max}` : null;
}

/** The delay before retry number `attempt` (1 = after the first failure). */
export function backoffDelay(b: Backoff, attempt: number, random: number): number {
  const base = b.type === 'fixed' ? b.delayMs : b.delayMs * 2 ** Math.min(attempt - 1, 30);
  const capped = Math.min(base, b.maxDelayMs);
  return b.type === 'exponential' ? Math.round(capped * (1 - b.jitter * random)) : capped;
}

/** A task's fields, writable: the state machine builds each new version of a task in one. */
export type TaskDraft = { -readonly [K in keyof Task]: Task[K] };

/**
 * A copy of `t` with every field in one fixed order. The state machine makes a new version of a
 * task on every change; building versions by object spread gave each one a fresh hidden class
 * (the spread source is a parsed entry whose shape varies), and the resulting inline-cache misses
 * and map transitions took about 5% of a loaded cluster's CPU. One shape keeps them monomorphic.
 */
export function draftOf(t: Task): TaskDraft {
  return {
    id: t.id,
    queue: t.queue,
    type: t.type,
    payload: t.payload,
    priority: t.priority,
    runAt: t.runAt,
    delayMs: t.delayMs,
    maxAttempts: t.maxAttempts,
    backoff: t.backoff,
    timeoutMs: t.timeoutMs,
    status: t.status,
    attempts: t.attempts,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    seq: t.seq,
    leaseOwner: t.leaseOwner,
    leaseExpiresAt: t.leaseExpiresAt,
    fencingToken: t.fencingToken,
    progress: t.progress,
    result: t.result,
    lastError: t.lastError,
    finishedAt: t.finishedAt,
  };
}

/** When a submitted task may first run: its runAt, else acceptance plus its delay; null: at once. */
export function firstRunAt(spec: TaskSpec, now: number): number | null {
  return spec.runAt ?? (spec.delayMs !== null && spec.delayMs > 0 ? now + spec.delayMs : null);
}

/** A new task from what was submitted, in the same field order as draftOf. */
export function newTask(spec: TaskSpec, status: 'pending' | 'delayed', runAt: number | null, now: number, seq: number): Task {
  return {
    id: spec.id,
    queue: spec.queue,
    type: spec.type,
    payload: spec.payload,
    priority: spec.priority,
    runAt,
    delayMs: spec.delayMs,
    maxAttempts: spec.maxAttempts,
    backoff: spec.backoff,
    timeoutMs: spec.timeoutMs,
    status,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
    seq,
    leaseOwner: null,
    leaseExpiresAt: null,
    fencingToken: null,
    progress: null,
    result: null,
    lastError: null,
    finishedAt: null,
  };
}
