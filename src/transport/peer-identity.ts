import * as grpc from '@grpc/grpc-js';
import { nodeId, type NodeId } from '../raft/index.js';

/**
 * Who is calling whom, carried as metadata on every transport call and checked before anything is
 * accepted: a node of another cluster, or one that dialled the wrong node, is refused.
 */
export const CLUSTER_HEADER = 'x-taskraft-cluster';
export const FROM_HEADER = 'x-taskraft-from';
export const TO_HEADER = 'x-taskraft-to';

export function identityMetadata(clusterId: string, from: NodeId, to: NodeId): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set(CLUSTER_HEADER, clusterId);
  md.set(FROM_HEADER, from);
  md.set(TO_HEADER, to);
  return md;
}

export type IdentityCheck =
  | { readonly ok: true; readonly from: NodeId }
  | { readonly ok: false; readonly status: grpc.status; readonly reason: string };

export function checkIdentity(md: grpc.Metadata, clusterId: string, self: NodeId): IdentityCheck {
  const one = (k: string): string => {
    const v = md.get(k)[0];
    return typeof v === 'string' ? v : '';
  };
  const cluster = one(CLUSTER_HEADER);
  const from = one(FROM_HEADER);
  const to = one(TO_HEADER);
  if (cluster !== clusterId) {
    return { ok: false, status: grpc.status.PERMISSION_DENIED, reason: `cluster "${cluster}" is not this cluster "${clusterId}"` };
  }
  if (from.length === 0) return { ok: false, status: grpc.status.UNAUTHENTICATED, reason: 'no sender node id' };
  if (to !== self) {
    return { ok: false, status: grpc.status.FAILED_PRECONDITION, reason: `addressed to node "${to}", this is "${self}"` };
  }
  return { ok: true, from: nodeId(from) };
}
