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
  /** On SIGTERM or SIGINT, how long running handlers get to finish before their tasks are
   * released to run elsewhere. */
  readonly shutdownGraceMs: number;
  /** A module exporting task handlers by type (HANDLERS), absolute; null: built-ins only. */
  readonly handlersModule: string | null;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
}

/** The integer settings: environment variable and bounds. Defaults are in config/default.json. */
const INTEGER_SETTINGS = {
  partitions: ['PARTITIONS', 1, 1024],
  tickMs: ['TICK_MS', 5, 10_000],
  electionTicks: ['ELECTION_TICKS', 3, 1000],
  reportIntervalMs: ['REPORT_INTERVAL_MS', 20, 60_000],
  reconcileIntervalMs: ['RECONCILE_INTERVAL_MS', 20, 600_000],
  nodeDownAfterMs: ['NODE_DOWN_AFTER_MS', 100, 3_600_000],
  replaceAfterMs: ['REPLACE_AFTER_MS', 100, 604_800_000],
  requestTimeoutMs: ['REQUEST_TIMEOUT_MS', 100, 600_000],
  concurrency: ['CONCURRENCY', 1, 10_000],
  pollIntervalMs: ['POLL_INTERVAL_MS', 1, 10_000],
  retainCount: ['RETAIN_COUNT', 0, 100_000_000],
  retainMs: ['RETAIN_MS', 0, 3_650 * 86_400_000],
  snapshotEntries: ['SNAPSHOT_ENTRIES', 10, 100_000_000],
  keepEntries: ['KEEP_ENTRIES', 0, 100_000_000],
  shutdownGraceMs: ['SHUTDOWN_GRACE_MS', 0, 3_600_000],
} as const satisfies Partial<Record<keyof NodeConfig, readonly [string, number, number]>>;
type IntegerSetting = keyof typeof INTEGER_SETTINGS;

type Defaults = { readonly httpAddr: string; readonly logLevel: string } & Readonly<Record<IntegerSetting, number>>;

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

  const integers = Object.fromEntries(
    Object.entries(INTEGER_SETTINGS).map(([key, [name, min, max]]) => [key, integer(name, defaults[key as IntegerSetting], min, max)]),
  ) as Record<IntegerSetting, number>;
  if (integers.replaceAfterMs < integers.nodeDownAfterMs) {
    problems.push(`REPLACE_AFTER_MS=${integers.replaceAfterMs}: must be at least NODE_DOWN_AFTER_MS (${integers.nodeDownAfterMs})`);
  }
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
    logLevel: logLevel as LogLevel,
    ...integers,
    handlersModule,
  };
}
