import { NODE_IDENTITY_KEY, NODE_PEERS_KEY } from '../storage/key-layout.js';
import type { RocksDatabase } from '../storage/rocks-database.js';
import type { PeerAddress } from './cluster-agent.js';

/**
 * Who this data directory belongs to. Written (fsynced) before the node asks to join, so that a
 * crash during the join retries with the same incarnation instead of being refused as a stranger.
 */
export interface NodeIdentity {
  readonly nodeId: string;
  /** Random, fixed for the life of the data directory: the cluster binds the node ID to it. */
  readonly incarnation: string;
  /** Null until the join (or the cluster's creation) succeeded. */
  readonly clusterId: string | null;
  /** Set on the node that creates the cluster, until its groups exist on disk. */
  readonly founding: { readonly partitions: number; readonly groupsCreated: boolean } | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class NodeStore {
  constructor(private readonly db: RocksDatabase) {}

  async identity(): Promise<NodeIdentity | null> {
    const raw = await this.db.get(NODE_IDENTITY_KEY);
    return raw === undefined ? null : (JSON.parse(decoder.decode(raw)) as NodeIdentity);
  }

  async saveIdentity(id: NodeIdentity): Promise<void> {
    await this.db.write([{ type: 'put', key: NODE_IDENTITY_KEY, value: encoder.encode(JSON.stringify(id)) }], true);
  }

  async peers(): Promise<PeerAddress[]> {
    const raw = await this.db.get(NODE_PEERS_KEY);
    return raw === undefined ? [] : (JSON.parse(decoder.decode(raw)) as PeerAddress[]);
  }

  /** Not synced: a lost update only means asking a seed again after a crash. */
  savePeers(peers: readonly PeerAddress[]): Promise<void> {
    return this.db.write([{ type: 'put', key: NODE_PEERS_KEY, value: encoder.encode(JSON.stringify(peers)) }], false);
  }
}
