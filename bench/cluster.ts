/**
 * Cluster timings with default settings (100 ms ticks, 500 ms reports, 1 s reconcile rounds):
 * the third node's start to a fully replicated and a balanced cluster, the replicas a 4th node
 * takes, and how long the partitions of a killed leader node take to be led elsewhere.
 *
 *   npm run bench:cluster [-- --partitions 16]
 */
import { parseArgs } from 'node:util';
import { TestCluster, fullyReplicated, threeVotersAmong } from '../test/support/taskraft-node.js';

const { values } = parseArgs({ options: { partitions: { type: 'string', default: '16' } } });
const P = Number(values.partitions);
if (!(P >= 1 && P <= 1024)) {
  console.error('usage: bench:cluster [--partitions P]');
  process.exit(2);
}
const defaults = { TICK_MS: '100', REPORT_INTERVAL_MS: '500', RECONCILE_INTERVAL_MS: '1000', NODE_DOWN_AFTER_MS: '3000', REPLACE_AFTER_MS: '300000', REQUEST_TIMEOUT_MS: '10000', PARTITIONS: String(P), LOG_LEVEL: 'warn' };
const base = 21510;
const c = new TestCluster(base, defaults);
try {
  c.node(1).start();
  await c.waitFor('node-1 alone', 60_000, (v) => fullyReplicated(v, ['node-1']));
  const t0 = Date.now();
  c.node(2).start({ JOIN_ADDR: `127.0.0.1:${base}` });
  c.node(3).start({ JOIN_ADDR: `127.0.0.1:${base}` });
  let v = await c.waitFor('3 voters everywhere', 180_000, (x) => fullyReplicated(x, ['node-1', 'node-2', 'node-3']));
  const replicated = Date.now() - t0;
  v = await c.waitFor('balanced', 180_000, (x) => x.balanced);
  console.log(`third node started -> fully replicated in ${replicated} ms, balanced in ${Date.now() - t0} ms`);
  const before = new Map(v.partitions.map((p) => [p.id, new Set(p.voters)]));
  const t1 = Date.now();
  c.node(4).start({ JOIN_ADDR: `127.0.0.1:${base + 1}` });
  v = await c.waitFor('4 nodes balanced', 180_000, (x) => x.nodes.filter((n) => n.live).length === 4 && x.balanced && threeVotersAmong(x, ['node-1', 'node-2', 'node-3', 'node-4']));
  let moved = 0;
  for (const p of v.partitions) for (const x of p.voters) if (!before.get(p.id)!.has(x)) moved++;
  console.log(`4th node: ${moved} replicas moved (fair share ${(P * 3) / 4}), converged in ${Date.now() - t1} ms`);
  const busiest = [...v.nodes].sort((a, b) => b.partitionsLed.length - a.partitionsLed.length)[0]!;
  const t2 = Date.now();
  await c.nodes.get(busiest.id)!.kill('SIGKILL');
  await c.waitFor('failover', 60_000, (x) =>
    busiest.partitionsLed.every((id) => {
      const p = x.partitions.find((q) => q.id === id);
      return p !== undefined && p.leader !== null && p.leader !== busiest.id;
    }),
  );
  console.log(`killed ${busiest.id} (leading ${busiest.partitionsLed.length}): all led elsewhere, as GET /cluster shows, after ${Date.now() - t2} ms`);
} finally {
  await c.destroy();
}
