/** The one mapping from the stable error codes of the layers below to HTTP statuses. */
const STATUS: Readonly<Record<string, number>> = {
  ERR_BAD_REQUEST: 400,
  ERR_UNKNOWN_NODE: 404,
  ERR_NOT_FOUND: 404,
  ERR_GROUP_NOT_FOUND: 404,
  ERR_NODE_ID_IN_USE: 409,
  ERR_TASK_NOT_FOUND: 404,
  ERR_STALE_TOKEN: 409,
  ERR_INVALID_STATE: 409,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_NO_LEADER: 503,
  ERR_FORWARD: 502,
  ERR_PROPOSAL_REJECTED: 429,
  ERR_NOT_LEADER: 503,
  ERR_NO_META_LEADER: 503,
  ERR_NOT_INITIALIZED: 503,
  ERR_PROPOSAL_LOST: 503,
  ERR_STOPPED: 503,
  ERR_TIMEOUT: 504,
};

export function statusOf(code: string | undefined): number {
  return (code !== undefined ? STATUS[code] : undefined) ?? 500;
}
