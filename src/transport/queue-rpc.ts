import * as grpc from '@grpc/grpc-js';
import type { ProposeReply } from '../generated/taskraft/queue/ProposeReply.js';
import type { ProposeRequest__Output } from '../generated/taskraft/queue/ProposeRequest.js';
import type { QueueClient } from '../generated/taskraft/queue/Queue.js';
import type { ReadReply } from '../generated/taskraft/queue/ReadReply.js';
import type { ReadRequest__Output } from '../generated/taskraft/queue/ReadRequest.js';
import type { NodeId } from '../raft/index.js';
import { loadQueueProto } from './load-proto.js';
import type { RaftTransport } from './raft-transport.js';
import { UnaryCalls } from './unary-calls.js';

export type { ProposeReply, ReadReply };

export interface QueueRpcHandler {
  propose(partition: number, opsJson: string): Promise<ProposeReply>;
  read(partition: number, taskId: string, linearizable: boolean): Promise<ReadReply>;
}

/** The Queue service (proto/queue.proto): requests forwarded to a partition's leader. */
export class QueueRpc {
  private readonly calls: UnaryCalls<QueueClient>;

  constructor(self: NodeId, clusterId: string, resolve: (peer: NodeId) => string | null) {
    const Client = loadQueueProto().taskraft.queue.Queue;
    this.calls = new UnaryCalls(self, clusterId, resolve, (address) => new Client(address, grpc.credentials.createInsecure()));
  }

  serve(transport: RaftTransport, handler: QueueRpcHandler): void {
    transport.addService(loadQueueProto().taskraft.queue.Queue.service, {
      Propose: this.calls.handler<ProposeRequest__Output, ProposeReply>((_from, req) => handler.propose(req.partition, req.opsJson)),
      Read: this.calls.handler<ReadRequest__Output, ReadReply>((_from, req) => handler.read(req.partition, req.taskId, req.linearizable)),
    });
  }

  propose(peer: NodeId, partition: number, opsJson: string, timeoutMs: number): Promise<ProposeReply> {
    return this.calls.call(peer, timeoutMs, (c, md, opts, cb) => c.Propose({ partition, opsJson }, md, opts, cb));
  }

  read(peer: NodeId, partition: number, taskId: string, linearizable: boolean, timeoutMs: number): Promise<ReadReply> {
    return this.calls.call(peer, timeoutMs, (c, md, opts, cb) => c.Read({ partition, taskId, linearizable }, md, opts, cb));
  }

  close(): void {
    this.calls.close();
  }
}
