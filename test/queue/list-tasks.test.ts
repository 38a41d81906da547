import { describe, expect, it } from 'vitest';
import { encodeEntry, type QueueOp } from '../../src/queue/commands.js';
import { IdOrder } from '../../src/queue/id-order.js';
import { listTasks, type ListFilter } from '../../src/queue/list-tasks.js';
import { mergeOrderedPages } from '../../src/queue/ordered-pages.js';
import { partitionOf } from '../../src/queue/partition-of.js';
import { QueueStateMachine } from '../../src/queue/queue-state-machine.js';
import { taskId, type Task, type TaskStatus } from '../../src/queue/task.js';
import { logIndex, term } from '../../src/raft/index.js';
import { groupId } from '../../src/storage/key-layout.js';
import { WriteBatch } from '../../src/storage/write-batch.js';
import { Prng } from '../simulation/prng.js';
import { taskSpec as spec } from '../support/single-node-queue.js';

class Partition {
  readonly sm: QueueStateMachine;
  private index = 0;
  constructor(g: number) {
    this.sm = new QueueStateMachine(groupId(g));
  }
  run(now: number, ops: QueueOp[]): void {
    this.sm.apply([{ type: 'normal', index: logIndex(++this.index), term: term(1), data: encodeEntry({ now, random: 0, ops }) }], new WriteBatch());
  }
}

/** Every page from the start, following nextCursor; fails if the pages never end. */
function allPages(machines: QueueStateMachine[], f: Omit<ListFilter, 'cursor'>, budget: number): Task[] {
  const out: Task[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100_000; pages++) {
    const page = listTasks(machines, { ...f, ...(cursor === undefined ? {} : { cursor }) }, budget);
    expect(page.tasks.length).toBeLessThanOrEqual(f.limit);
    out.push(...page.tasks);
    if (page.nextCursor === null) return out;
    expect(cursor === undefined || page.nextCursor > cursor).toBe(true);
    cursor = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

describe('listing tasks by ID', () => {
  it('pages through every matching task once, in ID order, whatever the limit, scan budget, insertion order and removals', () => {
    const seed = Number(process.env.LIST_SEED ?? Date.now() % 1_000_000);
    const rng = new Prng(seed);
    for (let round = 0; round < 40; round++) {
      const parts = [1, 2, 3].map((g) => new Partition(g));
      let now = 0;
      for (let i = 0; i < 300; i++) {
        // IDs in and out of order, some submitted again after a sweep removed them; an ID lives
        // in one partition only, as in the cluster.
        const id = rng.chance(0.7) ? `t${String(i).padStart(4, '0')}` : `c${rng.nextInt(200)}`;
        const p = parts[partitionOf(taskId(id), parts.length) - 1]!;
        p.run(++now, [{ op: 'submit', task: spec(id, { type: rng.pick(['a', 'b']) }) }]);
        if (rng.chance(0.3)) p.run(++now, [{ op: 'cancel', id: taskId(id) }]);
        if (rng.chance(0.05)) p.run(++now, [{ op: 'sweep', keep: rng.nextInt(20), maxAgeMs: 1_000_000 }]);
        // A read in between sorts what came so far; later IDs are merged into it.
        if (rng.chance(0.05)) listTasks(parts.map((q) => q.sm), { limit: 3 });
      }
      const machines = parts.map((p) => p.sm);
      const status = rng.pick<TaskStatus | undefined>([undefined, 'pending', 'cancelled']);
      const type = rng.pick([undefined, 'a']);
      const f = { limit: 1 + rng.nextInt(8), ...(status === undefined ? {} : { status }), ...(type === undefined ? {} : { type }) };
      const budget = 1 + rng.nextInt(30);
      const expected = machines
        .flatMap((sm) => [...sm.all()])
        .filter((t) => (status === undefined || t.status === status) && (type === undefined || t.type === type))
        .map((t) => t.id)
        .sort();
      expect(allPages(machines, f, budget).map((t) => t.id), `seed ${seed} round ${round} (LIST_SEED=${seed} replays)`).toEqual(expected);
    }
  });

  it('a filter that matches little stops at its scan budget and goes on from there', () => {
    const p = new Partition(1);
    for (let i = 0; i < 100; i++) p.run(i, [{ op: 'submit', task: spec(`t${String(i).padStart(3, '0')}`, { type: 'a' }) }, { op: 'cancel', id: taskId(`t${String(i).padStart(3, '0')}`) }]);
    p.run(200, [{ op: 'submit', task: spec('t999', { type: 'a' }) }]);
    const first = listTasks([p.sm], { status: 'pending', limit: 10 }, 30);
    expect(first).toEqual({ tasks: [], nextCursor: 't029' });
    expect(allPages([p.sm], { status: 'pending', limit: 10 }, 30).map((t) => t.id)).toEqual(['t999']);
  });

  it('a merged page never goes past what a short source covered', () => {
    const page = mergeOrderedPages(
      [
        { items: [{ id: 'a' }], coveredTo: 'c' },
        { items: [{ id: 'b' }, { id: 'd' }], coveredTo: null },
      ],
      10,
      (t) => t.id,
    );
    expect(page).toEqual({ items: [{ id: 'a' }, { id: 'b' }], nextCursor: 'c' });
    expect(mergeOrderedPages([{ items: [{ id: 'a' }, { id: 'b' }], coveredTo: null }], 1, (t) => t.id)).toEqual({ items: [{ id: 'a' }], nextCursor: 'a' });
    expect(mergeOrderedPages([{ items: [{ id: 'a' }], coveredTo: null }], 1, (t) => t.id)).toEqual({ items: [{ id: 'a' }], nextCursor: null });
  });

  it('keeps one copy of an ID added again, and compacts removed ones', () => {
    const order = new IdOrder();
    const held = new Set(['b', 'a', 'c']);
    for (const id of ['b', 'a', 'c', 'a']) order.add(id);
    expect([...order.after(undefined, (id) => held.has(id))]).toEqual(['a', 'b', 'c']);
    held.delete('a');
    held.delete('b');
    order.removed();
    order.removed();
    expect([...order.after('a', (id) => held.has(id))]).toEqual(['c']);
    expect([...order.after(undefined, () => true)]).toEqual(['c']);
  });
});
