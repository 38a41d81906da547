import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultiRaftHost } from '../../src/cluster/multi-raft-host.js';
import type { OpResult, QueueOp } from '../../src/queue/commands.js';
import type { Handler } from '../../src/queue/handlers.js';
import { Processor } from '../../src/queue/processor.js';
import { QueueNode } from '../../src/queue/queue-node.js';
import { QueueStateMachine } from '../../src/queue/queue-state-machine.js';
import type { Task, TaskId, TaskSpec } from '../../src/queue/task.js';
import { nodeId } from '../../src/raft/index.js';
import { groupId } from '../../src/storage/key-layout.js';
import { RocksDatabase } from '../../src/storage/rocks-database.js';
import { QueueRpc } from '../../src/transport/queue-rpc.js';

const spec = (id: string): TaskSpec => ({
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
});

// One leader, real RocksDB: operations of one turn, local and forwarded, share one log entry.
describe('queue routing on the leader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskraft-qbatch-'));
  const self = nodeId('n1');
  const g = groupId(1);
  let db: RocksDatabase;
  let host: MultiRaftHost;
  let rpc: QueueRpc;
  let queue: QueueNode;
  const sm = new QueueStateMachine(g);
  // A partition of its own for the processing-loop test, untouched by the others' leftovers.
  const g2 = groupId(2);
  const sm2 = new QueueStateMachine(g2);

  beforeAll(async () => {
    db = await RocksDatabase.open(dir, { writeWorker: true });
    host = await MultiRaftHost.open({ self, db, send: () => undefined, logger: pino({ level: 'silent' }), tickMs: 10, stateMachine: (id) => (id === g2 ? sm2 : sm) });
    host.createGroup(g, [self]);
    host.createGroup(g2, [self]);
    for (let i = 0; i < 300 && (host.leaderOf(g) !== self || host.leaderOf(g2) !== self); i++) await new Promise((r) => setTimeout(r, 10));
    rpc = new QueueRpc(self, 'c', () => null);
    queue = new QueueNode({
      self,
      host,
      rpc,
      logger: pino({ level: 'silent' }),
      machine: (p) => (p === g ? sm : p === g2 ? sm2 : undefined),
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

  it('puts its own operations and forwarded ones from the same turn in one entry, each caller getting its own results', async () => {
    expect(host.leaderOf(g)).toBe(self);
    const before = host.stats().entriesPersisted;
    const local = Array.from({ length: 40 }, (_, i) => queue.op(g, { op: 'submit', task: spec(`local-${i}`) }));
    const forwarded = [0, 1, 2].map((k) =>
      queue.handlePropose(g, JSON.stringify(Array.from({ length: 5 }, (_, i): QueueOp => ({ op: 'submit', task: spec(`fwd-${k}-${i}`) })))),
    );
    const localResults = await Promise.all(local);
    const replies = await Promise.all(forwarded);
    expect(host.stats().entriesPersisted - before).toBe(1);
    expect(localResults.map((r) => (r.ok && 'task' in r ? r.task.id : null))).toEqual(Array.from({ length: 40 }, (_, i) => `local-${i}`));
    for (const [k, reply] of replies.entries()) {
      expect(reply.ok).toBe(true);
      const results = JSON.parse(reply.resultsJson ?? '') as OpResult[];
      expect(results.map((r) => (r.ok && 'task' in r ? (r.task as Task).id : null))).toEqual(Array.from({ length: 5 }, (_, i) => `fwd-${k}-${i}`));
    }
  });

  it('tells the processing loop when a committed entry made work (a submit), and not otherwise', async () => {
    let calls = 0;
    queue.whenWorkArrives(() => calls++);
    try {
      await queue.op(g, { op: 'submit', task: spec('work-1') });
      expect(calls, 'a local submit').toBe(1);
      await queue.handlePropose(g, JSON.stringify([{ op: 'submit', task: spec('work-2') }]));
      expect(calls, 'a forwarded submit').toBe(2);
      await queue.op(g, { op: 'claim', owner: 'w', max: 1, types: ['noop'] });
      expect(calls, 'a claim makes no work').toBe(2);
    } finally {
      queue.whenWorkArrives(() => undefined);
    }
  });

  it('with polling all but off, a submitted task still runs at once, leased by the entry that records it', async () => {
    const processor = new Processor({
      self: 'n1',
      queue,
      handlers: new Map<string, Handler>([['noop', async () => 'done']]),
      machines: () => [[g2, sm2]],
      logger: pino({ level: 'silent' }),
      concurrency: 4,
      pollMs: 3_600_000,
      retainCount: 1000,
      retainMs: 3_600_000,
    });
    processor.start();
    try {
      const before = host.status(g2).lastIndex;
      await queue.op(g2, { op: 'submit', task: spec('prompt-1') });
      for (let i = 0; i < 500 && sm2.get('prompt-1' as TaskId)?.status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 10));
      expect(sm2.get('prompt-1' as TaskId)?.status).toBe('completed');
      // The leader leased it in the entry that recorded it: one entry for submit and claim, one for
      // the completion.
      expect(host.status(g2).lastIndex - before).toBe(2);
      expect(sm2.get('prompt-1' as TaskId)?.attempts).toBe(1);
    } finally {
      processor.stop();
    }
    // Once stopped, it takes nothing: a task submitted now stays pending for another worker.
    await queue.op(g2, { op: 'submit', task: spec('after-stop') });
    await new Promise((r) => setTimeout(r, 200));
    expect(sm2.get('after-stop' as TaskId)?.status).toBe('pending');
  });

  it('refuses forwarded operations that are not a JSON array, changing nothing', async () => {
    const before = host.stats().entriesPersisted;
    await expect(queue.handlePropose(g, '{"op":')).resolves.toMatchObject({ ok: false, code: 'ERR_BAD_REQUEST' });
    await expect(queue.handlePropose(g, '{"op":"expire"}')).resolves.toMatchObject({ ok: false, code: 'ERR_BAD_REQUEST' });
    expect(host.stats().entriesPersisted).toBe(before);
  });
});
