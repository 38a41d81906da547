import { afterEach, describe, expect, it, vi } from 'vitest';
import { nodeId, type NodeId } from '../../src/raft/index.js';
import { groupId, type GroupId } from '../../src/storage/key-layout.js';
import type { GroupEnvelope } from '../../src/transport/frame-codec.js';
import { framesByPeer } from '../support/frames-by-peer.js';
import { InProcessHosts } from '../support/in-process-hosts.js';
import { until } from '../support/until.js';

/**
 * A node about to stop hands the leadership of its groups to other voters (graceful stop), and
 * hands on any group that makes it leader again meanwhile: the meta leader's balancing, which still
 * counts it live and sees it leading nothing, does exactly that. Real RocksDB; three hosts wired in
 * process.
 */
describe('MultiRaftHost.handOffLeadership', () => {
  const cluster = new InProcessHosts();
  const hosts = cluster.byId;

  afterEach(() => cluster.close());

  it('moves every group it leads to another voter, and hands on a group given back to it', async () => {
    const ids = [nodeId('a'), nodeId('b'), nodeId('c')];
    const groups: GroupId[] = [groupId(1), groupId(2), groupId(3)];
    for (const id of ids) {
      await cluster.open(id, (envelopes: GroupEnvelope[], control) => {
        for (const [peer, frame] of framesByPeer(envelopes, control)) setImmediate(() => hosts.get(peer)?.receive(id, frame));
      });
    }
    for (const h of hosts.values()) for (const g of groups) h.createGroup(g, ids);
    const leaderOf = (g: GroupId): NodeId | null => hosts.get(ids[0]!)!.leaderOf(g);
    expect(await until(10_000, () => groups.every((g) => leaderOf(g) !== null)), 'no leaders').toBe(true);
    // Make one node, a, lead all three.
    for (const g of groups) {
      const l = leaderOf(g)!;
      if (l !== ids[0]) hosts.get(l)!.transferLeader(g, ids[0]!);
    }
    const leaving = hosts.get(ids[0]!)!;
    expect(await until(10_000, () => groups.every((g) => leaving.leaderOf(g) === ids[0])), 'a does not lead every group').toBe(true);

    expect(await leaving.handOffLeadership(5_000)).toEqual({ led: 3, kept: 0 });
    expect(await until(5_000, () => groups.every((g) => leaderOf(g) === ids[1] || leaderOf(g) === ids[2])), 'the groups have no new leaders').toBe(true);

    // The balancer gives group 1 back: a hands it on at once, having been its leader for a moment.
    const handedOn = vi.spyOn(leaving, 'transferLeader');
    let elected = 0;
    leaving.onLeadership((g, moment) => {
      if (g === groups[0] && moment === 'elected') elected++;
    });
    hosts.get(leaderOf(groups[0]!)!)!.transferLeader(groups[0]!, ids[0]!);
    expect(await until(10_000, () => elected > 0), 'a was never given group 1 back').toBe(true);
    expect(await until(5_000, () => handedOn.mock.calls.length > 0), 'a did not hand group 1 on').toBe(true);
    expect(handedOn.mock.calls[0]![0]).toBe(groups[0]);
    expect(await until(10_000, () => leaderOf(groups[0]!) !== null && leaderOf(groups[0]!) !== ids[0] && leaving.leaderOf(groups[0]!) !== ids[0]), 'a kept group 1').toBe(true);
  });
});
