import * as grpc from '@grpc/grpc-js';
import type { ActionReply } from '../generated/taskraft/cluster/ActionReply.js';
import type { Action__Output, Action } from '../generated/taskraft/cluster/Action.js';
import type { ClusterClient } from '../generated/taskraft/cluster/Cluster.js';
import type { DecommissionReply } from '../generated/taskraft/cluster/DecommissionReply.js';
import type { DecommissionRequest, DecommissionRequest__Output } from '../generated/taskraft/cluster/DecommissionRequest.js';
import type { JoinReply, JoinReply__Output } from '../generated/taskraft/cluster/JoinReply.js';
import type { JoinRequest, JoinRequest__Output } from '../generated/taskraft/cluster/JoinRequest.js';
import type { NodeReport, NodeReport__Output } from '../generated/taskraft/cluster/NodeReport.js';
import type { ViewReply, ViewReply__Output } from '../generated/taskraft/cluster/ViewReply.js';
import type { NodeId } from '../raft/index.js';
import { loadClusterProto } from './load-proto.js';
import { CHANNEL_OPTIONS, type RaftTransport } from './raft-transport.js';
import { UnaryCalls } from './unary-calls.js';

export type { Action__Output as ClusterActionMessage, JoinRequest__Output as JoinMessage, NodeReport__Output as NodeReportMessage };

/** What a node does with the cluster calls it receives (src/cluster/cluster-agent.ts). */
export interface ClusterRpcHandler {
  join(req: JoinRequest__Output): Promise<JoinReply>;
  report(from: NodeId, req: NodeReport__Output): Promise<ViewReply>;
  act(from: NodeId, req: Action__Output): Promise<ActionReply>;
  decommission(req: DecommissionRequest__Output): Promise<DecommissionReply>;
}

/** The Cluster service (proto/cluster.proto): served beside raft traffic, called by peers. */
export class ClusterRpc {
  private readonly calls: UnaryCalls<ClusterClient>;

  constructor(self: NodeId, clusterId: string, resolve: (peer: NodeId) => string | null) {
    const Client = loadClusterProto().taskraft.cluster.Cluster;
    this.calls = new UnaryCalls(self, clusterId, resolve, (address) => new Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS));
  }

  /** Registers the service on the transport's server; every call's identity is checked first. */
  serve(transport: RaftTransport, handler: ClusterRpcHandler): void {
    transport.addService(loadClusterProto().taskraft.cluster.Cluster.service, {
      Join: this.calls.handler<JoinRequest__Output, JoinReply>((_from, req) => handler.join(req)),
      Report: this.calls.handler<NodeReport__Output, ViewReply>((from, req) => handler.report(from, req)),
      Act: this.calls.handler<Action__Output, ActionReply>((from, req) => handler.act(from, req)),
      Decommission: this.calls.handler<DecommissionRequest__Output, DecommissionReply>((_from, req) => handler.decommission(req)),
    });
  }

  join(peer: NodeId, req: JoinRequest, timeoutMs: number): Promise<JoinReply__Output> {
    return this.calls.call(peer, timeoutMs, (c, md, opts, cb) => c.Join(req, md, opts, cb));
  }

  report(peer: NodeId, req: NodeReport, timeoutMs: number): Promise<ViewReply__Output> {
    return this.calls.call(peer, timeoutMs, (c, md, opts, cb) => c.Report(req, md, opts, cb));
  }

  act(peer: NodeId, req: Action, timeoutMs: number): Promise<ActionReply> {
    return this.calls.call(peer, timeoutMs, (c, md, opts, cb) => c.Act(req, md, opts, cb));
  }

  decommission(peer: NodeId, req: DecommissionRequest, timeoutMs: number): Promise<DecommissionReply> {
    return this.calls.call(peer, timeoutMs, (c, md, opts, cb) => c.Decommission(req, md, opts, cb));
  }

  close(): void {
    this.calls.close();
  }
}
