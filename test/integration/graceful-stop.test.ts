import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/queue/partition-of.js';
import type { Task } from '../../src/queue/task.js';
import { NODE_TEST_PORTS } from '../support/ports.js';
import { TestCluster } from '../support/taskraft-node.js';
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
    victim.child!.kill('SIGTERM');
    expect(await victim.waitExit(20_000)).toBe(0);

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
});
