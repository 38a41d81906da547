import { describe, expect, it } from 'vitest';
import { MetaStateMachine, encodeMetaCommand, type MetaCommand } from '../../src/cluster/meta-state-machine.js';
import { logIndex, term, type NormalEntry } from '../../src/raft/index.js';
import { WriteBatch } from '../../src/storage/write-batch.js';

let index = 1;
const entry = (c: MetaCommand): NormalEntry => ({ type: 'normal', index: logIndex(++index), term: term(1), data: encodeMetaCommand(c) });
const join = (id: string, incarnation: string, at = 1): MetaCommand => ({ type: 'join', id, httpAddr: `h:${id}`, grpcAddr: `g:${id}`, incarnation, at });

describe('meta state machine', () => {
  it('refuses joins before the cluster is initialized, and initializes once', () => {
    const sm = new MetaStateMachine();
    const b = new WriteBatch();
    expect(sm.apply([entry(join('a', 'inc-a'))], b)[0]).toMatchObject({ ok: false, code: 'ERR_NOT_INITIALIZED' });
    sm.apply([entry({ type: 'init', clusterId: 'c1', partitions: 8 }), entry({ type: 'init', clusterId: 'c2', partitions: 99 })], b);
    expect(sm.state()).toMatchObject({ clusterId: 'c1', partitions: 8 });
  });

  it('binds a node ID to its data directory: the same incarnation may rejoin, another is refused', () => {
    const sm = new MetaStateMachine();
    const b = new WriteBatch();
    sm.apply([entry({ type: 'init', clusterId: 'c', partitions: 4 }), entry(join('a', 'inc-a', 5))], b);
    const [again, stranger] = sm.apply([entry({ ...join('a', 'inc-a', 9), httpAddr: 'new:1' } as MetaCommand), entry(join('a', 'inc-other'))], b);
    expect(again).toEqual({ ok: true });
    expect(stranger).toMatchObject({ ok: false, code: 'ERR_NODE_ID_IN_USE' });
    expect(sm.state().nodes).toEqual([{ id: 'a', httpAddr: 'new:1', grpcAddr: 'g:a', incarnation: 'inc-a', state: 'active', joinedAt: 5 }]);
  });

  it('changes node states, refusing unknown nodes', () => {
    const sm = new MetaStateMachine();
    const b = new WriteBatch();
    sm.apply([entry({ type: 'init', clusterId: 'c', partitions: 4 }), entry(join('a', 'inc-a'))], b);
    const [ok, unknown] = sm.apply([entry({ type: 'setState', id: 'a', state: 'decommissioning' }), entry({ type: 'setState', id: 'zz', state: 'removed' })], b);
    expect(ok).toEqual({ ok: true });
    expect(unknown).toMatchObject({ ok: false, code: 'ERR_UNKNOWN_NODE' });
    expect(sm.state().nodes[0]!.state).toBe('decommissioning');
  });

  it('persists its state with every applied batch and restores from a snapshot', () => {
    const sm = new MetaStateMachine();
    const b = new WriteBatch();
    sm.apply([entry({ type: 'init', clusterId: 'c', partitions: 4 }), entry(join('a', 'inc-a')), entry(join('b', 'inc-b'))], b);
    const ops = b.take();
    const last = ops[ops.length - 1]!;
    expect(last.type === 'put' && Buffer.from(last.key).equals(Buffer.from(sm.stateKey()))).toBe(true);
    const copy = new MetaStateMachine();
    copy.restore(sm.snapshot(), new WriteBatch());
    expect(copy.state()).toEqual(sm.state());
    const loaded = new MetaStateMachine();
    loaded.load(last.type === 'put' ? last.value : undefined);
    expect(loaded.state().nodes.map((n) => n.id)).toEqual(['a', 'b']);
  });
});
