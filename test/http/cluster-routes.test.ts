import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { JoinRefusedError, NoMetaLeaderError, UnknownNodeError } from '../../src/cluster/cluster-agent.js';
import type { ClusterView } from '../../src/cluster/cluster-view.js';
import { buildApp, type ClusterControl } from '../../src/http/app.js';

const view: ClusterView = {
  clusterId: 'c1',
  metaLeader: 'node-1',
  at: 1,
  partitionCount: 1,
  nodes: [],
  partitions: [{ id: 1, voters: ['node-1'], learners: [], leader: 'node-1', term: 2, commit: 3, applied: 3 }],
  meta: { id: 0, voters: ['node-1'], learners: [], leader: 'node-1', term: 2, commit: 3, applied: 3 },
  balanced: true,
};

function app(control: Partial<ClusterControl> = {}): ReturnType<typeof buildApp> {
  const joins: unknown[] = [];
  return buildApp({
    nodeId: 'node-1',
    clusterId: 'c1',
    logger: pino({ level: 'silent' }),
    cluster: {
      view: () => view,
      join: async (req) => {
        joins.push(req);
        return { clusterId: 'c1', viewJson: JSON.stringify(view) };
      },
      decommission: async () => undefined,
      ...control,
    },
  });
}

const joinBody = { nodeId: 'node-2', httpAddr: '127.0.0.1:8081', grpcAddr: '127.0.0.1:9081', incarnation: 'abcdef0123456789' };

describe('cluster routes', () => {
  it('GET /health and GET /cluster', async () => {
    const a = app();
    expect((await a.inject({ url: '/health' })).json()).toEqual({ status: 'ok', nodeId: 'node-1', clusterId: 'c1' });
    const res = await a.inject({ url: '/cluster' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(view);
  });

  it('GET /cluster before any view is a 503 saying why', async () => {
    const res = await app({ view: () => null }).inject({ url: '/cluster' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'ERR_NO_VIEW' });
  });

  it('POST /cluster/join admits with the cluster ID and view', async () => {
    const res = await app().inject({ method: 'POST', url: '/cluster/join', payload: joinBody });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ clusterId: 'c1', view });
  });

  it('rejects malformed joins with 400 and never calls the cluster', async () => {
    let called = false;
    const a = app({
      join: async () => {
        called = true;
        return { clusterId: 'c1', viewJson: '{}' };
      },
    });
    for (const payload of [
      { ...joinBody, nodeId: 'bad id!' },
      { ...joinBody, httpAddr: 'no-port' },
      { ...joinBody, extra: 1 },
      { nodeId: 'node-2' },
      'not json',
    ]) {
      const res = await a.inject({ method: 'POST', url: '/cluster/join', payload, headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toHaveProperty('code');
    }
    expect(called).toBe(false);
  });

  it('maps refusals to stable codes and statuses', async () => {
    const inUse = app({
      join: async () => {
        throw new JoinRefusedError('ERR_NODE_ID_IN_USE', 'node ID "node-2" belongs to another data directory');
      },
    });
    const r1 = await inUse.inject({ method: 'POST', url: '/cluster/join', payload: joinBody });
    expect([r1.statusCode, r1.json().code]).toEqual([409, 'ERR_NODE_ID_IN_USE']);

    const noLeader = app({
      join: async () => {
        throw new NoMetaLeaderError('nobody answered');
      },
    });
    const r2 = await noLeader.inject({ method: 'POST', url: '/cluster/join', payload: joinBody });
    expect([r2.statusCode, r2.json().code]).toEqual([503, 'ERR_NO_META_LEADER']);

    const unknown = app({
      decommission: async (id) => {
        throw new UnknownNodeError(id);
      },
    });
    const r3 = await unknown.inject({ method: 'POST', url: '/cluster/nodes/node-9/decommission' });
    expect([r3.statusCode, r3.json().code]).toEqual([404, 'ERR_UNKNOWN_NODE']);
  });

  it('POST /cluster/nodes/:id/decommission answers 202', async () => {
    const asked: string[] = [];
    const res = await app({
      decommission: async (id) => {
        asked.push(id);
      },
    }).inject({ method: 'POST', url: '/cluster/nodes/node-2/decommission' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ node: 'node-2', state: 'decommissioning' });
    expect(asked).toEqual(['node-2']);
  });

  it('unknown routes are JSON 404s', async () => {
    const res = await app().inject({ url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'ERR_NOT_FOUND' });
  });
});
