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
import { checkIdentity, identityMetadata } from './peer-identity.js';
import type { RaftTransport } from './raft-transport.js';

export type { Action__Output as ClusterActionMessage, JoinRequest__Output as JoinMessage, NodeReport__Output as NodeReportMessage };

/** What a node does with the cluster calls it receives (src/cluster/cluster-agent.ts). */
export interface ClusterRpcHandler {
  join(req: JoinRequest__Output): Promise<JoinReply>;
  report(from: NodeId, req: NodeReport__Output): Promise<ViewReply>;
  act(from: NodeId, req: Action__Output): Promise<ActionReply>;
  decommission(req: DecommissionRequest__Output): Promise<DecommissionReply>;
}

/** A cluster call answered with an error status (refused identity, not the meta leader, ...). */
export class ClusterRpcError extends Error {
  readonly code = 'ERR_CLUSTER_RPC';
  constructor(
    readonly peer: string,
    readonly status: grpc.status,
    message: string,
  ) {
    super(`cluster call to ${peer} failed: ${message}`);
  }
}

/** The Cluster service (proto/cluster.proto): served beside raft traffic, called by peers. */
export class ClusterRpc {
  private readonly clients = new Map<NodeId, { address: string; client: ClusterClient }>();

  constructor(
    private readonly self: NodeId,
    private readonly clusterId: string,
    private readonly resolve: (peer: NodeId) => string | null,
  ) {}

  /** Registers the service on the transport's server; every call's identity is checked first. */
  serve(transport: RaftTransport, handler: ClusterRpcHandler): void {
    const unary =
      <Req, Res>(fn: (from: NodeId, req: Req) => Promise<Res>) =>
      (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>): void => {
        const id = checkIdentity(call.metadata, this.clusterId, this.self);
        if (!id.ok) {
          cb({ code: id.status, details: id.reason });
          return;
        }
        fn(id.from, call.request).then(
          (res) => cb(null, res),
          (e: unknown) => cb({ code: grpc.status.UNAVAILABLE, details: e instanceof Error ? `${(e as { code?: string }).code ?? 'ERR'}: ${e.message}` : String(e) }),
        );
      };
    const service = loadClusterProto().taskraft.cluster.Cluster.service;
    transport.addService(service, {
      Join: unary<JoinRequest__Output, JoinReply>((_from, req) => handler.join(req)),
      Report: unary<NodeReport__Output, ViewReply>((from, req) => handler.report(from, req)),
      Act: unary<Action__Output, ActionReply>((from, req) => handler.act(from, req)),
      Decommission: unary<DecommissionRequest__Output, DecommissionReply>((_from, req) => handler.decommission(req)),
    });
  }

  join(peer: NodeId, req: JoinRequest, timeoutMs: number): Promise<JoinReply__Output> {
    return this.call(peer, timeoutMs, (c, md, opts, cb) => c.Join(req, md, opts, cb));
  }

  report(peer: NodeId, req: NodeReport, timeoutMs: number): Promise<ViewReply__Output> {
    return this.call(peer, timeoutMs, (c, md, opts, cb) => c.Report(req, md, opts, cb));
  }

  act(peer: NodeId, req: Action, timeoutMs: number): Promise<ActionReply> {
    return this.call(peer, timeoutMs, (c, md, opts, cb) => c.Act(req, md, opts, cb));
  }

  decommission(peer: NodeId, req: DecommissionRequest, timeoutMs: number): Promise<DecommissionReply> {
    return this.call(peer, timeoutMs, (c, md, opts, cb) => c.Decommission(req, md, opts, cb));
  }

  close(): void {
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }

  private call<T>(
    peer: NodeId,
    timeoutMs: number,
    invoke: (c: ClusterClient, md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<T>) => void,
  ): Promise<T> {
    const client = this.client(peer);
    if (client === null) return Promise.reject(new ClusterRpcError(peer, grpc.status.UNAVAILABLE, 'address unknown'));
    return new Promise<T>((resolve, reject) => {
      invoke(client, identityMetadata(this.clusterId, this.self, peer), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err !== null || res === undefined) reject(new ClusterRpcError(peer, err?.code ?? grpc.status.UNKNOWN, err?.details ?? 'no reply'));
        else resolve(res);
      });
    });
  }

  private client(peer: NodeId): ClusterClient | null {
    const address = this.resolve(peer);
    if (address === null) return null;
    const known = this.clients.get(peer);
    if (known !== undefined && known.address === address) return known.client;
    known?.client.close();
    const Client = loadClusterProto().taskraft.cluster.Cluster;
    const client = new Client(address, grpc.credentials.createInsecure());
    this.clients.set(peer, { address, client });
    return client;
  }
}

