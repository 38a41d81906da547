import { describe, expect, it } from 'vitest';
import { MemoryStorage, logIndex as li, nodeId, term as t, type Entry, type LogIndex, type NodeId, type Term } from '../../src/raft/index.js';
import { SafetyChecker, Violation, type NodeView } from './checker.js';
import { History } from './history.js';
import { runSeed } from './run-seed.js';
import { commandData, type ApplyEvent } from './sim-node.js';

// A checker that cannot fail proves nothing: each one is fed a history that breaks its rule.

const a = nodeId('a');
const b = nodeId('b');
const e = (index: number, term: number, id: string): Entry => ({ type: 'normal', index: li(index), term: t(term), data: commandData(id) });
const applyEvent = (node: NodeId, index: number, term: number, id: string, incarnation = 1): ApplyEvent => ({
  node,
  incarnation,
  entry: e(index, term, id),
  id,
});
const storageWith = (entries: Entry[], hs?: { term: number; vote: NodeId | null }): MemoryStorage => {
  const s = new MemoryStorage();
  s.append(entries);
  if (hs !== undefined) s.setHardState({ term: t(hs.term), vote: hs.vote, commit: li(0) });
  return s;
};
const view = (id: NodeId, storage: MemoryStorage, role: string | null, term: number, committed: number | null = null): NodeView => ({
  id,
  storage,
  role,
  term: t(term) as Term,
  lastIndex: storage.lastIndex() as LogIndex,
  committed: committed === null ? null : li(committed),
});

describe('simulation checkers fire on violating histories', () => {
  it('Election Safety: two leaders in one term', () => {
    const c = new SafetyChecker();
    c.afterStep([view(a, storageWith([]), 'leader', 3)]);
    expect(() => c.afterStep([view(b, storageWith([]), 'leader', 3)])).toThrow(/Election Safety/);
  });

  it('State Machine Safety: different entries applied at one index', () => {
    const c = new SafetyChecker();
    c.onApply(applyEvent(a, 5, 2, 'p1'));
    expect(() => c.onApply(applyEvent(b, 5, 2, 'p2'))).toThrow(/State Machine Safety/);
    expect(() => c.onApply(applyEvent(b, 5, 2, 'p1'))).not.toThrow();
  });

  it('Leader Completeness: a leader without a committed entry', () => {
    const c = new SafetyChecker();
    c.onApply(applyEvent(a, 1, 1, 'p1'));
    c.onApply(applyEvent(a, 2, 1, 'p2'));
    expect(() => c.afterStep([view(b, storageWith([e(1, 1, 'p1')]), 'leader', 2)])).toThrow(/Leader Completeness/);
  });

  it('Leader Append-Only: a leader rewriting its log', () => {
    const c = new SafetyChecker();
    const s = storageWith([e(1, 1, 'x'), e(2, 2, 'y')]);
    c.afterStep([view(a, s, 'leader', 2)]);
    s.append([e(2, 1, 'z')]);
    expect(() => c.afterStep([view(a, s, 'leader', 2)])).toThrow(/Leader Append-Only/);
  });

  it('Leader commit rule: a leader moving its commit index onto an older-term entry', () => {
    const c = new SafetyChecker();
    const s = storageWith([e(1, 1, 'x'), e(2, 2, 'y'), e(3, 4, 'noop')]);
    c.afterStep([view(a, s, 'leader', 4, 1)]);
    expect(() => c.afterStep([view(a, s, 'leader', 4, 2)])).toThrow(/current-term/);
    const ok = new SafetyChecker();
    ok.afterStep([view(a, s, 'leader', 4, 1)]);
    expect(() => ok.afterStep([view(a, s, 'leader', 4, 3)])).not.toThrow();
  });

  it('Log Matching: same index and term, different history before it', () => {
    const c = new SafetyChecker();
    const x = storageWith([e(1, 1, 'p1'), e(2, 2, 'p2')]);
    const y = storageWith([e(1, 1, 'p9'), e(2, 2, 'p2')]);
    expect(() => c.checkLogMatching([view(a, x, null, 2), view(b, y, null, 2)])).toThrow(/Log Matching/);
  });

  it('Persist before responding: a vote granted that is not on disk', () => {
    const c = new SafetyChecker();
    const s = storageWith([], { term: 2, vote: null });
    expect(() =>
      c.onPersistedSend(a, s, [{ type: 'voteResp', from: a, to: b, term: t(2), reject: false }]),
    ).toThrow(/Persist before responding/);
    const ok = storageWith([], { term: 2, vote: b });
    expect(() => c.onPersistedSend(a, ok, [{ type: 'voteResp', from: a, to: b, term: t(2), reject: false }])).not.toThrow();
  });

  it('Persist before responding: an append acknowledged beyond the durable log', () => {
    const c = new SafetyChecker();
    const s = storageWith([e(1, 1, 'p1')], { term: 1, vote: null });
    expect(() =>
      c.onPersistedSend(a, s, [{ type: 'appResp', from: a, to: b, term: t(1), index: li(3), reject: false, rejectHint: li(0), logTerm: t(0) }]),
    ).toThrow(/Persist before responding/);
  });

  it('Linearizable reads: a read index behind an acknowledged write', () => {
    const h = new History();
    h.propose('p1', a, 1, 0);
    h.onApply(applyEvent(a, 7, 1, 'p1'), 1);
    h.read('r1', b, 1, 2);
    expect(() => h.onReadState(b, 1, 'r1', li(6))).toThrow(Violation);
  });

  it('No acknowledged write lost: an acknowledged proposal missing at the end', () => {
    const h = new History();
    h.propose('p1', a, 1, 0);
    h.onApply(applyEvent(a, 3, 1, 'p1'), 1);
    expect(() => h.checkNoAckedLoss(new Map([[b, ['p0']]]))).toThrow(/acknowledged/);
    // Applied by a different incarnation (a restarted process replaying its log): not an ack.
    const h2 = new History();
    h2.propose('p1', a, 1, 0);
    h2.onApply(applyEvent(a, 3, 1, 'p1', 2), 1);
    expect(() => h2.checkNoAckedLoss(new Map([[b, []]]))).not.toThrow();
  });
});

describe('simulation determinism', () => {
  it('the same seed replays the same run exactly', () => {
    const x = runSeed({ seed: 4242, steps: 600, verbose: true });
    const y = runSeed({ seed: 4242, steps: 600, verbose: true });
    expect(y.stats).toEqual(x.stats);
    expect(y.trace).toEqual(x.trace);
    const z = runSeed({ seed: 4243, steps: 600 });
    expect(z.stats).not.toEqual(x.stats);
  });
});
