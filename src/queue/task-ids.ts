import { randomBytes } from 'node:crypto';
import { taskId, type TaskId } from './task.js';

/** Client-given IDs: short, printable, safe in URLs and keys. */
export const TASK_ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';

/**
 * A new ID that sorts by creation time: milliseconds in base 36 (fixed width), then 48 random bits,
 * so IDs made on different nodes in the same millisecond do not collide.
 */
export function newTaskId(now: number = Date.now()): TaskId {
  return taskId(`${now.toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`);
}
