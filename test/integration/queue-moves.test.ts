import { afterAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/queue/task.js';
import { TestCluster, threeVotersAmong } from '../support/taskraft-node.js';
import { NODE_TEST_PORTS } from '../support/ports.js';

const BASE = NODE_TEST_PORTS.queueMoves;

/**
 * Tasks survive partitions moving between nodes: with snapshots taken every 50 entries and the log
 * compacted behind them, new replicas are filled from queue-state snapshots, not by replaying the
 * log. Tasks waiting for a remote worker stay pending throughout; afterwards every one of them is
 * found on the new placement and can be claimed and completed exactly once.
 */
const P = 4;
const N = 300;

describe('tasks through replica moves (snapshot transfer)', () => {
  const cluster = new TestCluster(BASE, { PARTITIONS: String(P), SNAPSHOT_ENTRIES: '50', KEEP_ENTRIES: '10' });
  afterAll(() => cluster.destroy(), 30_000);
  const ids = Array.from({ length: N }, (_, i) => `mv-${i}`);

  it('keeps every pending task while node-4 and node-5 join and node-1 is decommissioned', async () => {
    await cluster.startThree();
    // Submitted one at a time, so that each is an entry of its own (a leader puts concurrent ones in
    // one entry) and every partition's log passes the snapshot threshold several times.
    for (const [i, id] of ids.entries()) {
      const r = await cluster.node(1 + (i % 3)).post<Task>('/tasks/submit', { id, type: 'external', payload: { i } });
      expect(r.status).toBe(201);
    }
    cluster.node(4).start({ JOIN_ADDR: `127.0.0.1:${BASE + 1}`, LOG_LEVEL: 'info' });
    cluster.node(5).start({ JOIN_ADDR: `127.0.0.1:${BASE + 2}` });
    await cluster.waitFor('5 nodes, balanced', 90_000, (v) => v.nodes.filter((n) => n.live).length === 5 && v.balanced);
    const r = await cluster.node(2).post('/cluster/nodes/node-1/decommission');
    expect(r.status).toBe(202);
    const v = await cluster.waitFor('node-1 drained', 90_000, (x) => x.nodes.find((n) => n.id === 'node-1')?.state === 'removed' && threeVotersAmong(x, ['node-2', 'node-3', 'node-4', 'node-5']));
    expect(v.nodes.find((n) => n.id === 'node-1')!.partitionsHeld).toEqual([]);
    // The newcomers' replicas were built from snapshots (the logs behind them were compacted).
    expect(v.nodes.find((n) => n.id === 'node-4')!.partitionsHeld.length).toBeGreaterThan(0);
    expect(cluster.node(4).output.some((l) => l.includes('installed a snapshot') && !l.includes('"bytes":0'))).toBe(true);

    const missing: string[] = [];
    for (let i = 0; i < N; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map(async (id, j) => {
          const node = cluster.node(2 + ((i + j) % 4));
          const res = await node.getJson<Task>(`/tasks/${id}`);
          if (res.status !== 200 || res.body.status !== 'pending' || (res.body.payload as { i: number }).i !== i + j) missing.push(`${id}@${node.id}: ${res.status}`);
        }),
      );
    }
    expect(missing).toEqual([]);
  }, 240_000);

  it('lets remote workers claim and complete every moved task exactly once', async () => {
    const done = new Set<string>();
    const deadline = Date.now() + 60_000;
    while (done.size < N && Date.now() < deadline) {
      const c = await cluster.node(3).post<{ tasks: Task[] }>('/workers/claim', { worker: 'mover', max: 100, types: ['external'], waitMs: 1000 });
      await Promise.all(
        c.body.tasks.map(async (t) => {
          const r = await cluster.node(4).post<Task>(`/tasks/${t.id}/complete`, { token: t.fencingToken, result: { ok: true } });
          expect(r.status).toBe(200);
          expect(done.has(t.id)).toBe(false);
          done.add(t.id);
        }),
      );
    }
    expect(done.size).toBe(N);
    const stats = await cluster.node(5).getJson<{ tasksByStatus: Record<string, number>; partitionCounters: { completed: number } }>('/stats');
    expect(stats.body.tasksByStatus.completed).toBe(N);
    expect(stats.body.partitionCounters.completed).toBe(N);
  }, 120_000);

  it('an idle cluster writes nothing: no claims, sweeps or expiries proposed with no work', async () => {
    const live = [2, 3, 4, 5].map((k) => cluster.node(k));
    const persisted = async (): Promise<number[]> =>
      Promise.all(live.map(async (n) => (await n.getJson<{ raft: { entriesPersisted: number } }>('/tasks/stats')).body.raft.entriesPersisted));
    await new Promise((r) => setTimeout(r, 1500));
    const before = await persisted();
    await new Promise((r) => setTimeout(r, 3000));
    expect(await persisted()).toEqual(before);
  }, 30_000);
});
