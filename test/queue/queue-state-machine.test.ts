import { describe, expect, it, vi } from 'vitest';
import { encodeEntry, type OpResult, type QueueOp } from '../../src/queue/commands.js';
import { QueueStateMachine, type TaskObserver } from '../../src/queue/queue-state-machine.js';
import { taskId, type Task, type TaskSpec, type TaskStatus } from '../../src/queue/task.js';
import { logIndex, term } from '../../src/raft/index.js';
import { groupId } from '../../src/storage/key-layout.js';
import { WriteBatch } from '../../src/storage/write-batch.js';

function spec(id: string, over: Partial<TaskSpec> = {}): TaskSpec {
  return {
    id: taskId(id),
    queue: 'default',
    type: 'noop',
    payload: { id },
    priority: 0,
    runAt: null,
    delayMs: null,
    maxAttempts: 3,
    backoff: { type: 'fixed', delayMs: 100, maxDelayMs: 1000, jitter: 0 },
    timeoutMs: 1000,
    ...over,
  };
}

class Harness {
  readonly sm: QueueStateMachine;
  readonly batch = new WriteBatch();
  index = 10;

  constructor(observer: TaskObserver | null = null) {
    this.sm = new QueueStateMachine(groupId(1), observer);
  }

  run(now: number, ops: QueueOp[], random = 0): OpResult[] {
    const data = encodeEntry({ now, random, ops });
    return this.sm.apply([{ type: 'normal', index: logIndex(++this.index), term: term(1), data }], this.batch)[0]!;
  }

  one(now: number, op: QueueOp, random = 0): OpResult {
    return this.run(now, [op], random)[0]!;
  }

  claim(now: number, max = 10, owner = 'w1', types: string[] | null = null): Task[] {
    const r = this.one(now, { op: 'claim', owner, max, types });
    if (!r.ok || !('tasks' in r)) throw new Error('claim failed');
    return [...r.tasks];
  }
}

const task = (r: OpResult): Task => {
  if (!r.ok || !('task' in r)) throw new Error(`expected a task, got ${JSON.stringify(r)}`);
  return r.task;
};

describe('queue state machine', () => {
  it('submit is idempotent: an existing ID returns the existing task', () => {
    const h = new Harness();
    const first = h.one(1000, { op: 'submit', task: spec('a') });
    const again = h.one(2000, { op: 'submit', task: spec('a', { type: 'other' }) });
    expect(first).toMatchObject({ ok: true, created: true });
    expect(again).toMatchObject({ ok: true, created: false, task: { type: 'noop', createdAt: 1000 } });
    expect(h.sm.stats().submitted).toBe(1);
  });

  it('claims by priority, then FIFO; never LIFO', () => {
    const h = new Harness();
    h.run(1, [
      { op: 'submit', task: spec('low-1', { priority: 0 }) },
      { op: 'submit', task: spec('high-1', { priority: 5 }) },
      { op: 'submit', task: spec('low-2', { priority: 0 }) },
      { op: 'submit', task: spec('high-2', { priority: 5 }) },
    ]);
    expect(h.claim(2).map((t) => t.id)).toEqual(['high-1', 'high-2', 'low-1', 'low-2']);
  });

  it('a relative delay counts from when the leader applies the submit', () => {
    const h = new Harness();
    expect(task(h.one(1000, { op: 'submit', task: spec('d', { delayMs: 500 }) }))).toMatchObject({ status: 'delayed', runAt: 1500 });
    expect(h.claim(1499)).toEqual([]);
    expect(h.claim(1500).map((t) => t.id)).toEqual(['d']);
  });

  it('a delayed task is not claimed before its runAt', () => {
    const h = new Harness();
    h.one(1000, { op: 'submit', task: spec('later', { runAt: 5000 }) });
    expect(task(h.one(1000, { op: 'submit', task: spec('now') })).status).toBe('pending');
    expect(h.sm.get(taskId('later'))!.status).toBe('delayed');
    expect(h.claim(4999).map((t) => t.id)).toEqual(['now']);
    expect(h.claim(5000).map((t) => t.id)).toEqual(['later']);
  });

  it('a claim leases with a fencing token; a stale token cannot complete the task', () => {
    const h = new Harness();
    h.one(0, { op: 'submit', task: spec('a', { timeoutMs: 100 }) });
    const [first] = h.claim(10, 1, 'w1');
    expect(first).toMatchObject({ status: 'running', attempts: 1, leaseOwner: 'w1', leaseExpiresAt: 110 });
    expect(h.one(200, { op: 'expire' })).toEqual({ ok: true, count: 1 });
    expect(h.sm.get(taskId('a'))).toMatchObject({ status: 'delayed', runAt: 300 });
    const [second] = h.claim(300, 1, 'w2');
    expect(second!.fencingToken).not.toBe(first!.fencingToken);
    const late = h.one(310, { op: 'complete', id: taskId('a'), token: first!.fencingToken!, result: 'old' });
    expect(late).toMatchObject({ ok: false, code: 'ERR_STALE_TOKEN' });
    expect(task(h.one(320, { op: 'complete', id: taskId('a'), token: second!.fencingToken!, result: 'new' }))).toMatchObject({ status: 'completed', result: 'new' });
    expect(h.one(330, { op: 'complete', id: taskId('a'), token: second!.fencingToken!, result: 'again' })).toMatchObject({ ok: false, code: 'ERR_INVALID_STATE' });
    expect(h.sm.stats().completed).toBe(1);
  });

  it('extending a lease pushes its expiry out', () => {
    const h = new Harness();
    h.one(0, { op: 'submit', task: spec('a', { timeoutMs: 100 }) });
    const [t] = h.claim(0);
    h.one(90, { op: 'extend', id: t!.id, token: t!.fencingToken! });
    expect(h.one(150, { op: 'expire' })).toEqual({ ok: true, count: 0 });
    expect(h.one(191, { op: 'expire' })).toEqual({ ok: true, count: 1 });
  });

  it('failures retry with backoff until maxAttempts, then the task is dead; retry re-drives it', () => {
    const h = new Harness();
    h.one(0, { op: 'submit', task: spec('f', { maxAttempts: 3, backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 250, jitter: 0.5 } }) });
    const delays: number[] = [];
    let now = 0;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [t] = h.claim(now);
      expect(t!.attempts).toBe(attempt);
      const after = task(h.one(now, { op: 'fail', id: t!.id, token: t!.fencingToken!, error: `boom ${attempt}` }, 0.5));
      if (attempt < 3) {
        expect(after.status).toBe('delayed');
        delays.push(after.runAt! - now);
        now = after.runAt!;
      } else {
        expect(after).toMatchObject({ status: 'dead', lastError: 'boom 3' });
      }
    }
    // 100 and 200, each less a quarter (jitter 0.5 x random 0.5).
    expect(delays).toEqual([75, 150]);
    expect(h.claim(now + 10_000)).toEqual([]);
    expect(task(h.one(now, { op: 'retry', id: taskId('f') }))).toMatchObject({ status: 'pending', attempts: 0 });
    expect(h.claim(now)).toHaveLength(1);
  });

  it('cancels non-terminal tasks only', () => {
    const h = new Harness();
    h.one(0, { op: 'submit', task: spec('c') });
    expect(task(h.one(1, { op: 'cancel', id: taskId('c') })).status).toBe('cancelled');
    expect(h.one(2, { op: 'cancel', id: taskId('c') })).toMatchObject({ ok: false, code: 'ERR_INVALID_STATE' });
    expect(h.one(2, { op: 'cancel', id: taskId('nope') })).toMatchObject({ ok: false, code: 'ERR_TASK_NOT_FOUND' });
    expect(h.claim(3)).toEqual([]);
  });

  it('claims only the requested types, leaving the others in order', () => {
    const h = new Harness();
    h.run(0, [{ op: 'submit', task: spec('x1', { type: 'x' }) }, { op: 'submit', task: spec('y1', { type: 'y' }) }, { op: 'submit', task: spec('x2', { type: 'x' }) }]);
    expect([h.sm.hasRunnable(1, ['y']), h.sm.hasRunnable(1, ['z'])]).toEqual([true, false]);
    expect(h.claim(1, 10, 'w', ['y']).map((t) => t.id)).toEqual(['y1']);
    expect([h.sm.hasRunnable(1, ['y']), h.sm.hasRunnable(1, ['x']), h.sm.hasRunnable(1)]).toEqual([false, true, true]);
    expect(h.claim(1).map((t) => t.id)).toEqual(['x1', 'x2']);
  });

  it('a claim for any type merges the types in priority, then submission order', () => {
    const h = new Harness();
    h.run(0, [
      { op: 'submit', task: spec('a-low', { type: 'a', priority: 0 }) },
      { op: 'submit', task: spec('b-high', { type: 'b', priority: 9 }) },
      { op: 'submit', task: spec('b-low', { type: 'b', priority: 0 }) },
      { op: 'submit', task: spec('c-mid', { type: 'c', priority: 4 }) },
      { op: 'submit', task: spec('a-high', { type: 'a', priority: 9 }) },
    ]);
    expect(h.claim(1, 2).map((t) => t.id)).toEqual(['b-high', 'a-high']);
    expect(h.claim(2, 10, 'w', ['a', 'c']).map((t) => t.id)).toEqual(['c-mid', 'a-low']);
    expect(h.claim(3).map((t) => t.id)).toEqual(['b-low']);
  });

  it("a claim's work does not grow with the backlog of types it does not take", () => {
    // A backlog left for remote workers used to be popped and pushed back by every local claim.
    const h = new Harness();
    h.run(0, Array.from({ length: 3000 }, (_, i) => ({ op: 'submit' as const, task: spec(`remote-${i}`, { type: 'remote' }) })));
    h.run(1, [{ op: 'submit', task: spec('local-1') }]);
    const gets = vi.spyOn(Map.prototype, 'get');
    try {
      expect(h.claim(2, 10, 'w', ['noop']).map((t) => t.id)).toEqual(['local-1']);
      expect(gets.mock.calls.length, 'map lookups for one claim').toBeLessThan(100);
    } finally {
      gets.mockRestore();
    }
    expect(h.claim(3, 5, 'w', ['remote']).map((t) => t.id)).toEqual(['remote-0', 'remote-1', 'remote-2', 'remote-3', 'remote-4']);
  });

  it('a terminal task, kept as its row, reads back whole: status reads, idempotent submits, listing summaries, re-drives', () => {
    const h = new Harness();
    h.one(1, { op: 'submit', task: spec('done', { payload: { to: 'a@b.c', list: [1, 2] }, priority: 3, queue: 'mail' }) });
    const [leased] = h.claim(2);
    const completed = task(h.one(3, { op: 'complete', id: taskId('done'), token: leased!.fencingToken!, result: { sent: true } }));
    expect(h.sm.get(taskId('done'))).toEqual(completed);
    expect(h.one(4, { op: 'submit', task: spec('done') })).toEqual({ ok: true, task: completed, created: false });
    expect(h.sm.summary(taskId('done'))).toMatchObject({ id: 'done', status: 'completed', type: 'noop', queue: 'mail' });
    expect(h.one(5, { op: 'cancel', id: taskId('done') })).toMatchObject({ ok: false, code: 'ERR_INVALID_STATE', message: 'task done is already completed' });
    expect(h.one(5, { op: 'complete', id: taskId('done'), token: leased!.fencingToken!, result: 1 })).toMatchObject({ ok: false, code: 'ERR_INVALID_STATE' });

    h.one(6, { op: 'submit', task: spec('bad', { maxAttempts: 1, payload: { n: 7 } }) });
    const [b] = h.claim(7);
    const dead = task(h.one(8, { op: 'fail', id: taskId('bad'), token: b!.fencingToken!, error: 'boom' }));
    expect(dead).toMatchObject({ status: 'dead', lastError: 'boom' });
    expect(h.sm.get(taskId('bad'))).toEqual(dead);
    const again = task(h.one(9, { op: 'retry', id: taskId('bad') }));
    expect(again).toMatchObject({ status: 'pending', attempts: 0, payload: { n: 7 }, lastError: 'boom', finishedAt: null });
    expect(h.sm.countsByStatus()).toMatchObject({ completed: 1, dead: 0, pending: 1 });
    // The re-driven task finishes again: retention sees one entry for it, the current one.
    const [b2] = h.claim(10);
    h.one(11, { op: 'fail', id: taskId('bad'), token: b2!.fencingToken!, error: 'boom again' });
    expect(h.one(12, { op: 'sweep', keep: 1, maxAgeMs: 1_000_000 })).toEqual({ ok: true, count: 1 });
    expect(h.sm.get(taskId('done'))).toBeUndefined();
    expect(h.sm.get(taskId('bad'))).toMatchObject({ status: 'dead', lastError: 'boom again', finishedAt: 11 });
    expect(h.sm.countsByStatus()).toMatchObject({ completed: 0, dead: 1 });
  });

  it('a snapshot carries rows; a snapshot with tasks as objects (the earlier format) still restores', () => {
    const h = new Harness();
    h.one(1, { op: 'submit', task: spec('a', { payload: { x: '"quoted", [braces] {}' } }) });
    h.one(1, { op: 'submit', task: spec('b') });
    const [a] = h.claim(2, 1);
    h.one(3, { op: 'complete', id: a!.id, token: a!.fencingToken!, result: ['r'] });
    const snap = JSON.parse(Buffer.from(h.sm.snapshot()).toString('utf8')) as { rows: unknown[][]; tasks?: unknown };
    expect(snap.tasks).toBeUndefined();
    expect(snap.rows.map((r) => r[1]).sort()).toEqual(['a', 'b']);
    const all = [...h.sm.all()];
    const fromObjects = new QueueStateMachine(groupId(1));
    const batch = new WriteBatch();
    fromObjects.restore(new TextEncoder().encode(JSON.stringify({ seq: 2, counters: h.sm.stats(), tasks: all })), batch);
    expect([...fromObjects.all()]).toEqual(all);
    expect(fromObjects.countsByStatus()).toEqual(h.sm.countsByStatus());
    expect(batch.take().filter((op) => op.type === 'put').length).toBe(3);
  });

  it('sweeps terminal tasks beyond the retention count or age', () => {
    const h = new Harness();
    for (let i = 0; i < 5; i++) {
      h.one(i, { op: 'submit', task: spec(`t${i}`) });
      h.one(i, { op: 'cancel', id: taskId(`t${i}`) });
    }
    h.one(10, { op: 'submit', task: spec('live') });
    expect([h.sm.sweepDue(10, 5, 1_000_000), h.sm.sweepDue(10, 3, 1_000_000), h.sm.sweepDue(1000, 5, 500)]).toEqual([false, true, true]);
    expect(h.one(10, { op: 'sweep', keep: 3, maxAgeMs: 1_000_000 })).toEqual({ ok: true, count: 2 });
    expect(h.sm.sweepDue(10, 3, 1_000_000)).toBe(false);
    expect(h.sm.get(taskId('t0'))).toBeUndefined();
    expect(h.sm.get(taskId('t2'))).toBeDefined();
    expect(h.one(1000, { op: 'sweep', keep: 100, maxAgeMs: 500 })).toEqual({ ok: true, count: 3 });
    expect(h.sm.get(taskId('live'))!.status).toBe('pending');
  });

  it('two replicas applying the same entries agree, and a snapshot or the persisted rows rebuild the same state', () => {
    const a = new Harness();
    const b = new Harness();
    const ops: [number, QueueOp[]][] = [
      [0, [{ op: 'submit', task: spec('p', { priority: 1 }) }, { op: 'submit', task: spec('q') }, { op: 'submit', task: spec('r', { runAt: 50 }) }]],
      [5, [{ op: 'claim', owner: 'w', max: 1, types: null }]],
      [60, [{ op: 'claim', owner: 'w', max: 5, types: null }]],
    ];
    for (const [now, o] of ops) expect(a.run(now, o, 0.3)).toEqual(b.run(now, o, 0.3));
    const fromSnapshot = new QueueStateMachine(groupId(1));
    fromSnapshot.restore(a.sm.snapshot(), new WriteBatch());
    expect([...fromSnapshot.all()]).toEqual([...a.sm.all()]);
    const rows = new Map<string, [Uint8Array, Uint8Array]>();
    for (const op of a.batch.take()) {
      const k = Buffer.from(op.key).toString('hex');
      if (op.type === 'put') rows.set(k, [op.key, op.value]);
      else rows.delete(k);
    }
    const fromRows = new QueueStateMachine(groupId(1));
    fromRows.loadRows(rows.values());
    expect([...fromRows.all()].sort((x, y) => x.seq - y.seq)).toEqual([...a.sm.all()].sort((x, y) => x.seq - y.seq));
    expect(fromRows.countsByStatus()).toEqual(a.sm.countsByStatus());
    expect(fromRows.countsByQueue()).toEqual({ default: { running: 3 } });
    expect(a.sm.countsByQueue()).toEqual(fromRows.countsByQueue());
  });
});

describe('re-driving dead tasks in bulk', () => {
  it('takes dead tasks of the queue and type asked, the first by ID, up to max, and nothing else', () => {
    const h = new Harness();
    const dies = (id: string, over: Partial<TaskSpec> = {}): void => {
      h.one(0, { op: 'submit', task: spec(id, { maxAttempts: 1, ...over }) });
      const [t] = h.claim(1, 1, 'w', [over.type ?? 'noop']);
      expect(task(h.one(2, { op: 'fail', id: taskId(id), token: t!.fencingToken!, error: 'x' })).status).toBe('dead');
    };
    for (const id of ['d3', 'd1', 'd2']) dies(id, { queue: 'mail' });
    dies('d0', { queue: 'other' });
    dies('d4', { queue: 'mail', type: 'report' });
    h.one(3, { op: 'submit', task: spec('live', { queue: 'mail' }) });
    expect(h.one(10, { op: 'retryDead', queue: 'mail', type: 'noop', max: 2 })).toEqual({ ok: true, count: 2 });
    const statusOf = (id: string): string => h.sm.get(taskId(id))!.status;
    expect(['d1', 'd2', 'd3', 'd0', 'd4'].map(statusOf)).toEqual(['pending', 'pending', 'dead', 'dead', 'dead']);
    expect(h.sm.get(taskId('d1'))).toMatchObject({ attempts: 0, finishedAt: null, updatedAt: 10 });
    expect(h.one(11, { op: 'retryDead', queue: 'mail', type: null, max: 10 })).toEqual({ ok: true, count: 2 });
    expect(['d3', 'd4', 'd0'].map(statusOf)).toEqual(['pending', 'pending', 'dead']);
    expect(h.one(12, { op: 'retryDead', queue: null, type: null, max: 10 })).toEqual({ ok: true, count: 1 });
    expect(h.sm.countsByStatus()).toMatchObject({ dead: 0, pending: 6 });
  });

  it('picks the same tasks on a replica that loaded them in another order', () => {
    const a = new Harness();
    for (const id of ['z', 'b', 'm', 'a']) {
      a.one(0, { op: 'submit', task: spec(id, { maxAttempts: 1 }) });
      const [t] = a.claim(1);
      a.one(2, { op: 'fail', id: taskId(id), token: t!.fencingToken!, error: 'x' });
    }
    // A replica that restarted reads its rows in key order (by ID); the leader holds them in the
    // order they were submitted.
    const rows = new Map<string, [Uint8Array, Uint8Array]>();
    for (const w of a.batch.take()) if (w.type === 'put') rows.set(Buffer.from(w.key).toString('hex'), [w.key, w.value]);
    const b = new Harness();
    b.sm.loadRows([...rows].sort(([x], [y]) => (x < y ? -1 : 1)).map(([, kv]) => kv));
    b.index = a.index;
    expect([...b.sm.all()].map((t) => t.id)).toEqual(['a', 'b', 'm', 'z']);
    expect([...a.sm.all()].map((t) => t.id)).toEqual(['z', 'b', 'm', 'a']);
    const op: QueueOp = { op: 'retryDead', queue: null, type: null, max: 2 };
    a.one(5, op);
    b.one(5, op);
    const pending = (h: Harness): string[] => [...h.sm.all()].filter((t) => t.status === 'pending').map((t) => t.id).sort();
    expect(pending(a)).toEqual(['a', 'b']);
    expect(pending(b)).toEqual(['a', 'b']);
  });
});

describe('progress and the end of attempts', () => {
  /** A harness whose ended attempts ([id, token, status]) and finished tasks are recorded. */
  const watched = (): { h: Harness; ended: [string, number, TaskStatus | null][]; finished: string[] } => {
    const ended: [string, number, TaskStatus | null][] = [];
    const finished: string[] = [];
    return { h: new Harness({ attemptEnded: (id, token, status) => ended.push([id, token, status]), finished: (id) => finished.push(id) }), ended, finished };
  };

  it('a heartbeat with progress records it; one without keeps it; a stale token changes nothing', () => {
    const { h } = watched();
    h.one(0, { op: 'submit', task: spec('p') });
    const [t] = h.claim(1);
    const token = t!.fencingToken!;
    expect(t!.progress).toBeNull();
    expect(task(h.one(2, { op: 'extend', id: taskId('p'), token, progress: { done: 3, of: 10 } }))).toMatchObject({ progress: { done: 3, of: 10 }, leaseExpiresAt: 1002 });
    expect(task(h.one(3, { op: 'extend', id: taskId('p'), token }))).toMatchObject({ progress: { done: 3, of: 10 }, leaseExpiresAt: 1003 });
    expect(h.one(4, { op: 'extend', id: taskId('p'), token: token + 1, progress: 'stale' })).toMatchObject({ ok: false, code: 'ERR_STALE_TOKEN' });
    expect(h.sm.get(taskId('p'))!.progress).toEqual({ done: 3, of: 10 });
    // It outlives the attempt (a dead task shows how far it got) until the next attempt starts.
    expect(task(h.one(5, { op: 'fail', id: taskId('p'), token, error: 'boom' }))).toMatchObject({ status: 'delayed', progress: { done: 3, of: 10 } });
    const [again] = h.claim(200);
    expect(again).toMatchObject({ id: 'p', attempts: 2, progress: null });
  });

  it('tells of every running attempt that stops holding its task, and of every task that finishes', () => {
    const { h, ended, finished } = watched();
    h.run(0, [{ op: 'submit', task: spec('done') }, { op: 'submit', task: spec('cancelled') }, { op: 'submit', task: spec('expired', { maxAttempts: 1 }) }, { op: 'submit', task: spec('idle') }]);
    const tokens = new Map(h.claim(1, 3).map((t) => [t.id as string, t.fencingToken!]));
    h.one(2, { op: 'extend', id: taskId('done'), token: tokens.get('done')! });
    h.one(3, { op: 'cancel', id: taskId('idle') });
    expect(ended, 'a heartbeat, or a task that was not running').toEqual([]);
    h.one(4, { op: 'complete', id: taskId('done'), token: tokens.get('done')!, result: 1 });
    h.one(5, { op: 'cancel', id: taskId('cancelled') });
    h.one(2000, { op: 'expire' });
    expect(ended).toEqual([
      ['done', tokens.get('done'), 'completed'],
      ['cancelled', tokens.get('cancelled'), 'cancelled'],
      ['expired', tokens.get('expired'), 'dead'],
    ]);
    expect(finished).toEqual(['idle', 'done', 'cancelled', 'expired']);
    // A re-driven dead task that finishes again is told of again; a sweep is not an end.
    h.one(2001, { op: 'retry', id: taskId('expired') });
    h.one(2002, { op: 'cancel', id: taskId('expired') });
    h.one(2003, { op: 'sweep', keep: 0, maxAgeMs: 0 });
    expect(finished).toEqual(['idle', 'done', 'cancelled', 'expired', 'expired']);
  });

  it('a released attempt is withdrawn: the task is first in line again, and the attempt does not count', () => {
    const { h, ended } = watched();
    h.run(0, [{ op: 'submit', task: spec('first', { maxAttempts: 1 }) }, { op: 'submit', task: spec('second') }]);
    const [t] = h.claim(1, 1, 'stopping-node');
    expect(t!.id).toBe('first');
    h.one(2, { op: 'submit', task: spec('third') });
    expect(h.one(3, { op: 'release', id: taskId('first'), token: t!.fencingToken! + 1 })).toMatchObject({ ok: false, code: 'ERR_STALE_TOKEN' });
    expect(task(h.one(4, { op: 'release', id: taskId('first'), token: t!.fencingToken! }))).toMatchObject({ status: 'pending', attempts: 0, leaseOwner: null, fencingToken: null });
    expect(ended).toEqual([['first', t!.fencingToken, 'pending']]);
    expect(h.sm.stats().failedAttempts).toBe(0);
    expect(h.claim(5, 3, 'next-leader').map((x) => [x.id, x.attempts])).toEqual([
      ['first', 1],
      ['second', 1],
      ['third', 1],
    ]);
  });

  it('tells of the attempts a snapshot ends on a replica that was behind', () => {
    const leader = new Harness();
    const { h: behind, ended, finished } = watched();
    const submit: QueueOp[] = [{ op: 'submit', task: spec('a') }, { op: 'submit', task: spec('b') }];
    leader.run(0, submit);
    behind.run(0, submit);
    const [a, b] = leader.claim(1, 2, 'n1');
    behind.index = leader.index - 1;
    expect(behind.claim(1, 2, 'n1')).toEqual([a, b]);
    // The leader moved on: a was cancelled and b's lease expired and went to another worker.
    leader.one(2, { op: 'cancel', id: taskId('a') });
    leader.one(1500, { op: 'expire' });
    expect(leader.claim(1700, 1, 'n2').map((t) => t.id)).toEqual(['b']);
    behind.sm.restore(leader.sm.snapshot(), new WriteBatch());
    expect(ended).toEqual([
      ['a', a!.fencingToken, 'cancelled'],
      ['b', b!.fencingToken, 'running'],
    ]);
    expect(finished).toEqual(['a']);
  });
});
