import * as grpc from '@grpc/grpc-js';
import type { ForwardBatch__Output } from '../generated/taskraft/queue/ForwardBatch.js';
import type { ForwardReplies } from '../generated/taskraft/queue/ForwardReplies.js';
import type { ProposeReply } from '../generated/taskraft/queue/ProposeReply.js';
import type { QueueClient } from '../generated/taskraft/queue/Queue.js';
import type { ReadReply } from '../generated/taskraft/queue/ReadReply.js';
import type { ReadRequest__Output } from '../generated/taskraft/queue/ReadRequest.js';
import type { NodeId } from '../raft/index.js';
import { ForwardStreams } from './forward-streams.js';
import { loadQueueProto } from './load-proto.js';
import { checkIdentity } from './peer-identity.js';
import { CHANNEL_OPTIONS, type RaftTransport } from './raft-transport.js';
import { UnaryCalls } from './unary-calls.js';

export type { ProposeReply, ReadReply };

export interface QueueRpcHandler {
  /** Applies forwarded operations on a partition this node leads (the reply's id is filled in). */
  propose(partition: number, opsJson: string): Promise<Omit<ProposeReply, 'id'>>;
  read(partition: number, taskId: string, linearizable: boolean): Promise<ReadReply>;
}

/** The Queue service (proto/queue.proto): requests forwarded to a partition's leader. */
export class QueueRpc {
  private readonly calls: UnaryCalls<QueueClient>;
  private readonly forwards: ForwardStreams;

  constructor(
    private readonly self: NodeId,
    private readonly clusterId: string,
    resolve: (peer: NodeId) => string | null,
  ) {
    const Client = loadQueueProto().taskraft.queue.Queue;
    const makeClient = (address: string): QueueClient => new Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    this.calls = new UnaryCalls(self, clusterId, resolve, makeClient);
    this.forwards = new ForwardStreams(self, clusterId, resolve, makeClient);
  }

  serve(transport: RaftTransport, handler: QueueRpcHandler): void {
    transport.addService(loadQueueProto().taskraft.queue.Queue.service, {
      Forward: (call: grpc.ServerDuplexStream<ForwardBatch__Output, ForwardReplies>) => this.serveForward(call, handler),
      Read: this.calls.handler<ReadRequest__Output, ReadReply>((_from, req) => handler.read(req.partition, req.taskId, req.linearizable)),
    });
  }

  /** Forwards operations to the partition's leader `peer`; resolves with its answer. */
  propose(peer: NodeId, partition: number, opsJson: string, timeoutMs: number): Promise<ProposeReply> {
    return this.forwards.propose(peer, partition, opsJson, timeoutMs);
  }

  /** Sends the forwards proposed so far at once (see ForwardStreams.flush). */
  flushForwards(): void {
    this.forwards.flush();
  }

  read(peer: NodeId, partition: number, taskId: string, linearizable: boolean, timeoutMs: number): Promise<ReadReply> {
    return this.calls.call(peer, timeoutMs, (c, md, opts, cb) => c.Read({ partition, taskId, linearizable }, md, opts, cb));
  }

  close(): void {
    this.calls.close();
    this.forwards.close();
  }

  /** The receiving side of a peer's forward stream: answers, batched per turn, as they apply. */
  private serveForward(call: grpc.ServerDuplexStream<ForwardBatch__Output, ForwardReplies>, handler: QueueRpcHandler): void {
    const id = checkIdentity(call.metadata, this.clusterId, this.self);
    if (!id.ok) {
      call.emit('error', { code: id.status, details: id.reason });
      return;
    }
    let open = true;
    let ready: ProposeReply[] = [];
    const answer = (reply: ProposeReply): void => {
      if (!open) return;
      ready.push(reply);
      if (ready.length > 1) return;
      setImmediate(() => {
        const replies = ready;
        ready = [];
        if (open) call.write({ replies });
      });
    };
    call.on('data', (batch: ForwardBatch__Output) => {
      for (const req of batch.requests) {
        handler.propose(req.partition, req.opsJson).then(
          (reply) => answer({ ...reply, id: req.id }),
          (e: unknown) => answer({ id: req.id, ok: false, code: (e as { code?: string }).code ?? 'ERR_INTERNAL', message: e instanceof Error ? e.message : String(e) }),
        );
      }
    });
    call.on('end', () => {
      open = false;
      call.end();
    });
    call.on('error', () => {
      open = false;
    });
    call.on('cancelled', () => {
      open = false;
    });
  }
}
