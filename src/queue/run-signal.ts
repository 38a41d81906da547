/**
 * The AbortSignals handlers get: one per run, aborted when the run's execution timeout passes or
 * the node stops.
 *
 * A run's signal is made only when its handler first reads it. Most handlers never do (every noop
 * in a benchmark), and making it eagerly, as `AbortSignal.any([stop, AbortSignal.timeout(ms)])`,
 * left per task a timer that lived for the whole timeout (30 s by default) and weak references the
 * garbage collector had to process: at a few thousand tasks a second, about a hundred thousand
 * live timers per node. A signal made here holds one timer, cleared when the run ends.
 */
export class RunSignals {
  private readonly live = new Set<AbortController>();
  private stopReason: Error | null = null;

  /** The signal of one run that starts now; call `done()` when the run ends. */
  forRun(timeoutMs: number): RunSignal {
    return new RunSignal(this, Date.now() + timeoutMs);
  }

  /** Aborts every live run's signal, and the signal of any run that reads its own later. */
  stop(reason: Error): void {
    this.stopReason = reason;
    for (const c of this.live) c.abort(reason);
    this.live.clear();
  }

  /** @internal (RunSignal) */
  open(c: AbortController): boolean {
    if (this.stopReason !== null) {
      c.abort(this.stopReason);
      return false;
    }
    this.live.add(c);
    return true;
  }

  /** @internal (RunSignal) */
  close(c: AbortController): void {
    this.live.delete(c);
  }
}

export class RunSignal {
  private controller: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ended = false;

  constructor(
    private readonly owner: RunSignals,
    private readonly deadline: number,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === null) {
      const c = (this.controller = new AbortController());
      if (!this.ended && this.owner.open(c)) {
        this.timer = setTimeout(() => c.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), Math.max(0, this.deadline - Date.now()));
        this.timer.unref();
      }
    }
    return this.controller.signal;
  }

  done(): void {
    this.ended = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.controller !== null) this.owner.close(this.controller);
  }
}
