import { describe, expect, it } from 'vitest';
import { QueueStateMachine } from '../../src/queue/queue-state-machine.js';
import { decodeTaskRow, encodeTaskRow, TaskRowError } from '../../src/queue/task-row.js';
import { taskId, type Task } from '../../src/queue/task.js';
import { groupId, stateMachinePrefix } from '../../src/storage/key-layout.js';

const base: Task = {
  id: taskId('0mabc1234deadbeef0001'),
  queue: 'emails',
  type: 'email',
  payload: { to: 'a@example.com', tags: ['x', 'y'], n: 1.5, nested: { ok: true } },
  priority: 7,
  runAt: 1_764_570_000_000,
  delayMs: 2500,
  maxAttempts: 5,
  backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000, jitter: 0.2 },
  timeoutMs: 30_000,
  status: 'running',
  attempts: 2,
  createdAt: 1_764_569_000_000,
  updatedAt: 1_764_569_500_000,
  seq: 42,
  leaseOwner: 'node-2',
  leaseExpiresAt: 1_764_569_530_000,
  fencingToken: 1234,
  progress: { done: 40, of: 100, step: 'resize' },
  result: null,
  lastError: 'timeout',
  finishedAt: null,
};

const versions: Task[] = [
  base,
  { ...base, status: 'completed', leaseOwner: null, leaseExpiresAt: null, fencingToken: null, result: { sent: 3, ids: ['a'] }, finishedAt: 1_764_569_600_000 },
  { ...base, status: 'pending', progress: null, payload: null, runAt: null, delayMs: null, leaseOwner: null, leaseExpiresAt: null, fencingToken: null, lastError: null },
  { ...base, status: 'dead', backoff: { type: 'fixed', delayMs: 0, maxDelayMs: 0, jitter: 0 }, payload: 'a "quoted" string, ünïcødé', result: [1, 2] },
];

describe('task rows', () => {
  it('round-trip every field of every kind of task', () => {
    for (const t of versions) expect(decodeTaskRow(encodeTaskRow(t))).toEqual(t);
  });

  it('decode to one field order, the one the state machine builds tasks in', () => {
    const shuffled = Object.fromEntries(Object.entries(base).reverse()) as unknown as Task;
    expect(Object.keys(decodeTaskRow(encodeTaskRow(shuffled)))).toEqual(Object.keys(base));
  });

  it('are well under half the size of the task as a JSON object', () => {
    const t = versions[2]!;
    expect(encodeTaskRow(t).byteLength * 2).toBeLessThan(Buffer.byteLength(JSON.stringify(t)));
  });

  it('written as objects by earlier versions are still read', () => {
    for (const t of versions) expect(decodeTaskRow(Buffer.from(JSON.stringify(t)))).toEqual(t);
    // Those rows predate progress.
    const { progress: _, ...old } = base;
    expect(decodeTaskRow(Buffer.from(JSON.stringify(old)))).toEqual({ ...base, progress: null });
  });

  it('of format 1, before tasks carried progress, are read with no progress', () => {
    const v2 = JSON.parse(Buffer.from(encodeTaskRow(base)).toString()) as unknown[];
    expect(v2).toHaveLength(26);
    const v1 = [1, ...v2.slice(1, 25)];
    expect(decodeTaskRow(Buffer.from(JSON.stringify(v1)))).toEqual({ ...base, progress: null });
  });

  it('of an unknown format are refused with a clear error', () => {
    expect(() => decodeTaskRow(Buffer.from(JSON.stringify([3, ...Array(25).fill(null)])))).toThrow(/unknown task row format 3 \(26 fields\)/);
    expect(() => decodeTaskRow(Buffer.from('[2,"x"]'))).toThrow(TaskRowError);
    expect(() => decodeTaskRow(Buffer.from(JSON.stringify([1, ...Array(10).fill(null)])))).toThrow(/unknown task row format 1 \(11 fields\)/);
  });

  it('of both formats rebuild a partition at start', () => {
    const prefix = stateMachinePrefix(groupId(3));
    const key = (id: string): Uint8Array => Buffer.concat([prefix, Buffer.from(`t${id}`)]);
    const old = { ...versions[2]!, id: taskId('old'), seq: 1 };
    const now = { ...versions[0]!, id: taskId('new'), seq: 2 };
    const sm = new QueueStateMachine(groupId(3));
    sm.loadRows([
      [key('old'), Buffer.from(JSON.stringify(old))],
      [key('new'), encodeTaskRow(now)],
    ]);
    expect(sm.get(taskId('old'))).toEqual(old);
    expect(sm.get(taskId('new'))).toEqual(now);
    expect(sm.countsByStatus()).toMatchObject({ pending: 1, running: 1 });
  });
});
