import type { ClusterView } from '../cluster/cluster-view.js';
import { partitionOf } from '../queue/partition-of.js';
import { newTaskId } from '../queue/task-ids.js';
import type { Task } from '../queue/task.js';
import type { SubmitInput } from '../queue/task-service.js';

export interface TaskraftClientOptions {
  /** Base URLs of any nodes of the cluster (e.g. http://10.0.0.5:8080): where the placement is
   * first read, and where requests go when a partition's leader cannot be reached. */
  readonly nodes: readonly string[];
  /** How old the placement may be before a request reads it again (in the background). */
  readonly refreshMs?: number;
  /** Per HTTP request. */
  readonly timeoutMs?: number;
}

/** An answer of the cluster that is not a success: `code` is the API's stable error code
 * (ERR_BAD_REQUEST, ERR_TASK_NOT_FOUND, ERR_STALE_TOKEN, ...), or ERR_UNREACHABLE when no node
 * answered. */
export class TaskraftClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status, or 0 when no node answered. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'TaskraftClientError';
  }
}

interface Placement {
  readonly partitionCount: number;
  /** The base URL of each partition's leader, where known. */
  readonly leaders: ReadonlyMap<number, string>;
  readonly at: number;
}

/** Statuses after which the same request may go elsewhere: the node could not serve it now. */
const RETRY_ELSEWHERE = new Set([502, 503, 504]);
/** A POST /tasks/batch takes at most this many tasks (the API's limit). */
const BATCH_MAX = 1000;

/**
 * A client of a taskraft cluster's HTTP API that sends each task's requests straight to its
 * partition's leader. Any node would take them and forward them over gRPC, but the hop costs the
 * cluster CPU, and in some runs the task latency (README, "A client that sends each task to its
 * leader").
 *
 * The client gives every task it submits an ID (unless the caller did), because the ID decides
 * the partition: it then knows the leader to send it to, and a submit it retries (the leader
 * moved, a node died) cannot create the task twice, since submitting an existing ID returns the
 * existing task. The placement comes from `GET /cluster` on any node, read again in the
 * background once it is older than `refreshMs`, and at once when a leader cannot be reached; a
 * request whose leader is unknown or unreachable goes to another node, which forwards it.
 */
export class TaskraftClient {
  private readonly nodes: readonly string[];
  private readonly refreshMs: number;
  private readonly timeoutMs: number;
  private placement: Placement | null = null;
  private refreshing: Promise<void> | null = null;
  /** Rotates the node that requests without a known leader, and placement reads, go to first. */
  private next = 0;

  constructor(opts: TaskraftClientOptions) {
    if (opts.nodes.length === 0) throw new TypeError('TaskraftClient needs the URL of at least one node');
    this.nodes = opts.nodes.map((u) => u.replace(/\/+$/, ''));
    this.refreshMs = opts.refreshMs ?? 5_000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Submits one task; resolves with it as the cluster stored it (or as it was, if the ID existed). */
  async submit(input: SubmitInput): Promise<Task> {
    const task = { ...input, id: input.id ?? newTaskId() };
    return (await this.request<Task>(task.id, 'POST', '/tasks/submit', task)).body;
  }

  /**
   * Submits many tasks: one `POST /tasks/batch` per leader (and per 1,000 tasks). Resolves with
   * the tasks in the order given. A failed request fails the whole call, but the batches that did
   * reach their leaders are stored: to retry such a call without creating anything twice, give
   * the tasks IDs of your own (`newTaskId()` in src/queue/task-ids.ts makes ones that sort by
   * time) and submit the same inputs again.
   */
  async submitMany(inputs: readonly SubmitInput[]): Promise<Task[]> {
    const tasks = inputs.map((t) => ({ ...t, id: t.id ?? newTaskId() }));
    await this.placementFresh();
    const groups = new Map<string | null, number[]>();
    tasks.forEach((t, i) => {
      const leader = this.leaderUrl(t.id);
      let list = groups.get(leader);
      if (list === undefined) groups.set(leader, (list = []));
      list.push(i);
    });
    const out = new Array<Task>(tasks.length);
    const sends: Promise<void>[] = [];
    for (const indexes of groups.values()) {
      for (let k = 0; k < indexes.length; k += BATCH_MAX) {
        const part = indexes.slice(k, k + BATCH_MAX);
        const body = { tasks: part.map((i) => tasks[i]!) };
        sends.push(
          this.request<{ tasks: Task[] }>(tasks[part[0]!]!.id, 'POST', '/tasks/batch', body).then(({ body: r }) => {
            part.forEach((i, j) => (out[i] = r.tasks[j]!));
          }),
        );
      }
    }
    await Promise.all(sends);
    return out;
  }

  /** The task; linearizable unless `consistency` is 'local' (then read on the node that answers). */
  async get(id: string, consistency: 'linearizable' | 'local' = 'linearizable'): Promise<Task> {
    return (await this.request<Task>(id, 'GET', `/tasks/${encodeURIComponent(id)}?consistency=${consistency}`)).body;
  }

  /** Long-polls until the task is terminal or `timeoutMs` (at most 60,000) passed; the task as it then is. */
  async wait(id: string, timeoutMs = 30_000): Promise<Task> {
    const path = `/tasks/${encodeURIComponent(id)}/wait?timeout=${timeoutMs}`;
    return (await this.request<Task>(id, 'GET', path, undefined, this.timeoutMs + timeoutMs)).body;
  }

  async cancel(id: string): Promise<Task> {
    return (await this.request<Task>(id, 'DELETE', `/tasks/${encodeURIComponent(id)}`)).body;
  }

  /** Re-drives a dead task (it becomes pending again, its attempts counted afresh). */
  async retry(id: string): Promise<Task> {
    return (await this.request<Task>(id, 'POST', `/tasks/${encodeURIComponent(id)}/retry`)).body;
  }

  /**
   * Re-drives the dead tasks of a queue and a type (both optional), up to `limit` per partition
   * (10,000 by default); resolves with how many. Any node does it for the whole cluster.
   */
  async retryDead(filter: { queue?: string; type?: string; limit?: number } = {}): Promise<number> {
    // Safe to send again elsewhere: a second run re-drives only what is still dead.
    const tried = new Set<string>();
    for (;;) {
      const url = this.anyNode(tried);
      tried.add(url);
      const r = await this.send<{ redriven: number }>(url, 'POST', '/tasks/retry-dead', filter, this.timeoutMs);
      if (r.ok) return r.res.body.redriven;
      if (tried.size >= this.nodes.length) throw r.error;
    }
  }

  /**
   * For a remote worker: leases up to `max` (1..100) runnable tasks of `types` (all types if
   * omitted) to `worker`, waiting up to `waitMs` (default 10 s, at most 30 s) for some. Each task
   * comes with its `fencingToken`, which heartbeat, complete and fail must present. A claim goes to
   * one node, which looks at every partition, and is not sent again elsewhere on a failure: a
   * claim whose answer was lost leased tasks nobody runs (they return to the queue when their
   * leases expire), and a second one would only lease more.
   */
  async claim(worker: string, opts: { readonly max?: number; readonly types?: readonly string[]; readonly waitMs?: number } = {}): Promise<Task[]> {
    const waitMs = opts.waitMs ?? 10_000;
    const body = { worker, max: opts.max ?? 1, waitMs, ...(opts.types === undefined ? {} : { types: opts.types }) };
    const r = await this.send<{ tasks: Task[] }>(this.anyNode(), 'POST', '/workers/claim', body, this.timeoutMs + waitMs);
    if (!r.ok) throw r.error;
    return r.res.body.tasks;
  }

  /**
   * Extends the lease of a claimed task, and records `progress` (any JSON value up to 16 KiB) if
   * given, where status reads show it. Like complete and fail, refused with ERR_STALE_TOKEN (409)
   * once the lease was lost to another attempt, and with ERR_INVALID_STATE (409) once the task
   * was cancelled: stop working on it then. These are sent again elsewhere when a node does not
   * answer; if the first did reach the leader, the second is refused (ERR_STALE_TOKEN or
   * ERR_INVALID_STATE) but the task is as the first left it.
   */
  async heartbeat(id: string, token: number, progress?: unknown): Promise<Task> {
    const body = progress === undefined ? { token } : { token, progress };
    return (await this.request<Task>(id, 'POST', `/tasks/${encodeURIComponent(id)}/heartbeat`, body)).body;
  }

  async complete(id: string, token: number, result: unknown = null): Promise<Task> {
    return (await this.request<Task>(id, 'POST', `/tasks/${encodeURIComponent(id)}/complete`, { token, result })).body;
  }

  async fail(id: string, token: number, error: string): Promise<Task> {
    return (await this.request<Task>(id, 'POST', `/tasks/${encodeURIComponent(id)}/fail`, { token, error })).body;
  }

  /**
   * Sends a request about task `id` to its partition's leader if known, else to any node; on a
   * node that cannot be reached or cannot serve it now (502/503/504), reads the placement again
   * and tries elsewhere, up to once per node. Repeating a request changes no outcome: a submit of
   * an existing ID returns that task, and a cancel of a cancelled one, or a complete with a token
   * already used, changes nothing.
   */
  private async request<T>(id: string, method: string, path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<{ status: number; body: T }> {
    await this.placementFresh();
    const tried = new Set<string>();
    let url = this.leaderUrl(id) ?? this.anyNode();
    for (let attempt = 0; ; attempt++) {
      tried.add(url);
      const r = await this.send<T>(url, method, path, body, timeoutMs);
      if (r.ok) return r.res;
      if (attempt >= this.nodes.length) throw r.error;
      await this.refresh();
      const leader = this.leaderUrl(id);
      url = leader !== null && !tried.has(leader) ? leader : this.anyNode(tried);
    }
  }

  private async send<T>(url: string, method: string, path: string, body: unknown, timeoutMs: number): Promise<{ ok: true; res: { status: number; body: T } } | { ok: false; error: TaskraftClientError }> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${url}${path}`, {
        method,
        signal: AbortSignal.timeout(timeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      text = await res.text();
    } catch (e) {
      // No answer, or the connection broke (or timed out) in the middle of one.
      return { ok: false, error: new TaskraftClientError('ERR_UNREACHABLE', `${url}: ${(e as Error).message}`, 0) };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.ok && parsed !== undefined) return { ok: true, res: { status: res.status, body: parsed as T } };
    const err = (parsed ?? {}) as { code?: string; message?: string };
    const error = new TaskraftClientError(err.code ?? `HTTP_${res.status}`, err.message ?? (text.slice(0, 200) || res.statusText), res.status);
    // A client error is the request's fault: the same request elsewhere gets the same answer.
    if (!RETRY_ELSEWHERE.has(res.status)) throw error;
    return { ok: false, error };
  }

  private leaderUrl(id: string): string | null {
    const p = this.placement;
    if (p === null || p.partitionCount === 0) return null;
    return p.leaders.get(partitionOf(id, p.partitionCount)) ?? null;
  }

  private anyNode(except: ReadonlySet<string> = new Set()): string {
    for (let k = 0; k < this.nodes.length; k++) {
      const url = this.nodes[this.next++ % this.nodes.length]!;
      if (!except.has(url)) return url;
    }
    return this.nodes[this.next++ % this.nodes.length]!;
  }

  /** Reads the placement first if there is none; refreshes it in the background once stale. */
  private async placementFresh(): Promise<void> {
    if (this.placement === null) await this.refresh();
    else if (Date.now() - this.placement.at > this.refreshMs) void this.refresh();
  }

  /** Reads `GET /cluster` from the first node that answers; keeps the old placement if none does. */
  private refresh(): Promise<void> {
    this.refreshing ??= this.readPlacement().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async readPlacement(): Promise<void> {
    for (let k = 0; k < this.nodes.length; k++) {
      const base = this.anyNode();
      try {
        const res = await fetch(`${base}/cluster`, { signal: AbortSignal.timeout(this.timeoutMs) });
        if (!res.ok) continue;
        const view = (await res.json()) as ClusterView;
        const urls = new Map(view.nodes.filter((n) => n.live).map((n) => [n.id, httpUrl(n.httpAddr, base)]));
        const leaders = new Map<number, string>();
        for (const p of view.partitions) {
          const url = p.leader === null ? undefined : urls.get(p.leader);
          if (url !== undefined) leaders.set(p.id, url);
        }
        this.placement = { partitionCount: view.partitionCount, leaders, at: Date.now() };
        return;
      } catch {
        // The next node, then.
      }
    }
  }
}

/** A node's HTTP address as the cluster reports it (`host:port`, or `:port` for every interface)
 * as a URL: `:port` is taken on the host of the node that reported it. */
function httpUrl(addr: string, reportedBy: string): string {
  if (!addr.startsWith(':')) return `http://${addr}`;
  const u = new URL(reportedBy);
  return `${u.protocol}//${u.hostname}${addr}`;
}
