import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TaskraftClient, TaskraftClientError } from '../../src/client/taskraft-client.js';
import type { Task } from '../../src/queue/task.js';
import { TestCluster } from '../support/taskraft-node.js';
import { NODE_TEST_PORTS } from '../support/ports.js';

/**
 * The leader-aware client (src/client) and the task command line against 3 real node processes:
 * the client's requests reach each task's partition leader without a forward between nodes; it
 * submits, reads, waits for, cancels and re-drives tasks, works as a remote worker with fencing
 * tokens, and keeps submitting, without duplicates, when the node leading the most partitions is
 * killed.
 */
const BASE = NODE_TEST_PORTS.clientRouting;
const TASK_CLI = fileURLToPath(new URL('../../src/cli/task-cli.ts', import.meta.url));

/** `npm run task -- ...args`, as a user runs it: exit code, stdout, stderr. */
function taskCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', TASK_CLI, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (e, out, err) =>
      resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : -1, out, err }),
    );
  });
}

interface Routing {
  forwardedOut: number;
  forwardedIn: number;
}

describe('the leader-aware client', () => {
  const cluster = new TestCluster(BASE, { PARTITIONS: '8' });
  afterAll(() => cluster.destroy(), 30_000);
  const urls = (): string[] => [1, 2, 3].map((k) => cluster.node(k).url);

  async function forwardedOut(): Promise<number> {
    let n = 0;
    for (const k of [1, 2, 3]) {
      if (!cluster.node(k).running()) continue;
      const r = await cluster.node(k).getJson<{ routing: Routing }>('/tasks/stats');
      n += r.body.routing.forwardedOut;
    }
    return n;
  }

  it('sends every request to its partition leader: the nodes forward next to none of them', async () => {
    await cluster.startThree(90_000);

    // The same tasks sent round-robin over the nodes, as a plain HTTP client does: two in three
    // reach a node that is not their leader and are forwarded (which shows the counter works).
    const before = await forwardedOut();
    for (let i = 0; i < 30; i++) expect((await cluster.node(1 + (i % 3)).post<Task>('/tasks/submit', { id: `rr-${i}`, type: 'noop' })).status).toBe(201);
    expect((await forwardedOut()) - before).toBeGreaterThanOrEqual(10);

    const client = new TaskraftClient({ nodes: urls() });
    const start = await forwardedOut();
    const one = await Promise.all(Array.from({ length: 60 }, (_, i) => client.submit({ type: 'noop', payload: { i } })));
    const many = await client.submitMany(Array.from({ length: 40 }, (_, i) => ({ type: 'external', payload: { j: i } })));
    expect(many.map((t) => (t.payload as { j: number }).j)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const read = await client.get(many[7]!.id);
    expect(read.id).toBe(many[7]!.id);
    const cancelled = await client.cancel(many[8]!.id);
    expect(cancelled.status).toBe('cancelled');
    const done = await client.wait(one[0]!.id, 10_000);
    expect(done.status).toBe('completed');
    // No leadership moved meanwhile in a balanced, quiet cluster; should one move, a few
    // requests would be forwarded, far fewer than the round-robin's ~2 in 3.
    expect((await forwardedOut()) - start).toBeLessThan(5);
    expect(new Set(one.map((t) => t.id)).size).toBe(60);
  }, 150_000);

  it('rejects bad input with the API\'s code, at once', async () => {
    const client = new TaskraftClient({ nodes: urls() });
    const err = await client.submit({ type: 'no spaces allowed' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskraftClientError);
    expect((err as TaskraftClientError).status).toBe(400);
    const missing = await client.get('no-such-task').catch((e: unknown) => e);
    expect((missing as TaskraftClientError).code).toBe('ERR_TASK_NOT_FOUND');
    expect((missing as TaskraftClientError).status).toBe(404);
  }, 30_000);

  it('serves the task command line: submit and wait, status, cancel, and clear errors', async () => {
    const nodes = urls().join(',');
    const sub = await taskCli(['submit', '--type', 'noop', '--payload', '{"n":1}', '--wait'], { TASKRAFT_NODES: nodes });
    expect(sub.code).toBe(0);
    const done = JSON.parse(sub.out) as Task;
    expect(done.status).toBe('completed');
    expect(done.payload).toEqual({ n: 1 });
    const st = await taskCli(['status', done.id, '--nodes', nodes]);
    expect(st.code).toBe(0);
    expect((JSON.parse(st.out) as Task).id).toBe(done.id);
    const ext = await taskCli(['submit', '--type', 'external', '--id', 'cli-1', '--delay-ms', '60000', '--nodes', nodes]);
    expect((JSON.parse(ext.out) as Task).status).toBe('delayed');
    const cancelled = await taskCli(['cancel', 'cli-1', '--nodes', nodes]);
    expect((JSON.parse(cancelled.out) as Task).status).toBe('cancelled');

    const badJson = await taskCli(['submit', '--type', 'noop', '--payload', '{nope', '--nodes', nodes]);
    expect(badJson.code).toBe(2);
    expect(badJson.err).toContain('--payload: not JSON');
    const dead = await taskCli(['submit', '--type', 'fail', '--id', 'cli-dead', '--max-attempts', '1', '--queue', 'cli', '--wait', '--nodes', nodes]);
    expect(JSON.parse(dead.out)).toMatchObject({ id: 'cli-dead', status: 'dead' });
    const bulk = await taskCli(['retry-dead', '--queue', 'cli', '--nodes', nodes]);
    expect([bulk.code, JSON.parse(bulk.out)]).toEqual([0, { redriven: 1 }]);
    const deadAgain = await taskCli(['wait', 'cli-dead', '--nodes', nodes]);
    expect(JSON.parse(deadAgain.out)).toMatchObject({ status: 'dead' });
    const one = await taskCli(['retry', 'cli-dead', '--nodes', nodes]);
    expect(JSON.parse(one.out)).toMatchObject({ id: 'cli-dead', status: 'pending', attempts: 0 });
    const missing = await taskCli(['status', 'no-such-task', '--nodes', nodes]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('ERR_TASK_NOT_FOUND');
    const invalid = await taskCli(['submit', '--type', 'no spaces', '--nodes', nodes]);
    expect(invalid.code).toBe(1);
    expect(invalid.err).toMatch(/^ERR_/);
  }, 90_000);

  it('works as a remote worker: claims with fencing tokens, heartbeats, completes, fails to dead, re-drives', async () => {
    const client = new TaskraftClient({ nodes: urls() });
    const a = await client.submit({ type: 'client-work', payload: { n: 1 } });
    const b = await client.submit({ type: 'client-work', payload: { n: 2 }, maxAttempts: 1 });
    const claimed: Task[] = [];
    for (let k = 0; k < 10 && claimed.length < 2; k++) claimed.push(...(await client.claim('w1', { max: 2, types: ['client-work'], waitMs: 1000 })));
    expect(claimed.map((t) => t.id).sort()).toEqual([a.id, b.id].sort());
    const ta = claimed.find((t) => t.id === a.id)!;
    const tb = claimed.find((t) => t.id === b.id)!;
    expect(ta.status).toBe('running');
    expect((await client.heartbeat(ta.id, ta.fencingToken!)).status).toBe('running');
    expect((await client.heartbeat(ta.id, ta.fencingToken!, { pct: 50 })).progress).toEqual({ pct: 50 });
    const stale = await client.complete(ta.id, ta.fencingToken! - 1, { no: true }).catch((e: unknown) => e);
    expect((stale as TaskraftClientError).code).toBe('ERR_STALE_TOKEN');
    expect((stale as TaskraftClientError).status).toBe(409);
    const done = await client.complete(ta.id, ta.fencingToken!, { ok: 1 });
    expect(done.status).toBe('completed');
    expect(done.result).toEqual({ ok: 1 });
    expect((await client.fail(tb.id, tb.fencingToken!, 'boom')).status).toBe('dead');
    expect((await client.retry(tb.id)).status).toBe('pending');
  }, 60_000);

  it('keeps submitting through the death of the node leading the most partitions, creating nothing twice', async () => {
    const client = new TaskraftClient({ nodes: urls(), timeoutMs: 5_000 });
    await client.submit({ type: 'noop' }); // reads the placement
    const view = (await cluster.view())!;
    const busiest = [...view.nodes].sort((a, b) => b.partitionsLed.length - a.partitionsLed.length)[0]!;
    expect(busiest.partitionsLed.length).toBeGreaterThan(0);
    await cluster.nodes.get(busiest.id)!.kill('SIGKILL');
    const ids = Array.from({ length: 40 }, (_, i) => `kill-${i}`);
    const tasks = await Promise.all(ids.map((id) => client.submit({ id, type: 'external' })));
    expect(tasks.map((t) => t.id)).toEqual(ids);
    // Submitted again (as a caller that lost the answers would): the same tasks, none created twice.
    const again = await client.submitMany(ids.map((id) => ({ id, type: 'external' })));
    expect(again.map((t) => t.createdAt)).toEqual(tasks.map((t) => t.createdAt));
  }, 90_000);
});
