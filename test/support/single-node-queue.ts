import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { MultiRaftHost } from '../../src/cluster/multi-raft-host.js';
import type { Handler } from '../../src/queue/handlers.js';
import { Processor, type ProcessorOptions } from '../../src/queue/processor.js';
import { QueueNode } from '../../src/queue/queue-node.js';
import { QueueStateMachine, type TaskObserver } from '../../src/queue/queue-state-machine.js';
import { TaskWaiters } from '../../src/queue/task-waiters.js';
import type { TaskId, TaskSpec } from '../../src/queue/task.js';
import { nodeId } from '../../src/raft/index.js';
import { groupId, type GroupId } from '../../src/storage/key-layout.js';
import { RocksDatabase } from '../../src/storage/rocks-database.js';
import { QueueRpc } from '../../src/transport/queue-rpc.js';

/** A task spec with test defaults (a `noop`, runnable at once); `over` replaces any field. */
export const taskSpec = (id: string, over: Partial<TaskSpec> = {}): TaskSpec => ({
  id: id as TaskId,
  queue: 'default',
  type: 'noop',
  payload: null,
  priority: 0,
  runAt: null,
  delayMs: null,
  maxAttempts: 3,
  backoff: { type: 'fixed', delayMs: 10, maxDelayMs: 10, jitter: 0 },
  timeoutMs: 1000,
  ...over,
});

/**
 * One node leading single-voter partitions 1..`partitions` of the queue, with real RocksDB and a
 * real host but no peers: for tests of the queue's routing and processing on a leader.
 */
export class SingleNodeQueue {
  readonly self = nodeId('n1');
  private constructor(
    readonly db: RocksDatabase,
    readonly host: MultiRaftHost,
    readonly rpc: QueueRpc,
    readonly queue: QueueNode,
    readonly machines: ReadonlyMap<GroupId, QueueStateMachine>,
    private readonly dir: string,
    private readonly watcher: { processor: Processor | null },
    /** Long-polls of this node's TaskService, woken by its replicas (as on a node). */
    readonly waiters: TaskWaiters,
  ) {}

  static async open(partitions: number): Promise<SingleNodeQueue> {
    const dir = mkdtempSync(join(tmpdir(), 'taskraft-queue-'));
    const self = nodeId('n1');
    const machines = new Map<GroupId, QueueStateMachine>();
    // As on a node (src/cli/node.ts): the latest processing loop hears of attempts that end.
    const watcher: { processor: Processor | null } = { processor: null };
    const waiters = new TaskWaiters();
    const observer: TaskObserver = { attemptEnded: (id, token, status) => watcher.processor?.attemptEnded(id, token, status), finished: (id) => waiters.finished(id) };
    for (let p = 1; p <= partitions; p++) machines.set(groupId(p), new QueueStateMachine(groupId(p), observer));
    const db = await RocksDatabase.open(dir, { writeWorker: true });
    const host = await MultiRaftHost.open({ self, db, send: () => undefined, logger: pino({ level: 'silent' }), tickMs: 10, stateMachine: (g) => machines.get(g)! });
    for (const g of machines.keys()) host.createGroup(g, [self]);
    for (let i = 0; i < 300 && [...machines.keys()].some((g) => host.leaderOf(g) !== self); i++) await new Promise((r) => setTimeout(r, 10));
    const rpc = new QueueRpc(self, 'c', () => null);
    const queue = new QueueNode({
      self,
      host,
      rpc,
      logger: pino({ level: 'silent' }),
      machine: (g) => machines.get(g),
      partitionCount: () => partitions,
      viewLeader: () => null,
      requestTimeoutMs: 5000,
    });
    return new SingleNodeQueue(db, host, rpc, queue, machines, dir, watcher, waiters);
  }

  /**
   * A processing loop on this node, not started: every partition, 8 slots, an hour-long poll (so
   * that only kicks and due times drive it) and an hour's retention of up to 1,000 tasks; `over`
   * replaces any option.
   */
  processor(handlers: ReadonlyMap<string, Handler>, over: Partial<ProcessorOptions> = {}): Processor {
    return (this.watcher.processor = new Processor({
      self: this.self,
      queue: this.queue,
      handlers,
      machines: () => this.machines.entries(),
      logger: pino({ level: 'silent' }),
      concurrency: 8,
      pollMs: 3_600_000,
      retainCount: 1000,
      retainMs: 3_600_000,
      ...over,
    }));
  }

  machine(g: GroupId): QueueStateMachine {
    const sm = this.machines.get(g);
    if (sm === undefined) throw new Error(`no partition ${g}`);
    return sm;
  }

  async close(): Promise<void> {
    this.rpc.close();
    await this.host.stop();
    await this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
