import type { TaskId } from './task.js';

/**
 * Long-polls for tasks to finish (`GET /tasks/:id/wait`), woken when this node's replica of the
 * task's partition applies its end (TaskObserver.finished), instead of reading the leader again
 * and again: that took a ReadIndex round (a heartbeat to both followers) up to four times a second
 * per waiting client, and answered up to 250 ms after the task finished.
 */
export class TaskWaiters {
  private readonly waiting = new Map<TaskId, Set<(finished: boolean) => void>>();
  private closedNow = false;

  /** A replica applied the end of task `id`: wakes everyone waiting for it. */
  finished(id: TaskId): void {
    const wakes = this.waiting.get(id);
    if (wakes === undefined) return;
    this.waiting.delete(id);
    for (const wake of wakes) wake(true);
  }

  /** The node is stopping: every wait ends now (false), and any later one at once. */
  close(): void {
    this.closedNow = true;
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const wakes of all) for (const wake of wakes) wake(false);
  }

  get closed(): boolean {
    return this.closedNow;
  }

  /**
   * Resolves true at once if `done()` holds, or when the task next finishes here; false after
   * `ms` otherwise. `done` reads the local replica, so a finish applied before the call counts.
   */
  until(id: TaskId, ms: number, done: () => boolean): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    if (this.closedNow) return Promise.resolve(false);
    return new Promise((resolve) => {
      let wakes = this.waiting.get(id);
      if (wakes === undefined) this.waiting.set(id, (wakes = new Set()));
      const set = wakes;
      const wake = (finished: boolean): void => {
        clearTimeout(timer);
        resolve(finished);
      };
      const timer = setTimeout(() => {
        set.delete(wake);
        if (set.size === 0 && this.waiting.get(id) === set) this.waiting.delete(id);
        resolve(false);
      }, ms);
      set.add(wake);
    });
  }

  /** Clients waiting now, over all tasks. */
  count(): number {
    let n = 0;
    for (const wakes of this.waiting.values()) n += wakes.size;
    return n;
  }
}
