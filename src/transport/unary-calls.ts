import * as grpc from '@grpc/grpc-js';
import type { NodeId } from '../raft/index.js';
import { checkIdentity, identityMetadata } from './peer-identity.js';

/** How a handler's failure travels in the status details: `CODE: message`. */
const REMOTE_ERROR = /^(ERR_[A-Z_]+): ([\s\S]*)$/;

/** A node-to-node call answered with an error status (refused identity, unreachable, ...). */
export class PeerCallError extends Error {
  readonly code = 'ERR_PEER_CALL';
  /** The stable code of the error the peer's handler raised, if it raised one. */
  readonly remoteCode: string | null;
  readonly remoteMessage: string;

  constructor(
    readonly peer: string,
    readonly status: grpc.status,
    details: string,
  ) {
    super(`call to ${peer} failed: ${details}`);
    const m = REMOTE_ERROR.exec(details);
    this.remoteCode = m?.[1] ?? null;
    this.remoteMessage = m?.[2] ?? details;
  }
}

/**
 * The unary side of node-to-node gRPC services: every call's identity (cluster, sender, receiver)
 * is checked before the handler runs, and clients are kept per peer address.
 */
export class UnaryCalls<Client extends grpc.Client> {
  private readonly clients = new Map<NodeId, { address: string; client: Client }>();

  constructor(
    private readonly self: NodeId,
    private readonly clusterId: string,
    private readonly resolve: (peer: NodeId) => string | null,
    private readonly makeClient: (address: string) => Client,
  ) {}

  /** Wraps a handler: identity first, then `fn`; a thrown error becomes UNAVAILABLE with its code. */
  handler<Req, Res>(fn: (from: NodeId, req: Req) => Promise<Res>) {
    return (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>): void => {
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
  }

  call<T>(peer: NodeId, timeoutMs: number, invoke: (c: Client, md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<T>) => void): Promise<T> {
    const client = this.client(peer);
    if (client === null) return Promise.reject(new PeerCallError(peer, grpc.status.UNAVAILABLE, 'address unknown'));
    return new Promise<T>((resolve, reject) => {
      invoke(client, identityMetadata(this.clusterId, this.self, peer), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err !== null || res === undefined) reject(new PeerCallError(peer, err?.code ?? grpc.status.UNKNOWN, err?.details ?? 'no reply'));
        else resolve(res);
      });
    });
  }

  close(): void {
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }

  private client(peer: NodeId): Client | null {
    const address = this.resolve(peer);
    if (address === null) return null;
    const known = this.clients.get(peer);
    if (known !== undefined && known.address === address) return known.client;
    known?.client.close();
    const client = this.makeClient(address);
    this.clients.set(peer, { address, client });
    return client;
  }
}
