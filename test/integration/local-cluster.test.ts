import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/queue/task.js';
import { NODE_TEST_PORTS } from '../support/ports.js';

const BASE = NODE_TEST_PORTS.localCluster;

/** The README's main command: `npm start` brings up 3 nodes, serves tasks, and stops on Ctrl+C. */
describe('npm start (the local cluster)', () => {
  const root = mkdtempSync(join(tmpdir(), 'taskraft-start-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('starts 3 nodes that accept and run a task, and stops them all cleanly on SIGINT', async () => {
    const script = fileURLToPath(new URL('../../src/cli/local-cluster.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, BASE_PORT: String(BASE), DATA_ROOT: root, PARTITIONS: '4', TICK_MS: '50', REPORT_INTERVAL_MS: '150', RECONCILE_INTERVAL_MS: '150' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!out.includes('3 nodes up') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain(`http://127.0.0.1:${BASE + 1}`);
      let task: Task | null = null;
      for (let i = 0; i < 100 && task === null; i++) {
        const res = await fetch(`http://127.0.0.1:${BASE + 1}/tasks/submit`, { method: 'POST', body: JSON.stringify({ type: 'noop', id: 'hello' }), headers: { 'content-type': 'application/json' } });
        if (res.status === 201 || res.status === 200) task = (await res.json()) as Task;
        else await new Promise((r) => setTimeout(r, 200));
      }
      expect(task?.id).toBe('hello');
      const done = await fetch(`http://127.0.0.1:${BASE + 2}/tasks/hello/wait?timeout=20000`);
      expect(((await done.json()) as Task).status).toBe('completed');
      child.kill('SIGINT');
      expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))])).toBe(0);
      await expect(fetch(`http://127.0.0.1:${BASE}/health`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});
