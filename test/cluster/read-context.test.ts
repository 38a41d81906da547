import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { MultiRaftHost } from '../../src/cluster/multi-raft-host.js';
import { RawNode, nodeId } from '../../src/raft/index.js';
import { groupId } from '../../src/storage/key-layout.js';
import { RocksDatabase } from '../../src/storage/rocks-database.js';
import { KvStateMachine } from '../support/kv-state-machine.js';

// Found in review: ReadIndex answers are matched by context alone, and the host numbered contexts
// from 1 on every boot, so an answer delayed from before a crash could serve a new read after it.
describe('multi-raft host read contexts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskraft-readctx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function bootAndRead(): Promise<string[]> {
    const seen: string[] = [];
    const original = RawNode.prototype.readIndex;
    RawNode.prototype.readIndex = function (ctx: string) {
      seen.push(ctx);
      return original.call(this, ctx);
    };
    const db = await RocksDatabase.open(dir);
    const self = nodeId('n1');
    const host = await MultiRaftHost.open({
      self,
      db,
      send: () => undefined,
      logger: pino({ level: 'silent' }),
      tickMs: 10,
      stateMachine: (g) => new KvStateMachine(g),
    });
    try {
      host.createGroup(groupId(1), [self]);
      for (let i = 0; i < 200 && host.leaderOf(groupId(1)) !== self; i++) await new Promise((r) => setTimeout(r, 10));
      await host.linearizableBarrier(groupId(1));
      await host.linearizableBarrier(groupId(1));
    } finally {
      RawNode.prototype.readIndex = original;
      await host.stop();
      await db.close();
    }
    return seen;
  }

  it('never reuse a read context, not even across a restart on the same data', async () => {
    const first = await bootAndRead();
    const second = await bootAndRead();
    expect(first.length).toBeGreaterThanOrEqual(2);
    expect(second.length).toBeGreaterThanOrEqual(2);
    expect(new Set([...first, ...second]).size).toBe(first.length + second.length);
  });
});
