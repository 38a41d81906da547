import { afterAll, describe, expect, it } from 'vitest';
import { KvCluster } from '../support/kv-cluster.js';
import type { GroupDump } from '../support/kv-node-protocol.js';
import { KV_TEST_PORTS } from '../support/ports.js';

// Compaction records only a point in the log; the snapshot a lagging follower needs is made from
// the state machine when the leader needs to send it. Here a follower is cut off while the leader
// compacts far past it; healed, it must catch up through such a snapshot and end with the same
// state as the others, and later writes must reach it through the log again.

const GROUPS = 2;

describe('snapshots made on demand for a follower behind the compacted log', () => {
  const cluster = new KvCluster({ size: 3, groups: GROUPS, basePort: KV_TEST_PORTS.snapshotOnDemand, tickMs: 50, extraEnv: { SNAPSHOT_ENTRIES: '50', KEEP_ENTRIES: '10' } });
  afterAll(() => cluster.destroy());

  const stats = async (i: number): Promise<{ snapshotsMade: number; snapshotsInstalled: number }> => {
    const r = await cluster.nodes[i]!.request({ op: 'stats' });
    if (!r.ok || r.stats === undefined) throw new Error(`node ${i + 1}: no stats`);
    return { snapshotsMade: r.stats.snapshotsMade ?? NaN, snapshotsInstalled: r.stats.snapshotsInstalled ?? NaN };
  };

  /** Writes through whichever node leads the group, following hints. */
  const put = async (group: number, key: string, value: string): Promise<void> => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const node = cluster.nodes[attempt % 3]!;
      const r = await node.request({ op: 'put', group, key, value }, 5_000).catch(() => null);
      if (r?.ok === true) return;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error(`put ${key} never got through`);
  };

  const dumps = async (): Promise<GroupDump[][]> =>
    Promise.all(cluster.nodes.map(async (n) => ((await n.request({ op: 'dump' })) as { groups?: GroupDump[] }).groups ?? []));

  const settle = async (): Promise<GroupDump[][]> => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const d = await dumps();
      const caughtUp = Array.from({ length: GROUPS }, (_, i) => i + 1).every((g) => {
        const rs = d.map((x) => x.find((y) => y.group === g));
        return rs.every((r) => r !== undefined && r.applied === rs[0]!.commit && r.commit === rs[0]!.commit);
      });
      if (caughtUp) return d;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('replicas did not converge in 20 s');
  };

  it('catches a cut-off follower up with a snapshot made from the state machine', async () => {
    await cluster.start();
    await put(1, 'before', 'x');
    await settle();
    const cutOff = 2;
    await cluster.nodes[cutOff]!.request({ op: 'pause', paused: true });
    // The other two can still commit; 400 writes per group pass the snapshot threshold (50) and the
    // entries kept behind it (10) many times over, so the cut-off node's next entries are gone.
    for (let i = 0; i < 400; i++) await Promise.all([1, 2].map((g) => put(g, `k${i}`, `g${g}-v${i}`)));
    const madeBefore = (await stats(0)).snapshotsMade + (await stats(1)).snapshotsMade;
    const installedBefore = (await stats(cutOff)).snapshotsInstalled;

    await cluster.nodes[cutOff]!.request({ op: 'pause', paused: false });
    let d = await settle();
    const madeAfter = (await stats(0)).snapshotsMade + (await stats(1)).snapshotsMade;
    expect(madeAfter - madeBefore, 'the leaders made snapshots for the healed follower').toBeGreaterThanOrEqual(GROUPS);
    expect((await stats(cutOff)).snapshotsInstalled - installedBefore, 'the follower installed them').toBeGreaterThanOrEqual(GROUPS);
    for (let g = 1; g <= GROUPS; g++) {
      const [a, b, c] = d.map((x) => x.find((y) => y.group === g)!);
      expect(a!.data[`k399`]).toBe(`g${g}-v399`);
      expect(b!.data, `group ${g}`).toEqual(a!.data);
      expect(c!.data, `group ${g}: the healed node`).toEqual(a!.data);
    }

    // Afterwards it follows the log again: a new write reaches it without another snapshot.
    const installed = (await stats(cutOff)).snapshotsInstalled;
    await put(1, 'after', 'y');
    d = await settle();
    expect(d[cutOff]!.find((y) => y.group === 1)!.data.after).toBe('y');
    expect((await stats(cutOff)).snapshotsInstalled).toBe(installed);
  }, 120_000);
});
