import { describe, expect, it } from 'vitest';
import { MemoryStorage, RawNode, logIndex as li, nodeId, term as t, type Ready } from '../../src/raft/index.js';

// With asynchronous writes the host takes the next Ready while the last one is still being
// written. A leader must then count its own copy of an entry only once it is durable: a leader
// plus one follower that holds an entry on disk are a majority of three, a leader whose copy is
// still in flight plus that follower are not (a crash of the leader leaves the entry on one disk).
describe('a leader counts its own copy only once the host reports it durable', () => {
  const [a, b, c] = [nodeId('a'), nodeId('b'), nodeId('c')];

  function leaderOf(voters: readonly ReturnType<typeof nodeId>[]): { raw: RawNode; storage: MemoryStorage } {
    const storage = MemoryStorage.bootstrap(voters);
    const raw = new RawNode({ id: a, storage, rng: { nextInt: () => 0 }, electionTick: 10, heartbeatTick: 1, preVote: false, checkQuorum: false, applied: li(1) });
    raw.campaign();
    for (const peer of voters.filter((v) => v !== a)) raw.step({ type: 'voteResp', from: peer, to: a, term: t(2), reject: false });
    return { raw, storage };
  }

  /** Stages a Ready as the host does: its entries go into storage (a write in flight). */
  function stage(raw: RawNode, storage: MemoryStorage): { rd: Ready; mark: ReturnType<RawNode['advanceBeforeDurable']> } {
    const rd = raw.ready();
    storage.append(rd.entries);
    if (rd.hardState !== null) storage.setHardState(rd.hardState);
    return { rd, mark: raw.advanceBeforeDurable(rd) };
  }

  it('three voters: one follower acknowledgement commits nothing until the leader’s write is durable', () => {
    const { raw, storage } = leaderOf([a, b, c]);
    expect(raw.status().softState.role).toBe('leader');
    const { mark } = stage(raw, storage); // the term-2 no-op at index 2
    expect(mark).toEqual({ index: 2, term: 2, hardStateTerm: 2 });
    raw.step({ type: 'appResp', from: b, to: a, term: t(2), index: li(2), reject: false, rejectHint: li(0), logTerm: t(0) });
    expect(raw.status().committed).toBe(1);
    raw.persisted(mark!);
    expect(raw.status().committed).toBe(2);
    // The new commit index goes out to the followers at once.
    const out = raw.ready().messages.filter((m) => m.type === 'app');
    expect(out.length).toBeGreaterThan(0);
    expect(out.every((m) => m.type === 'app' && m.commit === 2)).toBe(true);
  });

  it('a lone voter leads only once its term is durable, and commits entries when they are', () => {
    const { raw, storage } = leaderOf([a]);
    // It voted for itself in term 2, but that vote is not on disk yet: leading now, it could crash,
    // win term 2 again and write other entries at the same indexes.
    expect(raw.status().softState.role).toBe('candidate');
    const vote = stage(raw, storage);
    expect(vote.mark).toMatchObject({ hardStateTerm: 2 });
    raw.persisted(vote.mark!);
    expect(raw.status().softState.role).toBe('leader');
    const noop = stage(raw, storage);
    expect(raw.status().committed).toBe(1);
    raw.persisted(noop.mark!);
    expect(raw.status().committed).toBe(2);
    raw.advance(raw.ready());
    raw.propose(Uint8Array.of(7));
    const { mark } = stage(raw, storage);
    expect(raw.status().committed).toBe(2);
    raw.persisted(mark!);
    expect(raw.status().committed).toBe(3);
  });

  it('a mark for an entry the log no longer holds counts nothing', () => {
    const { raw, storage } = leaderOf([a, b, c]);
    const { mark } = stage(raw, storage);
    // Same index, another term: not what the write made durable.
    raw.persisted({ ...mark!, term: t(mark!.term + 5) });
    expect(raw.status().progress?.get(a)?.match).toBe(1);
    raw.step({ type: 'appResp', from: b, to: a, term: t(2), index: li(2), reject: false, rejectHint: li(0), logTerm: t(0) });
    expect(raw.status().committed).toBe(1);
  });

  it('a lone voter answers a read only once its term has committed an entry', () => {
    // Restarted with entries 2-3 on disk but commit 1 (a commit index alone is not synced): an
    // earlier incarnation may have acknowledged both, so a read must not be served at index 1.
    const storage = MemoryStorage.bootstrap([a]);
    storage.append([
      { type: 'normal', term: t(1), index: li(2), data: Uint8Array.of(1) },
      { type: 'normal', term: t(1), index: li(3), data: Uint8Array.of(2) },
    ]);
    const raw = new RawNode({ id: a, storage, rng: { nextInt: () => 0 }, electionTick: 10, heartbeatTick: 1, preVote: false, checkQuorum: false, applied: li(1) });
    raw.campaign();
    raw.persisted(stage(raw, storage).mark!);
    expect(raw.status().softState.role).toBe('leader');
    raw.readIndex('r1');
    const noop = stage(raw, storage);
    expect(noop.rd.readStates).toEqual([]);
    raw.persisted(noop.mark!);
    expect(raw.ready().readStates).toEqual([{ index: 4, context: 'r1' }]);
  });
});
