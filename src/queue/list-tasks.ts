import { mergeOrderedPages, type OrderedPage } from './ordered-pages.js';
import type { QueueStateMachine } from './queue-state-machine.js';
import type { Task, TaskStatus } from './task.js';

export interface ListFilter {
  readonly status?: TaskStatus;
  readonly type?: string;
  readonly queue?: string;
  readonly limit: number;
  /** Tasks with IDs after this one (the previous page's `nextCursor`). */
  readonly cursor?: string;
}

/**
 * How many tasks one page may look at per partition. A filter that matches few of the retained
 * tasks (say `status=pending` among 100,000 completed) would otherwise walk them all in one
 * request; with the budget the page comes back short, with a cursor that goes on from where the
 * walk stopped.
 */
export const LIST_SCAN_BUDGET = 5000;

/** One page of the tasks of `machines`, ascending by ID, after `f.cursor`. */
export function listTasks(
  machines: Iterable<QueueStateMachine>,
  f: ListFilter,
  scanBudget = LIST_SCAN_BUDGET,
): { tasks: Task[]; nextCursor: string | null } {
  const pages: OrderedPage<Task>[] = [];
  for (const sm of machines) pages.push(partitionPage(sm, f, scanBudget));
  const { items, nextCursor } = mergeOrderedPages(pages, f.limit, (t) => t.id);
  return { tasks: items, nextCursor };
}

function partitionPage(sm: QueueStateMachine, f: ListFilter, scanBudget: number): OrderedPage<Task> {
  const items: Task[] = [];
  let scanned = 0;
  for (const id of sm.idsAfter(f.cursor)) {
    // Filter on the summary: a terminal task's row is decoded only when it is listed.
    if (matches(sm.summary(id as Task['id'])!, f)) {
      items.push(sm.get(id as Task['id'])!);
      if (items.length === f.limit) return { items, coveredTo: id };
    }
    if (++scanned === scanBudget) return { items, coveredTo: id };
  }
  return { items, coveredTo: null };
}

function matches(t: Pick<Task, 'status' | 'type' | 'queue'>, f: ListFilter): boolean {
  return (f.status === undefined || t.status === f.status) && (f.type === undefined || t.type === f.type) && (f.queue === undefined || t.queue === f.queue);
}
