/**
 * A partition's task IDs in ascending order, so a page of tasks after a cursor is found by a
 * binary search and a short walk instead of sorting every task the partition holds (which, with
 * tens of thousands of retained tasks, held the event loop, and with it every raft group of the
 * node, for tens of milliseconds per page).
 *
 * IDs the cluster generates grow with time, so adding one is almost always an append; an ID that
 * arrives out of order (client-given) marks the array for one sort before the next read. Removal
 * is lazy: readers skip IDs the caller says are gone, and the array is compacted once as many are
 * gone as are left, so a retention sweep costs nothing here.
 */
export class IdOrder {
  private ids: string[] = [];
  private sorted = true;
  private gone = 0;

  add(id: string): void {
    const last = this.ids[this.ids.length - 1];
    if (last !== undefined && id <= last) this.sorted = false;
    this.ids.push(id);
  }

  /** One ID added earlier is no longer held (the caller's `held` will say which). */
  removed(): void {
    this.gone++;
  }

  clear(): void {
    this.ids = [];
    this.sorted = true;
    this.gone = 0;
  }

  /** Held IDs greater than `cursor` (all of them without one), ascending. */
  *after(cursor: string | undefined, held: (id: string) => boolean): Generator<string, void, undefined> {
    this.tidy(held);
    const ids = this.ids;
    for (let i = cursor === undefined ? 0 : firstAbove(ids, cursor); i < ids.length; i++) {
      const id = ids[i]!;
      if (held(id)) yield id;
    }
  }

  private tidy(held: (id: string) => boolean): void {
    if (!this.sorted) {
      // Default sort compares UTF-16 code units, the same order as `<` on strings. An ID removed
      // and submitted again is in the array twice: keep one.
      this.ids.sort();
      let w = 0;
      for (let r = 0; r < this.ids.length; r++) if (w === 0 || this.ids[r] !== this.ids[w - 1]) this.ids[w++] = this.ids[r]!;
      this.ids.length = w;
      this.sorted = true;
    }
    if (this.gone * 2 > this.ids.length) {
      this.ids = this.ids.filter(held);
      this.gone = 0;
    }
  }
}

/** Index of the first element greater than `key` in an ascending array. */
function firstAbove(ids: readonly string[], key: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
