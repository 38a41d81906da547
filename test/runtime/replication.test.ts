import { afterAll, describe, expect, it } from 'vitest';
import { KvCluster, type KvNodeProcess } from '../support/kv-cluster.js';
import type { GroupDump } from '../support/kv-node-protocol.js';
import { KV_TEST_PORTS } from '../support/ports.js';

// Three node processes (real gRPC, real RocksDB) each hosting 64 groups of the test KV machine.
// Writes go on while one node is killed with SIGKILL and restarted, and while another is cut off
// (its transport paused) and healed. Afterwards every acknowledged write must be on all three
// nodes, the replicas' state must be identical, and their logs must agree.

const GROUPS = 64;

describe('replication across 3 node processes', () => {
  const cluster = new KvCluster({ size: 3, groups: GROUPS, basePort: KV_TEST_PORTS.replication, tickMs: 50 });
  afterAll(() => cluster.destroy());

  it('loses no acknowledged write through a SIGKILL, a restart and a partition', async () => {
    await cluster.start();
    const acked = new Map<string, { group: number; value: string }>();
    const leaderHint = new Map<number, number>();
    let seq = 0;
    let stop = false;
    let failures = 0;

    const byId = (id: string | null): number | undefined => {
      const i = cluster.nodes.findIndex((n) => n.id === id);
      return i < 0 ? undefined : i;
    };

    // A client that follows leader hints and retries until the write is acknowledged or it gives up.
    const put = async (group: number, key: string, value: string): Promise<void> => {
      for (let attempt = 0; attempt < 40 && !stop; attempt++) {
        const target: KvNodeProcess = cluster.nodes[leaderHint.get(group) ?? attempt % 3]!;
        if (!target.alive) {
          leaderHint.delete(group);
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        try {
          const r = await target.request({ op: 'put', group, key, value }, 5_000);
          if (r.ok) {
            acked.set(key, { group, value });
            return;
          }
          const hinted = byId(r.leader);
          if (hinted !== undefined && hinted !== byId(target.id)) leaderHint.set(group, hinted);
          else leaderHint.set(group, (byId(target.id)! + 1) % 3);
        } catch {
          leaderHint.delete(group);
        }
        await new Promise((r) => setTimeout(r, 10 + attempt * 5));
      }
      failures++;
    };

    const writer = async (w: number): Promise<void> => {
      while (!stop) {
        const n = seq++;
        await put(1 + (n % GROUPS), `w${w}-${n}`, `v${n}`);
      }
    };
    const writers = Array.from({ length: 48 }, (_, w) => writer(w));
    const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

    await pause(3_000);
    // SIGKILL node 1 mid-write, keep writing on the other two, then bring it back.
    await cluster.nodes[0]!.kill();
    await pause(2_000);
    await cluster.nodes[0]!.start();
    await pause(2_000);
    // Partition node 2 (nothing in or out), then heal.
    await cluster.nodes[1]!.request({ op: 'pause', paused: true });
    await pause(2_500);
    await cluster.nodes[1]!.request({ op: 'pause', paused: false });
    await pause(2_000);
    stop = true;
    await Promise.all(writers);

    expect(acked.size, 'writes were acknowledged throughout').toBeGreaterThan(500);

    // Let every replica catch up: all three report the same commit and applied index per group.
    let dumps: GroupDump[][] = [];
    for (let attempt = 0; attempt < 200; attempt++) {
      dumps = await Promise.all(cluster.nodes.map(async (n) => ((await n.request({ op: 'dump' })) as { groups?: GroupDump[] }).groups ?? []));
      const settled = dumps.every((d) => d.length === GROUPS) &&
        Array.from({ length: GROUPS }, (_, i) => i).every((i) => {
          const [a, b, c] = dumps.map((d) => d.find((g) => g.group === i + 1));
          return a !== undefined && b !== undefined && c !== undefined &&
            a.applied === a.commit && a.commit === b.commit && b.commit === c.commit &&
            b.applied === b.commit && c.applied === c.commit;
        });
      if (settled) break;
      await pause(100);
    }

    for (let g = 1; g <= GROUPS; g++) {
      const replicas = dumps.map((d) => d.find((x) => x.group === g)!);
      expect(replicas.every((r) => r !== undefined), `group ${g} on all nodes`).toBe(true);
      const [a, b, c] = replicas as [GroupDump, GroupDump, GroupDump];
      expect([b.commit, c.commit], `group ${g} commit converged`).toEqual([a.commit, a.commit]);
      expect(b.data, `group ${g}: node 2 state equals node 1`).toEqual(a.data);
      expect(c.data, `group ${g}: node 3 state equals node 1`).toEqual(a.data);
      // Log Matching: wherever two replicas hold the same index, they hold the same term.
      const terms = replicas.map((r) => new Map(r.terms));
      for (const [index, t] of terms[0]!) {
        for (const other of terms.slice(1)) {
          if (other.has(index)) expect(other.get(index), `group ${g} index ${index}`).toBe(t);
        }
      }
      expect(replicas.filter((r) => r.role === 'leader').length, `group ${g} has one leader`).toBe(1);
    }
    for (const [key, w] of acked) {
      for (const [i, d] of dumps.entries()) {
        expect(d.find((x) => x.group === w.group)!.data[key], `acknowledged ${key} on node ${i + 1}`).toBe(w.value);
      }
    }
    expect(failures, 'writes that never got through').toBeLessThan(acked.size / 10);
  }, 180_000);
});
