import { createHash } from 'node:crypto';
import { JSDOM } from 'jsdom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/queue/task.js';
import { TestCluster, fullyReplicated, type TaskraftNode } from '../support/taskraft-node.js';
import { NODE_TEST_PORTS } from '../support/ports.js';
import { waitUntil } from '../support/until.js';

/** Polls every 50 ms: some of these waits read the node over HTTP. */
const until = (what: string, ms: number, ok: () => Promise<boolean>): Promise<void> => waitUntil(what, ms, ok, 50);

/**
 * The dashboard page, run in jsdom against a real node process (real RocksDB, HTTP and the
 * cluster-wide routes): what it shows, the operator's actions (re-drive, cancel, filters), that an
 * API error reaches the operator, and that user data (a payload with markup) stays text.
 */
describe('dashboard', () => {
  const cluster = new TestCluster(NODE_TEST_PORTS.dashboard, { PARTITIONS: '4' });
  let node: TaskraftNode;
  let dom: JSDOM | null = null;
  const ids = { shown: 'dash-xss', dead: 'dash-dead', delayed: 'dash-delayed' };
  const markup = '<img src=x onerror="window.pwned=1">';

  beforeAll(async () => {
    node = cluster.node(1);
    node.start();
    await cluster.waitFor('node-1 leads every partition', 30_000, (v) => fullyReplicated(v, ['node-1']));
    for (const body of [
      { id: ids.shown, type: 'sleep', queue: 'mail', payload: { ms: 1, note: markup } },
      { id: ids.dead, type: 'fail', queue: 'mail', maxAttempts: 1 },
      { id: ids.delayed, type: 'noop', delayMs: 3_600_000 },
    ]) {
      expect((await node.post('/tasks/submit', body)).status).toBe(201);
    }
    await until('the tasks settle', 15_000, async () => (await task(ids.shown)).status === 'completed' && (await task(ids.dead)).status === 'dead');
  }, 60_000);

  afterAll(async () => {
    dom?.window.close();
    await cluster.destroy();
  });

  const task = async (id: string): Promise<Task> => (await node.getJson<Task>(`/tasks/${id}`)).body;
  const $ = (sel: string): Element | null => dom!.window.document.querySelector(sel);
  const text = (sel: string): string => $(sel)?.textContent ?? '';
  const card = (status: string): string => text(`#statuses .card.${status} b`);
  const rowOf = (id: string): HTMLElement | undefined => [...dom!.window.document.querySelectorAll<HTMLElement>('#task-list tbody tr')].find((tr) => tr.firstElementChild?.textContent === id);

  it('is served with a policy that runs only its own script', async () => {
    const res = await fetch(`${node.url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(scripts).toHaveLength(1);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`script-src 'sha256-${createHash('sha256').update(scripts[0]!).digest('base64')}'`);
    expect(csp).toContain("default-src 'none'");
    const root = await fetch(`${node.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/dashboard');
  });

  it('shows the cluster, the counts and the tasks, with user data as text', async () => {
    const html = await (await fetch(`${node.url}/dashboard`)).text();
    const base = node.url;
    dom = new JSDOM(html, {
      url: `${base}/dashboard`,
      runScripts: 'dangerously',
      beforeParse(window) {
        // jsdom has no fetch: the page's calls go to the real node.
        (window as unknown as { fetch: typeof fetch }).fetch = (input, init) => fetch(new URL(String(input), base), init);
      },
    });
    await until('the page renders the tasks', 15_000, async () => rowOf(ids.delayed) !== undefined && rowOf(ids.dead) !== undefined);
    const view = (await node.getJson<{ clusterId: string }>('/cluster')).body;
    expect(text('#summary')).toContain(`cluster ${view.clusterId}`);
    expect(text('#summary')).toContain('nodes live 1 / 1');
    expect(card('dead')).toBe('1');
    expect(card('delayed')).toBe('1');
    expect(Number(card('completed'))).toBeGreaterThanOrEqual(1);
    expect(text('#queues')).toContain('mail');
    expect(text('#nodes')).toContain('node-1');
    expect(text('#partitions')).toMatch(/meta\s*node-1/);

    rowOf(ids.shown)!.click();
    await until('the task record shows', 10_000, async () => text('#task pre').includes(ids.shown));
    expect(text('#task pre')).toContain(JSON.stringify(markup).slice(1, -1));
    expect(dom.window.document.querySelectorAll('img')).toHaveLength(0);
    expect((dom.window as unknown as { pwned?: number }).pwned).toBeUndefined();
    expect($('#redrive')).toBeNull();
  });

  it('re-drives a dead task and cancels a waiting one', async () => {
    const before = await task(ids.dead);
    rowOf(ids.dead)!.click();
    await until('the re-drive button', 10_000, async () => text('#task h3').startsWith(ids.dead) && $('#redrive') !== null);
    ($('#redrive') as HTMLButtonElement).click();
    await until('the page confirms', 10_000, async () => text('#notice').includes(`task ${ids.dead} re-driven`));
    const after = await task(ids.dead);
    expect(after.updatedAt).toBeGreaterThan(before.updatedAt);
    expect(after.seq).toBeGreaterThan(before.seq);

    rowOf(ids.delayed)!.click();
    // The re-driven task's record, still shown, has a cancel button of its own.
    await until('the cancel button', 10_000, async () => text('#task h3').startsWith(ids.delayed) && $('#cancel') !== null);
    ($('#cancel') as HTMLButtonElement).click();
    await until('the page confirms', 10_000, async () => text('#notice').includes(`task ${ids.delayed} cancelled`));
    expect((await task(ids.delayed)).status).toBe('cancelled');
  });

  it('re-drives the dead tasks of the queue filtered, in bulk', async () => {
    await until('the re-driven task dies again', 15_000, async () => (await task(ids.dead)).status === 'dead');
    const before = await task(ids.dead);
    const doc = dom!.window.document;
    (doc.getElementById('f-queue') as HTMLInputElement).value = 'mail';
    (doc.getElementById('filters') as HTMLFormElement).requestSubmit();
    ($('#redrive-dead') as HTMLButtonElement).click();
    await until('the page confirms', 10_000, async () => text('#notice').includes('1 dead task of queue mail re-driven'));
    expect((await task(ids.dead)).seq).toBeGreaterThan(before.seq);
    (doc.getElementById('f-queue') as HTMLInputElement).value = '';
    (doc.getElementById('filters') as HTMLFormElement).requestSubmit();
  });

  it('filters the list, and shows the API error for a bad filter', async () => {
    const doc = dom!.window.document;
    (doc.getElementById('f-status') as HTMLSelectElement).value = 'cancelled';
    (doc.getElementById('filters') as HTMLFormElement).requestSubmit();
    await until('only the cancelled task is listed', 10_000, async () => doc.querySelectorAll('#task-list tbody tr').length === 1 && rowOf(ids.delayed) !== undefined);

    (doc.getElementById('f-type') as HTMLInputElement).value = 'not a type!';
    (doc.getElementById('filters') as HTMLFormElement).requestSubmit();
    await until('the error shows', 10_000, async () => text('#banner').includes('ERR_BAD_REQUEST'));
  });
});
