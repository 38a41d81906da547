/** The IPC protocol between a test or benchmark and its kv-node child processes. */

export type KvNodeRequest =
  | { op: 'put'; id: number; group: number; key: string; value: string }
  | { op: 'read'; id: number; group: number; key: string }
  | { op: 'leaders'; id: number }
  | { op: 'stats'; id: number }
  | { op: 'dump'; id: number }
  | { op: 'pause'; id: number; paused: boolean }
  | {
      op: 'load';
      id: number;
      seconds: number;
      concurrency: number;
      ratePerSec: number;
      valueBytes: number;
      /** Keys this node's writers cycle through (writes overwrite them), as etcd's benchmark does. */
      keys: number;
    }
  | { op: 'stop'; id: number };

export interface GroupDump {
  group: number;
  role: string;
  leader: string | null;
  term: number;
  commit: number;
  applied: number;
  lastIndex: number;
  voters: string[];
  data: Record<string, string>;
  /** [index, term] of the last committed entries this replica holds (up to 200). */
  terms: [number, number][];
}

export interface LoadReport {
  committed: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** The host's loop counters accumulated during the run. */
  host: Record<string, number>;
}

export type KvNodeResponse =
  | { id: number; ok: false; error: string; leader: string | null }
  | {
      id: number;
      ok: true;
      ready?: boolean;
      index?: number;
      value?: string | null;
      leaders?: number[];
      groups?: GroupDump[];
      load?: LoadReport;
      stats?: Record<string, number>;
    };
