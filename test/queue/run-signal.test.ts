import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RunSignals } from '../../src/queue/run-signal.js';

describe('handler run signals', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a run whose handler never reads its signal leaves no timer behind', () => {
    const signals = new RunSignals();
    for (let i = 0; i < 100; i++) signals.forRun(30_000).done();
    const running = signals.forRun(30_000);
    expect(vi.getTimerCount()).toBe(0);
    running.done();
  });

  it('aborts at the execution timeout, counted from the start of the run, and not after the run ended', () => {
    const signals = new RunSignals();
    const slow = signals.forRun(1000);
    const quick = signals.forRun(1000);
    vi.advanceTimersByTime(400);
    const s = slow.signal;
    quick.signal.throwIfAborted();
    quick.done();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(599);
    expect(s.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(s.aborted).toBe(true);
    expect((s.reason as DOMException).name).toBe('TimeoutError');
    expect(quick.signal.aborted).toBe(false);
  });

  it('stopping aborts the live runs and any run that reads its signal later', () => {
    const signals = new RunSignals();
    const a = signals.forRun(30_000);
    const before = a.signal;
    const b = signals.forRun(30_000);
    signals.stop(new Error('node stopping'));
    expect(before.aborted).toBe(true);
    expect(b.signal.aborted).toBe(true);
    expect((b.signal.reason as Error).message).toBe('node stopping');
  });

  it('an extended lease moves the timeout later, never earlier', () => {
    const signals = new RunSignals();
    const run = signals.forRun(1000);
    const s = run.signal;
    vi.advanceTimersByTime(800);
    run.extendTo(Date.now() + 1000);
    run.extendTo(Date.now() + 10);
    vi.advanceTimersByTime(999);
    expect(s.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect((s.reason as DOMException).name).toBe('TimeoutError');
    run.done();
  });

  it('an attempt that ended aborts its signal, or the one its handler reads later, with the reason', () => {
    const signals = new RunSignals();
    const read = signals.forRun(30_000);
    const s = read.signal;
    const unread = signals.forRun(30_000);
    const why = new DOMException('task t was cancelled', 'AbortError');
    read.abort(why);
    unread.abort(why);
    expect(s.reason).toBe(why);
    expect(unread.signal.reason).toBe(why);
    expect([read.abandonedWith, unread.abandonedWith]).toEqual([why, why]);
    // Its timer is gone, and a run that ended first is not marked.
    expect(vi.getTimerCount()).toBe(0);
    const finished = signals.forRun(30_000);
    finished.done();
    finished.abort(why);
    expect(finished.abandonedWith).toBeNull();
  });
});
