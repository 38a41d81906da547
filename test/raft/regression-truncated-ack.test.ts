import { describe, expect, it } from 'vitest';
import { MemoryStorage, RawNode, logIndex as li, nodeId, term as t } from '../../src/raft/index.js';

// Found by the simulator (seed 29): within one batch of input a follower accepted an append from
// the term-43 leader (queueing an acknowledgement of index 328), then an append from the term-44
// leader truncated 327-328. The Ready persisted the truncated log yet still sent "I hold 328" to
// the old leader, which could then count entries this follower no longer had toward a commit.
describe('regression: acknowledgements of entries truncated in the same Ready', () => {
  it('a follower never sends an acknowledgement for entries it no longer holds', () => {
    const [a, b, f] = [nodeId('a'), nodeId('b'), nodeId('f')];
    const storage = MemoryStorage.bootstrap([a, b, f]);
    const node = new RawNode({ id: f, storage, rng: { nextInt: () => 0 }, electionTick: 10, heartbeatTick: 1, applied: li(1) });
    node.step({ type: 'app', from: a, to: f, term: t(5), index: li(1), logTerm: t(1), commit: li(1), entries: [{ type: 'normal', term: t(5), index: li(2), data: Uint8Array.of(1) }, { type: 'normal', term: t(5), index: li(3), data: Uint8Array.of(2) }] });
    node.step({ type: 'app', from: b, to: f, term: t(6), index: li(1), logTerm: t(1), commit: li(1), entries: [{ type: 'normal', term: t(6), index: li(2), data: Uint8Array.of(3) }] });
    const rd = node.ready();
    expect(rd.entries.map((e) => [e.index, e.term])).toEqual([[2, 6]]);
    const acks = rd.messages.filter((m) => m.type === 'appResp' && !m.reject);
    expect(acks.map((m) => [m.to, m.term, m.type === 'appResp' ? m.index : -1])).toEqual([[b, 6, 2]]);
  });
});
