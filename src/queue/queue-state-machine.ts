import type { StateMachine } from '../cluster/state-machine.js';
import type { NormalEntry } from '../raft/index.js';
import { stateMachinePrefix, type GroupId } from '../storage/key-layout.js';
import type { WriteBatch } from '../storage/write-batch.js';
import { decodeEntry, type OpResult, type QueueEntry, type QueueOp } from './commands.js';
import { FinishedTask } from './finished-task.js';
import { Heap } from './heap.js';
import { IdOrder } from './id-order.js';
import { decodeTaskRow, decodeTaskRowValue, taskRowText } from './task-row.js';
import { backoffDelay, draftOf, firstRunAt, newTask, type Task, type TaskDraft, type TaskId, type TaskStatus } from './task.js';

const dec = new TextDecoder();

/** UTF-8 for keys and rows written at every apply, from Node's shared pool (see task-row.ts). */
const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** Counters kept with the state (replicated, so every replica reports the same). */
export interface QueueCounters {
  submitted: number;
  completed: number;
  /** Attempts that failed (handler error or expired lease). */
  failedAttempts: number;
  dead: number;
  cancelled: number;
}

interface RunnableRef {
  readonly id: TaskId;
  readonly priority: number;
  readonly seq: number;
}

const runsBefore = (a: { priority: number; seq: number }, b: { priority: number; seq: number }): boolean =>
  a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);

/**
 * What the owner of a replica hears of as it applies entries (on every replica, leader or not).
 * Called in the middle of an apply: a listener must not touch the machine, and whatever it starts
 * (an abort that runs a handler's listeners, a waiter's continuation) must wait until the apply has
 * returned.
 */
export interface TaskObserver {
  /**
   * A running attempt stopped holding its task: the task was cancelled, its lease expired, it was
   * released, or it was completed or failed with the attempt's token. `status` is the task's new
   * status (`running` again under a new token when a snapshot replaced the state; null when a
   * snapshot no longer has the task at all, as after its retention).
   */
  attemptEnded(id: TaskId, token: number, status: TaskStatus | null): void;
  /** The task reached a terminal status (completed, dead or cancelled). */
  finished(id: TaskId): void;
}

interface Persisted {
  readonly seq: number;
  readonly counters: QueueCounters;
}

/**
 * One partition's tasks: the deterministic machine applied from the partition's log. Tasks live
 * in memory (those in a terminal state as their rows: see FinishedTask) with heaps for the next
 * runnable task (priority, then submission order), the next delayed task to promote and the next
 * lease to expire, so none of these needs a scan; every change is also written to RocksDB (one key
 * per task) in the batch that records the applied index.
 */
export class QueueStateMachine implements StateMachine<OpResult[]> {
  private readonly tasks = new Map<TaskId, Task | FinishedTask>();
  /** The same tasks' IDs in order, for listing pages (see IdOrder). */
  private readonly order = new IdOrder();
  private readonly held = (id: string): boolean => this.tasks.has(id as TaskId);
  /**
   * Pending tasks by type, each heap in priority-then-submission order. A claim looks only at the
   * types it takes: with one heap for all, every claim popped and pushed back every pending task of
   * a type nobody here handles (left for remote workers), a cost that grew with their backlog.
   */
  private readonly runnableByType = new Map<string, Heap<RunnableRef>>();
  private readonly delayed = new Heap<{ id: TaskId; runAt: number }>((a, b) => a.runAt < b.runAt);
  private readonly leases = new Heap<{ id: TaskId; expiresAt: number; token: number }>((a, b) => a.expiresAt < b.expiresAt);
  /** Terminal tasks by finishing time, for retention; an entry is current while `tasks` holds it. */
  private readonly finished = new Heap<FinishedTask>((a, b) => a.finishedAt < b.finishedAt);
  private readonly byStatus = new Map<TaskStatus, number>();
  /** Pending tasks per type: a loop that handles some types only asks when one of them waits. */
  private readonly pendingByType = new Map<string, number>();
  /** Tasks per queue and status, for stats without a scan. */
  private readonly byQueue = new Map<string, Map<TaskStatus, number>>();
  private seq = 0;
  private counters: QueueCounters = { submitted: 0, completed: 0, failedAttempts: 0, dead: 0, cancelled: 0 };
  private readonly prefix: Uint8Array;
  private readonly metaKey: Uint8Array;
  /** Keys touched by the entries being applied, flushed to the batch once per apply call. */
  private readonly touched = new Set<TaskId>();

  constructor(
    readonly group: GroupId,
    private readonly observer: TaskObserver | null = null,
  ) {
    this.prefix = stateMachinePrefix(group);
    this.metaKey = this.key('m');
  }

  // ---- reads (local state; callers decide about linearizability) ------------------------------

  get(id: TaskId): Task | undefined {
    const t = this.tasks.get(id);
    return t === undefined ? undefined : taskOf(t);
  }

  /** What listing filters on, without decoding a terminal task's row. */
  summary(id: TaskId): Pick<Task, 'id' | 'status' | 'type' | 'queue'> | undefined {
    return this.tasks.get(id);
  }

  *all(): Generator<Task, void, undefined> {
    for (const t of this.tasks.values()) yield taskOf(t);
  }

  /** IDs of the tasks held, ascending, after `cursor` (all without one). */
  idsAfter(cursor: string | undefined): Generator<string, void, undefined> {
    return this.order.after(cursor, this.held);
  }

  countsByStatus(): Record<TaskStatus, number> {
    const out = { pending: 0, delayed: 0, running: 0, completed: 0, dead: 0, cancelled: 0 };
    for (const [s, n] of this.byStatus) out[s] = n;
    return out;
  }

  /** Per queue, the number of tasks in each status (queues with no tasks left are omitted). */
  countsByQueue(): Record<string, Partial<Record<TaskStatus, number>>> {
    const out: Record<string, Partial<Record<TaskStatus, number>>> = {};
    for (const [q, counts] of this.byQueue) {
      const nonZero = [...counts].filter(([, n]) => n > 0);
      if (nonZero.length > 0) out[q] = Object.fromEntries(nonZero);
    }
    return out;
  }

  stats(): Readonly<QueueCounters> {
    return this.counters;
  }

  /** When the earliest lease expires, or null: the leader proposes `expire` then. */
  nextLeaseExpiry(): number | null {
    for (;;) {
      const top = this.leases.peek();
      if (top === undefined) return null;
      const t = this.tasks.get(top.id);
      if (t?.status === 'running' && t.fencingToken === top.token) return top.expiresAt;
      this.leases.pop();
    }
  }

  /** When the earliest delayed task becomes due (a claim then promotes it), or null if none is delayed. */
  nextDelayedAt(): number | null {
    return this.peekDelayed(Number.POSITIVE_INFINITY)?.runAt ?? null;
  }

  /** Whether a claim at `now` for `types` (null: any) would find work: one of them pending, or a
   * delayed task now due (a claim promotes those first). */
  hasRunnable(now: number, types: readonly string[] | null = null): boolean {
    return this.peekDelayed(now) !== undefined || this.pendingOf(types) > 0;
  }

  /** Pending tasks of `types` (null: any). */
  pendingOf(types: readonly string[] | null): number {
    if (types === null) return this.byStatus.get('pending') ?? 0;
    let n = 0;
    for (const t of types) n += this.pendingByType.get(t) ?? 0;
    return n;
  }

  /** Whether a sweep at `now` would remove anything (so idle partitions propose nothing). */
  sweepDue(now: number, keep: number, maxAgeMs: number): boolean {
    if (this.terminalCount() > keep) return true;
    for (;;) {
      const top = this.finished.peek();
      if (top === undefined) return false;
      if (this.tasks.get(top.id) === top) return now - top.finishedAt > maxAgeMs;
      this.finished.pop();
    }
  }

  terminalCount(): number {
    return (this.byStatus.get('completed') ?? 0) + (this.byStatus.get('dead') ?? 0) + (this.byStatus.get('cancelled') ?? 0);
  }

  // ---- the state machine -----------------------------------------------------------------------

  apply(entries: readonly NormalEntry[], batch: WriteBatch): OpResult[][] {
    const results = entries.map((e) => (e.data.byteLength === 0 ? [] : this.applyEntry(decodeEntry(e.data), e.index)));
    for (const id of this.touched) {
      const t = this.tasks.get(id);
      if (t === undefined) batch.del(this.taskKey(id));
      else batch.put(this.taskKey(id), rowBytes(t));
    }
    this.touched.clear();
    batch.put(this.metaKey, utf8(JSON.stringify({ seq: this.seq, counters: this.counters } satisfies Persisted)));
    return results;
  }

  /**
   * The state as JSON: `rows` holds every task's row as RocksDB holds it (terminal tasks' rows are
   * kept as text, so they are copied, not decoded and encoded again).
   */
  snapshot(): Uint8Array {
    const rows: string[] = [];
    for (const t of this.tasks.values()) rows.push(rowTextOf(t));
    const head = JSON.stringify({ seq: this.seq, counters: this.counters } satisfies Persisted);
    // Not from the shared pool: a snapshot may be kept for a while.
    return new TextEncoder().encode(`${head.slice(0, -1)},"rows":[${rows.join(',')}]}`);
  }

  restore(data: Uint8Array, batch: WriteBatch): void {
    const attempts: [TaskId, number][] = [];
    const unfinished: TaskId[] = [];
    for (const [id, t] of this.tasks) {
      batch.del(this.taskKey(id));
      if (t.status === 'running') attempts.push([id, t.fencingToken ?? 0]);
      if (!(t instanceof FinishedTask)) unfinished.push(id);
    }
    this.reset();
    if (data.byteLength > 0) {
      // Snapshots made before rows carried the tasks as objects, under `tasks`.
      const s = JSON.parse(dec.decode(data)) as Persisted & { rows?: unknown[]; tasks?: Task[] };
      const tasks = s.rows?.map(decodeTaskRowValue) ?? s.tasks ?? [];
      this.load(s, tasks);
      for (const [id, t] of this.tasks) batch.put(this.taskKey(id), rowBytes(t));
    }
    batch.put(this.metaKey, utf8(JSON.stringify({ seq: this.seq, counters: this.counters } satisfies Persisted)));
    // The snapshot may have moved past the end of attempts this replica saw start, and past the
    // end of tasks it held unfinished.
    if (this.observer === null) return;
    for (const [id, token] of attempts) {
      const now = this.tasks.get(id);
      if (now?.status !== 'running' || now.fencingToken !== token) this.observer.attemptEnded(id, token, now?.status ?? null);
    }
    for (const id of unfinished) if (this.tasks.get(id) instanceof FinishedTask) this.observer.finished(id);
  }

  /** Rebuilds memory and indexes from the rows under the partition's prefix (node start). */
  loadRows(rows: Iterable<[Uint8Array, Uint8Array]>): void {
    this.reset();
    let meta: Persisted = { seq: 0, counters: this.counters };
    const tasks: Task[] = [];
    for (const [k, v] of rows) {
      const kind = k[this.prefix.length];
      if (kind === 0x6d) meta = JSON.parse(dec.decode(v)) as Persisted;
      else if (kind === 0x74) tasks.push(decodeTaskRow(v));
    }
    this.load(meta, tasks);
  }

  private reset(): void {
    this.tasks.clear();
    this.order.clear();
    this.byStatus.clear();
    this.pendingByType.clear();
    this.byQueue.clear();
    this.runnableByType.clear();
    for (const h of [this.delayed, this.leases, this.finished] as Heap<unknown>[]) while (h.pop() !== undefined);
    this.seq = 0;
    this.counters = { submitted: 0, completed: 0, failedAttempts: 0, dead: 0, cancelled: 0 };
  }

  private load(meta: Persisted, tasks: readonly Task[]): void {
    this.seq = meta.seq;
    this.counters = { ...meta.counters };
    for (const t of tasks) this.put(t);
  }

  private applyEntry(e: QueueEntry, index: number): OpResult[] {
    return e.ops.map((op) => this.applyOp(op, e.now, e.random, index));
  }

  private applyOp(o: QueueOp, now: number, random: number, index: number): OpResult {
    switch (o.op) {
      case 'submit': {
        const existing = this.get(o.task.id);
        if (existing !== undefined) return { ok: true, task: existing, created: false };
        const runAt = firstRunAt(o.task, now);
        const delayedUntil = runAt !== null && runAt > now ? runAt : null;
        const t = newTask(o.task, delayedUntil === null ? 'pending' : 'delayed', runAt, now, ++this.seq);
        this.counters.submitted++;
        this.put(t);
        return { ok: true, task: t, created: true };
      }
      case 'claim':
        return { ok: true, tasks: this.claim(o.owner, o.max, o.types, now, index) };
      case 'extend': {
        const t = this.running(o.id, o.token);
        if (!t.ok) return t;
        const n = draftOf(t.task);
        n.leaseExpiresAt = now + t.task.timeoutMs;
        if (o.progress !== undefined) n.progress = o.progress;
        n.updatedAt = now;
        return { ok: true, task: this.put(n) };
      }
      case 'complete': {
        const t = this.running(o.id, o.token);
        if (!t.ok) return t;
        this.counters.completed++;
        const n = finish(t.task, 'completed', now);
        n.result = o.result ?? null;
        return { ok: true, task: this.put(n) };
      }
      case 'fail': {
        const t = this.running(o.id, o.token);
        if (!t.ok) return t;
        return { ok: true, task: this.failAttempt(t.task, o.error, now, random) };
      }
      case 'release': {
        const t = this.running(o.id, o.token);
        if (!t.ok) return t;
        const n = unlease(t.task, now);
        n.status = 'pending';
        n.attempts = t.task.attempts - 1;
        return { ok: true, task: this.put(n) };
      }
      case 'cancel': {
        const t = this.tasks.get(o.id);
        if (t === undefined) return notFound(o.id);
        if (t instanceof FinishedTask) return { ok: false, code: 'ERR_INVALID_STATE', message: `task ${o.id} is already ${t.status}` };
        this.counters.cancelled++;
        return { ok: true, task: this.put(finish(t, 'cancelled', now)) };
      }
      case 'retry': {
        const t = this.tasks.get(o.id);
        if (t === undefined) return notFound(o.id);
        if (t.status !== 'dead') return { ok: false, code: 'ERR_INVALID_STATE', message: `only dead tasks are re-driven; task ${o.id} is ${t.status}` };
        return { ok: true, task: this.redrive(t, now) };
      }
      case 'retryDead': {
        // By ID, so that every replica picks the same ones whatever order it loaded its tasks in.
        const picked: (Task | FinishedTask)[] = [];
        for (const id of this.order.after(undefined, this.held)) {
          if (picked.length >= o.max) break;
          const t = this.tasks.get(id as TaskId)!;
          if (t.status === 'dead' && (o.queue === null || t.queue === o.queue) && (o.type === null || t.type === o.type)) picked.push(t);
        }
        for (const t of picked) this.redrive(t, now);
        return { ok: true, count: picked.length };
      }
      case 'expire': {
        let count = 0;
        for (;;) {
          const top = this.leases.peek();
          if (top === undefined || top.expiresAt > now) break;
          this.leases.pop();
          const t = this.tasks.get(top.id);
          if (t?.status !== 'running' || t.fencingToken !== top.token || (t.leaseExpiresAt ?? Infinity) > now) continue;
          this.failAttempt(t, `lease expired (owner ${t.leaseOwner ?? '?'})`, now, random);
          count++;
        }
        return { ok: true, count };
      }
      case 'sweep': {
        let count = 0;
        let terminal = this.terminalCount();
        for (;;) {
          const top = this.finished.peek();
          if (top === undefined) break;
          if (this.tasks.get(top.id) !== top) {
            this.finished.pop();
            continue;
          }
          if (terminal <= o.keep && now - top.finishedAt <= o.maxAgeMs) break;
          this.finished.pop();
          this.remove(top);
          terminal--;
          count++;
        }
        return { ok: true, count };
      }
    }
  }

  private claim(owner: string, max: number, types: readonly string[] | null, now: number, token: number): Task[] {
    // Delayed tasks whose time has come join the runnable ones first.
    for (let d = this.peekDelayed(now); d !== undefined; d = this.peekDelayed(now)) {
      this.delayed.pop();
      const n = draftOf(d);
      n.status = 'pending';
      n.updatedAt = now;
      this.put(n);
    }
    const out: Task[] = [];
    while (out.length < max) {
      const t = this.nextRunnable(types);
      if (t === undefined) break;
      this.runnableByType.get(t.type)!.pop();
      const n = draftOf(t);
      n.status = 'running';
      n.attempts = t.attempts + 1;
      n.leaseOwner = owner;
      n.leaseExpiresAt = now + t.timeoutMs;
      n.fencingToken = token;
      n.progress = null;
      n.updatedAt = now;
      out.push(this.put(n));
    }
    return out;
  }

  /** A dead task pending again, at the back of its priority, with a fresh budget of attempts. */
  private redrive(t: Task | FinishedTask, now: number): Task {
    const n = draftOf(taskOf(t));
    n.status = 'pending';
    n.attempts = 0;
    n.seq = ++this.seq;
    n.runAt = null;
    n.finishedAt = null;
    n.updatedAt = now;
    return this.put(n);
  }

  private failAttempt(t: Task, error: string, now: number, random: number): Task {
    this.counters.failedAttempts++;
    if (t.attempts >= t.maxAttempts) {
      this.counters.dead++;
      const n = finish(t, 'dead', now);
      n.lastError = error;
      return this.put(n);
    }
    const n = unlease(t, now);
    n.status = 'delayed';
    n.runAt = now + backoffDelay(t.backoff, t.attempts, random);
    n.lastError = error;
    return this.put(n);
  }

  private running(id: TaskId, token: number): { ok: true; task: Task } | Extract<OpResult, { ok: false }> {
    const t = this.tasks.get(id);
    if (t === undefined) return notFound(id);
    if (t.status !== 'running') return { ok: false, code: 'ERR_INVALID_STATE', message: `task ${id} is ${t.status}, not running` };
    if (t.fencingToken !== token) {
      return { ok: false, code: 'ERR_STALE_TOKEN', message: `fencing token ${token} is stale: task ${id} is now leased with token ${t.fencingToken ?? 'none'}` };
    }
    return { ok: true, task: t };
  }

  /** The task a claim for `types` (null: any) takes next: the first of the types' heads. */
  private nextRunnable(types: readonly string[] | null): Task | undefined {
    let best: Task | undefined;
    for (const type of types ?? this.runnableByType.keys()) {
      const t = this.headOf(type);
      if (t !== undefined && (best === undefined || runsBefore(t, best))) best = t;
    }
    return best;
  }

  /** The next pending task of one type, dropping stale heap entries on the way. */
  private headOf(type: string): Task | undefined {
    const heap = this.runnableByType.get(type);
    if (heap === undefined) return undefined;
    for (;;) {
      const top = heap.peek();
      if (top === undefined) {
        this.runnableByType.delete(type);
        return undefined;
      }
      const t = this.tasks.get(top.id);
      if (t?.status === 'pending' && t.seq === top.seq) return t;
      heap.pop();
    }
  }

  private peekDelayed(now: number): Task | undefined {
    for (;;) {
      const top = this.delayed.peek();
      if (top === undefined || top.runAt > now) return undefined;
      const t = this.tasks.get(top.id);
      if (t?.status === 'delayed' && t.runAt === top.runAt) return t;
      this.delayed.pop();
    }
  }

  /** Stores a task's new version and indexes it by its status. */
  private put(t: Task): Task {
    const before = this.tasks.get(t.id);
    if (before !== undefined) {
      this.count(before, -1);
      if (before.status === 'running' && (t.status !== 'running' || t.fencingToken !== before.fencingToken)) {
        this.observer?.attemptEnded(t.id, before.fencingToken ?? 0, t.status);
      }
    } else this.order.add(t.id);
    this.count(t, 1);
    this.touched.add(t.id);
    switch (t.status) {
      case 'pending': {
        this.tasks.set(t.id, t);
        let heap = this.runnableByType.get(t.type);
        if (heap === undefined) this.runnableByType.set(t.type, (heap = new Heap<RunnableRef>(runsBefore)));
        heap.push({ id: t.id, priority: t.priority, seq: t.seq });
        break;
      }
      case 'delayed':
        this.tasks.set(t.id, t);
        this.delayed.push({ id: t.id, runAt: t.runAt ?? 0 });
        break;
      case 'running':
        this.tasks.set(t.id, t);
        this.leases.push({ id: t.id, expiresAt: t.leaseExpiresAt ?? 0, token: t.fencingToken ?? 0 });
        break;
      case 'completed':
      case 'dead':
      case 'cancelled': {
        const f = new FinishedTask(t, t.status);
        this.tasks.set(t.id, f);
        this.finished.push(f);
        // Not when loading (no version before): restore tells of those itself.
        if (before !== undefined) this.observer?.finished(t.id);
        break;
      }
    }
    return t;
  }

  private remove(t: Task | FinishedTask): void {
    this.tasks.delete(t.id);
    this.order.removed();
    this.count(t, -1);
    this.touched.add(t.id);
  }

  private count(t: Task | FinishedTask, delta: 1 | -1): void {
    this.byStatus.set(t.status, (this.byStatus.get(t.status) ?? 0) + delta);
    let q = this.byQueue.get(t.queue);
    if (q === undefined) this.byQueue.set(t.queue, (q = new Map()));
    q.set(t.status, (q.get(t.status) ?? 0) + delta);
    if (t.status === 'pending') this.pendingByType.set(t.type, (this.pendingByType.get(t.type) ?? 0) + delta);
  }

  private key(kind: string, rest = ''): Uint8Array {
    const tail = utf8(kind + rest);
    const k = new Uint8Array(this.prefix.length + tail.length);
    k.set(this.prefix);
    k.set(tail, this.prefix.length);
    return k;
  }

  private taskKey(id: TaskId): Uint8Array {
    return this.key('t', id);
  }
}

/** The whole task, whichever way it is held. */
function taskOf(t: Task | FinishedTask): Task {
  return t instanceof FinishedTask ? t.task() : t;
}

/** A task's row text, whichever way it is held (a terminal task's is kept, not encoded again). */
function rowTextOf(t: Task | FinishedTask): string {
  return t instanceof FinishedTask ? t.rowText() : taskRowText(t);
}

/** A task's row as RocksDB holds it. */
function rowBytes(t: Task | FinishedTask): Uint8Array {
  return utf8(rowTextOf(t));
}

/** A new version of `t` without its lease. */
function unlease(t: Task, now: number): TaskDraft {
  const n = draftOf(t);
  n.leaseOwner = null;
  n.leaseExpiresAt = null;
  n.fencingToken = null;
  n.updatedAt = now;
  return n;
}

/** A new version of `t` in a terminal state, without its lease. */
function finish(t: Task, status: 'completed' | 'dead' | 'cancelled', now: number): TaskDraft {
  const n = unlease(t, now);
  n.status = status;
  n.finishedAt = now;
  return n;
}

function notFound(id: TaskId): Extract<OpResult, { ok: false }> {
  return { ok: false, code: 'ERR_TASK_NOT_FOUND', message: `no task ${id}` };
}

