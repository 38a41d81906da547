import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Handler, HandlerContext } from '../../src/queue/handlers.js';
import type { Processor } from '../../src/queue/processor.js';
import { MAX_PROGRESS_BYTES, type Task, type TaskId } from '../../src/queue/task.js';
import { groupId } from '../../src/storage/key-layout.js';
import { SingleNodeQueue, taskSpec } from '../support/single-node-queue.js';
import { waitUntil } from '../support/until.js';

// What a handler's `ctx` gives (issue 5: "the fencing token, a way to extend the lease and report
// progress, and an AbortSignal for cancellation and timeouts"), on a real host and RocksDB.
describe('the handler context', () => {
  const g = groupId(1);
  let node: SingleNodeQueue;
  let processor: Processor;
  /** Per task, what its handler saw: how its signal was aborted, and what its calls threw. */
  const seen = new Map<string, { abortedWith?: DOMException; errors: string[] }>();
  /** Per task, a gate the handler waits at until the test opens it. */
  const gates = new Map<string, () => void>();

  const record = (task: Task): { abortedWith?: DOMException; errors: string[] } => {
    let s = seen.get(task.id);
    if (s === undefined) seen.set(task.id, (s = { errors: [] }));
    return s;
  };
  const gate = (task: Task): Promise<void> => new Promise((resolve) => gates.set(task.id, resolve));
  const aborted = (ctx: HandlerContext): Promise<void> => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));

  const handlers = new Map<string, Handler>([
    // Works until its signal says stop; records why.
    [
      'until-aborted',
      async (task, ctx) => {
        await aborted(ctx);
        record(task).abortedWith = ctx.signal.reason as DOMException;
        throw ctx.signal.reason;
      },
    ],
    // Works for payload.steps * payload.ms with a task timeout shorter than that, heartbeating
    // after each step: it must not be aborted.
    [
      'heartbeats',
      async (task, ctx) => {
        const { steps, ms } = task.payload as { steps: number; ms: number };
        for (let i = 0; i < steps; i++) {
          await new Promise((r) => setTimeout(r, ms));
          if (ctx.signal.aborted) throw new Error(`aborted after step ${i}: ${String(ctx.signal.reason)}`);
          await ctx.extendLease();
        }
        return { steps };
      },
    ],
    // Attempt 1 neither heartbeats nor stops when aborted (until its gate opens), so its lease
    // expires and the task runs here again; later attempts heartbeat until their signal says stop.
    [
      'stubborn',
      async (task, ctx) => {
        if (task.attempts === 1) {
          await gate(task);
          return 'late';
        }
        while (!ctx.signal.aborted) {
          await new Promise((r) => setTimeout(r, 50));
          await ctx.extendLease().catch(() => undefined);
        }
        record(task).abortedWith = ctx.signal.reason as DOMException;
        throw ctx.signal.reason;
      },
    ],
    // Reports progress, waits at its gate, then tries reports that must be refused.
    [
      'progress',
      async (task, ctx) => {
        await ctx.reportProgress({ done: 1, of: 2, note: 'half' });
        await gate(task);
        for (const bad of [undefined, () => 1, 'x'.repeat(MAX_PROGRESS_BYTES)]) {
          await ctx.reportProgress(bad).then(
            () => record(task).errors.push('accepted'),
            (e: Error) => record(task).errors.push(e.message),
          );
        }
        return 'done';
      },
    ],
  ]);

  beforeAll(async () => {
    node = await SingleNodeQueue.open(1);
    processor = node.processor(handlers);
    processor.start();
  });

  afterAll(async () => {
    processor.stop();
    await node.close();
  });

  const status = (id: string): Task | undefined => node.machine(g).get(id as TaskId);
  const submit = (id: string, over: Parameters<typeof taskSpec>[1]) => node.queue.op(g, { op: 'submit', task: taskSpec(id, over) });

  it("aborts a running handler's signal when its task is cancelled, and sends no result for it", async () => {
    await submit('cancel-me', { type: 'until-aborted', timeoutMs: 60_000 });
    await waitUntil('the task runs', 5_000, () => status('cancel-me')?.status === 'running' && processor.stats().running === 1);
    const before = processor.stats();
    const r = await node.queue.op(g, { op: 'cancel', id: 'cancel-me' as TaskId });
    expect(r.ok).toBe(true);
    // Without the abort the handler would wait for its 60 s timeout.
    await waitUntil('the handler is aborted', 5_000, () => seen.get('cancel-me')?.abortedWith !== undefined);
    expect(seen.get('cancel-me')!.abortedWith).toMatchObject({ name: 'AbortError', message: 'task cancel-me was cancelled' });
    await waitUntil('its slot is free', 5_000, () => processor.stats().running === 0);
    const after = processor.stats();
    expect(after.abandoned - before.abandoned).toBe(1);
    // Neither a completion nor a failure was proposed for it.
    expect(after.failed + after.succeeded + after.rejected).toBe(before.failed + before.succeeded + before.rejected);
    expect(status('cancel-me')).toMatchObject({ status: 'cancelled', attempts: 1, lastError: null });
  });

  it('a heartbeat moves the execution timeout: a handler that extends its lease runs past it', async () => {
    // 6 steps of 150 ms (~900 ms) with a 400 ms timeout.
    await submit('long', { type: 'heartbeats', timeoutMs: 400, maxAttempts: 1, payload: { steps: 6, ms: 150 } });
    await waitUntil('the task finishes', 10_000, () => ['completed', 'dead'].includes(status('long')?.status ?? ''));
    expect(status('long')).toMatchObject({ status: 'completed', attempts: 1, result: { steps: 6 }, lastError: null });
  });

  it('without heartbeats, the signal still aborts at the timeout', async () => {
    await submit('short', { type: 'until-aborted', timeoutMs: 300, maxAttempts: 1 });
    await waitUntil('the handler is aborted', 5_000, () => seen.get('short')?.abortedWith !== undefined);
    // Whichever comes first: the local timer, or the leader's expiry of the lease (counted from the
    // claim, a little before the run started) ending the attempt.
    expect(['TimeoutError', 'AbortError']).toContain(seen.get('short')!.abortedWith!.name);
    await waitUntil('the task is dead', 5_000, () => status('short')?.status === 'dead');
  });

  it('cancelling reaches the running attempt even after an older attempt of the same task ended here', async () => {
    await submit('stub', { type: 'stubborn', timeoutMs: 300, backoff: { type: 'fixed', delayMs: 0, maxDelayMs: 0, jitter: 0 } });
    await waitUntil('the second attempt runs', 5_000, () => status('stub')?.attempts === 2 && status('stub')?.status === 'running');
    const abandoned = processor.stats().abandoned;
    gates.get('stub')!();
    await waitUntil('the first attempt ends', 5_000, () => processor.stats().abandoned === abandoned + 1);
    await node.queue.op(g, { op: 'cancel', id: 'stub' as TaskId });
    // The first attempt's end once dropped the second's entry: the cancel then reached nobody, and
    // the second attempt stopped only at its next timeout.
    await waitUntil('the second attempt is aborted', 5_000, () => seen.get('stub')?.abortedWith !== undefined);
    expect(seen.get('stub')!.abortedWith).toMatchObject({ name: 'AbortError', message: 'task stub was cancelled' });
  });

  it('reports progress where status reads show it, and refuses what is not JSON or too large', async () => {
    await submit('prog', { type: 'progress', timeoutMs: 10_000 });
    await waitUntil('progress is recorded', 5_000, () => status('prog')?.progress !== null && status('prog')?.progress !== undefined);
    expect(status('prog')).toMatchObject({ status: 'running', progress: { done: 1, of: 2, note: 'half' } });
    gates.get('prog')!();
    await waitUntil('the task completes', 5_000, () => status('prog')?.status === 'completed');
    expect(seen.get('prog')!.errors).toEqual([
      'progress must be a JSON value',
      'progress must be a JSON value',
      `progress is ${MAX_PROGRESS_BYTES + 2} bytes as JSON, over the limit of ${MAX_PROGRESS_BYTES}`,
    ]);
    // The refused reports changed nothing; a completed task keeps its last progress.
    expect(status('prog')).toMatchObject({ status: 'completed', result: 'done', progress: { done: 1, of: 2, note: 'half' } });
  });
});

// Each with a processing loop of its own, on one node.
describe('the processing loop when no leader answers, and when it drains', () => {
  const g = groupId(1);
  let node: SingleNodeQueue;

  beforeAll(async () => {
    node = await SingleNodeQueue.open(1);
  });

  afterAll(async () => {
    await node.close();
  });

  const status = (id: string): string | undefined => node.machine(g).get(id as TaskId)?.status;

  it('proposes the result again until one is answered, within the lease: the task completes on its first attempt', async () => {
    const processor = node.processor(new Map<string, Handler>([['quick', async () => 'done']]));
    // The first two proposals of the result fail as they do during an election.
    const op = node.queue.op.bind(node.queue);
    let refusedResults = 0;
    vi.spyOn(node.queue, 'op').mockImplementation((partition, o) => {
      if (o.op === 'complete' && refusedResults < 2) {
        refusedResults++;
        return Promise.reject(new Error('no leader of partition 1 answered within 3000 ms'));
      }
      return op(partition, o);
    });
    processor.start();
    await node.queue.op(g, { op: 'submit', task: taskSpec('unlucky', { type: 'quick', timeoutMs: 30_000 }) });
    // Dropped after the first failure, the result was lost and the task waited 30 s to run again.
    await waitUntil('the task completes', 10_000, () => status('unlucky') === 'completed');
    expect(refusedResults).toBe(2);
    expect(node.machine(g).get('unlucky' as TaskId)).toMatchObject({ status: 'completed', attempts: 1, result: 'done' });
    expect(processor.stats().succeeded).toBe(1);
    processor.stop();
    vi.restoreAllMocks();
  });

  it('releases, without running it, a task whose claim was in flight when the drain began', async () => {
    let ran = 0;
    const processor = node.processor(new Map<string, Handler>([['count', async () => void ran++]]));
    processor.start();
    const submitted = node.queue.op(g, { op: 'submit', task: taskSpec('late-claim', { type: 'count' }) });
    // One turn of the event loop: the submit's entry is proposed, with a claim for it.
    await new Promise((r) => setImmediate(r));
    expect(node.machine(g).get('late-claim' as TaskId)).toBeUndefined();
    const drained = await processor.drain(5_000);
    processor.stop();
    expect((await submitted).ok).toBe(true);
    expect(ran).toBe(0);
    expect(drained.released).toBe(1);
    expect(node.machine(g).get('late-claim' as TaskId)).toMatchObject({ status: 'pending', attempts: 0, leaseOwner: null });
  });
});
