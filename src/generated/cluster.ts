import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Action as _taskraft_cluster_Action, Action__Output as _taskraft_cluster_Action__Output } from './taskraft/cluster/Action.js';
import type { ActionReply as _taskraft_cluster_ActionReply, ActionReply__Output as _taskraft_cluster_ActionReply__Output } from './taskraft/cluster/ActionReply.js';
import type { ClusterClient as _taskraft_cluster_ClusterClient, ClusterDefinition as _taskraft_cluster_ClusterDefinition } from './taskraft/cluster/Cluster.js';
import type { DecommissionReply as _taskraft_cluster_DecommissionReply, DecommissionReply__Output as _taskraft_cluster_DecommissionReply__Output } from './taskraft/cluster/DecommissionReply.js';
import type { DecommissionRequest as _taskraft_cluster_DecommissionRequest, DecommissionRequest__Output as _taskraft_cluster_DecommissionRequest__Output } from './taskraft/cluster/DecommissionRequest.js';
import type { GroupReport as _taskraft_cluster_GroupReport, GroupReport__Output as _taskraft_cluster_GroupReport__Output } from './taskraft/cluster/GroupReport.js';
import type { JoinReply as _taskraft_cluster_JoinReply, JoinReply__Output as _taskraft_cluster_JoinReply__Output } from './taskraft/cluster/JoinReply.js';
import type { JoinRequest as _taskraft_cluster_JoinRequest, JoinRequest__Output as _taskraft_cluster_JoinRequest__Output } from './taskraft/cluster/JoinRequest.js';
import type { NodeReport as _taskraft_cluster_NodeReport, NodeReport__Output as _taskraft_cluster_NodeReport__Output } from './taskraft/cluster/NodeReport.js';
import type { PeerProgress as _taskraft_cluster_PeerProgress, PeerProgress__Output as _taskraft_cluster_PeerProgress__Output } from './taskraft/cluster/PeerProgress.js';
import type { ViewReply as _taskraft_cluster_ViewReply, ViewReply__Output as _taskraft_cluster_ViewReply__Output } from './taskraft/cluster/ViewReply.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  taskraft: {
    cluster: {
      Action: MessageTypeDefinition<_taskraft_cluster_Action, _taskraft_cluster_Action__Output>
      ActionReply: MessageTypeDefinition<_taskraft_cluster_ActionReply, _taskraft_cluster_ActionReply__Output>
      Cluster: SubtypeConstructor<typeof grpc.Client, _taskraft_cluster_ClusterClient> & { service: _taskraft_cluster_ClusterDefinition }
      DecommissionReply: MessageTypeDefinition<_taskraft_cluster_DecommissionReply, _taskraft_cluster_DecommissionReply__Output>
      DecommissionRequest: MessageTypeDefinition<_taskraft_cluster_DecommissionRequest, _taskraft_cluster_DecommissionRequest__Output>
      GroupReport: MessageTypeDefinition<_taskraft_cluster_GroupReport, _taskraft_cluster_GroupReport__Output>
      JoinReply: MessageTypeDefinition<_taskraft_cluster_JoinReply, _taskraft_cluster_JoinReply__Output>
      JoinRequest: MessageTypeDefinition<_taskraft_cluster_JoinRequest, _taskraft_cluster_JoinRequest__Output>
      NodeReport: MessageTypeDefinition<_taskraft_cluster_NodeReport, _taskraft_cluster_NodeReport__Output>
      PeerProgress: MessageTypeDefinition<_taskraft_cluster_PeerProgress, _taskraft_cluster_PeerProgress__Output>
      ViewReply: MessageTypeDefinition<_taskraft_cluster_ViewReply, _taskraft_cluster_ViewReply__Output>
    }
  }
}

