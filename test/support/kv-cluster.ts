import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KvNodeRequest, KvNodeResponse } from './kv-node-protocol.js';

type RequestBody = KvNodeRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** One kv-node child process, restartable on the same data directory. */
export class KvNodeProcess {
  private child: ChildProcess | null = null;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (r: KvNodeResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(
    readonly id: string,
    readonly dataDir: string,
    private readonly env: Record<string, string>,
    /** Extra node flags, e.g. --cpu-prof for profiling a benchmark run. */
    private readonly execArgv: readonly string[] = [],
  ) {}

  get alive(): boolean {
    return this.child !== null;
  }

  async start(timeoutMs = 20_000): Promise<void> {
    if (this.child !== null) throw new Error(`${this.id} already running`);
    const child = fork(new URL('./kv-node.ts', import.meta.url).pathname, [], {
      execArgv: [...this.execArgv, '--import', 'tsx'],
      env: { ...process.env, ...this.env, NODE_ID: this.id, DATA_DIR: this.dataDir },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    // Errors of a child being killed (a closed IPC channel) are expected; requests fail on their own.
    child.on('error', () => undefined);
    child.on('message', (m: KvNodeResponse) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      clearTimeout(p.timer);
      this.pending.delete(m.id);
      p.resolve(m);
    });
    child.on('exit', () => {
      if (this.child === child) this.child = null;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`${this.id} exited`));
        this.pending.delete(id);
      }
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.id} did not start in ${timeoutMs} ms`)), timeoutMs);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.id} exited with ${code} while starting`));
      });
    });
  }

  request(body: RequestBody, timeoutMs = 15_000): Promise<KvNodeResponse> {
    const child = this.child;
    if (child === null || !child.connected) return Promise.reject(new Error(`${this.id} is not running`));
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.id}: ${body.op} timed out`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      // With a callback, a send to a process that is dying (EPIPE) fails this request instead of
      // surfacing as an uncaught 'error' event.
      child.send({ ...body, id }, (err) => {
        if (err === null) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new Error(`${this.id}: ${body.op} not sent: ${err.message}`));
      });
    });
  }

  /** SIGKILL: no chance to flush anything that was not already durable. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    if (this.child === null) return;
    const child = this.child;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await this.request({ op: 'stop' }, 5_000);
    } catch {
      child.kill('SIGKILL');
    }
    await exited;
  }
}

/** N kv-node processes on loopback, each with its own temporary RocksDB directory. */
export class KvCluster {
  readonly nodes: KvNodeProcess[];
  private readonly root: string;

  constructor(opts: { size: number; groups: number; basePort: number; tickMs?: number; extraEnv?: Record<string, string>; execArgv?: string[] }) {
    this.root = mkdtempSync(join(tmpdir(), 'taskraft-kv-'));
    const ids = Array.from({ length: opts.size }, (_, i) => `n${i + 1}`);
    const peers = ids.map((id, i) => `${id}=127.0.0.1:${opts.basePort + i}`).join(',');
    this.nodes = ids.map(
      (id) =>
        new KvNodeProcess(id, join(this.root, id), {
          PEERS: peers,
          GROUPS: String(opts.groups),
          TICK_MS: String(opts.tickMs ?? 50),
          ...opts.extraEnv,
        }, opts.execArgv),
    );
  }

  async start(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.start()));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop().catch(() => n.kill())));
    rmSync(this.root, { recursive: true, force: true });
  }
}
