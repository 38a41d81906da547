import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MultiRaftHost } from '../../src/cluster/multi-raft-host.js';
import { nodeId } from '../../src/raft/index.js';
import { groupId } from '../../src/storage/key-layout.js';
import { RocksDatabase } from '../../src/storage/rocks-database.js';
import { KvStateMachine } from '../support/kv-state-machine.js';

/** Where a partition's writes go and its tasks run follows its leader: operators need every change in the log. */
describe('leadership changes are logged', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('a node that comes to lead a group logs the group, the term and the leader before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskraft-leaderlog-'));
    dirs.push(dir);
    const db = await RocksDatabase.open(dir, { writeWorker: true });
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const host = await MultiRaftHost.open({ self: nodeId('a'), db, logger, tickMs: 10, electionTicks: 5, stateMachine: (g) => new KvStateMachine(g), send: () => undefined });
    try {
      host.createGroup(groupId(7), [nodeId('a')]);
      for (const end = Date.now() + 5_000; host.leaderOf(groupId(7)) !== nodeId('a'); await new Promise((r) => setTimeout(r, 5))) {
        if (Date.now() > end) throw new Error('a did not come to lead group 7');
      }
      const changes = lines.filter((l) => l.msg === 'group has a new leader');
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({ group: 7, leader: 'a', role: 'leader', was: null });
      expect(changes[0]!.term).toBeGreaterThanOrEqual(1);
    } finally {
      await host.stop();
      await db.close();
    }
  });
});
