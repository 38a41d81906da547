import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * A node holds every retained terminal task of every partition it replicates (by default 10,000
 * per partition), and V8's major collections visit each object of them. Kept as Task objects,
 * a completed task with a small payload and result took ~680 bytes of heap; kept as its row
 * (FinishedTask) ~500. The bound fails if terminal tasks go back to full objects.
 */
describe('retained tasks', () => {
  it('a completed task costs the heap under 600 bytes', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/queue/fixtures/retained-task-heap.ts', '20000'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const { bytesPerTask } = JSON.parse(out.trim().split('\n').pop()!) as { bytesPerTask: number };
    expect(bytesPerTask).toBeGreaterThan(100);
    expect(bytesPerTask).toBeLessThan(600);
  }, 90_000);
});
