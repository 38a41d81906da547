import { describe, expect, it } from 'vitest';
import { MemoryStorage, ProposalDroppedError, logIndex as li, nodeId } from '../../src/raft/index.js';
import { TestCluster, appliedTexts } from './cluster-harness.js';

const d = nodeId('d');

describe('§6 / dissertation ch. 4: membership changes, one server at a time', () => {
  it('a new node joins as a learner: it receives the log but does not count toward quorum', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.propose('a', 'before');
    cl.add(d, new MemoryStorage());
    cl.raw('a').proposeConfChange({ type: 'addLearner', nodeId: d });
    cl.drain();
    cl.tick(2);
    expect(cl.raw('a').status().confState).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    expect(appliedTexts(cl.get('d'))).toContain('before');
    // With b and c cut off, a and the learner d are no majority: nothing commits.
    cl.isolate('b');
    cl.isolate('c');
    const before = cl.raw('a').status().committed;
    cl.propose('a', 'needs-quorum');
    expect(cl.raw('a').status().committed).toBe(before);
  });

  it('a learner never campaigns, however long it hears nothing', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.add(d, new MemoryStorage());
    cl.raw('a').proposeConfChange({ type: 'addLearner', nodeId: d });
    cl.drain();
    cl.tick(2);
    cl.isolate('d');
    cl.tick(50, ['d']);
    expect(cl.raw('d').status().softState.role).toBe('follower');
    expect(cl.raw('d').status().hardState.term).toBe(2);
  });

  it('a promoted learner votes and counts toward quorum', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.add(d, new MemoryStorage());
    cl.raw('a').proposeConfChange({ type: 'addLearner', nodeId: d });
    cl.drain();
    cl.tick(2);
    cl.raw('a').proposeConfChange({ type: 'addVoter', nodeId: d });
    cl.drain();
    expect(cl.raw('a').status().confState).toEqual({ voters: ['a', 'b', 'c', 'd'], learners: [] });
    // 4 voters: a majority is 3. a, b and d commit without c.
    cl.isolate('c');
    cl.propose('a', 'with-d');
    expect(appliedTexts(cl.get('a'))).toContain('with-d');
  });

  it('a leader refuses a second membership change while an earlier one is not yet applied', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.isolate('b');
    cl.isolate('c');
    cl.raw('a').proposeConfChange({ type: 'addLearner', nodeId: d });
    expect(() => cl.raw('a').proposeConfChange({ type: 'removeNode', nodeId: nodeId('c') })).toThrow(ProposalDroppedError);
  });

  it('a new leader refuses membership changes until its predecessor entries are applied', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.raw('a').campaign();
    cl.hold = true;
    cl.drain();
    // a just became leader (or is about to): until its no-op commits and applies, no change.
    cl.hold = false;
    if (cl.raw('a').status().softState.role === 'leader') {
      expect(() => cl.raw('a').proposeConfChange({ type: 'removeNode', nodeId: nodeId('c') })).toThrow(ProposalDroppedError);
    }
    cl.drain();
    expect(() => cl.raw('a').proposeConfChange({ type: 'removeNode', nodeId: nodeId('c') })).not.toThrow();
  });

  it('removing a voter shrinks the quorum; a removed leader steps down', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.raw('a').proposeConfChange({ type: 'removeNode', nodeId: nodeId('c') });
    cl.drain();
    cl.isolate('c');
    cl.propose('a', 'two-voters');
    expect(appliedTexts(cl.get('b'))).toContain('two-voters');
    cl.raw('a').proposeConfChange({ type: 'removeNode', nodeId: nodeId('a') });
    cl.drain();
    expect(cl.raw('a').status().softState.role).toBe('follower');
    cl.tick(30);
    expect(cl.raw('b').status().softState.role).toBe('leader');
  });
});

describe('§7: log compaction and InstallSnapshot', () => {
  it('a follower behind the compacted log gets a snapshot and resumes replication after it', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.isolate('c');
    for (let i = 0; i < 10; i++) cl.propose('a', `x${i}`);
    const leader = cl.get('a');
    const applied = leader.raw.status().applied;
    leader.storage.createSnapshot(applied, leader.raw.status().confState, new TextEncoder().encode('state'));
    leader.storage.compact(applied);
    cl.heal();
    cl.tick(3);
    const c = cl.get('c');
    expect(c.storage.snapshot().metadata.index).toBe(applied);
    expect(new TextDecoder().decode(c.storage.snapshot().data)).toBe('state');
    cl.propose('a', 'after');
    expect(appliedTexts(c)).toEqual(['after']);
    expect(cl.raw('a').status().progress?.get(nodeId('c'))).toMatchObject({ state: 'replicate' });
  });

  it('a snapshot whose last entry the follower already holds keeps the follower log (rule 6)', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    for (let i = 0; i < 3; i++) cl.propose('a', `y${i}`);
    const b = cl.get('b');
    const st = cl.raw('a').status();
    const before = b.storage.lastIndex();
    b.raw.step({
      type: 'snap',
      from: nodeId('a'),
      to: b.id,
      term: st.hardState.term,
      snapshot: { metadata: { index: li(3), term: st.hardState.term, confState: st.confState }, data: new Uint8Array(0) },
    });
    cl.drain();
    expect(b.storage.lastIndex()).toBe(before);
    expect(b.storage.firstIndex()).toBe(2);
  });

  it('a snapshot older than the commit index is ignored', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.propose('a', 'z');
    const b = cl.get('b');
    const st = cl.raw('a').status();
    b.raw.step({
      type: 'snap',
      from: nodeId('a'),
      to: b.id,
      term: st.hardState.term,
      snapshot: { metadata: { index: li(1), term: st.hardState.term, confState: st.confState }, data: new Uint8Array(0) },
    });
    const rd = b.raw.ready();
    expect(rd.snapshot).toBeNull();
    expect(rd.messages).toMatchObject([{ type: 'appResp', reject: false, index: b.raw.status().committed }]);
  });
});
