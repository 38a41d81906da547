/**
 * A partition's task IDs in ascending order, so a page of tasks after a cursor is found by a
 * binary search and a short walk instead of sorting every task the partition holds (which, with
 * tens of thousands of retained tasks, held the event loop, and with it every raft group of the
 * node, for tens of milliseconds per page).
 *
 * IDs grow with time when the cluster makes them, so most additions are appends that keep the
 * array sorted; those that arrive out of order (client-given IDs, or IDs made in the same
 * millisecond on different nodes) stay in an unsorted tail that the next read sorts and merges
 * in: O(n + k log k) for k new IDs, not a sort of everything at every read. Removal
 * is lazy: readers skip IDs the caller says are gone, and the array is compacted once as many are
 * gone as are left, so a retention sweep costs nothing here.
 */
export class IdOrder {
  private ids: string[] = [];
  /** ids[0, sorted) is ascending without repeats; what follows was added since, in any order. */
  private sorted = 0;
  private gone = 0;

  add(id: string): void {
    const inOrder = this.sorted === this.ids.length && (this.sorted === 0 || id > this.ids[this.sorted - 1]!);
    this.ids.push(id);
    if (inOrder) this.sorted++;
  }

  /** One ID added earlier is no longer held (the caller's `held` will say which). */
  removed(): void {
    this.gone++;
  }

  clear(): void {
    this.ids = [];
    this.sorted = 0;
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
    if (this.sorted < this.ids.length) {
      // Default sort compares UTF-16 code units, the same order as `<` on strings. An ID removed
      // and submitted again is in the array twice: keep one.
      const head = this.ids.slice(0, this.sorted);
      const tail = this.ids.slice(this.sorted).sort();
      const merged: string[] = [];
      let i = 0;
      let j = 0;
      while (i < head.length || j < tail.length) {
        const next = j >= tail.length || (i < head.length && head[i]! <= tail[j]!) ? head[i++]! : tail[j++]!;
        if (merged.length === 0 || merged[merged.length - 1] !== next) merged.push(next);
      }
      this.ids = merged;
      this.sorted = merged.length;
    }
    if (this.gone * 2 > this.ids.length) {
      this.ids = this.ids.filter(held);
      this.sorted = this.ids.length;
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
