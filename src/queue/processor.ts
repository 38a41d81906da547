import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { GroupId } from '../storage/key-layout.js';
import type { OpResult, QueueOp } from './commands.js';
import { HandlerError, type Handler } from './handlers.js';
import type { ClaimAlong, QueueNode } from './queue-node.js';
import type { QueueStateMachine } from './queue-state-machine.js';
import { RunSignals, type RunSignal } from './run-signal.js';
import { MAX_PROGRESS_BYTES, jsonSizeProblem, type Task, type TaskId, type TaskStatus } from './task.js';

/** The first pause before proposing a result again, and the longest (see Processor.record). */
const RECORD_RETRY_MS = 100;
const RECORD_RETRY_MAX_MS = 2_000;

/** Tasks one claim may lease (one log entry). */
const MAX_CLAIM = 256;

/** How often a partition's terminal tasks are checked against the retention limits. */
const SWEEP_CHECK_MS = 5_000;

/**
 * The wait before another round when something is due already but this round could not act on it
 * (its partition's claim or expiry is in flight, or every slot is taken): short, as the old fixed
 * poll was, but only while such work waits.
 */
const DUE_RETRY_MS = 10;

/** Handlers running and the limit, runs since start, and completions per second over the last 10 s. */
export interface ProcessorStats {
  readonly running: number;
  readonly concurrency: number;
  readonly started: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly rejected: number;
  /** Attempts whose results were not sent because the attempt stopped holding its task before or
   * while its handler ran (cancelled, lease expired, released by a stopping node). */
  readonly abandoned: number;
  readonly completedPerSec: number;
}

export interface ProcessorOptions {
  readonly self: string;
  readonly queue: QueueNode;
  readonly handlers: ReadonlyMap<string, Handler>;
  /** The partitions this node holds, with their state machines. */
  readonly machines: () => Iterable<[GroupId, QueueStateMachine]>;
  readonly logger: Logger;
  /** Handlers running at once on this node, over all partitions. */
  readonly concurrency: number;
  /** The longest wait between two rounds when nothing is due sooner (a safety net: rounds are
   * driven by new work, finished handlers, leadership and the next due time). */
  readonly pollMs: number;
  /** Retention: terminal tasks kept per partition, and their maximum age. */
  readonly retainCount: number;
  readonly retainMs: number;
}

/**
 * The processing loop of every partition this node leads: claims runnable tasks (priority, then
 * FIFO) up to the node's concurrency, runs their handlers, and completes or fails them, many per
 * log entry. It also expires leases whose time has passed and sweeps old terminal tasks. A new
 * leader simply starts claiming: tasks leased by the old one finish (their results are forwarded
 * to the new leader) or come back when their lease expires.
 *
 * A round runs when there is something to do, not on a fixed poll: at once when new work is
 * applied, a handler finishes, an expiry round ends, or this node becomes a leader and again when
 * it has applied what the old leader left (kick), and otherwise at the next time something falls
 * due (the earliest delayed task, lease expiry or retention check over the partitions it leads,
 * taken from their indexes), or after `pollMs` at the latest. It used to poll every 10 ms,
 * waking every node 100 times a second for nothing when idle; on a 2-core virtual machine where a
 * wake of a sleeping process costs ~60 µs of CPU (`npm run bench:wake-cost`), an idle node took
 * 46-48 ms of CPU a second with that poll and 37-43 with this (2026-12-02).
 */
export class Processor {
  private running = 0;
  private readonly claiming = new Set<GroupId>();
  private readonly expiring = new Set<GroupId>();
  private readonly lastSweep = new Map<GroupId, number>();
  private timer: NodeJS.Timeout | null = null;
  /** When `timer` fires (ms since the epoch); +Infinity without a timer. */
  private timerAt = Number.POSITIVE_INFINITY;
  private kicked = false;
  private rotation = 0;
  private stopped = false;
  /** Shutting down: no new claims; running handlers may still finish and record results. */
  private draining = false;
  /** Results (complete or fail) proposed and not yet answered. */
  private recording = 0;
  /** Releases proposed by drain and not yet answered, and those that succeeded. */
  private readonly releasing = new Set<Promise<void>>();
  private released = 0;
  private readonly signals = new RunSignals();
  private readonly types: string[];
  private readonly counters = { started: 0, succeeded: 0, failed: 0, rejected: 0, abandoned: 0 };
  /** The attempts whose handlers run here, by task: what `attemptEnded` aborts. */
  private readonly runs = new Map<TaskId, { readonly g: GroupId; readonly token: number; readonly signal: RunSignal }>();
  /** Completions per second over the last 10 s, for stats. */
  private readonly recent: number[] = [];

  constructor(private readonly opts: ProcessorOptions) {
    this.types = [...opts.handlers.keys()];
  }

  start(): void {
    this.opts.queue.onNewWork({
      claimAlong: (g, runnable) => this.claimAlong(g, runnable),
      applied: (g, madeWork) => (madeWork ? this.kick() : this.entryApplied(g)),
    });
    this.kick();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.opts.queue.onNewWork(null);
    this.stopped = true;
    this.signals.stop(new Error('node stopping'));
  }

  /**
   * A graceful stop, before `stop()`: claims nothing more, gives the running handlers (and the
   * claims already proposed) up to `graceMs` to finish and have their results recorded, then
   * aborts those still running and releases their tasks (pending again at once, the attempt not
   * counted), so that the partitions' next leaders run them without waiting for their leases to
   * expire. A claim that comes back later is released without running. Releases that get no
   * answer within `releaseMs` (no quorum left) are left to lease expiry, as after a crash.
   */
  async drain(graceMs: number, releaseMs = 2_000): Promise<{ finished: number; released: number }> {
    this.draining = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    const running = this.runs.size;
    const resultsBefore = this.counters.succeeded + this.counters.failed + this.counters.rejected;
    const graceEnds = Date.now() + graceMs;
    while ((this.runs.size > 0 || this.recording > 0 || this.claiming.size > 0) && Date.now() < graceEnds) await sleep(Math.min(20, graceEnds - Date.now()));
    const stopping = new DOMException('the node is stopping; the task is released to run elsewhere', 'AbortError');
    for (const [id, r] of [...this.runs]) {
      r.signal.abort(stopping);
      this.release(r.g, id, r.token);
    }
    const releases = [...this.releasing];
    await Promise.race([Promise.allSettled(releases), sleep(releaseMs)]);
    const finished = this.counters.succeeded + this.counters.failed + this.counters.rejected - resultsBefore;
    this.opts.logger.info({ running, finished, released: this.released, unreleased: this.releasing.size }, 'processing stopped');
    return { finished, released: this.released };
  }

  /** Gives a task this node holds back to its partition (see drain). */
  private release(g: GroupId, id: TaskId, token: number): void {
    const done = this.opts.queue
      .op(g, { op: 'release', id, token })
      .then((r) => {
        if (r.ok) this.released++;
      })
      .catch((e: unknown) => this.opts.logger.warn({ task: id, err: (e as Error).message }, 'could not release a task; its lease will expire and it will run again'))
      .finally(() => this.releasing.delete(done));
    this.releasing.add(done);
  }

  /** Runs a round as soon as the event loop is free (once, however many ask before it runs). */
  kick(): void {
    if (this.kicked) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      this.pump();
    });
  }

  stats(): ProcessorStats {
    const now = Date.now();
    while (this.recent.length > 0 && this.recent[0]! < now - 10_000) this.recent.shift();
    return { running: this.running, concurrency: this.opts.concurrency, ...this.counters, completedPerSec: this.recent.length / 10 };
  }

  /**
   * A replica of a partition saw attempt `token` of task `id` stop holding it (see
   * TaskObserver.attemptEnded): if that attempt runs here, its handler's signal is aborted and its
   * result will not be sent. Called while entries are applied; the abort (which runs the
   * handler's listeners) waits until that is over.
   */
  attemptEnded(id: TaskId, token: number, status: TaskStatus | null): void {
    const r = this.runs.get(id);
    if (r === undefined || r.token !== token) return;
    const why = status === 'cancelled' ? 'was cancelled' : status === null ? 'is gone' : `lost its lease (the task is ${status})`;
    queueMicrotask(() => r.signal.abort(new DOMException(`task ${id} ${why}`, 'AbortError')));
  }

  /** Makes sure a round runs at `at` (ms since the epoch) at the latest. */
  private wakeBy(at: number): void {
    if (this.stopped || at >= this.timerAt) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.pump();
    }, Math.max(0, at - Date.now()));
  }

  /**
   * When the next round is needed for `g`'s sake, from its indexes: the earliest delayed task, the
   * earliest lease expiry (`expiry`, sm.nextLeaseExpiry(), which the caller has read already) and
   * the next retention check.
   */
  private dueOf(g: GroupId, sm: QueueStateMachine, now: number, expiry: number | null): number {
    let due = (this.lastSweep.get(g) ?? now) + SWEEP_CHECK_MS;
    const delayed = sm.nextDelayedAt();
    if (delayed !== null) due = Math.min(due, delayed);
    if (expiry !== null) due = Math.min(due, expiry);
    // Due already and still there: this round could not act on it; look again shortly.
    return due <= now ? now + DUE_RETRY_MS : due;
  }

  /** An entry this node proposed on `g` was applied: it may have set a sooner due time. */
  private entryApplied(g: GroupId): void {
    if (this.stopped || !this.opts.queue.leads(g)) return;
    const sm = this.opts.queue.machine(g);
    if (sm !== undefined) this.wakeBy(this.dueOf(g, sm, Date.now(), sm.nextLeaseExpiry()));
  }

  private pump(): void {
    // A kick from a commit can come after stop(): claim nothing then.
    if (this.stopped || this.draining) return;
    const now = Date.now();
    const wanting: [GroupId, number][] = [];
    let next = now + this.opts.pollMs;
    for (const [g, sm] of this.opts.machines()) {
      if (!this.opts.queue.leads(g)) continue;
      const expiry = sm.nextLeaseExpiry();
      if (expiry !== null && expiry <= now && !this.expiring.has(g)) void this.expire(g);
      if (now - (this.lastSweep.get(g) ?? 0) >= SWEEP_CHECK_MS) {
        this.lastSweep.set(g, now);
        if (sm.sweepDue(now, this.opts.retainCount, this.opts.retainMs)) {
          void this.opts.queue.op(g, { op: 'sweep', keep: this.opts.retainCount, maxAgeMs: this.opts.retainMs }).catch(() => undefined);
        }
      }
      if (!this.claiming.has(g) && sm.hasRunnable(now, this.types)) wanting.push([g, sm.pendingOf(this.types)]);
      next = Math.min(next, this.dueOf(g, sm, now, expiry));
    }
    this.wakeBy(next);
    // The free slots are shared among the partitions with work, starting each round at a different
    // one. When the first partition with work took them all, the others waited for its claim to
    // commit, round after round, and one partition of a node could starve for seconds.
    let free = this.opts.concurrency - this.running;
    if (free <= 0 || wanting.length === 0) return;
    const first = this.rotation++ % wanting.length;
    for (let k = 0; k < wanting.length && free > 0; k++) {
      const [g, pending] = wanting[(first + k) % wanting.length]!;
      // An even share of what is left, so slots a partition does not need go to the next ones.
      const share = Math.ceil(free / (wanting.length - k));
      // Due delayed tasks become pending only in the claim itself: ask for a share then.
      const max = Math.min(share, MAX_CLAIM, pending > 0 ? pending : share);
      free -= max;
      void this.claim(g, max);
    }
  }

  private async expire(g: GroupId): Promise<void> {
    this.expiring.add(g);
    try {
      await this.opts.queue.op(g, { op: 'expire' });
    } catch (e) {
      this.opts.logger.debug({ partition: g, err: (e as Error).message }, 'lease expiry round failed');
    } finally {
      this.expiring.delete(g);
    }
    // The expired tasks are pending again (or delayed for their backoff, or dead).
    this.kick();
  }

  private async claim(g: GroupId, max: number): Promise<void> {
    const settle = this.reserve(g, max);
    try {
      settle(await this.opts.queue.op(g, { op: 'claim', owner: this.opts.self, max, types: this.types }));
    } catch (e) {
      settle(e as Error);
    }
  }

  /** A claim for an entry that carries new work on a partition this node leads (see QueueNode). */
  private claimAlong(g: GroupId, runnable: number): ClaimAlong | null {
    if (this.stopped || this.draining || this.claiming.has(g)) return null;
    const sm = this.opts.queue.machine(g);
    const free = this.opts.concurrency - this.running;
    if (sm === undefined || free <= 0) return null;
    const max = Math.min(free, MAX_CLAIM, runnable + sm.pendingOf(this.types));
    return { op: { op: 'claim', owner: this.opts.self, max, types: this.types }, settle: this.reserve(g, max) };
  }

  /**
   * Reserves `max` handler slots for a claim on `g` (so concurrent claims on other partitions
   * respect the limit) and returns what to call with its outcome: it runs what was leased and
   * gives back the slots it did not need.
   */
  private reserve(g: GroupId, max: number): (result: OpResult | Error) => void {
    this.claiming.add(g);
    this.running += max;
    return (result) => {
      let claimed: readonly Task[] = [];
      if (result instanceof Error) {
        this.opts.logger.debug({ partition: g, err: result.message }, 'claim failed');
        // The work is still there (unless leadership moved, which the next round sees).
        this.wakeBy(Date.now() + DUE_RETRY_MS);
      } else if (result.ok && 'tasks' in result) claimed = result.tasks;
      this.running -= max - claimed.length;
      this.claiming.delete(g);
      for (const t of claimed) void this.run(g, t);
      if (claimed.length === max) this.kick();
    };
  }

  private async run(g: GroupId, task: Task): Promise<void> {
    const token = task.fencingToken ?? 0;
    // An entry applied in the same turn as the claim may have ended the attempt already (a cancel).
    const current = this.opts.queue.machine(g)?.get(task.id);
    if (current !== undefined && (current.status !== 'running' || current.fencingToken !== token)) {
      this.running--;
      this.counters.abandoned++;
      this.kick();
      return;
    }
    if (this.draining || this.stopped) {
      // A claim proposed before the stop began, answered after: let the next leader run it.
      this.running--;
      this.release(g, task.id, token);
      return;
    }
    this.counters.started++;
    const run = this.signals.forRun(task.timeoutMs);
    this.runs.set(task.id, { g, token, signal: run });
    const heartbeat = async (progress?: unknown): Promise<void> => {
      const at = Date.now();
      const r = await this.opts.queue.op(g, progress === undefined ? { op: 'extend', id: task.id, token } : { op: 'extend', id: task.id, token, progress });
      if (!r.ok) throw new HandlerError(`lease lost: ${r.message}`);
      // The leader counts the new lease from its own clock when it proposed the heartbeat, which
      // is no earlier than `at`: the local timeout never outlives the lease.
      run.extendTo(at + task.timeoutMs);
    };
    let outcome: { ok: true; result: unknown } | { ok: false; error: string };
    try {
      const handler = this.opts.handlers.get(task.type);
      if (handler === undefined) throw new HandlerError(`no handler for type "${task.type}"`);
      const result = await handler(task, {
        fencingToken: token,
        get signal() {
          return run.signal;
        },
        extendLease: () => heartbeat(),
        reportProgress: (progress: unknown) => {
          const problem = jsonSizeProblem('progress', progress, MAX_PROGRESS_BYTES);
          return problem === null ? heartbeat(progress) : Promise.reject(new HandlerError(problem));
        },
      });
      outcome = { ok: true, result: result ?? null };
    } catch (e) {
      outcome = { ok: false, error: e instanceof Error ? e.message : String(e) };
    } finally {
      run.done();
      // An attempt whose lease was lost may outlive it (its handler ignored the signal) while the
      // task runs here again under a new token: leave the new attempt's entry alone.
      if (this.runs.get(task.id)?.signal === run) this.runs.delete(task.id);
    }
    // The handler is done: its slot goes to the next task while this result is being recorded, so
    // that recording (a log round trip) does not hold back handlers.
    this.running--;
    // Stopping: the lease runs out and the task is retried elsewhere.
    if (this.stopped) return;
    this.kick();
    if (run.abandonedWith !== null) {
      // The task was cancelled, leased again or released: the log would refuse this result.
      this.counters.abandoned++;
      this.opts.logger.info({ task: task.id, reason: (run.abandonedWith as Error).message }, 'attempt stopped; its result is not recorded');
      return;
    }
    this.recording++;
    try {
      const r = await this.record(g, outcome.ok ? { op: 'complete', id: task.id, token, result: outcome.result } : { op: 'fail', id: task.id, token, error: outcome.error }, run);
      if (!r.ok) {
        // The lease was lost (expired and re-claimed, or the task cancelled): our result is void.
        this.counters.rejected++;
        this.opts.logger.info({ task: task.id, code: r.code }, 'result refused: the attempt no longer holds the task');
      } else if (outcome.ok) {
        this.counters.succeeded++;
        this.recent.push(Date.now());
      } else {
        this.counters.failed++;
      }
    } catch (e) {
      this.opts.logger.warn({ task: task.id, err: (e as Error).message }, 'could not record a result before the lease ran out; the task will run again');
    } finally {
      this.recording--;
    }
  }

  /**
   * Proposes an attempt's result, and proposes it again while no leader answers (an election, a
   * partition without a quorum for a while) until the attempt's lease runs out: the work is done,
   * and giving up after one request timeout made the task run again once its lease expired (with
   * a 120 s lease, two minutes after a restart of two nodes in a row that lasted seconds). The
   * fencing token keeps a late one harmless: a lease lost meanwhile gets it refused.
   */
  private async record(g: GroupId, op: Extract<QueueOp, { op: 'complete' | 'fail' }>, run: RunSignal): Promise<OpResult> {
    for (let wait = RECORD_RETRY_MS; ; wait = Math.min(wait * 2, RECORD_RETRY_MAX_MS)) {
      try {
        return await this.opts.queue.op(g, op);
      } catch (e) {
        if (this.stopped || Date.now() + wait >= run.leaseEndsAt) throw e;
        this.opts.logger.debug({ task: op.id, err: (e as Error).message }, 'recording a result failed; trying again');
        await sleep(wait);
      }
    }
  }
}
