import { setTimeout as sleep } from 'node:timers/promises';
import { groupId, type GroupId } from '../storage/key-layout.js';
import type { OpResult } from './commands.js';
import { QueueError } from './errors.js';
import type { Processor, ProcessorStats } from './processor.js';
import type { QueueNode, RoutingStats } from './queue-node.js';
import type { QueueCounters, QueueStateMachine } from './queue-state-machine.js';
import type { TaskWaiters } from './task-waiters.js';
import { MAX_PROGRESS_BYTES, jsonSizeProblem, TERMINAL, taskId, type Backoff, type Task, type TaskSpec, type TaskStatus } from './task.js';
import { newTaskId } from './task-ids.js';
import { listTasks, type ListFilter } from './list-tasks.js';

/** A submit as clients send it (HTTP): everything but `type` is optional. */
export interface SubmitInput {
  readonly type: string;
  readonly payload?: unknown;
  readonly id?: string;
  readonly queue?: string;
  readonly priority?: number;
  readonly delayMs?: number;
  /** Absolute time, ms since the epoch. */
  readonly runAt?: number;
  readonly maxAttempts?: number;
  readonly backoff?: Partial<Backoff>;
  readonly timeoutMs?: number;
}

export const TASK_DEFAULTS = {
  queue: 'default',
  priority: 0,
  maxAttempts: 3,
  backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000, jitter: 0.2 } satisfies Backoff,
  timeoutMs: 30_000,
} as const;

/** What a remote worker reports of an attempt: a heartbeat (with progress, if any), a result, a failure. */
export type WorkerReport = { readonly kind: 'extend'; readonly progress?: unknown } | { readonly kind: 'complete'; readonly result: unknown } | { readonly kind: 'fail'; readonly error: string };

/** What GET /metrics exports of a node (see src/http/metrics.ts). */
export interface NodeMetrics {
  readonly partitionsHeld: number;
  /** Tasks by queue and status, summed over the partitions this node leads. */
  readonly byQueue: Readonly<Record<string, Partial<Record<TaskStatus, number>>>>;
  /** The replicated counters of each partition this node leads. */
  readonly partitionCounters: readonly { readonly partition: number; readonly counters: Readonly<QueueCounters> }[];
  readonly processor: Readonly<ProcessorStats>;
  readonly routing: Readonly<RoutingStats>;
  readonly raft: Readonly<Record<string, number>>;
}

/** Largest payload, as JSON text. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** Dead tasks one entry re-drives at most (POST /tasks/retry-dead). */
const RETRY_DEAD_BATCH = 1_000;

/** The longest a long-poll waits for its local replica before it reads the leader again. */
const WAIT_SLICE_MS = 5_000;

/** What the HTTP API does with tasks, on top of the node's queue routing. */
export class TaskService {
  constructor(
    private readonly queue: QueueNode,
    private readonly machines: () => Iterable<[GroupId, QueueStateMachine]>,
    private readonly processor: Processor,
    private readonly waiters: TaskWaiters,
    /** The node's raft loop counters (turns, fsynced writes, entries), for operators. */
    private readonly raftStats: () => Readonly<Record<string, number>> = () => ({}),
  ) {}

  /** Submits tasks (each on its own partition's leader). Existing IDs return the existing task. */
  async submit(inputs: readonly SubmitInput[]): Promise<{ task: Task; created: boolean }[]> {
    const now = Date.now();
    const specs = inputs.map((i) => toSpec(i, now));
    const results = await Promise.all(specs.map((spec) => this.queue.op(this.queue.partitionOf(spec.id), { op: 'submit', task: spec })));
    return results.map((r) => {
      const t = expectTask(r);
      return { task: t, created: 'created' in r && r.created === true };
    });
  }

  async get(id: string, linearizable: boolean): Promise<Task> {
    const t = await this.queue.get(taskId(id), linearizable);
    if (t === null) throw new QueueError('ERR_TASK_NOT_FOUND', `no task ${id}`);
    return t;
  }

  /**
   * Long-poll: the task once terminal, or as it is when `timeoutMs` runs out. Where this node holds
   * a replica of the task's partition, it waits for that replica to apply the task's end (see
   * TaskWaiters) and reads the leader once more; elsewhere it reads the leader with backoff.
   */
  async wait(id: string, timeoutMs: number): Promise<Task> {
    const tid = taskId(id);
    const deadline = Date.now() + timeoutMs;
    let woken = false;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      // Linearizable: a lagging local replica could miss the task, or show an old state forever.
      const t = await this.get(id, true);
      const left = deadline - Date.now();
      // Stopping: answer with the task as it is (as at the deadline), so the stop is not held up.
      if (TERMINAL.has(t.status) || left <= 0 || this.waiters.closed) return t;
      const local = this.queue.machine(this.queue.partitionOf(tid));
      // Without a replica here, or when it still shows an end the leader has moved past (a
      // re-drive it has not applied yet): read the leader again after a pause.
      if (local === undefined || woken) await sleep(Math.min(delay, left));
      // A slice at most: if the replica moves away meanwhile, its finish is never heard of here.
      woken = local !== undefined && (await this.waiters.until(tid, Math.min(left, WAIT_SLICE_MS), () => TERMINAL.has(local.summary(tid)?.status ?? t.status)));
    }
  }

  /**
   * The node is stopping: long-polls (task waits, remote workers' claims) answer now with what
   * they have, so that closing the HTTP server does not wait up to their timeouts (60 s and 30 s).
   */
  endLongPolls(): void {
    this.waiters.close();
  }

  async cancel(id: string): Promise<Task> {
    const tid = taskId(id);
    return expectTask(await this.queue.op(this.queue.partitionOf(tid), { op: 'cancel', id: tid }));
  }

  /**
   * Re-drives the dead tasks of a queue and a type (null: any) on every partition, up to `limit`
   * per partition (a bound: tasks that die again while this runs are not chased forever); returns
   * how many. Each partition's leader does it in entries of RETRY_DEAD_BATCH.
   */
  async retryDead(queue: string | null, type: string | null, limit: number): Promise<number> {
    const partitions = Array.from({ length: this.queue.partitionCount() }, (_, i) => groupId(i + 1));
    const counts = await Promise.all(
      partitions.map(async (g) => {
        let total = 0;
        while (total < limit) {
          const max = Math.min(RETRY_DEAD_BATCH, limit - total);
          const r = await this.queue.op(g, { op: 'retryDead', queue, type, max });
          if (!r.ok) throw new QueueError(r.code, r.message);
          const n = 'count' in r ? r.count : 0;
          total += n;
          if (n < max) break;
        }
        return total;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  async retry(id: string): Promise<Task> {
    const tid = taskId(id);
    return expectTask(await this.queue.op(this.queue.partitionOf(tid), { op: 'retry', id: tid }));
  }

  /**
   * A remote worker's claim: leases up to `max` runnable tasks (of `types`, if given) for `owner`,
   * trying this node's partitions first and then the others, and waits up to `waitMs` for work.
   */
  async claimFor(owner: string, max: number, types: readonly string[] | null, waitMs: number): Promise<Task[]> {
    const deadline = Date.now() + waitMs;
    const count = this.queue.partitionCount();
    let start = Math.floor(Math.random() * Math.max(1, count));
    for (let delay = 25; ; delay = Math.min(delay * 2, 200)) {
      const order = Array.from({ length: count }, (_, i) => groupId(((start + i) % count) + 1));
      order.sort((a, b) => Number(this.queue.leads(b)) - Number(this.queue.leads(a)));
      const out: Task[] = [];
      for (const g of order) {
        if (out.length >= max) break;
        const local = this.queue.machine(g);
        // Skip partitions this node can see are empty; the others are asked.
        if (local !== undefined && this.queue.leads(g) && !local.hasRunnable(Date.now(), types)) continue;
        const r = await this.queue.op(g, { op: 'claim', owner, max: max - out.length, types });
        if (r.ok && 'tasks' in r) out.push(...r.tasks);
      }
      if (out.length > 0 || Date.now() + delay > deadline || this.waiters.closed) return out;
      start++;
      await sleep(delay);
    }
  }

  /** A remote worker's heartbeat, result or failure, accepted only with the attempt's token. */
  async finish(id: string, token: number, outcome: WorkerReport): Promise<Task> {
    const tid = taskId(id);
    const g = this.queue.partitionOf(tid);
    switch (outcome.kind) {
      case 'extend': {
        if (outcome.progress === undefined) return expectTask(await this.queue.op(g, { op: 'extend', id: tid, token }));
        const problem = jsonSizeProblem('progress', outcome.progress, MAX_PROGRESS_BYTES);
        if (problem !== null) throw new QueueError('ERR_PAYLOAD_TOO_LARGE', problem);
        return expectTask(await this.queue.op(g, { op: 'extend', id: tid, token, progress: outcome.progress }));
      }
      case 'complete':
        return expectTask(await this.queue.op(g, { op: 'complete', id: tid, token, result: outcome.result }));
      case 'fail':
        return expectTask(await this.queue.op(g, { op: 'fail', id: tid, token, error: outcome.error }));
    }
  }

  /** This node's tasks: those of the partitions it leads, by ID, a page at a time. */
  list(f: ListFilter): { tasks: Task[]; nextCursor: string | null } {
    const led: QueueStateMachine[] = [];
    for (const [g, sm] of this.machines()) if (this.queue.leads(g)) led.push(sm);
    return listTasks(led, f);
  }

  /** This node's figures for monitoring, per led partition where they are the partition's own. */
  metrics(): NodeMetrics {
    const { held, led } = this.partitions();
    return {
      partitionsHeld: held.length,
      byQueue: sumByQueue(led.map(([, sm]) => sm.countsByQueue())),
      partitionCounters: led.map(([g, sm]) => ({ partition: g, counters: { ...sm.stats() } })),
      processor: this.processor.stats(),
      routing: this.queue.routingStats(),
      raft: this.raftStats(),
    };
  }

  /** This node: partitions held and led, tasks by status (led partitions), processing counters. */
  stats(): Record<string, unknown> {
    const { held, led } = this.partitions();
    const byStatus: Record<TaskStatus, number> = { pending: 0, delayed: 0, running: 0, completed: 0, dead: 0, cancelled: 0 };
    const totals = { submitted: 0, completed: 0, failedAttempts: 0, dead: 0, cancelled: 0 };
    for (const [, sm] of led) {
      for (const [s, n] of Object.entries(sm.countsByStatus())) byStatus[s as TaskStatus] += n;
      for (const [k, v] of Object.entries(sm.stats())) totals[k as keyof typeof totals] += v;
    }
    return {
      partitionsHeld: held,
      partitionsLed: led.map(([g]) => g),
      tasksByStatus: byStatus,
      queueDepth: byStatus.pending + byStatus.delayed,
      byQueue: sumByQueue(led.map(([, sm]) => sm.countsByQueue())),
      partitionCounters: totals,
      processor: this.processor.stats(),
      routing: this.queue.routingStats(),
      raft: this.raftStats(),
    };
  }

  /** The partitions this node holds, and those of them it leads with their state, in order. */
  private partitions(): { held: GroupId[]; led: [GroupId, QueueStateMachine][] } {
    const held: GroupId[] = [];
    const led: [GroupId, QueueStateMachine][] = [];
    for (const [g, sm] of this.machines()) {
      held.push(g);
      if (this.queue.leads(g)) led.push([g, sm]);
    }
    held.sort((a, b) => a - b);
    led.sort(([a], [b]) => a - b);
    return { held, led };
  }
}

/** Tasks by queue and status, summed over several such counts (partitions, or nodes). */
export function sumByQueue(parts: Iterable<Readonly<Record<string, Partial<Record<TaskStatus, number>>>>>): Record<string, Partial<Record<TaskStatus, number>>> {
  const out: Record<string, Partial<Record<TaskStatus, number>>> = {};
  for (const part of parts) {
    for (const [queue, counts] of Object.entries(part)) {
      const q = (out[queue] ??= {});
      for (const [status, n] of Object.entries(counts) as [TaskStatus, number][]) q[status] = (q[status] ?? 0) + n;
    }
  }
  return out;
}

function toSpec(i: SubmitInput, now: number): TaskSpec {
  const payload = i.payload ?? null;
  const problem = jsonSizeProblem('payload', payload, MAX_PAYLOAD_BYTES);
  if (problem !== null) throw new QueueError('ERR_PAYLOAD_TOO_LARGE', problem);
  return {
    id: i.id !== undefined ? taskId(i.id) : newTaskId(now),
    queue: i.queue ?? TASK_DEFAULTS.queue,
    type: i.type,
    payload,
    priority: i.priority ?? TASK_DEFAULTS.priority,
    runAt: i.runAt ?? null,
    delayMs: i.runAt === undefined && i.delayMs !== undefined && i.delayMs > 0 ? i.delayMs : null,
    maxAttempts: i.maxAttempts ?? TASK_DEFAULTS.maxAttempts,
    backoff: { ...TASK_DEFAULTS.backoff, ...i.backoff },
    timeoutMs: i.timeoutMs ?? TASK_DEFAULTS.timeoutMs,
  };
}

function expectTask(r: OpResult): Task {
  if (!r.ok) throw new QueueError(r.code, r.message);
  if (!('task' in r)) throw new QueueError('ERR_FORWARD', 'unexpected result');
  return r.task;
}
