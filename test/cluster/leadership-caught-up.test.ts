import { afterEach, describe, expect, it } from 'vitest';
import type { LeadershipMoment } from '../../src/cluster/multi-raft-host.js';
import { nodeId, type NodeId } from '../../src/raft/index.js';
import { groupId, type GroupId } from '../../src/storage/key-layout.js';
import type { GroupEnvelope } from '../../src/transport/frame-codec.js';
import { framesByPeer } from '../support/frames-by-peer.js';
import { InProcessHosts } from '../support/in-process-hosts.js';
import { KvStateMachine } from '../support/kv-state-machine.js';
import { until } from '../support/until.js';

/**
 * A leader that dies with an entry on its followers' disks but not yet known to be committed
 * leaves it to the next leader, which commits it only with its own term's first entry. Whatever
 * that entry carries (a task submitted during the election) reaches the new leader's state machine
 * then, and no proposal of the new leader announces it: the host tells its leadership listeners a
 * second time, once caught up, so the processing loop looks at once rather than at its next poll.
 * Real RocksDB; hosts wired in process instead of gRPC, with a switch that cuts one node off.
 */
const G: GroupId = groupId(1);

interface Heard {
  readonly host: NodeId;
  readonly moment: LeadershipMoment;
  /** Whether the old leader's last entry was applied on this host when it heard. */
  readonly inheritedApplied: boolean;
}

describe('MultiRaftHost.onLeadership after an election', () => {
  const cluster = new InProcessHosts();

  afterEach(() => cluster.close());

  it("tells a new leader's listeners once more when it has applied the entries the old leader left", async () => {
    const ids = [nodeId('a'), nodeId('b'), nodeId('c')];
    const byId = cluster.byId;
    const machines = new Map<NodeId, KvStateMachine>();
    // Messages from or to this node are dropped.
    let cutOff: NodeId | null = null;
    // Messages to this node are dropped (it still sends).
    let deaf: NodeId | null = null;
    for (const id of ids) {
      const send = (envelopes: GroupEnvelope[]): void => {
        for (const [peer, frame] of framesByPeer(envelopes)) {
          if (id === cutOff || peer === cutOff || peer === deaf) continue;
          setImmediate(() => byId.get(peer)?.receive(id, frame));
        }
      };
      await cluster.open(id, send, {
        stateMachine: (g) => {
          const sm = new KvStateMachine(g);
          machines.set(id, sm);
          return sm;
        },
      });
    }
    for (const h of byId.values()) h.createGroup(G, ids);

    expect(await until(10_000, () => byId.get(ids[0]!)!.leaderOf(G) !== null), 'no first leader').toBe(true);
    const old = byId.get(ids[0]!)!.leaderOf(G)!;
    const oldHost = byId.get(old)!;
    const followers = ids.filter((id) => id !== old);
    await oldHost.propose(G, KvStateMachine.command('first', 'v'));
    expect(await until(5_000, () => followers.every((f) => machines.get(f)!.get('first') === 'v')), 'followers never applied the first entry').toBe(true);

    const heard: Heard[] = [];
    for (const f of followers) {
      byId.get(f)!.onLeadership((g, moment) => {
        if (g === G) heard.push({ host: f, moment, inheritedApplied: machines.get(f)!.get('inherited') !== undefined });
      });
    }

    // The old leader hears no acknowledgement: its entry reaches both followers' logs, and nobody
    // learns that it is committed.
    deaf = old;
    const target = oldHost.status(G).lastIndex + 1;
    const lost = oldHost.propose(G, KvStateMachine.command('inherited', 'v')).catch(() => undefined);
    expect(await until(5_000, () => followers.every((f) => byId.get(f)!.status(G).lastIndex >= target)), 'the entry never reached both followers').toBe(true);
    expect(followers.some((f) => machines.get(f)!.get('inherited') !== undefined), 'a follower applied an entry not known to be committed').toBe(false);

    // Then it is gone: one follower is elected and commits the entry with its own first one.
    cutOff = old;
    expect(await until(10_000, () => heard.some((h) => h.moment === 'caught-up')), 'no new leader caught up').toBe(true);
    const leader = heard.find((h) => h.moment === 'caught-up')!.host;
    expect(heard.filter((h) => h.host === leader)).toEqual([
      { host: leader, moment: 'elected', inheritedApplied: false },
      { host: leader, moment: 'caught-up', inheritedApplied: true },
    ]);
    void lost;
  });
});
