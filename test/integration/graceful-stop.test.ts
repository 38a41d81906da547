import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TaskraftClient } from '../../src/client/taskraft-client.js';
import { partitionOf } from '../../src/queue/partition-of.js';
import type { Task } from '../../src/queue/task.js';
import { NODE_TEST_PORTS } from '../support/ports.js';
import type { ClusterView } from '../../src/cluster/cluster-view.js';
import { TestCluster, fullyReplicated } from '../support/taskraft-node.js';
import { waitUntil } from '../support/until.js';

const BASE = NODE_TEST_PORTS.gracefulStop;
const P = 4;
const GRACE_MS = 3000;

/**
 * A node stopped with SIGTERM (a deploy, a rolling restart) lets its running handlers finish
 * within SHUTDOWN_GRACE_MS and records their results, releases the tasks of those still running so
 * that the next leader runs them at once, and hands its partitions' leadership over before it
 * exits. Before, its running tasks waited for their leases to expire (30 s by default) and its
 * partitions for an election.
 */
describe('graceful stop', () => {
  const handlers = fileURLToPath(new URL('../fixtures/user-handlers.mjs', import.meta.url));
  const cluster = new TestCluster(BASE, { PARTITIONS: String(P), HANDLERS: handlers, SHUTDOWN_GRACE_MS: String(GRACE_MS), LOG_LEVEL: 'info' });
  afterAll(() => cluster.destroy(), 30_000);
  const nodes = [1, 2, 3].map((k) => cluster.node(k));

  it('starts a 3-node cluster', async () => {
    await cluster.startThree();
  }, 90_000);

  it('finishes what it can, releases the rest to the next leader, and hands over leadership', async () => {
    // Two tasks on one partition, so that one node (its leader) runs both.
    const quick = 'quick-0';
    let k = 0;
    while (partitionOf(`endless-${k}`, P) !== partitionOf(quick, P)) k++;
    const endless = `endless-${k}`;
    const entry = nodes[0]!;
    for (const [id, body] of [
      [quick, { type: 'sleep', payload: { ms: 1000 }, timeoutMs: 120_000 }],
      [endless, { type: 'until-aborted', timeoutMs: 120_000 }],
    ] as const) {
      expect((await entry.post('/tasks/submit', { id, ...body })).status).toBe(201);
    }
    const get = async (id: string): Promise<Task> => (await cluster.running()[0]!.getJson<Task>(`/tasks/${id}`)).body;
    let owner: string | null = null;
    await waitUntil('both run', 10_000, async () => {
      const [a, b] = [await get(quick), await get(endless)];
      owner = a.status === 'running' && b.status === 'running' && a.leaseOwner === b.leaseOwner ? a.leaseOwner : null;
      return owner !== null;
    }, 20);
    const victim = cluster.nodes.get(owner!)!;
    const other = nodes.find((n) => n !== victim)!;
    // Clients long-polling the victim: they get an answer when it stops, not at their timeouts.
    const waiting = fetch(`${victim.url}/tasks/${endless}/wait?timeout=60000`).then(async (r) => [r.status, ((await r.json()) as Task).status]);
    const claiming = fetch(`${victim.url}/workers/claim`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ worker: 'w', types: ['none-such'], waitMs: 30_000 }) }).then(async (r) => [r.status, await r.json()]);
    await new Promise((r) => setTimeout(r, 200));
    const stoppedAt = Date.now();
    victim.child!.kill('SIGTERM');
    expect(await victim.waitExit(20_000)).toBe(0);
    expect(await waiting).toEqual([200, 'running']);
    expect(await claiming).toEqual([200, { tasks: [] }]);
    // Bounded by the grace (3 s) and a hand-off (at most an election timeout), not by the 30 s
    // and 60 s the long-polls asked for.
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);

    // The handler that finished within the grace period had its result recorded by the victim.
    expect(await get(quick)).toMatchObject({ status: 'completed', attempts: 1, result: { slept: 1000 } });
    // The other was released: another node runs it now, well before its 120 s lease would have
    // expired, and the withdrawn attempt does not count.
    await waitUntil('the released task runs elsewhere', 10_000, async () => {
      const t = await get(endless);
      return t.status === 'running' && t.leaseOwner !== victim.id;
    }, 50);
    expect(await get(endless)).toMatchObject({ attempts: 1 });
    const log = victim.tail(60);
    expect(log).toMatch(/"running":2,"finished":1,"released":1,"unreleased":0.*processing stopped/);
    // It led these partitions, and perhaps the meta group.
    const handOff = /"led":(\d+),"kept":0.*handed over leadership/.exec(log);
    expect(handOff, log).not.toBeNull();
    expect(Number(handOff![1])).toBeGreaterThanOrEqual(1);
    // Clean up: cancelling it stops its handler on its new node.
    expect((await other.del<Task>(`/tasks/${endless}`)).body.status).toBe('cancelled');
  }, 60_000);

  it('a rolling restart under load: every task is acknowledged, completes once, and on its first attempt', async () => {
    const client = new TaskraftClient({ nodes: nodes.map((n) => n.url), timeoutMs: 10_000, refreshMs: 500 });
    const acked: string[] = [];
    const failed: string[] = [];
    let stop = false;
    let next = 0;
    // Four submitters, each a task at a time: short sleeps, so that every stop finds some running.
    const submitters = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const id = `roll-${next++}`;
        await client.submit({ id, type: 'sleep', payload: { ms: 300 }, timeoutMs: 120_000 }).then(
          () => acked.push(id),
          (e: unknown) => failed.push(`${id}: ${(e as Error).message}`),
        );
      }
    });
    for (const node of nodes) {
      if (!node.running()) node.start({ JOIN_ADDR: `127.0.0.1:${BASE}` });
    }
    // Live too: a stopped node's replicas still count in the placement, and stopping the next one
    // before it is back leaves the partitions without a quorum.
    const settled = (v: ClusterView): boolean => fullyReplicated(v, ['node-1', 'node-2', 'node-3']) && v.balanced && v.nodes.every((n) => n.live);
    await cluster.waitFor('all three back and balanced', 60_000, settled);
    for (const node of nodes) {
      const before = acked.length;
      await waitUntil('submits flow', 20_000, () => acked.length >= before + 20, 20);
      node.child!.kill('SIGTERM');
      expect(await node.waitExit(20_000)).toBe(0);
      node.start({ JOIN_ADDR: `127.0.0.1:${BASE}` });
      await cluster.waitFor(`${node.id} back, balanced`, 60_000, settled);
    }
    stop = true;
    await Promise.all(submitters);
    expect(failed).toEqual([]);
    expect(acked.length).toBeGreaterThan(60);
    const tasks: Task[] = [];
    for (const id of acked) tasks.push(await client.wait(id, 30_000));
    const notOnce = tasks.filter((t) => t.status !== 'completed' || t.attempts !== 1).map((t) => `${t.id} ${t.status} attempts ${t.attempts} ${t.lastError ?? ''}`);
    console.log(`rolling restart: ${acked.length} tasks acknowledged, ${tasks.length - notOnce.length} completed on their first attempt`);
    // With SIGKILL instead, the tasks running on the stopped node would show a second attempt
    // (their leases expired), and would have waited 120 s for it.
    expect(notOnce).toEqual([]);
  }, 240_000);
});
