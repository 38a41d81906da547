import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultiRaftHost, type LeadershipMoment } from '../../src/cluster/multi-raft-host.js';
import type { Handler } from '../../src/queue/handlers.js';
import type { Processor } from '../../src/queue/processor.js';
import { QueueStateMachine } from '../../src/queue/queue-state-machine.js';
import type { Task, TaskId } from '../../src/queue/task.js';
import { nodeId } from '../../src/raft/index.js';
import { groupId, type GroupId } from '../../src/storage/key-layout.js';
import { RocksDatabase } from '../../src/storage/rocks-database.js';
import { SingleNodeQueue, taskSpec } from '../support/single-node-queue.js';
import { until } from '../support/until.js';

const HOUR = 3_600_000;

// The processing loop used to poll every 10 ms, which woke every node 100 times a second for
// nothing when idle. It now wakes when something falls due; with an hour-long poll these tasks
// would wait an hour if it did not.
describe('processing loop wake-ups', () => {
  const g = groupId(1);
  let node: SingleNodeQueue;
  let processor: Processor;
  const ran: { id: string; at: number }[] = [];

  beforeAll(async () => {
    node = await SingleNodeQueue.open(1);
    const record: Handler = async (task) => {
      ran.push({ id: task.id, at: Date.now() });
      return null;
    };
    processor = node.processor(new Map([['record', record]]), { pollMs: HOUR });
    processor.start();
  });

  afterAll(async () => {
    processor.stop();
    await node.close();
  });

  const status = (id: string): string | undefined => node.machine(g).get(id as TaskId)?.status;

  it('runs a delayed task when it falls due, not at the next poll', async () => {
    const submitted = Date.now();
    const r = await node.queue.op(g, { op: 'submit', task: taskSpec('delayed-1', { type: 'record', delayMs: 300 }) });
    expect(r.ok && 'task' in r && r.task.status).toBe('delayed');
    expect(await until(5_000, () => status('delayed-1') === 'completed'), `status ${status('delayed-1')}`).toBe(true);
    const at = ran.find((x) => x.id === 'delayed-1')!.at;
    expect(at - submitted, 'ran before its delay').toBeGreaterThanOrEqual(300);
    expect(at - submitted, 'ran long after its delay').toBeLessThan(2_000);
  });

  it('expires a lease when it runs out: the attempt counts and the task is queued again', async () => {
    await node.queue.op(g, { op: 'submit', task: taskSpec('leased-1', { type: 'other', timeoutMs: 300 }) });
    // A worker of another node (or a remote one) leases it and dies.
    const claim = await node.queue.op(g, { op: 'claim', owner: 'gone', max: 1, types: ['other'] });
    const leased = claim.ok && 'tasks' in claim ? claim.tasks : [];
    expect(leased.map((t: Task) => t.id)).toEqual(['leased-1']);
    expect(status('leased-1')).toBe('running');
    // Expired, it counts as a failed attempt and comes back after its backoff (10 ms): pending.
    expect(await until(5_000, () => status('leased-1') !== 'running'), 'the lease was never expired').toBe(true);
    const t = node.machine(g).get('leased-1' as TaskId)!;
    expect(t.attempts).toBe(1);
    expect(['pending', 'delayed']).toContain(t.status);
  });
});

describe('MultiRaftHost.onLeadership', () => {
  it('tells its listeners when this node becomes a group leader, and when it has caught up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskraft-lead-'));
    const db = await RocksDatabase.open(dir, { writeWorker: true });
    const self = nodeId('n1');
    const host = await MultiRaftHost.open({ self, db, send: () => undefined, logger: pino({ level: 'silent' }), tickMs: 10, stateMachine: (gid) => new QueueStateMachine(gid) });
    try {
      const led: [GroupId, LeadershipMoment][] = [];
      host.onLeadership((gid, moment) => led.push([gid, moment]));
      host.createGroup(groupId(7), [self]);
      expect(await until(5_000, () => led.length > 1), 'no leadership reported').toBe(true);
      // A lone voter catches up as soon as its term's first entry is written and applied.
      expect(led).toEqual([
        [groupId(7), 'elected'],
        [groupId(7), 'caught-up'],
      ]);
      expect(host.leaderOf(groupId(7))).toBe(self);
    } finally {
      await host.stop();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
