import { describe, expect, it } from 'vitest';
import { ProposalDroppedError, nodeId, type Message } from '../../src/raft/index.js';
import { TestCluster, data } from './cluster-harness.js';

const c = nodeId('c');
const appsTo = (msgs: readonly Message[], to: string): Extract<Message, { type: 'app' }>[] =>
  msgs.filter((m): m is Extract<Message, { type: 'app' }> => m.type === 'app' && m.to === nodeId(to));

describe('flow control', () => {
  it('replicate state: at most maxInflightMsgs unacknowledged appends per follower', () => {
    const cl = new TestCluster(['a', 'b', 'c'], { maxInflightMsgs: 3 });
    cl.elect('a');
    cl.hold = true;
    for (let i = 0; i < 10; i++) {
      cl.raw('a').propose(data(`p${i}`));
      cl.drain(); // one Ready per proposal: each would be its own append if the window allowed
    }
    expect(appsTo(cl.pending, 'c')).toHaveLength(3);
    cl.hold = false;
    cl.drain();
    expect(cl.raw('a').status().progress?.get(c)?.match).toBe(12);
  });

  it('maxSizePerMsg caps the bytes of entries in one append (one entry always fits)', () => {
    const cl = new TestCluster(['a', 'b', 'c'], { maxSizePerMsg: 100 });
    cl.elect('a');
    cl.isolate('c');
    for (let i = 0; i < 10; i++) cl.propose('a', 'x'.repeat(40));
    cl.heal();
    cl.hold = true;
    cl.tick(1);
    cl.drain();
    for (const m of appsTo(cl.pending, 'c')) {
      const bytes = m.entries.reduce((n, e) => n + (e.type === 'normal' ? e.data.byteLength : 0), 0);
      expect(m.entries.length === 1 || bytes <= 100).toBe(true);
    }
    cl.hold = false;
    cl.tick(3);
    expect(cl.raw('c').status().lastIndex).toBe(12);
  });

  it('probe state: one append per heartbeat interval until the follower answers', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.isolate('c');
    cl.raw('a').reportUnreachable(c);
    expect(cl.raw('a').status().progress?.get(c)?.state).toBe('probe');
    cl.hold = true;
    for (let i = 0; i < 5; i++) cl.raw('a').propose(data(`q${i}`));
    cl.drain();
    expect(appsTo(cl.pending, 'c').length).toBeLessThanOrEqual(1);
  });

  it('snapshot state: nothing else is sent until the snapshot is reported, then replication resumes', () => {
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.isolate('c');
    for (let i = 0; i < 5; i++) cl.propose('a', `s${i}`);
    const leader = cl.get('a');
    const applied = leader.raw.status().applied;
    leader.storage.createSnapshot(applied, leader.raw.status().confState, new Uint8Array(0));
    leader.storage.compact(applied);
    cl.heal();
    // Lose the snapshot in flight, without a report: the leader stays in snapshot state.
    cl.filter = (m) => m.type !== 'snap';
    cl.tick(3);
    expect(cl.raw('a').status().progress?.get(c)?.state).toBe('snapshot');
    // The transport reports the failure: the leader probes again and sends a new snapshot.
    cl.raw('a').reportSnapshot(c, 'failure');
    cl.heal();
    cl.tick(3);
    expect(cl.raw('a').status().progress?.get(c)?.state).toBe('replicate');
    expect(cl.raw('c').status().applied).toBe(cl.raw('a').status().applied);
  });

  it('a full replicate window whose appends were lost recovers on the next heartbeat response', () => {
    const cl = new TestCluster(['a', 'b', 'c'], { maxInflightMsgs: 2 });
    cl.elect('a');
    cl.filter = (m) => !(m.type === 'app' && m.to === c);
    for (let i = 0; i < 6; i++) cl.propose('a', `l${i}`);
    cl.heal();
    cl.tick(3);
    expect(cl.raw('c').status().lastIndex).toBe(8);
  });

  it('the uncommitted-bytes cap refuses proposals beyond it, and frees up as entries commit', () => {
    const cl = new TestCluster(['a', 'b', 'c'], { maxUncommittedEntriesSize: 100 });
    cl.elect('a');
    cl.isolate('b');
    cl.isolate('c');
    cl.raw('a').propose(data('x'.repeat(60)));
    expect(() => cl.raw('a').propose(data('y'.repeat(60)))).toThrow(ProposalDroppedError);
    cl.heal();
    cl.tick(2);
    expect(() => cl.raw('a').propose(data('z'.repeat(60)))).not.toThrow();
  });

  it('snapshot state ends when the follower acknowledges the snapshot, even if the log moved past it', () => {
    // Found in review: the leader compacted past a snapshot still in flight; the follower installed
    // the old snapshot and acknowledged it; without a transport report the leader stayed paused.
    const cl = new TestCluster(['a', 'b', 'c']);
    cl.elect('a');
    cl.isolate('c');
    for (let i = 0; i < 5; i++) cl.propose('a', `s${i}`);
    const leader = cl.get('a');
    const snapAt = leader.raw.status().applied;
    leader.storage.createSnapshot(snapAt, leader.raw.status().confState, new Uint8Array(0));
    leader.storage.compact(snapAt);
    // The snapshot to c is captured in flight, not delivered and not reported.
    const held: Message[] = [];
    cl.filter = (m) => {
      if (m.type === 'snap' && m.to === c) {
        held.push(m);
        return false;
      }
      return true;
    };
    cl.tick(3);
    expect(held.length).toBeGreaterThan(0);
    // The leader moves on and compacts past the snapshot in flight.
    for (let i = 0; i < 5; i++) cl.propose('a', `t${i}`);
    const later = leader.raw.status().applied;
    leader.storage.createSnapshot(later, leader.raw.status().confState, new Uint8Array(0));
    leader.storage.compact(later);
    // Now the old snapshot arrives (still no report) and the network heals for everything else.
    cl.heal();
    cl.filter = () => true;
    cl.raw('c').step(held[0]!);
    cl.drain();
    cl.tick(5);
    expect(cl.raw('c').status().applied).toBe(cl.raw('a').status().applied);
    expect(cl.raw('a').status().progress?.get(c)?.state).toBe('replicate');
  });
});
