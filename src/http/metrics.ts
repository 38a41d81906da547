import type { NodeMetrics } from '../queue/task-service.js';

/**
 * GET /metrics: one node's figures in the Prometheus text format (version 0.0.4), for the
 * monitoring systems operators already run. Scrape every node.
 *
 * Tasks by queue and status are gauges of the partitions the node leads: summed over all nodes
 * (`sum without (instance)`) they are the cluster's. The partition counters (submitted, completed,
 * ...) are replicated with each partition's state, so only its leader exports them, labelled by
 * partition: a counter then never goes back when leadership moves, it only continues on another
 * node. Handler, forwarding and raft figures are the node's own, counted since it started.
 */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Readonly<Record<string, string | number>>;

class Exposition {
  private readonly lines: string[] = [];

  /** One metric family: HELP and TYPE once, then a sample per label set. */
  family(name: string, type: 'counter' | 'gauge', help: string, samples: readonly (readonly [Labels, number])[]): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) this.lines.push(`${name}${labelText(labels)} ${formatValue(value)}`);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(v);
}

/** The raft host's counters (MultiRaftHost.stats), by their key there, with their exported names. */
const RAFT_COUNTERS: readonly (readonly [key: string, name: string, help: string, scale: number])[] = [
  ['turns', 'taskraft_raft_turns_total', 'Host loop turns that handled at least one group.', 1],
  ['writes', 'taskraft_raft_writes_total', 'RocksDB write batches started by the host loop.', 1],
  ['syncedWrites', 'taskraft_raft_synced_writes_total', 'Write batches that were fsynced.', 1],
  ['writeMs', 'taskraft_raft_write_seconds_total', 'Time from handing a batch to the writer thread to hearing it is written.', 1 / 1000],
  ['slowWrites', 'taskraft_raft_slow_writes_total', 'Writes that took over 10 ms (each holds up the commits through this node).', 1],
  ['writesDeferred', 'taskraft_raft_writes_deferred_total', 'Turns whose state nobody waited for, left to ride with a later write.', 1],
  ['entriesPersisted', 'taskraft_raft_entries_persisted_total', 'Log entries written, over all groups.', 1],
  ['entriesApplied', 'taskraft_raft_entries_applied_total', 'Log entries applied, over all groups.', 1],
  ['messagesSent', 'taskraft_raft_messages_sent_total', 'Raft messages sent to peers, over all groups.', 1],
  ['snapshotsMade', 'taskraft_raft_snapshots_made_total', 'Snapshots taken of a group state machine.', 1],
  ['snapshotsInstalled', 'taskraft_raft_snapshots_installed_total', 'Snapshots received from a leader and installed.', 1],
];

export interface ProcessFigures {
  readonly cpuSeconds: number;
  readonly residentBytes: number;
  readonly heapUsedBytes: number;
}

/** This process's CPU and memory, in the names Prometheus clients use for them. */
export function processFigures(): ProcessFigures {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return { cpuSeconds: (cpu.user + cpu.system) / 1e6, residentBytes: mem.rss, heapUsedBytes: mem.heapUsed };
}

export function renderMetrics(nodeId: string, m: NodeMetrics, proc: ProcessFigures): string {
  const out = new Exposition();
  const node = { node: nodeId };
  out.family('taskraft_partitions_held', 'gauge', 'Partitions this node holds a replica of.', [[node, m.partitionsHeld]]);
  out.family('taskraft_partitions_led', 'gauge', 'Partitions this node leads (and processes).', [[node, m.partitionCounters.length]]);

  const taskSamples: [Labels, number][] = [];
  for (const queue of Object.keys(m.byQueue).sort()) {
    for (const [status, n] of Object.entries(m.byQueue[queue]!)) taskSamples.push([{ queue, status }, n ?? 0]);
  }
  out.family('taskraft_tasks', 'gauge', 'Tasks by queue and status in the partitions this node leads.', taskSamples);

  const counter = (key: keyof NodeMetrics['partitionCounters'][number]['counters'], name: string, help: string): void =>
    out.family(name, 'counter', help, m.partitionCounters.map((p) => [{ partition: p.partition }, p.counters[key]] as const));
  counter('submitted', 'taskraft_partition_submitted_total', 'Tasks created in the partition (reported by its leader).');
  counter('completed', 'taskraft_partition_completed_total', 'Tasks completed in the partition (reported by its leader).');
  counter('failedAttempts', 'taskraft_partition_failed_attempts_total', 'Attempts that failed or whose lease expired (reported by the leader).');
  counter('dead', 'taskraft_partition_dead_total', 'Tasks that used up their attempts (reported by the leader).');
  counter('cancelled', 'taskraft_partition_cancelled_total', 'Tasks cancelled (reported by the leader).');

  const p = m.processor;
  out.family('taskraft_handlers_running', 'gauge', 'Handlers running on this node now.', [[node, p.running]]);
  out.family('taskraft_handler_concurrency', 'gauge', 'Handlers this node runs at once at most.', [[node, p.concurrency]]);
  out.family('taskraft_handler_runs_started_total', 'counter', 'Handler runs started on this node.', [[node, p.started]]);
  out.family('taskraft_handler_runs_succeeded_total', 'counter', 'Handler runs whose result was recorded as a completion.', [[node, p.succeeded]]);
  out.family('taskraft_handler_runs_failed_total', 'counter', 'Handler runs recorded as a failed attempt.', [[node, p.failed]]);
  out.family('taskraft_handler_results_refused_total', 'counter', 'Results refused because the attempt had lost its lease.', [[node, p.rejected]]);
  out.family('taskraft_handler_runs_abandoned_total', 'counter', 'Handler runs stopped because the task was cancelled or the attempt lost its lease while they ran.', [[node, p.abandoned]]);
  out.family('taskraft_forwarded_out_total', 'counter', 'Operations this node forwarded to another node leading their partition.', [[node, m.routing.forwardedOut]]);
  out.family('taskraft_forwarded_in_total', 'counter', 'Operations other nodes forwarded to this node as leader.', [[node, m.routing.forwardedIn]]);

  for (const [key, name, help, scale] of RAFT_COUNTERS) {
    const v = m.raft[key];
    if (v !== undefined) out.family(name, 'counter', help, [[node, v * scale]]);
  }

  out.family('process_cpu_seconds_total', 'counter', 'User and system CPU time of this process.', [[{}, proc.cpuSeconds]]);
  out.family('process_resident_memory_bytes', 'gauge', 'Resident memory of this process.', [[{}, proc.residentBytes]]);
  out.family('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.', [[{}, proc.heapUsedBytes]]);
  return out.text();
}
