import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** A node's settings: config/default.json, overridden by environment variables. */
export interface NodeConfig {
  readonly nodeId: string;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly grpcHost: string;
  readonly grpcPort: number;
  /** The host peers and clients reach this node at. */
  readonly advertiseHost: string;
  readonly joinAddrs: readonly string[];
  readonly dataDir: string;
  /** Only read when this node creates a cluster. */
  readonly partitions: number;
  readonly logLevel: LogLevel;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly reportIntervalMs: number;
  readonly reconcileIntervalMs: number;
  /** A node silent for this long is reported down. */
  readonly nodeDownAfterMs: number;
  /** A node down for this long has its replicas re-created on the others. */
  readonly replaceAfterMs: number;
  readonly requestTimeoutMs: number;
  /** Task handlers running at once on this node. */
  readonly concurrency: number;
  /** How often a leader's processing loop looks for runnable tasks when idle. */
  readonly pollIntervalMs: number;
  /** Terminal tasks kept per partition, and for how long at most. */
  readonly retainCount: number;
  readonly retainMs: number;
  /** A group snapshots its state machine every this many applied entries, and keeps this many
   * entries behind the snapshot for followers that lag a little. */
  readonly snapshotEntries: number;
  readonly keepEntries: number;
  /** A module exporting task handlers by type (HANDLERS), absolute; null: built-ins only. */
  readonly handlersModule: string | null;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
}

interface Defaults {
  readonly httpAddr: string;
  readonly partitions: number;
  readonly logLevel: string;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly reportIntervalMs: number;
  readonly reconcileIntervalMs: number;
  readonly nodeDownAfterMs: number;
  readonly replaceAfterMs: number;
  readonly requestTimeoutMs: number;
  readonly concurrency: number;
  readonly pollIntervalMs: number;
  readonly retainCount: number;
  readonly retainMs: number;
  readonly snapshotEntries: number;
  readonly keepEntries: number;
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function readDefaults(): Defaults {
  return JSON.parse(readFileSync(new URL('../../config/default.json', import.meta.url), 'utf8')) as Defaults;
}

/**
 * Reads and validates every setting at once: a bad start names each offending variable, its value
 * and what was expected, instead of failing on the first and hiding the rest.
 */
export function loadNodeConfig(env: Readonly<Record<string, string | undefined>>): NodeConfig {
  const defaults = readDefaults();
  const problems: string[] = [];
  const pick = (name: string, fallback: unknown): string => {
    const v = env[name];
    return v !== undefined ? v : String(fallback);
  };
  const integer = (name: string, fallback: unknown, min: number, max: number): number => {
    const raw = pick(name, fallback);
    const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) {
      problems.push(`${name}="${raw}": expected an integer from ${min} to ${max}`);
      return min;
    }
    return n;
  };
  const address = (name: string, raw: string): { host: string; port: number } | null => {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/[\]]*)):([0-9]{1,5})$/.exec(raw);
    const port = m === null ? NaN : Number(m[3]);
    if (m === null || !(port >= 1 && port <= 65535)) {
      problems.push(`${name}="${raw}": expected host:port (or :port) with a port from 1 to 65535`);
      return null;
    }
    return { host: m[1] ?? m[2] ?? '', port };
  };

  const nodeId = env.NODE_ID ?? '';
  if (!NODE_ID.test(nodeId)) {
    problems.push(`NODE_ID="${nodeId}": expected 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  const http = address('HTTP_ADDR', pick('HTTP_ADDR', defaults.httpAddr));
  const httpHost = http === null ? '' : http.host === '' ? '0.0.0.0' : http.host;
  let grpcHost = httpHost;
  let grpcPort = 0;
  if (env.GRPC_ADDR !== undefined) {
    const grpc = address('GRPC_ADDR', env.GRPC_ADDR);
    if (grpc !== null) [grpcHost, grpcPort] = [grpc.host === '' ? '0.0.0.0' : grpc.host, grpc.port];
  } else if (http !== null) {
    grpcPort = http.port + 1000;
    if (grpcPort > 65535) problems.push(`GRPC_ADDR: the default (HTTP port + 1000 = ${grpcPort}) is not a port; set GRPC_ADDR`);
  }
  const wildcard = ['', '0.0.0.0', '::'];
  const advertiseHost = env.ADVERTISE_HOST ?? (wildcard.includes(httpHost) ? '127.0.0.1' : httpHost);
  if (!/^[^\s/:]+$|^[0-9A-Fa-f:]+$/.test(advertiseHost)) problems.push(`ADVERTISE_HOST="${advertiseHost}": expected a host name or IP address`);

  const joinAddrs: string[] = [];
  for (const part of (env.JOIN_ADDR ?? '').split(',')) {
    const trimmed = part.trim().replace(/^https?:\/\//, '').replace(/\/+$/, '');
    if (trimmed === '') continue;
    const a = address('JOIN_ADDR', trimmed);
    if (a !== null) joinAddrs.push(a.host === '' ? `127.0.0.1:${a.port}` : trimmed);
  }

  const logLevel = pick('LOG_LEVEL', defaults.logLevel);
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) problems.push(`LOG_LEVEL="${logLevel}": expected one of ${LOG_LEVELS.join(', ')}`);

  const partitions = integer('PARTITIONS', defaults.partitions, 1, 1024);
  const tickMs = integer('TICK_MS', defaults.tickMs, 5, 10_000);
  const electionTicks = integer('ELECTION_TICKS', defaults.electionTicks, 3, 1000);
  const reportIntervalMs = integer('REPORT_INTERVAL_MS', defaults.reportIntervalMs, 20, 60_000);
  const reconcileIntervalMs = integer('RECONCILE_INTERVAL_MS', defaults.reconcileIntervalMs, 20, 600_000);
  const nodeDownAfterMs = integer('NODE_DOWN_AFTER_MS', defaults.nodeDownAfterMs, 100, 3_600_000);
  const replaceAfterMs = integer('REPLACE_AFTER_MS', defaults.replaceAfterMs, 100, 604_800_000);
  const requestTimeoutMs = integer('REQUEST_TIMEOUT_MS', defaults.requestTimeoutMs, 100, 600_000);
  const concurrency = integer('CONCURRENCY', defaults.concurrency, 1, 10_000);
  const pollIntervalMs = integer('POLL_INTERVAL_MS', defaults.pollIntervalMs, 1, 10_000);
  const retainCount = integer('RETAIN_COUNT', defaults.retainCount, 0, 100_000_000);
  const retainMs = integer('RETAIN_MS', defaults.retainMs, 0, 3_650 * 86_400_000);
  if (replaceAfterMs < nodeDownAfterMs) problems.push(`REPLACE_AFTER_MS=${replaceAfterMs}: must be at least NODE_DOWN_AFTER_MS (${nodeDownAfterMs})`);

  const snapshotEntries = integer('SNAPSHOT_ENTRIES', defaults.snapshotEntries, 10, 100_000_000);
  const keepEntries = integer('KEEP_ENTRIES', defaults.keepEntries, 0, 100_000_000);
  const handlersModule = env.HANDLERS !== undefined && env.HANDLERS.trim() !== '' ? resolve(env.HANDLERS.trim()) : null;
  const dataDir = env.DATA_DIR !== undefined && env.DATA_DIR.trim() !== '' ? env.DATA_DIR : `./data/${nodeId}`;

  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return {
    nodeId,
    httpHost,
    httpPort: http!.port,
    grpcHost,
    grpcPort,
    advertiseHost,
    joinAddrs,
    dataDir: resolve(dataDir),
    partitions,
    logLevel: logLevel as LogLevel,
    tickMs,
    electionTicks,
    reportIntervalMs,
    reconcileIntervalMs,
    nodeDownAfterMs,
    replaceAfterMs,
    requestTimeoutMs,
    concurrency,
    pollIntervalMs,
    retainCount,
    retainMs,
    snapshotEntries,
    keepEntries,
    handlersModule,
  };
}
