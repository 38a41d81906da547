import type { QueueErrorCode } from './commands.js';

/** Errors of the queue layer, each with a stable code the HTTP layer maps to a status. */
export class QueueError extends Error {
  constructor(
    readonly code: QueueErrorCode | 'ERR_NO_LEADER' | 'ERR_PAYLOAD_TOO_LARGE' | 'ERR_FORWARD',
    message: string,
  ) {
    super(message);
  }
}
