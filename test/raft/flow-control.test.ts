import { describe, expect, it } from 'vitest';
import { ProposalDroppedError, type Entry, type Message } from '../../src/raft/index.js';
import {
  A,
  B,
  C,
  Network,
  PAPER,
  Peer,
  ackAll,
  app,
  appResp,
  founder,
  forceLeader,
  heartbeatResp,
  li,
  ofType,
  payloads,
  storageWithLog,
  tm,
  type NodeConfig,
} from './harness.js';

// Flow control as in etcd/raft: follower progress in probe / replicate / snapshot state, a bounded
// window of appends in flight, a byte cap per append, a cap on uncommitted proposal bytes, and
// fast log backtracking on rejection.

const entryBytes = (ents: readonly Entry[]): number => ents.reduce((n, e) => n + (e.type === 'normal' ? e.data.byteLength : 0), 0);
const appsWithEntries = (msgs: readonly Message[], to: typeof B): Extract<Message, { type: 'app' }>[] =>
  ofType(msgs, 'app', to).filter((m) => m.entries.length > 0) as Extract<Message, { type: 'app' }>[];

function dropReason(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof ProposalDroppedError) return e.reason;
    throw e;
  }
}

/** A leader of term 2 over a, b, c; both followers acknowledged the no-op (replicate state). */
function replicatingLeader(config: NodeConfig = PAPER): Peer {
  const p = founder(A, [A, B, C], config);
  const elected = forceLeader(p);
  ackAll(p, elected.messages, [B, C]);
  p.drain();
  expect(p.status().progress?.get(B)?.state).toBe('replicate');
  return p;
}

describe('replicate state: the bounded window of appends in flight', () => {
  it('Flow control: in replicate state at most maxInflightMsgs appends are in flight per follower', () => {
    const p = replicatingLeader({ ...PAPER, maxInflightMsgs: 3 });
    const sent: Message[] = [];
    for (let i = 0; i < 10; i++) {
      p.propose(`p${i}`);
      sent.push(...p.drain().messages);
    }
    expect(appsWithEntries(sent, B).map((m) => m.entries.map((e) => e.index))).toEqual([[3], [4], [5]]);
    expect(appsWithEntries(sent, C)).toHaveLength(3);
  });

  it('Flow control: an acknowledgement frees the window, and the leader sends everything pending in one append', () => {
    const p = replicatingLeader({ ...PAPER, maxInflightMsgs: 3 });
    for (let i = 0; i < 10; i++) {
      p.propose(`p${i}`);
      p.drain();
    }
    const out = p.stepDrain(appResp(B, A, 2, 3));
    expect(appsWithEntries(out.messages, B).map((m) => m.entries.map((e) => e.index))).toEqual([[6, 7, 8, 9, 10, 11, 12]]);
    expect(appsWithEntries(out.messages, C)).toEqual([]);
  });

  it('Flow control: a full window whose appends were lost is freed by a heartbeat response, so replication cannot stall', () => {
    const p = replicatingLeader({ ...PAPER, maxInflightMsgs: 2 });
    for (let i = 0; i < 3; i++) {
      p.propose(`lost${i}`);
      p.drain();
    }
    p.tick();
    expect(appsWithEntries(p.drain().messages, B)).toEqual([]);
    const out = p.stepDrain(heartbeatResp(B, A, 2));
    expect(ofType(out.messages, 'app', B)).toHaveLength(1);
  });

  it('Flow control: maxSizePerMsg caps the entry bytes of one append; one entry larger than the cap still goes alone', () => {
    const net = Network.of(['a', 'b', 'c'], { ...PAPER, maxSizePerMsg: 100 });
    const a = net.elect(A);
    net.isolate(C);
    for (let i = 0; i < 10; i++) net.propose(A, 'x'.repeat(40));
    net.heal();
    const from = net.delivered.length;
    net.tick(1, [A]);
    const toC = net.delivered.slice(from).filter((m): m is Extract<Message, { type: 'app' }> => m.type === 'app' && m.to === C && m.entries.length > 0);
    for (const m of toC) expect(m.entries.length === 1 || entryBytes(m.entries) <= 100).toBe(true);
    expect(toC.map((m) => m.entries.length)).toContain(2);
    expect(net.peer(C).status().lastIndex).toBe(a.status().lastIndex);
    const big = net.delivered.length;
    net.propose(A, 'y'.repeat(150));
    const oversize = net.delivered.slice(big).filter((m): m is Extract<Message, { type: 'app' }> => m.type === 'app' && m.to === B && m.entries.length > 0);
    expect(oversize.map((m) => entryBytes(m.entries))).toEqual([150]);
  });
});

describe('probe state', () => {
  it('Flow control: a probing leader sends one append per heartbeat interval until the follower answers', () => {
    const p = founder(A, [A, B, C]);
    const elected = forceLeader(p);
    expect(ofType(elected.messages, 'app', B)).toHaveLength(1);
    expect(p.status().progress?.get(B)?.state).toBe('probe');
    const sent: Message[] = [];
    for (let i = 0; i < 3; i++) {
      p.propose(`q${i}`);
      sent.push(...p.drain().messages);
    }
    expect(ofType(sent, 'app', B)).toEqual([]);
    p.tick();
    const beat = p.drain();
    expect(ofType(beat.messages, 'app', B)).toEqual([]);
    expect(ofType(beat.messages, 'heartbeat', B)).toHaveLength(1);
    const out = p.stepDrain(heartbeatResp(B, A, 2));
    const probes = ofType(out.messages, 'app', B);
    expect(probes).toHaveLength(1);
    expect([probes[0]!.index, probes[0]!.entries[0]?.index]).toEqual([1, 2]);
  });

  it('Fig.2 Leaders 3.1 + flow control: on a successful AppendEntries the leader updates matchIndex and nextIndex, and probe becomes replicate', () => {
    const p = founder(A, [A, B, C]);
    forceLeader(p);
    p.step(appResp(B, A, 2, 2));
    p.drain();
    expect(p.status().progress?.get(B)).toMatchObject({ state: 'replicate', match: 2, next: 3 });
    expect(p.status().progress?.get(C)).toMatchObject({ state: 'probe', match: 0 });
  });

  it('Flow control: a rejection in replicate state sends the follower back to probe from match + 1', () => {
    const p = replicatingLeader();
    for (const x of ['x', 'y', 'z']) {
      p.propose(x);
      p.drain();
    }
    expect(p.status().progress?.get(B)).toMatchObject({ state: 'replicate', next: 6 });
    const out = p.stepDrain(appResp(B, A, 2, 4, true, 2, 2));
    expect(p.status().progress?.get(B)).toMatchObject({ state: 'probe', match: 2 });
    const retry = ofType(out.messages, 'app', B);
    expect(retry).toHaveLength(1);
    expect([retry[0]!.index, retry[0]!.entries[0]?.index]).toEqual([2, 3]);
  });

  it('Flow control: a stale rejection of an index the follower already matched is ignored in replicate state', () => {
    const p = replicatingLeader();
    p.propose('x');
    p.drain();
    const out = p.stepDrain(appResp(B, A, 2, 2, true, 1, 1));
    expect(p.status().progress?.get(B)).toMatchObject({ state: 'replicate', match: 2 });
    expect(ofType(out.messages, 'app', B)).toEqual([]);
  });

  it('Flow control: reportUnreachable moves a replicating follower to probe', () => {
    const p = replicatingLeader();
    p.node.reportUnreachable(B);
    expect(p.status().progress?.get(B)).toMatchObject({ state: 'probe', match: 2, next: 3 });
    expect(p.status().progress?.get(C)?.state).toBe('replicate');
  });

  it('Flow control: after convergence every follower replicates with match = lastIndex and next = lastIndex + 1', () => {
    const net = Network.of(['a', 'b', 'c']);
    const a = net.elect(A);
    net.propose(A, 'x');
    const last = a.status().lastIndex;
    for (const id of [B, C]) expect(a.status().progress?.get(id)).toMatchObject({ state: 'replicate', match: last, next: last + 1 });
    expect(a.status().progress?.get(A)).toMatchObject({ match: last });
  });
});

describe('snapshot state', () => {
  /** c is behind a's compacted log: a must send it a snapshot. */
  function behindCompaction(): Network {
    const net = Network.of(['a', 'b', 'c']);
    const a = net.elect(A);
    net.isolate(C);
    for (let i = 0; i < 3; i++) net.propose(A, `s${i}`);
    a.storage.createSnapshot(a.status().applied, a.confState, new Uint8Array(0));
    a.storage.compact(a.status().applied);
    net.heal();
    return net;
  }

  const vanishSnapshots = (net: Network): void => {
    net.collect();
    net.queue = net.queue.filter((m) => m.type !== 'snap');
  };

  it('Flow control: nothing else is sent to a follower while its snapshot is in flight', () => {
    const net = behindCompaction();
    const a = net.peer(A);
    a.tick();
    for (let i = 0; i < 4; i++) {
      vanishSnapshots(net);
      net.deliverOnce();
    }
    vanishSnapshots(net);
    expect(a.status().progress?.get(C)).toMatchObject({ state: 'snapshot', pendingSnapshot: 5 });
    const from = net.delivered.length;
    for (let i = 0; i < 5; i++) {
      a.tick();
      a.propose(`more${i}`);
      vanishSnapshots(net);
      net.settle();
    }
    const toC = net.delivered.slice(from).filter((m) => m.to === C);
    expect(toC.filter((m) => m.type === 'app' || m.type === 'snap')).toEqual([]);
    expect(toC.filter((m) => m.type === 'heartbeat').length).toBeGreaterThan(0);
    expect(a.status().progress?.get(C)?.state).toBe('snapshot');
  });

  it('Flow control: reportSnapshot failure returns the follower to probe and a new snapshot is sent; success leads to replicate', () => {
    const net = behindCompaction();
    const a = net.peer(A);
    a.tick();
    for (let i = 0; i < 4; i++) {
      vanishSnapshots(net);
      net.deliverOnce();
    }
    vanishSnapshots(net);
    expect(a.status().progress?.get(C)?.state).toBe('snapshot');
    a.node.reportSnapshot(C, 'failure');
    expect(a.status().progress?.get(C)).toMatchObject({ state: 'probe', pendingSnapshot: 0 });
    net.tick(1, [A]);
    expect(net.delivered.filter((m) => m.type === 'snap' && m.to === C)).toHaveLength(1);
    expect(a.status().progress?.get(C)).toMatchObject({ state: 'replicate', match: a.status().lastIndex });
    expect(payloads(net.peer(C).applied)).toEqual([]);
    expect(net.peer(C).status().applied).toBe(a.status().applied);
  });
});

describe('the cap on uncommitted proposal bytes', () => {
  it('Flow control: proposals beyond maxUncommittedEntriesSize are refused (uncommittedSizeCap); empty entries always pass', () => {
    const p = replicatingLeader({ ...PAPER, maxUncommittedEntriesSize: 100 });
    expect(dropReason(() => p.propose('a'.repeat(60)))).toBeNull();
    expect(dropReason(() => p.propose('b'.repeat(60)))).toBe('uncommittedSizeCap');
    expect(dropReason(() => p.propose('c'.repeat(40)))).toBeNull();
    expect(dropReason(() => p.propose('d'))).toBe('uncommittedSizeCap');
    expect(dropReason(() => p.propose(''))).toBeNull();
    expect(p.status().lastIndex).toBe(5);
  });

  it('Flow control: the first proposal is accepted even if it alone exceeds the cap (one entry always fits)', () => {
    const p = replicatingLeader({ ...PAPER, maxUncommittedEntriesSize: 100 });
    expect(dropReason(() => p.propose('z'.repeat(500)))).toBeNull();
    expect(dropReason(() => p.propose('y'))).toBe('uncommittedSizeCap');
  });

  it('Flow control: committed entries free the cap once handed to the host', () => {
    const p = replicatingLeader({ ...PAPER, maxUncommittedEntriesSize: 100 });
    p.propose('a'.repeat(60));
    p.propose('c'.repeat(40));
    const out = p.drain();
    expect(dropReason(() => p.propose('e'.repeat(60)))).toBe('uncommittedSizeCap');
    ackAll(p, out.messages, [B]);
    expect(payloads(p.drain().committed)).toEqual(['a'.repeat(60), 'c'.repeat(40)]);
    expect(dropReason(() => p.propose('e'.repeat(60)))).toBeNull();
  });

  it('Flow control: a forwarded proposal beyond the cap is dropped silently by the leader', () => {
    const p = replicatingLeader({ ...PAPER, maxUncommittedEntriesSize: 100 });
    p.propose('a'.repeat(90));
    p.drain();
    const data = new TextEncoder().encode('f'.repeat(50));
    const out = p.stepDrain({ type: 'prop', from: B, to: A, term: p.term, entries: [{ type: 'normal', term: tm(0), index: li(0), data }] });
    expect(out.entries).toEqual([]);
    expect(p.status().lastIndex).toBe(3);
  });
});

describe('committed entries per Ready', () => {
  it('Flow control: maxCommittedSizePerReady splits committed entries across Readies (one entry at least)', () => {
    const p = founder(A, [A], { ...PAPER, maxCommittedSizePerReady: 100 });
    forceLeader(p);
    for (let i = 0; i < 5; i++) p.propose(`${i}`.repeat(40));
    p.propose('big'.repeat(50));
    const out = p.drain();
    const sizes = out.readies.map((rd) => rd.committedEntries.length).filter((n) => n > 0);
    expect(sizes).toEqual([2, 2, 1, 1]);
    expect(payloads(out.committed)).toHaveLength(6);
  });
});

describe('fast log backtracking (§5.3, "the follower can include the term of the conflicting entry")', () => {
  it.each([
    ['the follower log is shorter than prevLogIndex', 10, 6, 7, 4],
    ['the follower entry at prevLogIndex has an older term', 6, 5, 6, 4],
    ['the follower conflict lies before a run of its own term', 7, 6, 7, 4],
  ] as const)(
    'Fast backtracking (follower side): %s: the rejection hints the last index <= prevLogIndex whose term is <= prevLogTerm, with that term',
    (_case, index, logTerm, hint, hintTerm) => {
      const p = new Peer(B, storageWithLog([A, B, C], [1, 1, 1, 4, 4, 4, 4]));
      const out = p.stepDrain(app(A, B, 8, index, logTerm, [], 0));
      const r = ofType(out.messages, 'appResp', A)[0]!;
      expect([r.reject, r.index, r.rejectHint, r.logTerm]).toEqual([true, index, hint, hintTerm]);
    },
  );

  it('Fast backtracking (leader side): the leader probes next at its last entry whose term is <= the hinted term', () => {
    const p = new Peer(A, storageWithLog([A, B, C], [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]));
    forceLeader(p);
    const out = p.stepDrain(appResp(B, A, 7, 10, true, 7, 4));
    expect(ofType(out.messages, 'app', B).map((m) => [m.index, m.logTerm])).toEqual([[5, 4]]);
  });
});

describe('commit index propagation to paused followers', () => {
  it('Flow control (etcd: oldPaused / CanBumpCommit): a follower that was paused when the commit index moved learns it in the answer to its acknowledgement, not a heartbeat later', () => {
    const p = founder(A, [A, B, C]);
    const elected = forceLeader(p);
    // b's acknowledgement commits the no-op while c is still paused in probe state...
    ackAll(p, elected.messages, [B]);
    p.drain();
    expect(p.status().committed).toBe(2);
    // ...then c acknowledges: it must be told that index 2 is committed.
    const out = p.stepDrain(appResp(C, A, 2, 2));
    expect(ofType(out.messages, 'app', C).map((m) => m.commit)).toEqual([2]);
  });
});

describe('stale answers must not move a follower progress', () => {
  it('Fig.2 AppendEntries receiver 1 + flow control: the answer to a stale-term append (delivered late) is not taken as an acknowledgement: it must not reset a probing follower to index 1 and trigger a needless snapshot', () => {
    const net = Network.of(['a', 'b', 'c']);
    net.elect(A);
    // a (leader of term 2) sends an append to c that the network delays.
    net.peer(A).propose('x');
    net.collect();
    const delayed = net.queue.filter((m) => m.type === 'app' && m.to === C);
    net.queue = net.queue.filter((m) => !delayed.includes(m));
    net.settle();
    net.elect(B);
    // a wins term 4; its first probe to c is still on its way when the delayed append arrives.
    const a = net.peer(A);
    a.node.campaign();
    net.collect();
    net.deliverOnce((m) => m.type === 'vote');
    net.deliverOnce((m) => m.type === 'voteResp');
    expect([a.role, a.term]).toEqual(['leader', 4]);
    expect(a.status().progress?.get(C)).toMatchObject({ state: 'probe', match: 0 });
    net.queue.push(...delayed);
    const answers = net.deliverOnce((m) => delayed.includes(m));
    expect(answers).toHaveLength(1);
    const stale = net.queue.filter((m) => m.type === 'appResp' && m.from === C);
    expect(stale).toEqual([{ type: 'appResp', from: C, to: A, term: 4, index: 0, reject: false, rejectHint: 0, logTerm: 0 }]);
    net.deliverOnce((m) => stale.includes(m));
    // c holds the whole log up to index 4: nothing justifies going back to index 1 or a snapshot.
    expect(net.queue.filter((m) => m.type === 'snap')).toEqual([]);
    expect(a.status().progress?.get(C)?.next).toBeGreaterThan(1);
  });
});
