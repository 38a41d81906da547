/**
 * The AbortSignals handlers get: one per run, aborted when the run's execution timeout passes (its
 * lease runs out: counted from the start, and from each heartbeat that extended the lease), when
 * the attempt stops holding its task (cancelled, or its lease expired and was taken back), or when
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
  /** Why `abort` ended the attempt, or null; a handler that reads the signal later gets it aborted. */
  private abandoned: unknown = null;

  constructor(
    private readonly owner: RunSignals,
    private deadline: number,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === null) {
      const c = (this.controller = new AbortController());
      if (this.abandoned !== null) c.abort(this.abandoned);
      else if (!this.ended && this.owner.open(c)) this.arm();
    }
    return this.controller.signal;
  }

  /** When the attempt's lease ends, as this node counts it (ms since the epoch). */
  get leaseEndsAt(): number {
    return this.deadline;
  }

  /** The lease was extended: the timeout now falls at `deadline` (never earlier than it was). */
  extendTo(deadline: number): void {
    if (deadline <= this.deadline) return;
    this.deadline = deadline;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.arm();
    }
  }

  /** The attempt no longer holds its task: abort its signal with `reason`, now or when first read. */
  abort(reason: unknown): void {
    if (this.ended || this.abandoned !== null) return;
    this.abandoned = reason;
    this.disarm();
    this.controller?.abort(reason);
  }

  /** The reason `abort` was given, or null: the attempt's result would be refused, and is not sent. */
  get abandonedWith(): unknown {
    return this.abandoned;
  }

  done(): void {
    this.ended = true;
    this.disarm();
  }

  private arm(): void {
    const c = this.controller!;
    this.timer = setTimeout(() => c.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), Math.max(0, this.deadline - Date.now()));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.controller !== null) this.owner.close(this.controller);
  }
}
