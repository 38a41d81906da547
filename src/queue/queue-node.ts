import type { Logger } from 'pino';
import { NotLeaderError, ProposalLostError, ProposalRejectedError } from '../cluster/errors.js';
import type { MultiRaftHost } from '../cluster/multi-raft-host.js';
import { nodeId } from '../raft/index.js';
import type { GroupId } from '../storage/key-layout.js';
import type { ProposeReply, QueueRpc, ReadReply } from '../transport/queue-rpc.js';
import { encodeEntry, type OpResult, type QueueOp } from './commands.js';
import { QueueError } from './errors.js';
import { partitionOf } from './partition-of.js';
import type { QueueStateMachine } from './queue-state-machine.js';
import { firstRunAt, type Task, type TaskId } from './task.js';

export interface QueueNodeOptions {
  readonly self: string;
  readonly host: MultiRaftHost;
  readonly rpc: QueueRpc;
  readonly logger: Logger;
  /** This node's state machine of a partition, if it holds one. */
  readonly machine: (g: GroupId) => QueueStateMachine | undefined;
  readonly partitionCount: () => number;
  /** The leader of a partition this node does not hold, from the cluster view. */
  readonly viewLeader: (g: GroupId) => string | null;
  readonly requestTimeoutMs: number;
  /** Operations per log entry: many concurrent requests share one entry (and one fsync). */
  readonly maxOpsPerEntry?: number;
  /** Entries of one partition proposed here and not yet applied; later operations wait (see QueueNode). */
  readonly maxEntriesInFlight?: number;
}

/** A claim the processing loop adds to an entry that carries new work, and how it learns the outcome. */
export interface ClaimAlong {
  readonly op: Extract<QueueOp, { op: 'claim' }>;
  settle(result: OpResult | Error): void;
}

/**
 * How the processing loop hears of work this node proposes as a partition's leader (submits,
 * re-drives and releases of tasks runnable at once), so it need not wait for its next poll.
 */
export interface NewWorkListener {
  /**
   * A claim to put in the entry that carries `runnable` such tasks, after them: the task is then
   * leased by the very entry that records it, a log round trip sooner than by a claim of its own.
   * Null to add none.
   */
  claimAlong(g: GroupId, runnable: number): ClaimAlong | null;
  /**
   * Called once any entry this node proposed as `g`'s leader has been applied; `madeWork` when it
   * carried such runnable tasks. One that did not may still have delayed or leased a task, which
   * gives the processing loop a new time to wake up at.
   */
  applied(g: GroupId, madeWork: boolean): void;
}

/** Operations forwarded: sent by this node to a leader elsewhere, and received from others as leader. */
export interface RoutingStats {
  readonly forwardedOut: number;
  readonly forwardedIn: number;
}

/** The leader could not be reached or has moved: look it up again and retry. */
const MOVED = Symbol('moved');

interface Waiting {
  readonly op: QueueOp;
  readonly resolve: (r: OpResult) => void;
  readonly reject: (e: Error) => void;
}

/** Operations waiting, on the leader, for the entry they will share. */
interface WaitingForEntry {
  readonly ops: readonly QueueOp[];
  readonly resolve: (r: OpResult[]) => void;
  readonly reject: (e: Error) => void;
}

/**
 * A node's entry point to the queue: routes each operation to its partition's leader (here, or
 * over gRPC), and on the leader gathers the operations that arrive in one event-loop turn, its
 * own and those forwarded by other nodes, into one log entry per partition. Reads are
 * linearizable (ReadIndex at the leader) unless asked to be local.
 *
 * While a partition has `maxEntriesInFlight` entries proposed and not yet applied, its new
 * operations wait and go out together in the entry proposed when one of those is applied: group
 * commit. An entry costs about the same whether it holds one operation or fifty (its messages to
 * both followers and their answers, three log writes, three applies), and with many partitions
 * each one gets only a few operations per event-loop turn: with 16 partitions under load a task
 * took ~1 entry and ~9 raft messages, against ~0.08 and ~0.6 with one partition, and twice the
 * CPU. With nothing in flight, an operation is proposed at once, so a quiet partition waits for
 * nothing.
 */
export class QueueNode {
  private readonly outbox = new Map<GroupId, Waiting[]>();
  private flushScheduled = false;
  private readonly entryOutbox = new Map<GroupId, WaitingForEntry[]>();
  private entryFlushScheduled = false;
  /** Per partition, entries proposed here and not yet settled (applied or failed). */
  private readonly entriesInFlight = new Map<GroupId, number>();
  private readonly maxOps: number;
  private readonly maxInFlight: number;
  private newWork: NewWorkListener | null = null;
  /** Operations this node sent to another node's leader, and those other nodes sent to it. */
  private readonly routing: { -readonly [K in keyof RoutingStats]: number } = { forwardedOut: 0, forwardedIn: 0 };

  constructor(private readonly opts: QueueNodeOptions) {
    this.maxOps = opts.maxOpsPerEntry ?? 512;
    this.maxInFlight = opts.maxEntriesInFlight ?? DEFAULT_ENTRIES_IN_FLIGHT;
  }

  partitionCount(): number {
    return this.opts.partitionCount();
  }

  /**
   * Operations forwarded so far: sent by this node to a partition's leader elsewhere (requests
   * that reached a node not leading their partition), and received from other nodes as leader.
   * A client that sends each task to its leader (src/client) keeps both at zero.
   */
  routingStats(): RoutingStats {
    return { ...this.routing };
  }

  partitionOf(id: TaskId): GroupId {
    const count = this.opts.partitionCount();
    if (count === 0) throw new QueueError('ERR_NO_LEADER', 'the cluster has no partitions yet');
    return partitionOf(id, count);
  }

  /** Applies one operation on its partition; resolves with its result once applied. */
  op(g: GroupId, op: QueueOp): Promise<OpResult> {
    if (this.leads(g)) {
      // Straight to the entry this turn's operations share. The outbox gathers what goes to
      // another node into one forward; on the leader, waiting a turn for it put one more
      // event-loop turn (milliseconds, under load) on the path of every local submit and of every
      // completion, which is the end of every task's end-to-end time.
      return new Promise((resolve, reject) => void this.send(g, [{ op, resolve, reject }]));
    }
    return new Promise((resolve, reject) => {
      let list = this.outbox.get(g);
      if (list === undefined) this.outbox.set(g, (list = []));
      list.push({ op, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Tells `listener` of the runnable work this node proposes as leader (see NewWorkListener). */
  onNewWork(listener: NewWorkListener | null): void {
    this.newWork = listener;
  }

  /** This node's replica of the partition's state, if it holds one (reads here are local). */
  machine(g: GroupId): QueueStateMachine | undefined {
    return this.opts.machine(g);
  }

  /** Whether this node currently leads the partition (its processing loop runs here). */
  leads(g: GroupId): boolean {
    return this.opts.host.holds(g) && this.opts.host.leaderOf(g) === this.opts.self;
  }

  async get(id: TaskId, linearizable: boolean): Promise<Task | null> {
    const g = this.partitionOf(id);
    return this.followLeader(g, () => this.readOnce(g, id, linearizable));
  }

  /** The task (or null if absent), or MOVED when the leader to ask is unknown or moved. */
  private async readOnce(g: GroupId, id: TaskId, linearizable: boolean): Promise<Task | null | typeof MOVED> {
    const local = this.opts.machine(g);
    if (local !== undefined && (!linearizable || this.leads(g))) {
      try {
        if (linearizable) await this.opts.host.linearizableBarrier(g);
      } catch (e) {
        if (e instanceof NotLeaderError) return MOVED;
        throw e;
      }
      return local.get(id) ?? null;
    }
    const leader = this.leaderOf(g);
    if (leader === null || leader === this.opts.self) return MOVED;
    const reply = await this.opts.rpc.read(nodeId(leader), g, id, linearizable, this.opts.requestTimeoutMs).catch((e: unknown) => this.unreachable<ReadReply>(e));
    if (reply.ok) return reply.taskJson ? (JSON.parse(reply.taskJson) as Task) : null;
    if (reply.code === 'ERR_NOT_LEADER') return MOVED;
    throw new QueueError('ERR_FORWARD', reply.message ?? 'read failed');
  }

  /** Runs `once` until it reaches the partition's leader, backing off, until the deadline. */
  private async followLeader<T>(g: GroupId, once: () => Promise<T | typeof MOVED>): Promise<T> {
    const deadline = Date.now() + this.opts.requestTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const r = await once();
      if (r !== MOVED) return r;
      const wait = Math.min(25 * 2 ** attempt, 500);
      if (Date.now() + wait > deadline) throw new QueueError('ERR_NO_LEADER', `no leader of partition ${g} answered within ${this.opts.requestTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  // ---- gRPC handlers (requests forwarded by other nodes) ----------------------------------------

  async handlePropose(partition: number, opsJson: string): Promise<Omit<ProposeReply, 'id'>> {
    const g = partition as GroupId;
    if (!this.leads(g)) return this.notLeader(g);
    let ops: QueueOp[];
    try {
      ops = JSON.parse(opsJson) as QueueOp[];
    } catch (e) {
      return { ok: false, code: 'ERR_BAD_REQUEST', message: `operations are not JSON: ${(e as Error).message}` };
    }
    if (!Array.isArray(ops)) return { ok: false, code: 'ERR_BAD_REQUEST', message: 'operations must be a JSON array' };
    this.routing.forwardedIn += ops.length;
    try {
      const results = await this.proposeHere(g, ops);
      return { ok: true, resultsJson: JSON.stringify(results) };
    } catch (e) {
      if (retryable(e)) return this.notLeader(g);
      return { ok: false, code: (e as { code?: string }).code ?? 'ERR_INTERNAL', message: (e as Error).message };
    }
  }

  async handleRead(partition: number, id: string, linearizable: boolean): Promise<ReadReply> {
    const g = partition as GroupId;
    const sm = this.opts.machine(g);
    if (sm === undefined || (linearizable && !this.leads(g))) return this.notLeader(g);
    try {
      if (linearizable) await this.opts.host.linearizableBarrier(g);
      const t = sm.get(id as TaskId);
      return { ok: true, taskJson: t === undefined ? '' : JSON.stringify(t) };
    } catch (e) {
      if (e instanceof NotLeaderError) return this.notLeader(g);
      throw e;
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  private flush(): void {
    this.flushScheduled = false;
    const batches = [...this.outbox];
    this.outbox.clear();
    for (const [g, waiting] of batches) {
      for (let i = 0; i < waiting.length; i += this.maxOps) void this.send(g, waiting.slice(i, i + this.maxOps));
    }
    // Every forward of this turn is proposed (send reaches rpc.propose synchronously): let them
    // leave now instead of waiting for the forward streams' own end-of-turn flush, one
    // event-loop turn later, on the path of every submit that is not sent to its leader.
    this.opts.rpc.flushForwards();
  }

  /** Delivers a batch to the partition's leader, following leadership until the deadline. */
  private async send(g: GroupId, batch: Waiting[]): Promise<void> {
    const ops = batch.map((w) => w.op);
    try {
      const results = await this.followLeader(g, () => this.proposeOnce(g, ops));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (e) {
      for (const w of batch) w.reject(e as Error);
    }
  }

  /** The results, or MOVED when the leader moved (try again). */
  private async proposeOnce(g: GroupId, ops: QueueOp[]): Promise<OpResult[] | typeof MOVED> {
    if (this.leads(g)) {
      try {
        return await this.proposeHere(g, ops);
      } catch (e) {
        if (retryable(e)) return MOVED;
        throw e;
      }
    }
    const leader = this.leaderOf(g);
    if (leader === null || leader === this.opts.self) return MOVED;
    this.routing.forwardedOut += ops.length;
    const reply = await this.opts.rpc.propose(nodeId(leader), g, JSON.stringify(ops), this.opts.requestTimeoutMs).catch((e: unknown) => this.unreachable<ProposeReply>(e));
    if (reply.ok) return JSON.parse(reply.resultsJson ?? '[]') as OpResult[];
    if (reply.code === 'ERR_NOT_LEADER') return MOVED;
    throw new QueueError('ERR_FORWARD', `${reply.code ?? 'ERR'}: ${reply.message ?? 'forwarded proposal failed'}`);
  }

  /** Proposes `ops` on a partition this node leads, in the entry this turn's operations share. */
  private proposeHere(g: GroupId, ops: readonly QueueOp[]): Promise<OpResult[]> {
    return new Promise((resolve, reject) => {
      let list = this.entryOutbox.get(g);
      if (list === undefined) this.entryOutbox.set(g, (list = []));
      list.push({ ops, resolve, reject });
      this.scheduleEntryFlush();
    });
  }

  private scheduleEntryFlush(): void {
    if (this.entryFlushScheduled) return;
    this.entryFlushScheduled = true;
    setImmediate(() => this.flushEntries());
  }

  /** Proposes what waits, in entries of up to maxOps operations, for every partition below its cap. */
  private flushEntries(): void {
    this.entryFlushScheduled = false;
    for (const [g, waiting] of [...this.entryOutbox]) {
      let inFlight = this.entriesInFlight.get(g) ?? 0;
      let taken = 0;
      while (taken < waiting.length && inFlight < this.maxInFlight) {
        const chunk: WaitingForEntry[] = [];
        let size = 0;
        while (taken < waiting.length && (chunk.length === 0 || size + waiting[taken]!.ops.length <= this.maxOps)) {
          size += waiting[taken]!.ops.length;
          chunk.push(waiting[taken++]!);
        }
        inFlight++;
        this.entriesInFlight.set(g, inFlight);
        this.proposeEntry(g, chunk);
      }
      if (taken === waiting.length) this.entryOutbox.delete(g);
      else if (taken > 0) this.entryOutbox.set(g, waiting.slice(taken));
    }
  }

  /** One of g's entries settled: what waited for room goes out in the next turn. */
  private entrySettled(g: GroupId): void {
    const left = (this.entriesInFlight.get(g) ?? 1) - 1;
    if (left > 0) this.entriesInFlight.set(g, left);
    else this.entriesInFlight.delete(g);
    if (this.entryOutbox.has(g)) this.scheduleEntryFlush();
  }

  /** One log entry for the waiting operations; each waiter gets its own slice of the results. */
  private proposeEntry(g: GroupId, chunk: readonly WaitingForEntry[]): void {
    // The leader stamps time and randomness; apply itself never reads either.
    const ops = chunk.flatMap((w) => w.ops);
    const now = Date.now();
    // Tasks runnable at once (a delayed submit is not): what a claim in this entry could take.
    let runnable = 0;
    for (const o of ops) {
      if (o.op === 'retry' || o.op === 'release') runnable++;
      else if (o.op === 'submit' && (firstRunAt(o.task, now) ?? now) <= now) runnable++;
    }
    const listener = this.newWork;
    const along = runnable > 0 ? (listener?.claimAlong(g, runnable) ?? null) : null;
    const data = encodeEntry({ now, random: Math.random(), ops: along === null ? ops : [...ops, along.op] });
    let proposed: Promise<unknown>;
    try {
      proposed = this.opts.host.propose(g, data);
    } catch (e) {
      proposed = Promise.reject(e);
    }
    proposed.then(
      (results) => {
        this.entrySettled(g);
        const all = results as OpResult[];
        along?.settle(all[ops.length] ?? new Error('the entry returned no result for its claim'));
        listener?.applied(g, runnable > 0);
        let at = 0;
        for (const w of chunk) {
          w.resolve(all.slice(at, at + w.ops.length));
          at += w.ops.length;
        }
      },
      (e: unknown) => {
        this.entrySettled(g);
        along?.settle(e as Error);
        for (const w of chunk) w.reject(e as Error);
      },
    );
  }

  private leaderOf(g: GroupId): string | null {
    if (this.opts.host.holds(g)) {
      const l = this.opts.host.leaderOf(g);
      if (l !== null) return l;
    }
    return this.opts.viewLeader(g);
  }

  private notLeader(g: GroupId): { ok: false; code: string; message: string; leaderHint: string } {
    const hint = this.opts.host.holds(g) ? (this.opts.host.leaderOf(g) ?? '') : '';
    return { ok: false, code: 'ERR_NOT_LEADER', message: `${this.opts.self} does not lead partition ${g}`, leaderHint: hint };
  }

  /** A leader that cannot be reached is treated like a moved leader: look again, retry. */
  private unreachable<T extends { ok?: boolean; code?: string }>(e: unknown): T {
    this.opts.logger.debug({ err: (e as Error).message }, 'forward failed');
    return { ok: false, code: 'ERR_NOT_LEADER' } as T;
  }
}

/** See QueueNode. One was measured best (15-20% less CPU per task than two or no limit, with 16 partitions). */
const DEFAULT_ENTRIES_IN_FLIGHT = 1;

/**
 * Failures that leave the operations unapplied, so sending them again is safe: leadership moved or
 * is moving, the entry was overwritten by a new leader, or the leader shed load (its cap on
 * uncommitted entries). The caller retries until its deadline.
 */
function retryable(e: unknown): boolean {
  return e instanceof NotLeaderError || e instanceof ProposalLostError || e instanceof ProposalRejectedError;
}

