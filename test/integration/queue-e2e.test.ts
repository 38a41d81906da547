import * as grpc from '@grpc/grpc-js';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/queue/partition-of.js';
import type { Task } from '../../src/queue/task.js';
import { nodeId } from '../../src/raft/index.js';
import { QueueRpc } from '../../src/transport/queue-rpc.js';
import { TestCluster } from '../support/taskraft-node.js';
import { NODE_TEST_PORTS } from '../support/ports.js';
import { waitUntil } from '../support/until.js';

const BASE = NODE_TEST_PORTS.queueE2e;

/**
 * The queue end to end on 3 real node processes: tasks submitted to every node's HTTP port while
 * the node leading the most partitions is SIGKILLed and brought back; every acknowledged task must
 * end completed exactly once. Then retries into the dead-letter state and re-driving, idempotent
 * submits, delays, and bad input.
 */
const P = 8;
const TOTAL = 2000;

describe('task queue end to end with real processes', () => {
  const handlers = fileURLToPath(new URL('../fixtures/user-handlers.mjs', import.meta.url));
  const cluster = new TestCluster(BASE, { PARTITIONS: String(P), CONCURRENCY: '32', HANDLERS: handlers });
  afterAll(() => cluster.destroy(), 30_000);
  const nodes = [1, 2, 3].map((k) => cluster.node(k));

  async function submit(k: number, body: unknown): Promise<{ status: number; task?: Task; code?: string }> {
    try {
      const r = await nodes[k]!.post<Task & { code?: string }>('/tasks/submit', body);
      return r.status < 300 ? { status: r.status, task: r.body } : { status: r.status, code: r.body.code ?? '' };
    } catch (e) {
      return { status: 0, code: (e as Error).message };
    }
  }

  it('starts a 3-node cluster', async () => {
    await cluster.startThree();
  }, 90_000);

  it('loses no acknowledged task and completes each exactly once through a leader SIGKILL and restart', async () => {
    const acked = new Map<string, Task>();
    const refused: string[] = [];
    const types = ['noop', 'sleep', 'noop', 'sleep'];
    let next = 0;
    let killed = false;
    const view = (await cluster.view())!;
    const busiest = [...view.nodes].sort((a, b) => b.partitionsLed.length - a.partitionsLed.length)[0]!;
    const victim = cluster.nodes.get(busiest.id)!;
    const victimIndex = nodes.indexOf(victim);

    async function client(c: number): Promise<void> {
      while (next < TOTAL) {
        const i = next++;
        if (i === TOTAL / 3 && !killed) {
          killed = true;
          await victim.kill('SIGKILL');
          setTimeout(() => victim.start({ JOIN_ADDR: `127.0.0.1:${victimIndex === 0 ? BASE + 1 : BASE}` }), 1500);
        }
        const body = {
          id: `e2e-${i}`,
          type: types[i % types.length],
          payload: { ms: 5 + (i % 20) },
          priority: i % 3,
          // Short leases: tasks leased by the killed node come back within seconds.
          timeoutMs: 2000,
          ...(i % 10 === 0 ? { delayMs: 300 } : {}),
        };
        // Clients spread over all nodes and move on when one is down, as a load balancer would.
        for (let tries = 0; tries < 6; tries++) {
          const k = (c + i + tries) % 3;
          if (!nodes[k]!.running()) continue;
          const r = await submit(k, body);
          if (r.task !== undefined) {
            acked.set(body.id, r.task);
            break;
          }
          if (tries === 5) refused.push(`${body.id}: ${r.status} ${r.code}`);
          await new Promise((res) => setTimeout(res, 100));
        }
      }
    }
    const started = Date.now();
    await Promise.all(Array.from({ length: 24 }, (_, c) => client(c)));
    console.log(`queue e2e: ${acked.size}/${TOTAL} submits acknowledged in ${Date.now() - started} ms (${busiest.id} killed at 1/3); ${refused.length} refused after retries`);
    expect(acked.size).toBeGreaterThan(TOTAL * 0.9);

    await cluster.waitFor(`${busiest.id} back`, 60_000, (v) => v.nodes.every((n) => n.live) && v.partitions.every((p) => p.leader !== null));
    const deadline = Date.now() + 90_000;
    let unfinished: string[] = [...acked.keys()];
    const final = new Map<string, Task>();
    while (unfinished.length > 0 && Date.now() < deadline) {
      const still: string[] = [];
      for (let i = 0; i < unfinished.length; i += 50) {
        const chunk = unfinished.slice(i, i + 50);
        await Promise.all(
          chunk.map(async (id, j) => {
            const r = await nodes[(i + j) % 3]!.getJson<Task>(`/tasks/${id}`).catch(() => null);
            if (r?.status === 200 && r.body.status === 'completed') final.set(id, r.body);
            else still.push(id);
          }),
        );
      }
      unfinished = still;
      if (unfinished.length > 0) await new Promise((r) => setTimeout(r, 500));
    }
    expect(unfinished.slice(0, 10)).toEqual([]);

    // Exactly once: each partition's replicated counter of completions equals its completed tasks.
    const stats = await Promise.all(nodes.map((n) => n.getJson<{ partitionsLed: number[]; partitionCounters: { completed: number }; tasksByStatus: { completed: number } }>('/tasks/stats')));
    const completions = stats.reduce((s, r) => s + r.body.partitionCounters.completed, 0);
    const completedTasks = stats.reduce((s, r) => s + r.body.tasksByStatus.completed, 0);
    expect(completions).toBe(completedTasks);
    expect(stats.flatMap((r) => r.body.partitionsLed).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // A retried task's runAt is its retry time; the first attempt shows the submit's delay.
    const delayed = [...final.values()].filter((t) => Number(t.id.slice(4)) % 10 === 0 && t.attempts === 1);
    expect(delayed.length).toBeGreaterThan(0);
    for (const t of delayed) expect([t.id, t.runAt! - t.createdAt, t.finishedAt! >= t.runAt!]).toEqual([t.id, 300, true]);
    const retried = [...final.values()].filter((t) => t.attempts > 1).length;
    console.log(`queue e2e: all ${final.size} acknowledged tasks completed, one completion record each (${completions} records); ${retried} needed a second attempt`);
  }, 240_000);

  it('GET /tasks pages through every partition from any node; GET /stats sums the nodes', async () => {
    const stats = await nodes[1]!.getJson<{ tasksByStatus: Record<string, number>; partitionCounters: { submitted: number } }>('/stats');
    expect(stats.body.tasksByStatus.completed).toBeGreaterThanOrEqual(TOTAL);
    expect(stats.body.partitionCounters.submitted).toBeGreaterThanOrEqual(TOTAL);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const q: string = `/tasks?status=completed&limit=250${cursor === null ? '' : `&cursor=${cursor}`}`;
      const r = await nodes[page % 3]!.getJson<{ tasks: Task[]; nextCursor: string | null }>(q);
      expect(r.status).toBe(200);
      seen.push(...r.body.tasks.map((t) => t.id));
      cursor = r.body.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(stats.body.tasksByStatus.completed);
  }, 60_000);

  it('a failing task retries with backoff, ends dead, and can be re-driven', async () => {
    const r = await submit(0, { id: 'always-fails', type: 'fail', maxAttempts: 2, backoff: { type: 'fixed', delayMs: 200 } });
    expect(r.status).toBe(201);
    const dead = await nodes[1]!.getJson<Task>('/tasks/always-fails/wait?timeout=20000');
    expect(dead.body).toMatchObject({ status: 'dead', attempts: 2, lastError: 'this handler always fails' });
    const again = await nodes[2]!.post<Task>('/tasks/always-fails/retry');
    expect([again.status, again.body.status, again.body.attempts]).toEqual([200, 'pending', 0]);
    const deadAgain = await nodes[0]!.getJson<Task>('/tasks/always-fails/wait?timeout=20000');
    expect(deadAgain.body).toMatchObject({ status: 'dead', attempts: 2 });
    const notDead = await nodes[0]!.post<{ code: string }>('/tasks/e2e-1/retry');
    expect([notDead.status, notDead.body.code]).toEqual([409, 'ERR_INVALID_STATE']);
  }, 60_000);

  it('re-drives the dead tasks of a queue in bulk, on every partition, and no others', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `bulk-${i}`);
    for (const [i, id] of ids.entries()) expect((await submit(i % 3, { id, type: 'fail', queue: 'bulk', maxAttempts: 1 })).status).toBe(201);
    expect((await submit(0, { id: 'not-bulk', type: 'fail', queue: 'other', maxAttempts: 1 })).status).toBe(201);
    const deadAt = new Map<string, number>();
    for (const id of [...ids, 'not-bulk']) {
      const t = (await nodes[1]!.getJson<Task>(`/tasks/${id}/wait?timeout=20000`)).body;
      expect(t).toMatchObject({ status: 'dead', attempts: 1 });
      deadAt.set(id, t.finishedAt!);
    }
    expect(new Set(ids.map((id) => partitionOf(id, P))).size).toBeGreaterThan(1);
    const r = await nodes[2]!.post<{ redriven: number }>('/tasks/retry-dead', { queue: 'bulk' });
    expect([r.status, r.body.redriven]).toEqual([200, 6]);
    // Each ran once more (the handler fails again), and died again later than the first time.
    for (const id of ids) {
      await waitUntil(`${id} dies again`, 20_000, async () => {
        const t = (await nodes[0]!.getJson<Task>(`/tasks/${id}`)).body;
        return t.status === 'dead' && t.finishedAt! > deadAt.get(id)!;
      }, 50);
    }
    expect((await nodes[0]!.getJson<Task>('/tasks/not-bulk')).body.finishedAt).toBe(deadAt.get('not-bulk'));
    const bad = await nodes[0]!.post<{ code: string }>('/tasks/retry-dead', { queue: 'no spaces allowed' });
    expect([bad.status, bad.body.code]).toEqual([400, 'ERR_BAD_REQUEST']);
  }, 60_000);

  it('remote workers: a worker whose lease expired cannot complete the task after another worker took it', async () => {
    // No built-in handler for this type, so only remote workers claim it.
    const r = await submit(1, { id: 'remote-1', type: 'external', timeoutMs: 400, backoff: { type: 'fixed', delayMs: 50 } });
    expect(r.status).toBe(201);
    const a = await nodes[0]!.post<{ tasks: Task[] }>('/workers/claim', { worker: 'worker-a', types: ['external'], waitMs: 5000 });
    expect(a.body.tasks.map((t) => [t.id, t.leaseOwner])).toEqual([['remote-1', 'worker-a']]);
    const tokenA = a.body.tasks[0]!.fencingToken!;
    expect((await nodes[2]!.post<Task>('/tasks/remote-1/heartbeat', { token: tokenA })).status).toBe(200);
    // A heartbeat may carry progress (JSON, up to 16 KiB), which status reads then show.
    const beat = await nodes[1]!.post<Task>('/tasks/remote-1/heartbeat', { token: tokenA, progress: { pct: 10 } });
    expect([beat.status, beat.body.progress]).toEqual([200, { pct: 10 }]);
    expect((await nodes[0]!.getJson<Task>('/tasks/remote-1')).body.progress).toEqual({ pct: 10 });
    const big = await nodes[0]!.post<{ code: string }>('/tasks/remote-1/heartbeat', { token: tokenA, progress: 'x'.repeat(16 * 1024) });
    expect([big.status, big.body.code]).toEqual([413, 'ERR_PAYLOAD_TOO_LARGE']);
    // worker-a goes quiet; its lease expires and worker-b gets the task.
    const b = await nodes[2]!.post<{ tasks: Task[] }>('/workers/claim', { worker: 'worker-b', types: ['external'], waitMs: 10_000 });
    expect(b.body.tasks.map((t) => [t.id, t.leaseOwner, t.attempts])).toEqual([['remote-1', 'worker-b', 2]]);
    const tokenB = b.body.tasks[0]!.fencingToken!;
    const late = await nodes[1]!.post<{ code: string }>('/tasks/remote-1/complete', { token: tokenA, result: 'stale' });
    expect([late.status, late.body.code]).toEqual([409, 'ERR_STALE_TOKEN']);
    const done = await nodes[0]!.post<Task>('/tasks/remote-1/complete', { token: tokenB, result: { by: 'b' } });
    expect([done.status, done.body.status, done.body.result]).toEqual([200, 'completed', { by: 'b' }]);
    const again = await nodes[0]!.post<{ code: string }>('/tasks/remote-1/fail', { token: tokenB, error: 'late' });
    expect([again.status, again.body.code]).toEqual([409, 'ERR_INVALID_STATE']);
    const empty = await nodes[1]!.post<{ tasks: Task[] }>('/workers/claim', { worker: 'worker-c', types: ['external'], waitMs: 200 });
    expect(empty.body.tasks).toEqual([]);
  }, 60_000);

  it("cancelling a running task aborts its handler's signal; the handler's progress shows in status reads", async () => {
    type Stats = { processor: { abandoned: number; running: number } };
    const abandoned = async (): Promise<number> => {
      let n = 0;
      for (const node of nodes) n += (await node.getJson<Stats>('/tasks/stats')).body.processor.abandoned;
      return n;
    };
    const before = await abandoned();
    expect((await submit(0, { id: 'long-1', type: 'until-aborted', timeoutMs: 120_000 })).status).toBe(201);
    let seen: Task | undefined;
    await waitUntil('the handler reports progress', 10_000, async () => {
      seen = (await nodes[2]!.getJson<Task>('/tasks/long-1')).body;
      return seen.progress !== null;
    }, 50);
    expect(seen).toMatchObject({ status: 'running', progress: { started: true, by: seen!.fencingToken } });
    const cancelled = await nodes[1]!.del<Task>('/tasks/long-1');
    expect([cancelled.status, cancelled.body.status]).toEqual([200, 'cancelled']);
    // Without the abort, the handler would hold its slot for its 120 s timeout.
    await waitUntil('the handler is stopped', 10_000, async () => (await abandoned()) === before + 1, 100);
    expect((await nodes[0]!.getJson<Task>('/tasks/long-1')).body).toMatchObject({ status: 'cancelled', attempts: 1, lastError: null });
  }, 60_000);

  it('runs user handlers from the HANDLERS module; a broken module stops a node at start', async () => {
    const r = await submit(2, { id: 'user-1', type: 'upper', payload: { text: 'hello' } });
    expect(r.status).toBe(201);
    const done = await nodes[0]!.getJson<Task>('/tasks/user-1/wait?timeout=10000');
    expect(done.body).toMatchObject({ status: 'completed', result: { text: 'HELLO', token: expect.any(Number) } });
    const broken = cluster.stranger('node-9', BASE + 8);
    broken.start({ HANDLERS: '/nonexistent/handlers.mjs', JOIN_ADDR: `127.0.0.1:${BASE}` });
    expect(await broken.waitExit(30_000)).toBe(1);
    expect(broken.output.join('\n')).toContain('ERR_HANDLERS');
  }, 60_000);

  it('runs at most CONCURRENCY handlers at once on a node, and does run them side by side', async () => {
    const tasks = Array.from({ length: 200 }, (_, i) => ({ id: `crowd-${i}`, type: 'crowd', payload: { ms: 150 } }));
    const res = await fetch(`${nodes[0]!.url}/tasks/batch`, { method: 'POST', body: JSON.stringify({ tasks }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    const seen: number[] = [];
    for (const t of tasks) {
      const done = await nodes[1]!.getJson<Task>(`/tasks/${t.id}/wait?timeout=20000`);
      expect(done.body.status).toBe('completed');
      seen.push((done.body.result as { seen: number }).seen);
    }
    // CONCURRENCY is 32 per node; 200 tasks of 150 ms over the partitions a node leads crowd it.
    expect(Math.max(...seen)).toBeLessThanOrEqual(32);
    expect(Math.max(...seen)).toBeGreaterThan(8);
  }, 60_000);

  it('hands out tasks by priority, then in submission order', async () => {
    // Twelve tasks in one partition, for remote workers only, submitted through different nodes.
    const ids: string[] = [];
    for (let i = 0; ids.length < 12; i++) if (partitionOf(`prio-${i}`, P) === partitionOf('prio-0', P)) ids.push(`prio-${i}`);
    const priorities = [0, 5, 1, 5, 0, 9, 1, 0, 5, 9, 1, 0];
    for (const [k, id] of ids.entries()) expect((await submit(k % 3, { id, type: 'ordered', priority: priorities[k] })).status).toBe(201);
    const expected = ids.map((id, k) => ({ id, p: priorities[k]!, k })).sort((a, b) => b.p - a.p || a.k - b.k).map((x) => x.id);
    const got: string[] = [];
    for (let k = 0; k < ids.length; k++) {
      const c = await nodes[(k + 1) % 3]!.post<{ tasks: Task[] }>('/workers/claim', { worker: 'w', types: ['ordered'], max: 1, waitMs: 2000 });
      got.push(...c.body.tasks.map((t) => t.id));
    }
    expect(got).toEqual(expected);
  }, 60_000);

  it('resubmitting an ID returns the existing task; cancel works once', async () => {
    const first = await submit(0, { id: 'same-id', type: 'sleep', payload: { ms: 60_000 }, delayMs: 60_000 });
    const second = await submit(2, { id: 'same-id', type: 'noop' });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.task).toMatchObject({ id: 'same-id', type: 'sleep', createdAt: first.task!.createdAt });
    const del = await fetch(`${nodes[1]!.url}/tasks/same-id`, { method: 'DELETE' });
    expect([del.status, ((await del.json()) as Task).status]).toEqual([200, 'cancelled']);
    const del2 = await fetch(`${nodes[1]!.url}/tasks/same-id`, { method: 'DELETE' });
    expect(del2.status).toBe(409);
  }, 30_000);

  it('refuses node-to-node calls from a stranger (another cluster, the wrong addressee) and malformed forwarded operations', async () => {
    const view = (await cluster.view())!;
    const target = view.nodes[0]!;
    const ops = JSON.stringify([{ op: 'cancel', id: 'e2e-3' }]);
    const stranger = new QueueRpc(nodeId('intruder'), 'not-this-cluster', () => target.grpcAddr);
    const misdialled = new QueueRpc(nodeId('node-2'), view.clusterId, () => target.grpcAddr);
    try {
      await expect(stranger.propose(nodeId(target.id), 1, ops, 3000)).rejects.toMatchObject({ status: grpc.status.PERMISSION_DENIED });
      await expect(misdialled.propose(nodeId('node-9'), 1, ops, 3000)).rejects.toMatchObject({ status: grpc.status.FAILED_PRECONDITION });
      // A member sending operations that are not JSON gets a clear refusal, not a crash.
      const led = view.partitions.find((p) => p.leader === target.id)!.id;
      await expect(misdialled.propose(nodeId(target.id), led, '[{"op": "cancel"', 3000)).resolves.toMatchObject({ ok: false, code: 'ERR_BAD_REQUEST' });
    } finally {
      stranger.close();
      misdialled.close();
    }
    expect((await nodes[0]!.getJson<Task>('/tasks/e2e-3')).body.status).toBe('completed');
  }, 30_000);

  it('bad input gets a 4xx with a code and changes nothing', async () => {
    const url = `${nodes[0]!.url}/tasks/submit`;
    const post = (body: string) => fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const cases: [string, number][] = [
      ['{not json', 400],
      [JSON.stringify({ payload: {} }), 400],
      [JSON.stringify({ type: 5 }), 400],
      [JSON.stringify({ type: 'noop', priority: 'high' }), 400],
      [JSON.stringify({ type: 'noop', id: 'has spaces' }), 400],
      [JSON.stringify({ type: 'noop', extra: true }), 400],
      [JSON.stringify({ type: 'noop', id: 'big', payload: 'x'.repeat(70_000) }), 413],
      [JSON.stringify({ type: 'noop', payload: 'y'.repeat(2_000_000) }), 413],
    ];
    for (const [body, status] of cases) {
      const res = await post(body);
      expect([body.slice(0, 40), res.status]).toEqual([body.slice(0, 40), status]);
      expect(((await res.json()) as { code?: string }).code).toBeTruthy();
    }
    expect((await nodes[1]!.getJson<{ code: string }>('/tasks/big')).status).toBe(404);
    expect((await nodes[1]!.getJson<{ code: string }>('/tasks/status?id=nope')).body.code).toBe('ERR_TASK_NOT_FOUND');
  }, 30_000);
});
