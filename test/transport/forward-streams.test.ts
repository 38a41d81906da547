import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeId } from '../../src/raft/index.js';
import { QueueRpc, type QueueRpcHandler } from '../../src/transport/queue-rpc.js';
import { RaftTransport } from '../../src/transport/raft-transport.js';

const logger = pino({ level: 'silent' });
const SERVER = nodeId('leader');
const CLIENT = nodeId('follower');
const CLUSTER = 'forward-test';

/** A real gRPC server serving the Queue service with `handler` on `port` (0: any). */
async function serve(handler: QueueRpcHandler, port = 0): Promise<{ port: number; stop: () => Promise<void> }> {
  const transport = new RaftTransport({
    self: SERVER,
    clusterId: CLUSTER,
    listen: `127.0.0.1:${port}`,
    resolve: () => null,
    logger,
    handler: { onFrame: () => undefined, onUnreachable: () => undefined, onSnapshotStatus: () => undefined },
  });
  const rpc = new QueueRpc(SERVER, CLUSTER, () => null);
  rpc.serve(transport, handler);
  const bound = await transport.start();
  let stopped = false;
  return {
    port: bound,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      rpc.close();
      await transport.stop();
    },
  };
}

/** A server and a client pointed at it. */
async function pair(handler: QueueRpcHandler, clientCluster = CLUSTER): Promise<{ client: QueueRpc; port: number; stopServer: () => Promise<void>; close: () => Promise<void> }> {
  const server = await serve(handler);
  const client = new QueueRpc(CLIENT, clientCluster, () => `127.0.0.1:${server.port}`);
  return { client, port: server.port, stopServer: server.stop, close: async () => (client.close(), await server.stop()) };
}

const opened: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const p of opened.splice(0)) await p.close();
});

const noReads: QueueRpcHandler['read'] = () => Promise.reject(new Error('not used'));

describe('proposal forwarding over one stream per peer', () => {
  it('matches every answer to its proposal, whatever order the leader answers in', async () => {
    const seen: number[] = [];
    const p = await pair({
      // Later proposals are answered first: ids, not arrival order, must pair them up.
      propose: async (partition, opsJson) => {
        seen.push(partition);
        await new Promise((r) => setTimeout(r, 200 - partition));
        return { ok: true, resultsJson: JSON.stringify({ partition, ops: JSON.parse(opsJson) as unknown }) };
      },
      read: noReads,
    });
    opened.push(p);
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => p.client.propose(SERVER, i + 1, JSON.stringify([i]), 5000)));
    expect(replies.map((r) => JSON.parse(r.resultsJson ?? '') as unknown)).toEqual(Array.from({ length: 100 }, (_, i) => ({ partition: i + 1, ops: [i] })));
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('passes a refusal through with its code, and a handler failure as an answer', async () => {
    const p = await pair({
      propose: async (partition) => {
        if (partition === 1) return { ok: false, code: 'ERR_NOT_LEADER', message: 'moved', leaderHint: 'node-3' };
        throw Object.assign(new Error('disk on fire'), { code: 'ERR_WRITE_FAILED' });
      },
      read: noReads,
    });
    opened.push(p);
    await expect(p.client.propose(SERVER, 1, '[]', 5000)).resolves.toMatchObject({ ok: false, code: 'ERR_NOT_LEADER', leaderHint: 'node-3' });
    await expect(p.client.propose(SERVER, 2, '[]', 5000)).resolves.toMatchObject({ ok: false, code: 'ERR_WRITE_FAILED', message: 'disk on fire' });
  });

  it('fails a proposal the leader never answers once its deadline passes', async () => {
    const p = await pair({ propose: () => new Promise(() => undefined), read: noReads });
    opened.push(p);
    const started = Date.now();
    await expect(p.client.propose(SERVER, 1, '[]', 300)).rejects.toMatchObject({ code: 'ERR_PEER_CALL', status: grpc.status.DEADLINE_EXCEEDED });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('fails what waits on a stream when the peer goes away, and reaches it again once it is back', async () => {
    let release: () => void = () => undefined;
    const handler: QueueRpcHandler = {
      propose: async (partition) => {
        if (partition === 1) await new Promise<void>((r) => (release = r));
        return { ok: true, resultsJson: '[]' };
      },
      read: noReads,
    };
    const p = await pair(handler);
    opened.push(p);
    await expect(p.client.propose(SERVER, 2, '[]', 5000)).resolves.toMatchObject({ ok: true });
    const stuck = p.client.propose(SERVER, 1, '[]', 10_000);
    await new Promise((r) => setTimeout(r, 100));
    const stopping = p.stopServer();
    await expect(stuck).rejects.toMatchObject({ code: 'ERR_PEER_CALL' });
    release();
    await stopping;
    // Nothing listens any more: a proposal fails fast instead of waiting for its deadline.
    const started = Date.now();
    await expect(p.client.propose(SERVER, 2, '[]', 10_000)).rejects.toMatchObject({ code: 'ERR_PEER_CALL' });
    expect(Date.now() - started).toBeLessThan(5000);
    // The peer restarts on the same address: within the reconnect backoff, proposals reach it.
    const again = await serve(handler, p.port);
    opened.push({ close: again.stop });
    const deadline = Date.now() + 8000;
    let reply = null;
    while (reply === null && Date.now() < deadline) {
      reply = await p.client.propose(SERVER, 2, '[]', 2000).catch(() => null);
      if (reply === null) await new Promise((r) => setTimeout(r, 100));
    }
    expect(reply).toMatchObject({ ok: true });
  });

  it('refuses a stream from another cluster before handling anything', async () => {
    let handled = 0;
    const p = await pair({ propose: async () => (handled++, { ok: true, resultsJson: '[]' }), read: noReads }, 'another-cluster');
    opened.push(p);
    await expect(p.client.propose(SERVER, 1, '[]', 5000)).rejects.toMatchObject({ status: grpc.status.PERMISSION_DENIED });
    expect(handled).toBe(0);
  });
});
