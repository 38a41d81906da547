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

const loaded = new Map<string, unknown>();

/** Loads a proto file once and keeps its typed package definition. */
function load<T>(name: string): T {
  let def = loaded.get(name);
  if (def === undefined) loaded.set(name, (def = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath(name), PROTO_OPTIONS))));
  return def as T;
}

export const loadRaftProto = (): RaftProto => load<RaftProto>('raft.proto');
export const loadClusterProto = (): ClusterProto => load<ClusterProto>('cluster.proto');
export const loadQueueProto = (): QueueProto => load<QueueProto>('queue.proto');
