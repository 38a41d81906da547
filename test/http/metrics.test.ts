import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderMetrics } from '../../src/http/metrics.js';
import { partitionOf } from '../../src/queue/partition-of.js';
import type { NodeMetrics } from '../../src/queue/task-service.js';
import type { Task } from '../../src/queue/task.js';
import { NODE_TEST_PORTS } from '../support/ports.js';
import { TestCluster, fullyReplicated, type TaskraftNode } from '../support/taskraft-node.js';

/** Samples by `name{labels}` as written, after checking every line's syntax and HELP/TYPE order. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  const helped = new Set<string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta !== null) {
      const seen = meta[1] === 'HELP' ? helped : typed;
      expect(seen.has(meta[2]!), `${meta[1]} of ${meta[2]} twice`).toBe(false);
      seen.add(meta[2]!);
      if (meta[1] === 'TYPE') expect(['counter', 'gauge']).toContain(meta[3]);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?|NaN|[+-]Inf)$/.exec(line);
    expect(m, `not a sample line: ${line}`).not.toBeNull();
    expect(typed.has(m![1]!), `${m![1]} sampled before its TYPE`).toBe(true);
    samples.set(`${m![1]}${m![2] ?? ''}`, Number(m![3]));
  }
  return samples;
}

const sum = (s: Map<string, number>, prefix: string): number => [...s].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);

describe('GET /metrics', () => {
  it('renders the Prometheus text format, escaping labels', () => {
    const counters = (submitted: number) => ({ submitted, completed: 1, failedAttempts: 2, dead: 0, cancelled: 0 });
    const m: NodeMetrics = {
      partitionsHeld: 4,
      byQueue: { mail: { completed: 2, dead: 1 }, 'we"ird\\q\nx': { pending: 1 } },
      partitionCounters: [
        { partition: 2, counters: counters(5) },
        { partition: 3, counters: counters(7) },
      ],
      processor: { running: 1, concurrency: 64, started: 9, succeeded: 7, failed: 2, rejected: 0, abandoned: 3, completedPerSec: 0.7 },
      routing: { forwardedOut: 3, forwardedIn: 4 },
      raft: { turns: 11, writeMs: 1500, syncedWrites: 6, notAKnownCounter: 1 },
    };
    const s = parse(renderMetrics('node-7', m, { cpuSeconds: 1.25, residentBytes: 1000, heapUsedBytes: 500 }));
    expect(s.get('taskraft_tasks{queue="mail",status="completed"}')).toBe(2);
    expect(s.get('taskraft_tasks{queue="mail",status="dead"}')).toBe(1);
    expect(s.get('taskraft_tasks{queue="we\\"ird\\\\q\\nx",status="pending"}')).toBe(1);
    expect(s.get('taskraft_partition_submitted_total{partition="2"}')).toBe(5);
    expect(s.get('taskraft_partition_submitted_total{partition="3"}')).toBe(7);
    expect(s.get('taskraft_partitions_led{node="node-7"}')).toBe(2);
    expect(s.get('taskraft_partitions_held{node="node-7"}')).toBe(4);
    expect(s.get('taskraft_raft_write_seconds_total{node="node-7"}')).toBe(1.5);
    expect(s.get('taskraft_raft_turns_total{node="node-7"}')).toBe(11);
    expect(sum(s, 'taskraft_raft_') - 11 - 1.5 - 6).toBe(0);
    expect(s.get('taskraft_forwarded_in_total{node="node-7"}')).toBe(4);
    expect(s.get('taskraft_handler_runs_abandoned_total{node="node-7"}')).toBe(3);
    expect(s.get('process_cpu_seconds_total')).toBe(1.25);
  });

  describe('on a real node', () => {
    const cluster = new TestCluster(NODE_TEST_PORTS.metrics, { PARTITIONS: '4' });
    let node: TaskraftNode;

    beforeAll(async () => {
      node = cluster.node(1);
      node.start();
      await cluster.waitFor('node-1 leads every partition', 30_000, (v) => fullyReplicated(v, ['node-1']));
    }, 60_000);
    afterAll(() => cluster.destroy());

    it('counts what the node did, summing queues over the partitions it leads', async () => {
      expect(partitionOf('m-1', 4)).not.toBe(partitionOf('m-2', 4));
      for (const body of [
        { id: 'm-1', type: 'noop', queue: 'q1' },
        { id: 'm-2', type: 'noop', queue: 'q1' },
        { id: 'm-3', type: 'fail', queue: 'q1', maxAttempts: 1 },
      ]) {
        expect((await node.post('/tasks/submit', body)).status).toBe(201);
      }
      for (const id of ['m-1', 'm-2', 'm-3']) expect(['completed', 'dead']).toContain((await node.getJson<Task>(`/tasks/${id}/wait?timeout=15000`)).body.status);
      const res = await fetch(`${node.url}/metrics`);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const s = parse(await res.text());
      expect(sum(s, 'taskraft_partition_submitted_total{')).toBe(3);
      expect(sum(s, 'taskraft_partition_completed_total{')).toBe(2);
      expect(sum(s, 'taskraft_partition_dead_total{')).toBe(1);
      expect(s.get('taskraft_tasks{queue="q1",status="completed"}')).toBe(2);
      expect(s.get('taskraft_tasks{queue="q1",status="dead"}')).toBe(1);
      expect(s.get('taskraft_partitions_led{node="node-1"}')).toBe(4);
      expect(s.get('taskraft_handler_runs_started_total{node="node-1"}')).toBe(3);
      expect(s.get('taskraft_raft_synced_writes_total{node="node-1"}')).toBeGreaterThan(0);
      expect(s.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    });
  });
});
