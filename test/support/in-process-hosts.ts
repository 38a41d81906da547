import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { MultiRaftHost, type MultiRaftHostOptions } from '../../src/cluster/multi-raft-host.js';
import type { NodeId } from '../../src/raft/index.js';
import { RocksDatabase } from '../../src/storage/rocks-database.js';
import { KvStateMachine } from './kv-state-machine.js';

/**
 * Multi-raft hosts wired in process instead of over gRPC, each on a real RocksDB in a temporary
 * directory: the caller's `send` decides what reaches whom (see framesByPeer), and `close()` stops
 * them all and deletes their data.
 */
export class InProcessHosts {
  readonly byId = new Map<NodeId, MultiRaftHost>();
  private readonly dbs: RocksDatabase[] = [];
  private readonly dirs: string[] = [];

  /** Opens host `self`: silent logs, 10 ms ticks, elections after 10, a KV state machine; `over` replaces any option. */
  async open(self: NodeId, send: MultiRaftHostOptions['send'], over: Partial<MultiRaftHostOptions> = {}): Promise<MultiRaftHost> {
    const dir = mkdtempSync(join(tmpdir(), 'taskraft-hosts-'));
    this.dirs.push(dir);
    const db = await RocksDatabase.open(dir, { writeWorker: true });
    this.dbs.push(db);
    const host = await MultiRaftHost.open({
      self,
      db,
      logger: pino({ level: 'silent' }),
      tickMs: 10,
      electionTicks: 10,
      stateMachine: (g) => new KvStateMachine(g),
      send,
      ...over,
    });
    this.byId.set(self, host);
    return host;
  }

  async close(): Promise<void> {
    for (const h of this.byId.values()) await h.stop();
    for (const d of this.dbs.splice(0)) await d.close();
    this.byId.clear();
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}
