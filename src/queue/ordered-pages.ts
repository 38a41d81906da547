/**
 * Merging pages of items ordered by ID (tasks of several partitions, or of several nodes) into
 * one page after a cursor.
 *
 * A source may stop before it has `limit` items (it had no more, or it hit its scan budget); it
 * says how far it looked with `coveredTo`: every item with an ID up to that one is in its page.
 * `null` means it looked to the end. The merged page may only hold IDs up to the smallest
 * `coveredTo`, since above it a source may have items it did not send; the next cursor then
 * starts right there, so no item is skipped and none is returned twice.
 */
export interface OrderedPage<T> {
  /** Ascending by ID. */
  readonly items: readonly T[];
  /** How far this source looked; null: to the end. */
  readonly coveredTo: string | null;
}

export function mergeOrderedPages<T>(
  pages: readonly OrderedPage<T>[],
  limit: number,
  idOf: (item: T) => string,
): { items: T[]; nextCursor: string | null } {
  let bound: string | null = null;
  for (const p of pages) if (p.coveredTo !== null && (bound === null || p.coveredTo < bound)) bound = p.coveredTo;
  const all = pages.flatMap((p) => p.items).filter((t) => bound === null || idOf(t) <= bound);
  all.sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
  const items = all.slice(0, limit);
  if (all.length > limit) return { items, nextCursor: idOf(items[items.length - 1]!) };
  // Everything up to `bound` is in `items`; past it some source may have more.
  return { items, nextCursor: bound };
}
