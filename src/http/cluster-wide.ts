import type { ClusterView } from '../cluster/cluster-view.js';
import { mergeOrderedPages } from '../queue/ordered-pages.js';
import { sumByQueue } from '../queue/task-service.js';
import type { Task, TaskStatus } from '../queue/task.js';

/**
 * Cluster-wide reads (GET /tasks, GET /stats) gathered from every live node's own routes over
 * HTTP: each node answers for the partitions it leads, so together they cover every partition.
 */
export class ClusterWide {
  constructor(
    private readonly view: () => ClusterView | null,
    private readonly timeoutMs = 5000,
  ) {}

  async list(query: URLSearchParams, limit: number): Promise<{ tasks: Task[]; nextCursor: string | null; nodes: Record<string, string> }> {
    const pages = await this.fanOut<{ tasks: Task[]; nextCursor: string | null }>(`/tasks/list?${query.toString()}`);
    // A node's page holds every task it has up to its nextCursor (see mergeOrderedPages).
    const answered = pages.flatMap(([, p]) => (p === null ? [] : [{ items: p.tasks, coveredTo: p.nextCursor }]));
    const { items, nextCursor } = mergeOrderedPages(answered, limit, (t) => t.id);
    return { tasks: items, nextCursor, nodes: status(pages) };
  }

  async stats(): Promise<Record<string, unknown>> {
    const per = await this.fanOut<Record<string, unknown>>('/tasks/stats');
    const sum: Record<string, number> = {};
    const counters: Record<string, number> = {};
    let completedPerSec = 0;
    for (const [, s] of per) {
      if (s === null) continue;
      for (const [k, v] of Object.entries(s.tasksByStatus as Record<string, number>)) sum[k] = (sum[k] ?? 0) + v;
      for (const [k, v] of Object.entries(s.partitionCounters as Record<string, number>)) counters[k] = (counters[k] ?? 0) + v;
      completedPerSec += (s.processor as { completedPerSec: number }).completedPerSec;
    }
    return {
      tasksByStatus: sum,
      queueDepth: (sum.pending ?? 0) + (sum.delayed ?? 0),
      byQueue: sumByQueue(per.flatMap(([, s]) => (s === null ? [] : [(s.byQueue ?? {}) as Record<string, Partial<Record<TaskStatus, number>>>]))),
      partitionCounters: counters,
      completedPerSec,
      nodes: Object.fromEntries(per.map(([id, s]) => [id, s])),
    };
  }

  private async fanOut<T>(path: string): Promise<[string, T | null][]> {
    const nodes = (this.view()?.nodes ?? []).filter((n) => n.live && n.state !== 'removed');
    return Promise.all(
      nodes.map(async (n): Promise<[string, T | null]> => {
        try {
          const res = await fetch(`http://${n.httpAddr}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
          return [n.id, res.ok ? ((await res.json()) as T) : null];
        } catch {
          return [n.id, null];
        }
      }),
    );
  }
}

function status<T>(pages: [string, T | null][]): Record<string, string> {
  return Object.fromEntries(pages.map(([id, p]) => [id, p === null ? 'unreachable' : 'ok']));
}
