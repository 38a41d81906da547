import type { Backoff, Task, TaskId, TaskStatus } from './task.js';

/**
 * A task's row in RocksDB: its fields' values in a fixed order, as a JSON array behind a format
 * number. Every change of a task rewrites its row on all three replicas, and the rows go through
 * the WAL, the memtable, flushes and compactions (levels 2 and up are ZSTD-compressed by the
 * binding): as an object with its field names a row of a plain task took ~430 bytes, as values
 * only ~170, and serializing an array skips writing 25 keys.
 *
 * Rows of format 1 (before tasks had `progress`) and rows written as objects (before this format)
 * are still read.
 */
const FORMAT = 2;
/** The format number and the task's 25 values (backoff's four inline). */
const FIELDS = 26;
/** Format 1: the same values but `progress`, which was appended as the last one. */
const FIELDS_V1 = 25;

const utf8Decoder = new TextDecoder();

/**
 * Buffer.from takes small results from Node's shared 8 KB pool, where TextEncoder.encode allocates
 * (malloc) and registers a backing store for each; a row lives only until the next write takes it.
 */
export function encodeTaskRow(t: Task): Uint8Array {
  return Buffer.from(taskRowText(t), 'utf8');
}

/** The row as text (what encodeTaskRow writes as UTF-8). */
export function taskRowText(t: Task): string {
  const b = t.backoff;
  return JSON.stringify([
    FORMAT,
    t.id,
    t.queue,
    t.type,
    t.payload,
    t.priority,
    t.runAt,
    t.delayMs,
    t.maxAttempts,
    b.type,
    b.delayMs,
    b.maxDelayMs,
    b.jitter,
    t.timeoutMs,
    t.status,
    t.attempts,
    t.createdAt,
    t.updatedAt,
    t.seq,
    t.leaseOwner,
    t.leaseExpiresAt,
    t.fencingToken,
    t.result,
    t.lastError,
    t.finishedAt,
    t.progress,
  ]);
}

export class TaskRowError extends Error {
  readonly code = 'ERR_BAD_TASK_ROW';
}

export function decodeTaskRow(bytes: Uint8Array): Task {
  return decodeTaskRowText(utf8Decoder.decode(bytes));
}

export function decodeTaskRowText(text: string): Task {
  return decodeTaskRowValue(JSON.parse(text));
}

/** A row already parsed from JSON (rows inside a snapshot are). */
export function decodeTaskRowValue(v: unknown): Task {
  if (!Array.isArray(v)) return { ...(v as Task), progress: (v as Partial<Task>).progress ?? null };
  if (!((v[0] === FORMAT && v.length === FIELDS) || (v[0] === 1 && v.length === FIELDS_V1))) throw new TaskRowError(`unknown task row format ${String(v[0])} (${v.length} fields)`);
  const backoff: Backoff = { type: v[9] as Backoff['type'], delayMs: v[10] as number, maxDelayMs: v[11] as number, jitter: v[12] as number };
  // The field order of newTask and draftOf, so rows loaded at start share their hidden class.
  return {
    id: v[1] as TaskId,
    queue: v[2] as string,
    type: v[3] as string,
    payload: v[4] as unknown,
    priority: v[5] as number,
    runAt: v[6] as number | null,
    delayMs: v[7] as number | null,
    maxAttempts: v[8] as number,
    backoff,
    timeoutMs: v[13] as number,
    status: v[14] as TaskStatus,
    attempts: v[15] as number,
    createdAt: v[16] as number,
    updatedAt: v[17] as number,
    seq: v[18] as number,
    leaseOwner: v[19] as string | null,
    leaseExpiresAt: v[20] as number | null,
    fencingToken: v[21] as number | null,
    progress: (v[25] as unknown) ?? null,
    result: v[22] as unknown,
    lastError: v[23] as string | null,
    finishedAt: v[24] as number | null,
  };
}
