import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Handler } from '../../src/queue/handlers.js';
import type { Processor } from '../../src/queue/processor.js';
import { TaskService } from '../../src/queue/task-service.js';
import { TaskWaiters } from '../../src/queue/task-waiters.js';
import { taskId, type TaskId } from '../../src/queue/task.js';
import { groupId } from '../../src/storage/key-layout.js';
import { SingleNodeQueue, taskSpec } from '../support/single-node-queue.js';
import { waitUntil } from '../support/until.js';

describe('task waiters', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const id = taskId('t1');

  it('wake when the task finishes, and not for another task', async () => {
    const w = new TaskWaiters();
    let done = false;
    const woken = w.until(id, 60_000, () => done);
    w.finished(taskId('other'));
    expect(w.count()).toBe(1);
    done = true;
    w.finished(id);
    expect(await woken).toBe(true);
    expect(w.count()).toBe(0);
  });

  it('answer at once when the task has finished already, and false at the deadline, leaving nothing behind', async () => {
    const w = new TaskWaiters();
    expect(await w.until(id, 60_000, () => true)).toBe(true);
    const late = w.until(id, 1000, () => false);
    const later = w.until(id, 2000, () => false);
    vi.advanceTimersByTime(1000);
    expect(await late).toBe(false);
    expect(w.count()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(await later).toBe(false);
    expect(w.count()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

// GET /tasks/:id/wait on a node holding the task's partition: woken by the replica, it reads the
// leader twice (when it starts and when the task has finished) instead of every 20-250 ms.
describe('a long-poll on a node that holds the partition', () => {
  const g = groupId(1);
  let node: SingleNodeQueue;
  let processor: Processor;
  let service: TaskService;
  const gates = new Map<string, () => void>();

  beforeAll(async () => {
    node = await SingleNodeQueue.open(1);
    const gated: Handler = (task) => new Promise((resolve) => gates.set(task.id, () => resolve('opened')));
    processor = node.processor(new Map([['gated', gated]]));
    processor.start();
    service = new TaskService(node.queue, () => node.machines.entries(), processor, node.waiters);
  });

  afterAll(async () => {
    processor.stop();
    await node.close();
  });

  it('answers once the task completes, with two linearizable reads however long it waited', async () => {
    await node.queue.op(g, { op: 'submit', task: taskSpec('slow', { type: 'gated' }) });
    await waitUntil('the task runs', 5_000, () => gates.has('slow'));
    const reads = vi.spyOn(node.host, 'linearizableBarrier');
    const waits = vi.spyOn(node.waiters, 'until');
    const answer = service.wait('slow', 20_000);
    // Long enough for the old loop (reads every 20, 40, ... 250 ms) to make eight reads.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(node.waiters.count()).toBe(1);
    gates.get('slow')!();
    expect(await answer).toMatchObject({ id: 'slow', status: 'completed', result: 'opened' });
    expect(reads).toHaveBeenCalledTimes(2);
    // Woken by the replica, not by the end of its wait's slice (5 s).
    expect(waits).toHaveBeenCalledTimes(1);
    expect(await waits.mock.results[0]!.value).toBe(true);
    waits.mockRestore();
    expect(node.machine(g).get('slow' as TaskId)?.status).toBe('completed');
  });

  it('answers at its deadline with the task as it is', async () => {
    await node.queue.op(g, { op: 'submit', task: taskSpec('stuck', { type: 'gated' }) });
    expect(await service.wait('stuck', 300)).toMatchObject({ id: 'stuck', status: 'running' });
    expect(node.waiters.count()).toBe(0);
    gates.get('stuck')?.();
  });
});
