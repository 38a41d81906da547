// Original file: proto/cluster.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Action as _taskraft_cluster_Action, Action__Output as _taskraft_cluster_Action__Output } from '../../taskraft/cluster/Action.js';
import type { ActionReply as _taskraft_cluster_ActionReply, ActionReply__Output as _taskraft_cluster_ActionReply__Output } from '../../taskraft/cluster/ActionReply.js';
import type { DecommissionReply as _taskraft_cluster_DecommissionReply, DecommissionReply__Output as _taskraft_cluster_DecommissionReply__Output } from '../../taskraft/cluster/DecommissionReply.js';
import type { DecommissionRequest as _taskraft_cluster_DecommissionRequest, DecommissionRequest__Output as _taskraft_cluster_DecommissionRequest__Output } from '../../taskraft/cluster/DecommissionRequest.js';
import type { JoinReply as _taskraft_cluster_JoinReply, JoinReply__Output as _taskraft_cluster_JoinReply__Output } from '../../taskraft/cluster/JoinReply.js';
import type { JoinRequest as _taskraft_cluster_JoinRequest, JoinRequest__Output as _taskraft_cluster_JoinRequest__Output } from '../../taskraft/cluster/JoinRequest.js';
import type { NodeReport as _taskraft_cluster_NodeReport, NodeReport__Output as _taskraft_cluster_NodeReport__Output } from '../../taskraft/cluster/NodeReport.js';
import type { ViewReply as _taskraft_cluster_ViewReply, ViewReply__Output as _taskraft_cluster_ViewReply__Output } from '../../taskraft/cluster/ViewReply.js';

export interface ClusterClient extends grpc.Client {
  Act(argument: _taskraft_cluster_Action, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_ActionReply__Output>): grpc.ClientUnaryCall;
  Act(argument: _taskraft_cluster_Action, metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_cluster_ActionReply__Output>): grpc.ClientUnaryCall;
  Act(argument: _taskraft_cluster_Action, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_ActionReply__Output>): grpc.ClientUnaryCall;
  Act(argument: _taskraft_cluster_Action, callback: grpc.requestCallback<_taskraft_cluster_ActionReply__Output>): grpc.ClientUnaryCall;
  act(argument: _taskraft_cluster_Action, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_ActionReply__Output>): grpc.ClientUnaryCall;
  act(argument: _taskraft_cluster_Action, metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_cluster_ActionReply__Output>): grpc.ClientUnaryCall;
  act(argument: _taskraft_cluster_Action, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_ActionReply__Output>): grpc.ClientUnaryCall;
  act(argument: _taskraft_cluster_Action, callback: grpc.requestCallback<_taskraft_cluster_ActionReply__Output>): grpc.ClientUnaryCall;
  
  Decommission(argument: _taskraft_cluster_DecommissionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_DecommissionReply__Output>): grpc.ClientUnaryCall;
  Decommission(argument: _taskraft_cluster_DecommissionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_cluster_DecommissionReply__Output>): grpc.ClientUnaryCall;
  Decommission(argument: _taskraft_cluster_DecommissionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_DecommissionReply__Output>): grpc.ClientUnaryCall;
  Decommission(argument: _taskraft_cluster_DecommissionRequest, callback: grpc.requestCallback<_taskraft_cluster_DecommissionReply__Output>): grpc.ClientUnaryCall;
  decommission(argument: _taskraft_cluster_DecommissionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_DecommissionReply__Output>): grpc.ClientUnaryCall;
  decommission(argument: _taskraft_cluster_DecommissionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_cluster_DecommissionReply__Output>): grpc.ClientUnaryCall;
  decommission(argument: _taskraft_cluster_DecommissionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_DecommissionReply__Output>): grpc.ClientUnaryCall;
  decommission(argument: _taskraft_cluster_DecommissionRequest, callback: grpc.requestCallback<_taskraft_cluster_DecommissionReply__Output>): grpc.ClientUnaryCall;
  
  Join(argument: _taskraft_cluster_JoinRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_JoinReply__Output>): grpc.ClientUnaryCall;
  Join(argument: _taskraft_cluster_JoinRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_cluster_JoinReply__Output>): grpc.ClientUnaryCall;
  Join(argument: _taskraft_cluster_JoinRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_JoinReply__Output>): grpc.ClientUnaryCall;
  Join(argument: _taskraft_cluster_JoinRequest, callback: grpc.requestCallback<_taskraft_cluster_JoinReply__Output>): grpc.ClientUnaryCall;
  join(argument: _taskraft_cluster_JoinRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_JoinReply__Output>): grpc.ClientUnaryCall;
  join(argument: _taskraft_cluster_JoinRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_cluster_JoinReply__Output>): grpc.ClientUnaryCall;
  join(argument: _taskraft_cluster_JoinRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_JoinReply__Output>): grpc.ClientUnaryCall;
  join(argument: _taskraft_cluster_JoinRequest, callback: grpc.requestCallback<_taskraft_cluster_JoinReply__Output>): grpc.ClientUnaryCall;
  
  Report(argument: _taskraft_cluster_NodeReport, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_ViewReply__Output>): grpc.ClientUnaryCall;
  Report(argument: _taskraft_cluster_NodeReport, metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_cluster_ViewReply__Output>): grpc.ClientUnaryCall;
  Report(argument: _taskraft_cluster_NodeReport, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_ViewReply__Output>): grpc.ClientUnaryCall;
  Report(argument: _taskraft_cluster_NodeReport, callback: grpc.requestCallback<_taskraft_cluster_ViewReply__Output>): grpc.ClientUnaryCall;
  report(argument: _taskraft_cluster_NodeReport, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_ViewReply__Output>): grpc.ClientUnaryCall;
  report(argument: _taskraft_cluster_NodeReport, metadata: grpc.Metadata, callback: grpc.requestCallback<_taskraft_cluster_ViewReply__Output>): grpc.ClientUnaryCall;
  report(argument: _taskraft_cluster_NodeReport, options: grpc.CallOptions, callback: grpc.requestCallback<_taskraft_cluster_ViewReply__Output>): grpc.ClientUnaryCall;
  report(argument: _taskraft_cluster_NodeReport, callback: grpc.requestCallback<_taskraft_cluster_ViewReply__Output>): grpc.ClientUnaryCall;
  
}

export interface ClusterHandlers extends grpc.UntypedServiceImplementation {
  Act: grpc.handleUnaryCall<_taskraft_cluster_Action__Output, _taskraft_cluster_ActionReply>;
  
  Decommission: grpc.handleUnaryCall<_taskraft_cluster_DecommissionRequest__Output, _taskraft_cluster_DecommissionReply>;
  
  Join: grpc.handleUnaryCall<_taskraft_cluster_JoinRequest__Output, _taskraft_cluster_JoinReply>;
  
  Report: grpc.handleUnaryCall<_taskraft_cluster_NodeReport__Output, _taskraft_cluster_ViewReply>;
  
}

export interface ClusterDefinition extends grpc.ServiceDefinition {
  Act: MethodDefinition<_taskraft_cluster_Action, _taskraft_cluster_ActionReply, _taskraft_cluster_Action__Output, _taskraft_cluster_ActionReply__Output>
  Decommission: MethodDefinition<_taskraft_cluster_DecommissionRequest, _taskraft_cluster_DecommissionReply, _taskraft_cluster_DecommissionRequest__Output, _taskraft_cluster_DecommissionReply__Output>
  Join: MethodDefinition<_taskraft_cluster_JoinRequest, _taskraft_cluster_JoinReply, _taskraft_cluster_JoinRequest__Output, _taskraft_cluster_JoinReply__Output>
  Report: MethodDefinition<_taskraft_cluster_NodeReport, _taskraft_cluster_ViewReply, _taskraft_cluster_NodeReport__Output, _taskraft_cluster_ViewReply__Output>
}
