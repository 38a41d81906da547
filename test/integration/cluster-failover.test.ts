import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterView } from '../../src/cluster/cluster-view.js';
import { TestCluster, threeVotersAmong } from '../support/taskraft-node.js';
import { NODE_TEST_PORTS } from '../support/ports.js';

const BASE = NODE_TEST_PORTS.clusterFailover;

/**
 * Issue 4's failure handling with real processes: a leader's node killed and restarted within
 * the replacement window (leaders fail over, the node rejoins by itself), and a node killed for
 * good (after REPLACE_AFTER_MS its replicas are re-created on the others).
 */
const P = 8;

describe('cluster failover with real processes', () => {
  const cluster = new TestCluster(BASE, { PARTITIONS: String(P) });
  afterAll(() => cluster.destroy(), 30_000);
  const all = ['node-1', 'node-2', 'node-3', 'node-4'];
  let view: ClusterView;

  it('four nodes converge', async () => {
    cluster.node(1).start();
    for (const k of [2, 3, 4]) cluster.node(k).start({ JOIN_ADDR: `127.0.0.1:${BASE}` });
    view = await cluster.waitFor('4 live nodes, balanced', 60_000, (v) => v.nodes.filter((n) => n.live).length === 4 && v.balanced && threeVotersAmong(v, all));
  }, 90_000);

  it('killing the node that leads the most partitions: leaders fail over, and the node rejoins on restart', async () => {
    const busiest = [...view.nodes].sort((a, b) => b.partitionsLed.length - a.partitionsLed.length)[0]!;
    const victim = cluster.nodes.get(busiest.id)!;
    const led = busiest.partitionsLed;
    expect(led.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    await cluster.waitFor(`partitions ${led.join(',')} led by others`, 30_000, (v) =>
      led.every((id) => {
        const p = v.partitions.find((x) => x.id === id);
        return p !== undefined && p.leader !== null && p.leader !== busiest.id;
      }),
    );
    console.log(`cluster: ${busiest.id} (leading ${led.length} partitions) killed; all led elsewhere after ${Date.now() - killedAt} ms`);
    victim.start({ JOIN_ADDR: `127.0.0.1:${BASE + (busiest.id === 'node-1' ? 1 : 0)}` });
    const back = await cluster.waitFor(`${busiest.id} back and holding replicas`, 30_000, (v) => {
      const n = v.nodes.find((x) => x.id === busiest.id);
      return n?.live === true && n.partitionsHeld.length > 0 && v.balanced;
    });
    expect(threeVotersAmong(back, all)).toBe(true);
  }, 90_000);

  it('a node gone for good has its replicas re-created on the others after REPLACE_AFTER_MS', async () => {
    const v0 = (await cluster.view())!;
    const victim = v0.nodes.find((n) => n.partitionsHeld.length > 0 && n.id !== v0.metaLeader)!;
    const killedAt = Date.now();
    await cluster.nodes.get(victim.id)!.kill('SIGKILL');
    const rest = all.filter((id) => id !== victim.id);
    const healed = await cluster.waitFor(`every partition on 3 of ${rest.join(',')}`, 60_000, (v) => threeVotersAmong(v, rest) && !v.meta.voters.includes(victim.id));
    const tookMs = Date.now() - killedAt;
    console.log(`cluster: ${victim.id} killed for good; replicas re-created elsewhere ${tookMs} ms later (REPLACE_AFTER_MS=3000)`);
    expect(tookMs).toBeGreaterThanOrEqual(3000);
    expect(healed.partitions.every((p) => p.voters.length === 3)).toBe(true);
  }, 90_000);
});
