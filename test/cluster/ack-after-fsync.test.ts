import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MultiRaftHost } from '../../src/cluster/multi-raft-host.js';
import { nodeId, type NodeId } from '../../src/raft/index.js';
import { groupId, logEntryKey, type GroupId } from '../../src/storage/key-layout.js';
import { RocksDatabase, type WriteOp } from '../../src/storage/rocks-database.js';
import type { GroupEnvelope } from '../../src/transport/frame-codec.js';
import { framesByPeer } from '../support/frames-by-peer.js';
import { KvStateMachine } from '../support/kv-state-machine.js';

/**
 * The host sends a leader's appends before its own write, runs further turns while a write is in
 * flight, and applies committed entries before its own copy is durable (multi-raft-host.ts,
 * turn()). None of it may let an acknowledgement out early: when a proposal resolves, its entry
 * must be in a completed, fsynced write on a majority. Real RocksDB; hosts wired in process
 * instead of gRPC.
 */
const G: GroupId = groupId(1);

interface TestNode {
  readonly id: NodeId;
  readonly db: RocksDatabase;
  readonly host: MultiRaftHost;
  /** Hex of every log key of G that a completed synced write carried. */
  readonly durable: Set<string>;
  /** Added before each of this node's writes starts: a slow disk. */
  delayMs: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('the host acknowledges a proposal only after a majority fsynced it', () => {
  const dirs: string[] = [];
  let nodes: TestNode[] = [];

  afterEach(async () => {
    for (const n of nodes) await n.host.stop();
    for (const n of nodes) await n.db.close();
    nodes = [];
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function start(ids: NodeId[]): Promise<TestNode[]> {
    const byId = new Map<NodeId, TestNode>();
    for (const id of ids) {
      const dir = mkdtempSync(join(tmpdir(), 'taskraft-ack-'));
      dirs.push(dir);
      const db = await RocksDatabase.open(dir, { writeWorker: true });
      const durable = new Set<string>();
      const write = db.write.bind(db);
      db.write = async (ops: readonly WriteOp[], sync: boolean): Promise<void> => {
        const delayMs = byId.get(id)?.delayMs ?? 0;
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        await write(ops, sync);
        if (sync) for (const op of ops) if (op.type === 'put') durable.add(hex(op.key));
      };
      const host = await MultiRaftHost.open({
        self: id,
        db,
        logger: pino({ level: 'silent' }),
        tickMs: 10,
        stateMachine: (g) => new KvStateMachine(g),
        send: (envelopes: GroupEnvelope[]) => {
          for (const [peer, frame] of framesByPeer(envelopes)) {
            setImmediate(() => byId.get(peer)?.host.receive(id, frame));
          }
        },
      });
      const n = { id, db, host, durable, delayMs: 0 };
      byId.set(id, n);
      nodes.push(n);
    }
    for (const n of nodes) n.host.createGroup(G, ids);
    return nodes;
  }

  async function leader(): Promise<TestNode> {
    for (let i = 0; i < 500; i++) {
      const l = nodes.find((n) => n.host.leaderOf(G) === n.id);
      if (l !== undefined) return l;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no leader within 5 s');
  }

  async function proposeAndCheck(l: TestNode, count: number, quorum: number): Promise<void> {
    const violations: string[] = [];
    await Promise.all(
      Array.from({ length: count }, async (_, k) => {
        const index = (await l.host.propose(G, KvStateMachine.command(`k${k}`, 'v'))) as number;
        const key = hex(logEntryKey(G, index));
        const holders = nodes.filter((n) => n.durable.has(key)).map((n) => n.id);
        if (holders.length < quorum) violations.push(`index ${index} acknowledged, fsynced on [${holders.join(',')}]`);
      }),
    );
    expect(violations).toEqual([]);
  }

  it('one voter: the acknowledgement waits for the leader\'s fsync', async () => {
    await start([nodeId('a')]);
    await proposeAndCheck(await leader(), 300, 1);
  });

  it('three voters: two of them fsynced the entry', async () => {
    await start([nodeId('a'), nodeId('b'), nodeId('c')]);
    await proposeAndCheck(await leader(), 600, 2);
  });

  it('three voters, slow disks: a leader\'s copy still in flight does not count towards a commit', async () => {
    await start([nodeId('a'), nodeId('b'), nodeId('c')]);
    const l = await leader();
    // The fast follower's acknowledgement alone must not commit: the entry is on one disk then.
    l.delayMs = 30;
    nodes.find((n) => n !== l)!.delayMs = 10;
    const slowBefore = l.host.stats().slowWrites;
    await proposeAndCheck(l, 300, 2);
    // The host counts the writes that held it up (for operators: /tasks/stats, raft.slowWrites);
    // the followers committed everything before the leader's first write ended.
    await l.host.flush();
    expect(l.host.stats().slowWrites).toBeGreaterThan(slowBefore);
  });
});
