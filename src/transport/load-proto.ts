import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType as ClusterProto } from '../generated/cluster.js';
import type { ProtoGrpcType as QueueProto } from '../generated/queue.js';
import type { ProtoGrpcType as RaftProto } from '../generated/raft.js';

/** proto-loader options matching how src/generated was produced (see the gen:proto script). */
export const PROTO_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

const protoPath = (name: string): string => fileURLToPath(new URL(`../../proto/${name}`, import.meta.url));

let raftProto: RaftProto | null = null;

export function loadRaftProto(): RaftProto {
  raftProto ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(protoPath('raft.proto'), PROTO_OPTIONS),
  ) as unknown as RaftProto;
  return raftProto;
}

let clusterProto: ClusterProto | null = null;

export function loadClusterProto(): ClusterProto {
  clusterProto ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(protoPath('cluster.proto'), PROTO_OPTIONS),
  ) as unknown as ClusterProto;
  return clusterProto;
}

let queueProto: QueueProto | null = null;

export function loadQueueProto(): QueueProto {
  queueProto ??= grpc.loadPackageDefinition(protoLoader.loadSync(protoPath('queue.proto'), PROTO_OPTIONS)) as unknown as QueueProto;
  return queueProto;
}
