import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultiRaftHost } from '../../src/cluster/multi-raft-host.js';
import type { Handler } from '../../src/queue/handlers.js';
import { Processor } from '../../src/queue/processor.js';
import { QueueNode } from '../../src/queue/queue-node.js';
import { QueueStateMachine } from '../../src/queue/queue-state-machine.js';
import type { TaskId, TaskSpec } from '../../src/queue/task.js';
import { nodeId } from '../../src/raft/index.js';
import { groupId, type GroupId } from '../../src/storage/key-layout.js';
import { RocksDatabase } from '../../src/storage/rocks-database.js';
import { QueueRpc } from '../../src/transport/queue-rpc.js';

const spec = (id: string): TaskSpec => ({
  id: id as TaskId,
  queue: 'default',
  type: 'slow',
  payload: null,
  priority: 0,
  runAt: null,
  delayMs: null,
  maxAttempts: 3,
  backoff: { type: 'fixed', delayMs: 10, maxDelayMs: 10, jitter: 0 },
  timeoutMs: 10_000,
});

// One node leading two partitions, with fewer handler slots than one partition's backlog. The
// slots used to go, round after round, to the first partition with work, so a task on the other
// partition waited for that whole backlog.
describe('processing loop fairness between partitions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskraft-fair-'));
  const self = nodeId('n1');
  const [busy, quiet] = [groupId(1), groupId(2)];
  const machines = new Map<GroupId, QueueStateMachine>([busy, quiet].map((g) => [g, new QueueStateMachine(g)]));
  let db: RocksDatabase;
  let host: MultiRaftHost;
  let rpc: QueueRpc;
  let queue: QueueNode;

  beforeAll(async () => {
    db = await RocksDatabase.open(dir, { writeWorker: true });
    host = await MultiRaftHost.open({ self, db, send: () => undefined, logger: pino({ level: 'silent' }), tickMs: 10, stateMachine: (g) => machines.get(g)! });
    for (const g of machines.keys()) host.createGroup(g, [self]);
    for (let i = 0; i < 300 && [...machines.keys()].some((g) => host.leaderOf(g) !== self); i++) await new Promise((r) => setTimeout(r, 10));
    rpc = new QueueRpc(self, 'c', () => null);
    queue = new QueueNode({
      self,
      host,
      rpc,
      logger: pino({ level: 'silent' }),
      machine: (g) => machines.get(g),
      partitionCount: () => 2,
      viewLeader: () => null,
      requestTimeoutMs: 5000,
    });
  });

  afterAll(async () => {
    rpc.close();
    await host.stop();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a task on a quiet partition does not wait for a busy partition backlog', async () => {
    const finished: string[] = [];
    const slow: Handler = async (task) => {
      await new Promise((r) => setTimeout(r, 30));
      finished.push(task.id);
      return null;
    };
    const processor = new Processor({
      self: 'n1',
      queue,
      handlers: new Map([['slow', slow]]),
      machines: () => machines.entries(),
      logger: pino({ level: 'silent' }),
      concurrency: 3,
      pollMs: 5,
      retainCount: 1000,
      retainMs: 3_600_000,
    });
    await Promise.all(Array.from({ length: 30 }, (_, i) => queue.op(busy, { op: 'submit', task: spec(`busy-${i}`) })));
    processor.start();
    try {
      // Let the busy partition take the slots first, as it would under load.
      while (finished.length < 2) await new Promise((r) => setTimeout(r, 5));
      await queue.op(quiet, { op: 'submit', task: spec('quiet-1') });
      for (let i = 0; i < 1000 && machines.get(quiet)!.get('quiet-1' as TaskId)?.status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 5));
      const position = finished.indexOf('quiet-1');
      expect(position, 'quiet-1 ran').toBeGreaterThanOrEqual(0);
      expect(position, `quiet-1 finished after ${position} tasks; the busy backlog is 30`).toBeLessThan(12);
    } finally {
      processor.stop();
    }
  });
});
