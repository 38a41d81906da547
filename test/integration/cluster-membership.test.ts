import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterView } from '../../src/cluster/cluster-view.js';
import { TestCluster, fullyReplicated, maxLed, threeVotersAmong } from '../support/taskraft-node.js';
import { NODE_TEST_PORTS } from '../support/ports.js';

const BASE = NODE_TEST_PORTS.clusterMembership;

/**
 * Issue 4 with real node processes, started the way a user starts them (NODE_ID, HTTP_ADDR,
 * JOIN_ADDR): bootstrap and join, scale-out to five nodes, decommission, and the node-ID rule.
 * One cluster goes through the steps in order; each step waits a bounded time.
 */
const P = 8;

describe('cluster membership with real processes', () => {
  const cluster = new TestCluster(BASE, { PARTITIONS: String(P) });
  afterAll(() => cluster.destroy(), 30_000);
  const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `node-${i + 1}`);
  let converged3: ClusterView;

  it('node-1 creates the cluster; node-2 and node-3 join through it; every partition gets 3 voters and leaders spread', async () => {
    cluster.node(1).start();
    await cluster.waitFor('node-1 alone leads every partition', 30_000, (v) => fullyReplicated(v, ['node-1']));
    const joinAt = Date.now();
    cluster.node(2).start({ JOIN_ADDR: cluster.node(1).url.replace('http://', '') });
    cluster.node(3).start({ JOIN_ADDR: `${cluster.node(1).url.replace('http://', '')}` });
    converged3 = await cluster.waitFor('3 voters per partition, leaders spread', 45_000, (v) => fullyReplicated(v, ids(3)) && v.balanced && maxLed(v) <= Math.ceil(P / 3) + 1);
    console.log(`cluster: third node started -> fully replicated and balanced in ${Date.now() - joinAt} ms`);
    const clusterIds = await Promise.all([1, 2, 3].map(async (k) => (await cluster.node(k).getJson<{ clusterId: string }>('/health')).body.clusterId));
    expect(new Set(clusterIds).size).toBe(1);
    expect(converged3.clusterId).toBe(clusterIds[0]);
    expect([...converged3.meta.voters].sort()).toEqual(ids(3));
  }, 90_000);

  it('node-4 and node-5 take their share of replicas, moved only onto them, without a partition leaderless for long', async () => {
    const before = new Map(converged3.partitions.map((p) => [p.id, new Set(p.voters)]));
    // Watch availability while replicas move: the longest stretch any partition had no leader.
    const leaderless = new Map<number, number>();
    let worstMs = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const v = await cluster.view();
        const now = Date.now();
        for (const p of v?.partitions ?? []) {
          if (p.leader === null) {
            if (!leaderless.has(p.id)) leaderless.set(p.id, now);
            worstMs = Math.max(worstMs, now - leaderless.get(p.id)!);
          } else leaderless.delete(p.id);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    cluster.node(4).start({ JOIN_ADDR: cluster.node(2).url.replace('http://', '') });
    cluster.node(5).start({ JOIN_ADDR: `${cluster.node(3).url.replace('http://', '')},${cluster.node(1).url.replace('http://', '')}` });
    const after = await cluster.waitFor('5 live nodes, balanced', 60_000, (v) => v.nodes.filter((n) => n.live).length === 5 && v.balanced && threeVotersAmong(v, ids(5)));
    watching = false;
    await watcher;

    let moved = 0;
    for (const p of after.partitions) {
      for (const v of p.voters) {
        if (before.get(p.id)!.has(v)) continue;
        moved++;
        expect(['node-4', 'node-5']).toContain(v);
      }
    }
    const fairShare = (P * 3 * 2) / 5;
    console.log(`cluster: node-4 and node-5 joined; ${moved} replicas moved (fair share ${fairShare}); longest leaderless stretch ${worstMs} ms`);
    expect(moved).toBeLessThanOrEqual(Math.ceil(1.5 * fairShare));
    for (const id of ['node-4', 'node-5']) expect(after.nodes.find((n) => n.id === id)!.partitionsHeld.length).toBeGreaterThan(0);
    expect(worstMs).toBeLessThan(3000);
  }, 90_000);

  it('a node ID the cluster knows is refused on a fresh data directory, and the cluster carries on', async () => {
    const copy = cluster.stranger('node-2', BASE + 5);
    copy.start({ JOIN_ADDR: cluster.node(1).url.replace('http://', '') });
    expect(await copy.waitExit(30_000)).toBe(1);
    expect(copy.output.join('\n')).toContain('ERR_NODE_ID_IN_USE');
    const v = await cluster.view();
    expect(v?.nodes.find((n) => n.id === 'node-2')?.live).toBe(true);
  }, 60_000);

  it('bad settings stop a node at start with ERR_CONFIG naming them', async () => {
    const bad = cluster.node(7);
    bad.start({ PARTITIONS: 'abc', TICK_MS: '-1' });
    expect(await bad.waitExit(30_000)).toBe(1);
    const out = bad.output.join('\n');
    expect(out).toContain('ERR_CONFIG');
    expect(out).toContain('PARTITIONS');
    expect(out).toContain('TICK_MS');
  }, 60_000);

  it('decommissioning a node moves its replicas away; it ends "removed" holding nothing', async () => {
    const unknown = await cluster.node(1).post<{ code: string }>('/cluster/nodes/node-99/decommission');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'ERR_UNKNOWN_NODE']);
    const r = await cluster.node(2).post<{ node: string; state: string }>('/cluster/nodes/node-5/decommission');
    expect([r.status, r.body]).toEqual([202, { node: 'node-5', state: 'decommissioning' }]);
    const v = await cluster.waitFor('node-5 removed and drained', 60_000, (x) => {
      const n5 = x.nodes.find((n) => n.id === 'node-5');
      return n5?.state === 'removed' && n5.partitionsHeld.length === 0 && threeVotersAmong(x, ids(4)) && !x.meta.voters.includes('node-5');
    });
    expect(v.partitions.every((p) => !p.voters.includes('node-5'))).toBe(true);
  }, 90_000);
});
