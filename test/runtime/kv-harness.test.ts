import { afterAll, describe, expect, it } from 'vitest';
import { KvCluster } from '../support/kv-cluster.js';
import { KV_TEST_PORTS } from '../support/ports.js';

// Requests racing a SIGKILL must all settle, as failures, without hanging and without uncaught
// errors. (A CI run once hit EPIPE from exactly this race and failed on the uncaught error; this
// test exercises the race but does not reproduce that narrow window reliably.)
describe('kv node harness', () => {
  const cluster = new KvCluster({ size: 1, groups: 1, basePort: KV_TEST_PORTS.kvHarness, tickMs: 20 });
  afterAll(() => cluster.destroy());

  it('requests racing a SIGKILL settle (as failures) without uncaught errors', async () => {
    const node = cluster.nodes[0]!;
    await node.start();
    // Outcomes are observed as soon as each request exists, so a rejection is never unhandled.
    const put = (key: string): Promise<'ok' | 'failed'> =>
      node.request({ op: 'put', group: 1, key, value: 'v' }, 5_000).then(
        () => 'ok',
        () => 'failed',
      );
    for (let round = 0; round < 3; round++) {
      const inflight = Array.from({ length: 300 }, (_, i) => put(`k${round}-${i}`));
      const killing = node.kill();
      const late = Array.from({ length: 300 }, (_, i) => put(`late${round}-${i}`));
      await killing;
      const outcomes = await Promise.all([...inflight, ...late]);
      expect(outcomes.length).toBe(600);
      expect(outcomes.filter((o) => o === 'failed').length).toBeGreaterThan(0);
      await node.start();
    }
  }, 60_000);
});
