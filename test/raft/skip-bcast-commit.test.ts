import { describe, expect, it } from 'vitest';
import { nodeId, type Message } from '../../src/raft/index.js';
import { TestCluster, appliedTexts } from './cluster-harness.js';

/** The messages `name` sent in the Readies it produced from the `from`-th on. */
function sentSince(cl: TestCluster, name: string, from: number): Message[] {
  return cl.get(name).readies.slice(from).flatMap((rd) => rd.messages);
}

describe('skipBcastCommit: a new commit index rides on what goes out anyway', () => {
  it('by default (etcd) the leader sends the new commit index at once, in appends of its own', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    const before = cl.get('a').readies.length;
    cl.propose('a', 'x');
    expect(appliedTexts(cl.get('b'))).toEqual(['x']);
    // Two appends with the entry, then two that carry only the commit index.
    expect(sentSince(cl, 'a', before).filter((m) => m.type === 'app')).toHaveLength(4);
  });

  it('with it, the leader sends no append that carries only the commit index', () => {
    const cl = new TestCluster(['a', 'b', 'c'], { skipBcastCommit: true });
    cl.elect('a');
    const before = cl.get('a').readies.length;
    cl.propose('a', 'x');
    expect(appliedTexts(cl.get('a'))).toEqual(['x']);
    const apps = sentSince(cl, 'a', before).filter((m) => m.type === 'app');
    expect(apps).toHaveLength(2);
    expect(apps.every((m) => m.type === 'app' && m.entries.length === 1)).toBe(true);
    // The followers hold x, but do not know yet that it is committed.
    expect(appliedTexts(cl.get('b'))).toEqual([]);
    expect(cl.get('b').storage.lastIndex()).toBe(cl.get('a').storage.lastIndex());
  });

  it('with it, followers learn the commit index from the next heartbeat', () => {
    const cl = new TestCluster(['a', 'b', 'c'], { skipBcastCommit: true });
    cl.elect('a');
    cl.propose('a', 'x');
    cl.tick(1, ['a']);
    expect(appliedTexts(cl.get('b'))).toEqual(['x']);
    expect(appliedTexts(cl.get('c'))).toEqual(['x']);
  });

  it('with it, followers learn the commit index from the next append', () => {
    const cl = new TestCluster(['a', 'b', 'c'], { skipBcastCommit: true });
    cl.elect('a');
    cl.propose('a', 'x');
    cl.propose('a', 'y');
    // y's append carried x's commit; y's own commit waits for what comes next.
    expect(appliedTexts(cl.get('b'))).toEqual(['x']);
    expect(appliedTexts(cl.get('a'))).toEqual(['x', 'y']);
  });

  it('with it, a committed membership change is still sent at once', () => {
    const cl = new TestCluster(['a', 'b', 'c'], { skipBcastCommit: true });
    cl.elect('a');
    cl.raw('a').proposeConfChange({ type: 'addLearner', nodeId: nodeId('d') });
    cl.drain();
    expect(appliedTexts(cl.get('b'))).toEqual(['cc:addLearner:d']);
    expect(appliedTexts(cl.get('c'))).toEqual(['cc:addLearner:d']);
  });
});
