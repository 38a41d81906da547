import { afterAll, describe, expect, it } from 'vitest';
import { KvCluster } from '../support/kv-cluster.js';

// Idle groups must cost next to nothing: once nothing is pending, a leader puts its group to sleep
// and its followers follow, so an idle node's traffic is one liveness frame per peer per tick,
// whatever the number of groups. A write wakes a group; a dead leader's node wakes its followers.

const GROUPS = 64;
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('quiescence of idle groups (3 node processes, 64 groups)', () => {
  const cluster = new KvCluster({ size: 3, groups: GROUPS, basePort: 18800, tickMs: 50 });
  afterAll(() => cluster.destroy());

  const leadersByNode = async (): Promise<number[][]> =>
    Promise.all(cluster.nodes.map(async (n) => (n.alive ? ((await n.request({ op: 'leaders' })) as { leaders?: number[] }).leaders ?? [] : [])));

  const writeEverywhere = async (tag: string): Promise<void> => {
    const led = await leadersByNode();
    for (let g = 1; g <= GROUPS; g++) {
      const owner = led.findIndex((l) => l.includes(g));
      expect(owner, `group ${g} has a leader`).toBeGreaterThanOrEqual(0);
      const r = await cluster.nodes[owner]!.request({ op: 'put', group: g, key: `${tag}-${g}`, value: tag });
      expect(r.ok, `write to group ${g}`).toBe(true);
    }
  };

  const messagesSent = async (): Promise<number[]> =>
    Promise.all(cluster.nodes.filter((n) => n.alive).map(async (n) => ((await n.request({ op: 'stats' })) as { stats?: Record<string, number> }).stats!.messagesSent!));

  it('sends no raft messages while idle, wakes on writes, and survives the death of a leader node', async () => {
    await cluster.start();
    for (let i = 0; i < 100 && (await leadersByNode()).flat().length < GROUPS; i++) await pause(100);
    await writeEverywhere('first');

    // Idle: after a few ticks every group is asleep on every node.
    let asleep: number[] = [];
    for (let i = 0; i < 50; i++) {
      await pause(100);
      asleep = await Promise.all(cluster.nodes.map(async (n) => ((await n.request({ op: 'stats' })) as { stats?: Record<string, number> }).stats!.quiesced!));
      if (asleep.every((q) => q === GROUPS)) break;
    }
    expect(asleep).toEqual([GROUPS, GROUPS, GROUPS]);
    const before = await messagesSent();
    await pause(2_000); // 40 ticks: 64 groups would otherwise send ~5,000 heartbeats per node
    const after = await messagesSent();
    for (const [i, n] of after.entries()) expect(n - before[i]!, `raft messages sent by node ${i + 1} while idle`).toBeLessThan(20);

    // A write wakes its group and succeeds.
    await writeEverywhere('second');

    // Kill the node leading the most groups, for good: every group gets a leader among the other
    // two and accepts writes again within a bounded time.
    await pause(1_000);
    const led = await leadersByNode();
    const victim = led.reduce((best, l, i) => (l.length > led[best]!.length ? i : best), 0);
    await cluster.nodes[victim]!.kill();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await leadersByNode()).flat().length < GROUPS) await pause(200);
    expect((await leadersByNode()).flat().length, 'groups with a leader after the leader node died').toBe(GROUPS);
    await writeEverywhere('third');
  }, 90_000);
});

describe('quiescence with the shortest idle time asked for (QUIESCE_TICKS=1)', () => {
  const cluster = new KvCluster({ size: 3, groups: 8, basePort: 18950, tickMs: 50, extraEnv: { QUIESCE_TICKS: '1' } });
  afterAll(() => cluster.destroy());

  // Followers learn a commit index from the heartbeats of idle ticks (the host skips commit-only
  // appends), and a tick's sleep notice leaves before its heartbeat: after a single idle tick a
  // follower would not know the final commit yet, refuse to sleep, and later campaign against the
  // sleeping leader. The host waits two idle ticks whatever is asked.
  it('every group still falls asleep on every node after a write', async () => {
    await cluster.start();
    const leaders = async (): Promise<number[][]> => Promise.all(cluster.nodes.map(async (n) => ((await n.request({ op: 'leaders' })) as { leaders?: number[] }).leaders ?? []));
    for (let i = 0; i < 100 && (await leaders()).flat().length < 8; i++) await pause(100);
    const led = await leaders();
    for (let g = 1; g <= 8; g++) {
      const owner = led.findIndex((l) => l.includes(g));
      expect(owner, `group ${g} has a leader`).toBeGreaterThanOrEqual(0);
      expect((await cluster.nodes[owner]!.request({ op: 'put', group: g, key: `k${g}`, value: 'v' })).ok).toBe(true);
    }
    let asleep: number[] = [];
    for (let i = 0; i < 30; i++) {
      await pause(100);
      asleep = await Promise.all(cluster.nodes.map(async (n) => ((await n.request({ op: 'stats' })) as { stats?: Record<string, number> }).stats!.quiesced!));
      if (asleep.every((q) => q === 8)) break;
    }
    expect(asleep).toEqual([8, 8, 8]);
  }, 60_000);
});
