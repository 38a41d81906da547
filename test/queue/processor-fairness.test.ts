import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Handler } from '../../src/queue/handlers.js';
import type { TaskId } from '../../src/queue/task.js';
import { groupId } from '../../src/storage/key-layout.js';
import { SingleNodeQueue, taskSpec } from '../support/single-node-queue.js';

const spec = (id: string) => taskSpec(id, { type: 'slow', timeoutMs: 10_000 });

// One node leading two partitions, with fewer handler slots than one partition's backlog. The
// slots used to go, round after round, to the first partition with work, so a task on the other
// partition waited for that whole backlog.
describe('processing loop fairness between partitions', () => {
  const [busy, quiet] = [groupId(1), groupId(2)];
  let node: SingleNodeQueue;

  beforeAll(async () => {
    node = await SingleNodeQueue.open(2);
  });

  afterAll(() => node.close());

  it('a task on a quiet partition does not wait for a busy partition backlog', async () => {
    const finished: string[] = [];
    const slow: Handler = async (task) => {
      await new Promise((r) => setTimeout(r, 30));
      finished.push(task.id);
      return null;
    };
    const processor = node.processor(new Map([['slow', slow]]), { concurrency: 3, pollMs: 5 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => node.queue.op(busy, { op: 'submit', task: spec(`busy-${i}`) })));
    processor.start();
    try {
      // Let the busy partition take the slots first, as it would under load.
      while (finished.length < 2) await new Promise((r) => setTimeout(r, 5));
      await node.queue.op(quiet, { op: 'submit', task: spec('quiet-1') });
      for (let i = 0; i < 1000 && node.machine(quiet).get('quiet-1' as TaskId)?.status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 5));
      const position = finished.indexOf('quiet-1');
      expect(position, 'quiet-1 ran').toBeGreaterThanOrEqual(0);
      expect(position, `quiet-1 finished after ${position} tasks; the busy backlog is 30`).toBeLessThan(12);
    } finally {
      processor.stop();
    }
  });
});
