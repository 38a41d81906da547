import { afterEach, describe, expect, it } from 'vitest';
import type { MultiRaftHost } from '../../src/cluster/multi-raft-host.js';
import { logIndex, nodeId, type NodeId } from '../../src/raft/index.js';
import { groupId, type GroupId } from '../../src/storage/key-layout.js';
import type { GroupEnvelope } from '../../src/transport/frame-codec.js';
import { framesByPeer } from '../support/frames-by-peer.js';
import { InProcessHosts } from '../support/in-process-hosts.js';
import { KvStateMachine } from '../support/kv-state-machine.js';

/**
 * Compaction points come every few entries here, and one follower hears everything late (alive,
 * just slow). Its leader must keep the entries it still lacks rather than compact them away and
 * send it one snapshot after another; a dead follower gets no such favour (see
 * snapshot-on-demand.test.ts). Real RocksDB; hosts wired in process instead of gRPC.
 */
const G: GroupId = groupId(1);

describe('log compaction on a leader', () => {
  const cluster = new InProcessHosts();

  afterEach(() => cluster.close());

  async function start(ids: NodeId[], slow: NodeId, delayMs: number, maxLogEntries: number): Promise<Map<NodeId, MultiRaftHost>> {
    const byId = cluster.byId;
    for (const id of ids) {
      const send = (envelopes: GroupEnvelope[]): void => {
        for (const [peer, frame] of framesByPeer(envelopes)) {
          const deliver = (): void => byId.get(peer)?.receive(id, frame);
          if (peer === slow) setTimeout(deliver, delayMs);
          else setImmediate(deliver);
        }
      };
      await cluster.open(id, send, {
        // A long election timeout: the slow follower must stay "recently active" even when a
        // loaded CI machine delays it further.
        electionTicks: 50,
        snapshotEntries: 20,
        keepEntries: 5,
        maxLogEntries,
        // Two appends in flight per follower, at most 4 entries each: the slow follower's entries
        // wait in the leader's log, where compaction could take them.
        raft: { maxInflightMsgs: 2, maxSizePerMsg: 4 * 64 },
      });
    }
    for (const h of byId.values()) h.createGroup(G, ids);
    return byId;
  }

  async function run(maxLogEntries: number): Promise<{ installed: number; applied: number; leaderApplied: number; leaderFirst: number }> {
    const [a, b, c] = [nodeId('a'), nodeId('b'), nodeId('c')];
    // The slow follower must not lead: it would be slow at everything.
    const byId = await start([a, b, c], c, 15, maxLogEntries);
    let leader: MultiRaftHost | undefined;
    for (let i = 0; i < 1000 && leader === undefined; i++) {
      const id = byId.get(a)!.leaderOf(G);
      if (id !== null && id !== c) leader = byId.get(id);
      else if (id === c && byId.get(c)!.leaderOf(G) === c) byId.get(c)!.transferLeader(G, a);
      await new Promise((r) => setTimeout(r, 10));
    }
    if (leader === undefined) throw new Error('no leader other than the slow node within 10 s');
    const slowHost = byId.get(c)!;
    const caughtUp = async (): Promise<void> => {
      for (let i = 0; i < 500 && slowHost.status(G).applied < leader.status(G).applied; i++) await new Promise((r) => setTimeout(r, 10));
    };
    // Until the leader has heard from it, a follower's needs are unknown: start from a caught-up one.
    await leader.propose(G, KvStateMachine.command('first', 'v'));
    await caughtUp();
    const installedBefore = slowHost.stats().snapshotsInstalled;
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, k) => leader.propose(G, KvStateMachine.command(`k${round}-${k}`, 'v'))));
    }
    await caughtUp();
    return {
      installed: slowHost.stats().snapshotsInstalled - installedBefore,
      applied: slowHost.status(G).applied,
      leaderApplied: leader.status(G).applied,
      leaderFirst: leader.logTerms(G, logIndex(1), leader.status(G).applied)[0]?.index ?? 0,
    };
  }

  it('keeps the entries a slow but live follower lacks, so it catches up from the log', async () => {
    const r = await run(20_000);
    expect(r.applied, 'the slow follower caught up').toBe(r.leaderApplied);
    expect(r.installed, 'snapshots the slow follower had to install').toBe(0);
    expect(r.leaderFirst, 'the leader still compacted behind everyone').toBeGreaterThan(1);
  });

  it('past maxLogEntries, compacts anyway and the follower catches up from a snapshot', async () => {
    const r = await run(10);
    expect(r.applied, 'the slow follower caught up').toBe(r.leaderApplied);
    expect(r.installed).toBeGreaterThan(0);
  });
});
