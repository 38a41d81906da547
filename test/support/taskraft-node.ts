import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterView } from '../../src/cluster/cluster-view.js';

const NODE_SCRIPT = fileURLToPath(new URL('../../src/cli/node.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Timing for tests: fast ticks, reports and reconcile rounds, a short replacement window. */
export const FAST_CLUSTER_ENV: Readonly<Record<string, string>> = {
  TICK_MS: '50',
  ELECTION_TICKS: '10',
  REPORT_INTERVAL_MS: '150',
  RECONCILE_INTERVAL_MS: '150',
  NODE_DOWN_AFTER_MS: '1200',
  REPLACE_AFTER_MS: '3000',
  REQUEST_TIMEOUT_MS: '3000',
  LOG_LEVEL: 'warn',
};

/** One `src/cli/node.ts` process (real RocksDB, gRPC and HTTP), as a user would start it. */
export class TaskraftNode {
  child: ChildProcess | null = null;
  readonly output: string[] = [];
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly id: string,
    readonly httpPort: number,
    readonly dataDir: string,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  start(extraEnv: Record<string, string> = {}): void {
    const env = { ...process.env, ...FAST_CLUSTER_ENV, ...this.env, ...extraEnv, NODE_ID: this.id, HTTP_ADDR: `127.0.0.1:${this.httpPort}`, DATA_DIR: this.dataDir };
    const child = spawn(process.execPath, ['--import', 'tsx', NODE_SCRIPT], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [child.stdout, child.stderr]) {
      s.on('data', (b: Buffer) => {
        for (const line of b.toString().split('\n')) if (line.trim() !== '') this.output.push(line);
        if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
      });
    }
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.child = child;
  }

  running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the exit code, or null if still running after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<number | null | 'running'> {
    return Promise.race([this.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), timeoutMs))]);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running()) return;
    this.child!.kill(signal);
    await this.waitExit(15_000);
  }

  async getJson<T>(path: string): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: (await res.json()) as T };
  }

  async post<T>(path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}${path}`, {
      method: 'POST',
      signal: AbortSignal.timeout(5000),
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  async del<T>(path: string): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}${path}`, { method: 'DELETE', signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.json()) as T };
  }

  /** The view this node serves, or null when it cannot (not up, no view yet). */
  async view(): Promise<ClusterView | null> {
    try {
      const r = await this.getJson<ClusterView>('/cluster');
      return r.status === 200 ? r.body : null;
    } catch {
      return null;
    }
  }

  tail(n = 30): string {
    return this.output.slice(-n).join('\n');
  }
}

/** Nodes with consecutive ports and temporary data directories, torn down in `destroy()`. */
export class TestCluster {
  readonly nodes = new Map<string, TaskraftNode>();
  private readonly root = mkdtempSync(join(tmpdir(), 'taskraft-cluster-'));
  private dirs = 0;

  constructor(
    private readonly basePort: number,
    private readonly env: Record<string, string> = {},
  ) {}

  /** Creates (not starts) node-k on basePort + k - 1. */
  node(k: number): TaskraftNode {
    const id = `node-${k}`;
    let n = this.nodes.get(id);
    if (n === undefined) {
      n = new TaskraftNode(id, this.basePort + k - 1, this.freshDir(), this.env);
      this.nodes.set(id, n);
    }
    return n;
  }

  /**
   * Starts node-1 (it creates the cluster), then node-2 and node-3 joining through it, and waits
   * until every partition has the three as voters and leaders are spread evenly.
   */
  async startThree(timeoutMs = 60_000): Promise<ClusterView> {
    this.node(1).start();
    for (const k of [2, 3]) this.node(k).start({ JOIN_ADDR: `127.0.0.1:${this.basePort}` });
    return this.waitFor('3 voters everywhere, balanced', timeoutMs, (v) => fullyReplicated(v, ['node-1', 'node-2', 'node-3']) && v.balanced);
  }

  /** A node with any ID on any port and a fresh data directory (e.g. an impostor of a known ID). */
  stranger(id: string, httpPort: number): TaskraftNode {
    const n = new TaskraftNode(id, httpPort, this.freshDir(), this.env);
    this.nodes.set(`${id}@${httpPort}`, n);
    return n;
  }

  freshDir(): string {
    return join(this.root, `d${++this.dirs}`);
  }

  running(): TaskraftNode[] {
    return [...this.nodes.values()].filter((n) => n.running());
  }

  /** The first view any running node serves. */
  async view(): Promise<ClusterView | null> {
    for (const n of this.running()) {
      const v = await n.view();
      if (v !== null) return v;
    }
    return null;
  }

  /** Polls the view until `ok` holds; on timeout, fails with the last view and the nodes' logs. */
  async waitFor(what: string, timeoutMs: number, ok: (v: ClusterView) => boolean): Promise<ClusterView> {
    const deadline = Date.now() + timeoutMs;
    let last: ClusterView | null = null;
    while (Date.now() < deadline) {
      last = await this.view();
      if (last !== null && ok(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    const logs = this.running()
      .map((n) => `--- ${n.id}\n${n.tail(15)}`)
      .join('\n');
    throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}\nlast view: ${JSON.stringify(last, null, 1)}\n${logs}`);
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.kill('SIGKILL')));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Every partition has exactly `voters` as voters (any order), no learners, and a leader. */
export function fullyReplicated(v: ClusterView, voters: readonly string[]): boolean {
  return (
    v.partitionCount > 0 &&
    v.partitions.length === v.partitionCount &&
    v.partitions.every((p) => p.leader !== null && p.learners.length === 0 && p.voters.length === voters.length && voters.every((x) => p.voters.includes(x)))
  );
}

/** Every partition has 3 voters, all among `allowed`, no learners, and a leader. */
export function threeVotersAmong(v: ClusterView, allowed: readonly string[]): boolean {
  return v.partitionCount > 0 && v.partitions.every((p) => p.leader !== null && p.learners.length === 0 && p.voters.length === 3 && p.voters.every((x) => allowed.includes(x)));
}

export function maxLed(v: ClusterView): number {
  return Math.max(0, ...v.nodes.map((n) => n.partitionsLed.length));
}
