import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { MultiRaftHost } from '../../src/cluster/multi-raft-host.js';
import { decodeEntry, type OpResult } from '../../src/queue/commands.js';
import { QueueNode } from '../../src/queue/queue-node.js';
import { groupId, type GroupId } from '../../src/storage/key-layout.js';
import type { QueueRpc } from '../../src/transport/queue-rpc.js';
import { taskSpec as spec } from '../support/single-node-queue.js';

interface Proposal {
  readonly g: GroupId;
  readonly ids: string[];
  settle(): void;
}

/** A leader of every partition whose proposals settle only when the test says so. */
function leaderWithHeldProposals(): { host: MultiRaftHost; proposals: Proposal[] } {
  const proposals: Proposal[] = [];
  const host = {
    holds: () => true,
    leaderOf: () => 'n1',
    propose: (g: GroupId, data: Uint8Array): Promise<unknown> =>
      new Promise((resolve) => {
        const ops = decodeEntry(data).ops;
        const results: OpResult[] = ops.map(() => ({ ok: true, count: 0 }));
        proposals.push({ g, ids: ops.map((o) => (o.op === 'submit' ? o.task.id : o.op)), settle: () => resolve(results) });
      }),
  } as unknown as MultiRaftHost;
  return { host, proposals };
}

/** The queue of node n1, which leads all `partitions` (no peers to forward to). */
function queueOn(host: MultiRaftHost, partitions: number): QueueNode {
  return new QueueNode({
    self: 'n1',
    host,
    rpc: {} as QueueRpc,
    logger: pino({ level: 'silent' }),
    machine: () => undefined,
    partitionCount: () => partitions,
    viewLeader: () => 'n1',
    requestTimeoutMs: 5000,
  });
}

const turns = async (n = 3): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('entries in flight per partition', () => {
  it('while an entry of a partition is in flight, its later operations wait and go out together; other partitions do not wait', async () => {
    const { host, proposals } = leaderWithHeldProposals();
    const queue = queueOn(host, 2);
    const g = groupId(1);
    const first = queue.op(g, { op: 'submit', task: spec('a') });
    await turns();
    expect(proposals.map((p) => p.ids)).toEqual([['a']]);

    // Three operations in three different turns, all while 'a' is in flight.
    const later = [];
    for (const id of ['b', 'c', 'd']) {
      later.push(queue.op(g, { op: 'submit', task: spec(id) }));
      await turns();
    }
    const other = queue.op(groupId(2), { op: 'submit', task: spec('x') });
    await turns();
    expect(proposals.map((p) => p.ids)).toEqual([['a'], ['x']]);

    proposals[0]!.settle();
    await first;
    await turns();
    expect(proposals.map((p) => p.ids)).toEqual([['a'], ['x'], ['b', 'c', 'd']]);
    proposals[1]!.settle();
    proposals[2]!.settle();
    expect(await Promise.all([...later, other])).toEqual([0, 1, 2, 3].map(() => ({ ok: true, count: 0 })));
  });

  it('with nothing in flight an operation is proposed in its own turn', async () => {
    const { host, proposals } = leaderWithHeldProposals();
    const queue = queueOn(host, 1);
    for (const id of ['a', 'b']) {
      const done = queue.op(groupId(1), { op: 'submit', task: spec(id) });
      await turns();
      expect(proposals.at(-1)!.ids).toEqual([id]);
      proposals.at(-1)!.settle();
      await done;
    }
  });
});

// A submit sent to a node that does not lead its partition used to wait a turn in the queue's
// outbox and then another in the forward stream's before it left for the leader.
describe('forwarding to a partition leader elsewhere', () => {
  it('sends the forward in the first event-loop turn after the operation', async () => {
    const events: string[] = [];
    const host = { holds: () => false, leaderOf: () => null } as unknown as MultiRaftHost;
    const rpc = {
      propose: (peer: string, partition: number, opsJson: string): Promise<unknown> => {
        events.push(`propose ${peer} ${partition} ${(JSON.parse(opsJson) as { task: { id: string } }[]).map((o) => o.task.id).join(',')}`);
        return new Promise(() => undefined);
      },
      flushForwards: () => events.push('flush'),
    } as unknown as QueueRpc;
    const queue = new QueueNode({
      self: 'n1',
      host,
      rpc,
      logger: pino({ level: 'silent' }),
      machine: () => undefined,
      partitionCount: () => 1,
      viewLeader: () => 'n2',
      requestTimeoutMs: 5000,
    });
    void queue.op(groupId(1), { op: 'submit', task: spec('a') });
    void queue.op(groupId(1), { op: 'submit', task: spec('b') });
    await new Promise((r) => setImmediate(r));
    // Both in one forward, and flushed right after it.
    expect(events).toEqual(['propose n2 1 a,b', 'flush']);
  });
});
