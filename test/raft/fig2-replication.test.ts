import { describe, expect, it } from 'vitest';
import { MemoryStorage, RawNode, logIndex as li, nodeId, term as t, type Entry, type Message } from '../../src/raft/index.js';
import { TestCluster, appliedTexts, data, fixedRng } from './cluster-harness.js';

const [a, b] = [nodeId('a'), nodeId('b')];
const ent = (index: number, term: number, s = `e${index}`): Entry => ({ type: 'normal', index: li(index), term: t(term), data: data(s) });

/** A follower b in term `term` whose log holds `entries` after the bootstrap snapshot at 1. */
function follower(entries: Entry[], term = 2, commit = 1): RawNode {
  const storage = MemoryStorage.bootstrap([a, b, nodeId('c')]);
  storage.append(entries);
  storage.setHardState({ term: t(term), vote: null, commit: li(commit) });
  return new RawNode({ id: b, storage, rng: fixedRng(), electionTick: 10, heartbeatTick: 1, preVote: false, checkQuorum: false, applied: li(1) });
}

const app = (term: number, index: number, logTerm: number, entries: Entry[], commit: number): Message => ({
  type: 'app', from: a, to: b, term: t(term), index: li(index), logTerm: t(logTerm), entries, commit: li(commit),
});

function response(raw: RawNode): Message {
  const msgs = raw.ready().messages;
  expect(msgs).toHaveLength(1);
  return msgs[0]!;
}

describe('Figure 2: AppendEntries receiver', () => {
  it('1. reply false (with the newer term) if term < currentTerm, and the stale leader steps down', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.isolate('a');
    cl.elect('b');
    cl.heal();
    cl.tick(1, ['a']); // a still thinks it leads term 2 and sends a heartbeat...
    // ...b and c answer with term 3, and a steps down.
    expect(cl.raw('a').status().softState.role).toBe('follower');
    expect(cl.raw('a').status().hardState.term).toBe(3);
  });

  it('2. reply false if the log has no entry at prevLogIndex whose term is prevLogTerm', () => {
    const raw = follower([ent(2, 2), ent(3, 2)]);
    raw.step(app(2, 3, 3, [ent(4, 3)], 1)); // term mismatch at 3
    expect(response(raw)).toMatchObject({ type: 'appResp', reject: true, index: 3 });
    const raw2 = follower([ent(2, 2)]);
    raw2.step(app(2, 5, 2, [ent(6, 2)], 1)); // no entry at 5
    expect(response(raw2)).toMatchObject({ type: 'appResp', reject: true, index: 5, rejectHint: 2 });
  });

  it('3. an existing entry that conflicts with a new one is deleted, with all that follow', () => {
    const raw = follower([ent(2, 2), ent(3, 2), ent(4, 2)]);
    raw.step(app(3, 2, 2, [ent(3, 3, 'new')], 1));
    const rd = raw.ready();
    expect(rd.entries.map((e) => [e.index, e.term])).toEqual([[3, 3]]);
    expect(raw.status().lastIndex).toBe(3);
  });

  it('4. append any new entries not already in the log (a duplicate append changes nothing)', () => {
    const raw = follower([ent(2, 2), ent(3, 2)]);
    raw.step(app(2, 1, 1, [ent(2, 2), ent(3, 2)], 1));
    const rd = raw.ready();
    expect(rd.entries).toEqual([]);
    expect(rd.messages).toMatchObject([{ type: 'appResp', reject: false, index: 3 }]);
  });

  it('5. if leaderCommit > commitIndex, commitIndex = min(leaderCommit, index of last new entry)', () => {
    const raw = follower([ent(2, 2), ent(3, 9)], 2);
    // The leader's commit is 10 but it only vouches for the log up to 2: index 3 (term 9, not the
    // leader's) must not be committed.
    raw.step(app(2, 1, 1, [ent(2, 2)], 10));
    expect(raw.status().committed).toBe(2);
  });
});

describe('Figure 2: rules for leaders', () => {
  it('upon election, a leader appends a no-op of its term and sends it to each server (§8)', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.raw('a').campaign();
    cl.hold = true;
    cl.drain();
    cl.hold = false;
    cl.drain();
    const leaderReadies = cl.get('a').readies;
    const noop = leaderReadies.flatMap((r) => r.entries).find((e) => e.term === 2);
    expect(noop).toMatchObject({ type: 'normal', index: 2, term: 2 });
    // Followers learn the new commit index with the next append or heartbeat.
    cl.tick(1);
    for (const m of cl.members.values()) expect(m.applied.map((e) => e.index)).toContain(2);
  });

  it('a client command is appended, replicated, and applied once a majority stores it', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.isolate('c');
    cl.propose('a', 'cmd');
    expect(appliedTexts(cl.get('a'))).toEqual(['cmd']);
    expect(appliedTexts(cl.get('b'))).toEqual(['cmd']);
    expect(appliedTexts(cl.get('c'))).toEqual([]);
  });

  it('without a majority nothing commits', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.isolate('b');
    cl.isolate('c');
    cl.propose('a', 'cmd');
    expect(appliedTexts(cl.get('a'))).toEqual([]);
    expect(cl.raw('a').status().committed).toBe(2);
  });

  it('if last log index >= nextIndex, send entries starting at nextIndex; on rejection back up and retry', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.isolate('c');
    for (const x of ['1', '2', '3', '4']) cl.propose('a', x);
    cl.heal();
    cl.tick(2);
    expect(appliedTexts(cl.get('c'))).toEqual(['1', '2', '3', '4']);
    expect(cl.raw('a').status().progress?.get(nodeId('c'))).toMatchObject({ match: 6, state: 'replicate' });
  });

  it('fast backtracking: a rejection carries a hint that skips a whole conflicting term', () => {
    // b holds a long suffix of term 2 that the term-3 leader does not have.
    const raw = follower([ent(2, 2), ent(3, 2), ent(4, 2), ent(5, 2), ent(6, 2), ent(7, 2)], 3);
    raw.step(app(3, 9, 3, [ent(10, 3)], 1));
    const r = response(raw);
    // The hint points at b's last entry with a term <= 3, so the leader can jump straight there.
    expect(r).toMatchObject({ type: 'appResp', reject: true, index: 9, rejectHint: 7, logTerm: 2 });
  });

  it('§5.4.2 / Figure 8: a leader never commits an entry of an earlier term by counting replicas', () => {
    // a holds x at index 2 from term 2 (never committed) and wins term 4 with c's vote.
    const c = nodeId('c');
    const storage = MemoryStorage.bootstrap([a, b, c]);
    storage.append([ent(2, 2, 'x')]);
    storage.setHardState({ term: t(3), vote: null, commit: li(1) });
    const leader = new RawNode({ id: a, storage, rng: fixedRng(), electionTick: 10, heartbeatTick: 1, preVote: false, checkQuorum: false, applied: li(1) });
    leader.campaign();
    leader.advance(leader.ready());
    leader.step({ type: 'voteResp', from: c, to: a, term: t(4), reject: false });
    expect(leader.status().softState.role).toBe('leader');
    expect(leader.status().lastIndex).toBe(3); // the term-4 no-op
    // Written: only from now does the leader's own copy of the no-op count.
    const written = leader.ready();
    storage.append(written.entries);
    leader.advance(written);
    // c acknowledges x (index 2, term 2) but not yet the no-op: x is on a majority, yet of an old
    // term, so it must not commit by counting.
    leader.step({ type: 'appResp', from: c, to: a, term: t(4), index: li(2), reject: false, rejectHint: li(0), logTerm: t(0) });
    expect(leader.status().committed).toBe(1);
    // Once the no-op (term 4) is on a majority, it commits, and x with it.
    leader.step({ type: 'appResp', from: c, to: a, term: t(4), index: li(3), reject: false, rejectHint: li(0), logTerm: t(0) });
    expect(leader.status().committed).toBe(3);
  });
});
