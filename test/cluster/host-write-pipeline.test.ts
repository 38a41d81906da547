import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupBeingRemovedError } from '../../src/cluster/errors.js';
import { MultiRaftHost, type MultiRaftHostOptions } from '../../src/cluster/multi-raft-host.js';
import { logIndex, nodeId, term, type Message } from '../../src/raft/index.js';
import { appliedKey, groupId, stateMachinePrefix } from '../../src/storage/key-layout.js';
import { RocksDatabase, type WriteOp } from '../../src/storage/rocks-database.js';
import type { GroupEnvelope } from '../../src/transport/frame-codec.js';
import { decodeU64 } from '../../src/storage/codec.js';
import { KvStateMachine } from '../support/kv-state-machine.js';
import { waitUntil } from '../support/until.js';

/**
 * The host's write pipeline (multi-raft-host.ts: turns go on while one write is in flight).
 * Real RocksDB, whose writes a gate can hold open: a slow disk, on demand.
 */
const G = groupId(1);
const [a, b, c] = [nodeId('a'), nodeId('b'), nodeId('c')];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface GatedDb {
  readonly db: RocksDatabase;
  /** Every write the host started: how many keys, and whether it was fsynced. */
  readonly writes: { keys: number; sync: boolean }[];
  /** While closed, every write waits (before it reaches RocksDB) until the gate opens. */
  close(): void;
  open(): void;
}

async function gatedDb(dir: string): Promise<GatedDb> {
  const db = await RocksDatabase.open(dir, { writeWorker: true });
  let closed = false;
  const waiting: (() => void)[] = [];
  const writes: GatedDb['writes'] = [];
  const write = db.write.bind(db);
  db.write = async (ops: readonly WriteOp[], sync: boolean): Promise<void> => {
    writes.push({ keys: ops.length, sync });
    while (closed) await new Promise<void>((r) => waiting.push(r));
    await write(ops, sync);
  };
  return {
    db,
    writes,
    close: () => void (closed = true),
    open: () => {
      closed = false;
      for (const r of waiting.splice(0)) r();
    },
  };
}

/** b, leading term 2, appends an entry to a: the write that holds it is a's write in flight. */
function appendFromB(host: MultiRaftHost): void {
  const entry = { type: 'normal' as const, term: term(2), index: logIndex(2), data: new Uint8Array(0) };
  host.receive(b, { envelopes: [{ group: G, message: { type: 'app', from: b, to: a, term: term(2), index: logIndex(1), logTerm: term(1), commit: logIndex(1), entries: [entry] } }], quiesced: [] });
}

/** The value of the KV machine's row `key` of group G on disk, decoded, if written. */
async function rowOnDisk(db: RocksDatabase, key: string): Promise<string | undefined> {
  const v = await db.get(new Uint8Array([...stateMachinePrefix(G), ...new TextEncoder().encode(key)]));
  return v === undefined ? undefined : new TextDecoder().decode(v);
}

/** Group G's applied index on disk (0 before any is written). */
async function appliedOnDisk(db: RocksDatabase): Promise<number> {
  const v = await db.get(appliedKey(G));
  return v === undefined ? 0 : Number(decodeU64(v));
}

describe('the host write pipeline', () => {
  const dirs: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanups.splice(0).reverse()) await f();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A fresh database for node a, closed and deleted after the test. */
  async function freshDb(): Promise<GatedDb> {
    const dir = mkdtempSync(join(tmpdir(), 'taskraft-pipe-'));
    dirs.push(dir);
    const gated = await gatedDb(dir);
    cleanups.push(() => gated.db.close());
    return gated;
  }

  /** Node a's host; with `tickMs` of a minute nothing happens but what the test feeds it. Every
   * message sent goes to `sent`, and every frame (one call of send) to `frames`. */
  function openHost(gated: GatedDb, sent: GroupEnvelope[], tickMs = 10, frames: GroupEnvelope[][] = [], raft: MultiRaftHostOptions['raft'] = {}): Promise<MultiRaftHost> {
    return MultiRaftHost.open({
      self: a,
      db: gated.db,
      logger: pino({ level: 'silent' }),
      tickMs,
      electionTicks: 5,
      quiesceAfterTicks: 0,
      raft,
      stateMachine: (g) => new KvStateMachine(g),
      send: (envelopes) => {
        sent.push(...envelopes);
        frames.push([...envelopes]);
      },
    });
  }

  it('stop() ends once the write in flight ends, even when only acknowledgements wait for it', async () => {
    const gated = await freshDb();
    const sent: GroupEnvelope[] = [];
    const host = await openHost(gated, sent, 60_000);
    host.createGroup(G, [a, b, c]);
    await host.flush();
    gated.close();
    appendFromB(host); // its write is held open
    await sleep(20);
    // A heartbeat that changes nothing: its answer waits for the write, with nothing staged.
    host.receive(b, { envelopes: [{ group: G, message: { type: 'heartbeat', from: b, to: a, term: term(2), commit: logIndex(1), context: null } }], quiesced: [] });
    await sleep(20);
    expect(sent.filter((e) => e.message.type === 'appResp' || e.message.type === 'heartbeatResp')).toEqual([]);
    let stopped = false;
    const stopping = host.stop().then(() => void (stopped = true));
    gated.open();
    await Promise.race([stopping, sleep(2_000)]);
    expect(stopped).toBe(true);
    // Both answers left, after the write.
    expect(sent.map((e) => e.message.type).filter((t) => t === 'appResp' || t === 'heartbeatResp').sort()).toEqual(['appResp', 'heartbeatResp']);
  });

  it('a lone voter neither leads nor sends anything in a new term before the term is on disk', async () => {
    const gated = await freshDb();
    const before: GroupEnvelope[] = [];
    const first = await openHost(gated, before);
    first.createGroup(G, [a]);
    await first.flush();
    await waitUntil('a leads', 5_000, () => first.leaderOf(G) === a);
    await first.proposeConfChange(G, { type: 'addLearner', nodeId: b });
    const oldTerm = first.status(G).hardState.term;
    await first.stop();

    // Restarted with a disk that holds every write open: a campaigns in a new term, but neither
    // leads nor sends anything in it while that term is not on disk. Leading a term that is not on
    // disk, it could crash, win the same term again and write other entries at the same indexes
    // and term, which b would take for the ones it holds.
    gated.close();
    const sent: GroupEnvelope[] = [];
    const host = await openHost(gated, sent);
    cleanups.push(async () => {
      gated.open();
      await host.stop();
    });
    await waitUntil('a campaigns', 5_000, () => host.status(G).hardState.term > oldTerm);
    const newTerm = host.status(G).hardState.term;
    await sleep(100); // ten ticks
    expect(host.leaderOf(G)).toBe(null);
    const inNewTerm = (m: Message): boolean => m.to === b && m.term >= newTerm;
    expect(sent.filter((e) => inNewTerm(e.message)).map((e) => e.message.type)).toEqual([]);
    gated.open();
    await waitUntil('a leads again', 5_000, () => host.leaderOf(G) === a);
    await host.propose(G, KvStateMachine.command('k', 'v'));
    await waitUntil('appends to b in the new term', 5_000, () => sent.some((e) => inNewTerm(e.message) && e.message.type === 'app'));
  });

  it('a group is not hosted again while its earlier replica is being deleted', async () => {
    const gated = await freshDb();
    const host = await openHost(gated, [], 60_000);
    cleanups.push(() => host.stop());
    host.createGroup(G, [a, b, c]);
    await host.flush();
    gated.close();
    appendFromB(host);
    await sleep(20);
    // The deletion waits for the write in flight; a new replica staged meanwhile would be written
    // and then wiped by the range delete that follows.
    const removing = host.removeGroup(G);
    expect(() => host.joinGroup(G)).toThrow(GroupBeingRemovedError);
    expect(() => host.createGroup(G, [a])).toThrow(GroupBeingRemovedError);
    gated.open();
    await removing;
    host.joinGroup(G);
    expect(host.holds(G)).toBe(true);
  });

  it('acknowledgements a write made durable leave in the same frame as what the turn after it sends', async () => {
    const gated = await freshDb();
    const frames: GroupEnvelope[][] = [];
    // A leader that sends a new commit index in an append of its own (the host's default leaves
    // it for the next append or heartbeat), so that the write's end makes it send something.
    const host = await openHost(gated, [], 10, frames, { skipBcastCommit: false });
    cleanups.push(async () => {
      gated.open();
      await host.stop();
    });
    // G: a follows b. L: a leads alone, with b as a learner it sends appends to.
    const L = groupId(2);
    host.createGroup(G, [a, b, c]);
    host.createGroup(L, [a]);
    await host.flush();
    await waitUntil('a leads L', 5_000, () => host.leaderOf(L) === a);
    await host.proposeConfChange(L, { type: 'addLearner', nodeId: b });
    // b says it holds all of L's log, so a replicates to it from now on.
    await waitUntil('b is a learner of L', 5_000, () => host.status(L).progress?.has(b) === true);
    const st = host.status(L);
    host.receive(b, { envelopes: [{ group: L, message: { type: 'appResp', from: b, to: a, term: st.hardState.term, index: st.lastIndex, reject: false, rejectHint: logIndex(0), logTerm: term(0) } }], quiesced: [] });
    await waitUntil('b matches L', 5_000, () => host.status(L).progress?.get(b)?.match === st.lastIndex);

    gated.close();
    appendFromB(host); // the write in flight, held open
    await sleep(20);
    // Both wait for the next write: b's second entry for G, and a proposal on L.
    const entry = { type: 'normal' as const, term: term(2), index: logIndex(3), data: new Uint8Array(0) };
    host.receive(b, { envelopes: [{ group: G, message: { type: 'app', from: b, to: a, term: term(2), index: logIndex(2), logTerm: term(2), commit: logIndex(1), entries: [entry] } }], quiesced: [] });
    const proposed = host.propose(L, KvStateMachine.command('k', 'v'));
    await sleep(20);
    frames.length = 0;
    gated.open();
    await proposed;
    // That write's end lets a acknowledge G's entry 3 and commit L's entry, whose new commit index
    // it then sends b: one frame carries both.
    await waitUntil('the ack of entry 3', 5_000, () => frames.some((f) => f.some((e) => e.message.type === 'appResp' && e.message.index === 3)));
    const withAck = frames.find((f) => f.some((e) => e.message.type === 'appResp' && e.message.index === 3))!;
    expect(withAck.some((e) => e.group === L && e.message.type === 'app')).toBe(true);
  });

  it('an answer that waits for no write leaves in the turn that made it', async () => {
    const gated = await freshDb();
    const sent: GroupEnvelope[] = [];
    const host = await openHost(gated, sent, 60_000);
    cleanups.push(() => host.stop());
    host.createGroup(G, [a, b, c]);
    await host.flush();
    appendFromB(host);
    await waitUntil('the append is acknowledged', 5_000, () => sent.some((e) => e.message.type === 'appResp'));
    await host.flush();
    // A heartbeat that changes nothing stages nothing, and no write is in flight.
    host.receive(b, { envelopes: [{ group: G, message: { type: 'heartbeat', from: b, to: a, term: term(2), commit: logIndex(1), context: null } }], quiesced: [] });
    // The host's turn was scheduled before this, so it has run when this resolves.
    await new Promise((r) => setImmediate(r));
    expect(sent.filter((e) => e.message.type === 'heartbeatResp')).toHaveLength(1);
  });

  it('a group\'s founding membership is fsynced by whichever write carries it', async () => {
    const gated = await freshDb();
    const host = await openHost(gated, [], 60_000);
    cleanups.push(() => host.stop());
    const { writes } = gated;
    writes.length = 0;
    host.createGroup(G, [a, b, c]);
    // A turn runs before the caller flushes, and writes the new group's state.
    await new Promise((r) => setImmediate(r));
    await host.flush();
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.filter((w) => w.keys > 0 && !w.sync)).toEqual([]);
  });

  it('the effects of applying an entry start no write of their own: they ride with the next write something waits for, or a flush', async () => {
    const gated = await freshDb();
    const host = await openHost(gated, [], 60_000);
    cleanups.push(() => host.stop());
    host.createGroup(G, [a]);
    await host.flush();
    host.campaign(G);
    await waitUntil('a leads', 5_000, () => host.leaderOf(G) === a);
    await host.flush();
    const { writes, db } = gated;

    writes.length = 0;
    const index = (await host.propose(G, KvStateMachine.command('k', 'v'))) as number;
    await sleep(50);
    // One write: the entry, fsynced (a lone voter commits it once it is durable). Its effects
    // (the row and the applied index) are staged, not written: nothing waits for them.
    expect(writes.map((w) => w.sync)).toEqual([true]);
    expect(await rowOnDisk(db, 'k')).toBeUndefined();
    expect(await appliedOnDisk(db)).toBeLessThan(index);
    expect(host.stats().writesDeferred).toBeGreaterThan(0);

    // The next entry's write carries them, in order before it.
    const next = (await host.propose(G, KvStateMachine.command('k2', 'v2'))) as number;
    await sleep(50);
    expect(writes.map((w) => w.sync)).toEqual([true, true]);
    expect(await rowOnDisk(db, 'k')).toBe('v');
    expect(await appliedOnDisk(db)).toBeGreaterThanOrEqual(index);
    expect(await appliedOnDisk(db)).toBeLessThan(next);

    // A flush writes what is still staged.
    await host.flush();
    expect(await appliedOnDisk(db)).toBe(next);
  });

  it('what a turn deferred reaches the disk within a tick, with nothing else to write', async () => {
    const gated = await freshDb();
    const host = await openHost(gated, [], 50);
    cleanups.push(() => host.stop());
    host.createGroup(G, [a]);
    await host.flush();
    await waitUntil('a leads', 5_000, () => host.leaderOf(G) === a);
    const index = (await host.propose(G, KvStateMachine.command('k', 'v'))) as number;
    await waitUntil('the applied index is on disk', 2_000, () => gated.writes.some((w) => !w.sync));
    expect(await appliedOnDisk(gated.db)).toBeGreaterThanOrEqual(index);
    expect(await rowOnDisk(gated.db, 'k')).toBe('v');
  });
});
