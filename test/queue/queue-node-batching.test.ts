import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MultiRaftHost } from '../../src/cluster/multi-raft-host.js';
import type { OpResult, QueueOp } from '../../src/queue/commands.js';
import type { Handler } from '../../src/queue/handlers.js';
import type { QueueNode } from '../../src/queue/queue-node.js';
import type { QueueStateMachine } from '../../src/queue/queue-state-machine.js';
import type { Task, TaskId } from '../../src/queue/task.js';
import { groupId } from '../../src/storage/key-layout.js';
import { SingleNodeQueue, taskSpec as spec } from '../support/single-node-queue.js';

// One leader, real RocksDB: operations of one turn, local and forwarded, share one log entry.
describe('queue routing on the leader', () => {
  const g = groupId(1);
  // A partition of its own for the processing-loop test, untouched by the others' leftovers.
  const g2 = groupId(2);
  let node: SingleNodeQueue;
  let host: MultiRaftHost;
  let queue: QueueNode;
  let sm2: QueueStateMachine;

  beforeAll(async () => {
    node = await SingleNodeQueue.open(2);
    ({ host, queue } = node);
    sm2 = node.machine(g2);
  });

  afterAll(() => node.close());

  it('puts its own operations and forwarded ones from the same turn in one entry, each caller getting its own results', async () => {
    expect(host.leaderOf(g)).toBe(node.self);
    // No write in flight: one that started before the counts below and ended after them would be
    // counted among the synced writes but not among the writes started.
    await host.flush();
    const before = host.stats().entriesPersisted;
    const writesBefore = host.stats();
    const local = Array.from({ length: 40 }, (_, i) => queue.op(g, { op: 'submit', task: spec(`local-${i}`) }));
    const forwarded = [0, 1, 2].map((k) =>
      queue.handlePropose(g, JSON.stringify(Array.from({ length: 5 }, (_, i): QueueOp => ({ op: 'submit', task: spec(`fwd-${k}-${i}`) })))),
    );
    const localResults = await Promise.all(local);
    const replies = await Promise.all(forwarded);
    expect(host.stats().entriesPersisted - before).toBe(1);
    // The entry reached the disk in a synced write, counted among all writes.
    const synced = host.stats().syncedWrites - writesBefore.syncedWrites;
    expect(synced).toBeGreaterThanOrEqual(1);
    expect(host.stats().writes - writesBefore.writes).toBeGreaterThanOrEqual(synced);
    expect(localResults.map((r) => (r.ok && 'task' in r ? r.task.id : null))).toEqual(Array.from({ length: 40 }, (_, i) => `local-${i}`));
    for (const [k, reply] of replies.entries()) {
      expect(reply.ok).toBe(true);
      const results = JSON.parse(reply.resultsJson ?? '') as OpResult[];
      expect(results.map((r) => (r.ok && 'task' in r ? (r.task as Task).id : null))).toEqual(Array.from({ length: 5 }, (_, i) => `fwd-${k}-${i}`));
    }
  });

  // Local operations used to wait a turn in the outbox that gathers forwards, then a turn for the
  // entry: two event-loop turns on the path of every local submit and every completion.
  it('proposes a local operation on the leader after one event-loop turn, not two', async () => {
    const proposed: number[] = [];
    const propose = host.propose.bind(host);
    (host as { propose: typeof host.propose }).propose = (group, data) => {
      proposed.push(group);
      return propose(group, data);
    };
    try {
      const done = queue.op(g, { op: 'submit', task: spec('one-turn') });
      await new Promise((r) => setImmediate(r));
      const afterOneTurn = [...proposed];
      expect((await done).ok).toBe(true);
      expect(afterOneTurn, 'not proposed after one turn').toEqual([g]);
    } finally {
      (host as { propose: typeof host.propose }).propose = propose;
    }
  });

  it('tells the processing loop when a committed entry made work (a submit), and not otherwise', async () => {
    let calls = 0;
    queue.onNewWork({ claimAlong: () => null, applied: (_g, madeWork) => void (madeWork && calls++) });
    try {
      await queue.op(g, { op: 'submit', task: spec('work-1') });
      expect(calls, 'a local submit').toBe(1);
      await queue.handlePropose(g, JSON.stringify([{ op: 'submit', task: spec('work-2') }]));
      expect(calls, 'a forwarded submit').toBe(2);
      await queue.op(g, { op: 'claim', owner: 'w', max: 1, types: ['noop'] });
      expect(calls, 'a claim makes no work').toBe(2);
    } finally {
      queue.onNewWork(null);
    }
  });

  it('with polling all but off, a submitted task still runs at once, leased by the entry that records it', async () => {
    const processor = node.processor(new Map<string, Handler>([['noop', async () => 'done']]), { machines: () => [[g2, sm2]], concurrency: 4 });
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
