import type { NormalEntry } from '../raft/index.js';
import { stateMachinePrefix, type GroupId } from '../storage/key-layout.js';
import type { WriteBatch } from '../storage/write-batch.js';
import type { StateMachine } from './state-machine.js';

/** The meta group: the cluster's identity, partition count and node membership. */
export const META_GROUP = 0 as GroupId;

export type NodeState = 'active' | 'decommissioning' | 'removed';

export interface NodeRecord {
  readonly id: string;
  readonly httpAddr: string;
  readonly grpcAddr: string;
  /** Random ID of the node's data directory: the node ID is bound to it for good. */
  readonly incarnation: string;
  readonly state: NodeState;
  /** Leader-stamped time of admission (ms since the epoch). */
  readonly joinedAt: number;
}

export interface MetaState {
  readonly clusterId: string | null;
  readonly partitions: number;
  readonly nodes: readonly NodeRecord[];
}

export type MetaCommand =
  | { readonly type: 'init'; readonly clusterId: string; readonly partitions: number }
  | {
      readonly type: 'join';
      readonly id: string;
      readonly httpAddr: string;
      readonly grpcAddr: string;
      readonly incarnation: string;
      readonly at: number;
    }
  | { readonly type: 'setState'; readonly id: string; readonly state: NodeState };

export type MetaResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'ERR_NODE_ID_IN_USE' | 'ERR_UNKNOWN_NODE' | 'ERR_NOT_INITIALIZED'; readonly message: string };

const EMPTY: MetaState = { clusterId: null, partitions: 0, nodes: [] };

export function encodeMetaCommand(c: MetaCommand): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(c));
}

/**
 * Applies meta commands. The state is small (one record per node), so it is kept whole in memory
 * and written whole under one key on every change.
 */
export class MetaStateMachine implements StateMachine<MetaResult> {
  private current: MetaState = EMPTY;
  private readonly key: Uint8Array;

  constructor(group: GroupId = META_GROUP) {
    const prefix = stateMachinePrefix(group);
    this.key = new Uint8Array(prefix.length + 1);
    this.key.set(prefix);
  }

  state(): MetaState {
    return this.current;
  }

  /** The key the state is persisted under, for loading at start. */
  stateKey(): Uint8Array {
    return this.key;
  }

  load(persisted: Uint8Array | undefined): void {
    this.current = persisted === undefined ? EMPTY : decodeState(persisted);
  }

  apply(entries: readonly NormalEntry[], batch: WriteBatch): MetaResult[] {
    const results = entries.map((e) => (e.data.byteLength === 0 ? { ok: true as const } : this.applyOne(decodeCommand(e.data))));
    batch.put(this.key, this.snapshot());
    return results;
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.current));
  }

  restore(data: Uint8Array, batch: WriteBatch): void {
    this.current = data.byteLength === 0 ? EMPTY : decodeState(data);
    batch.put(this.key, this.snapshot());
  }

  private applyOne(c: MetaCommand): MetaResult {
    switch (c.type) {
      case 'init':
        // Idempotent: a founder that crashed before seeing its init applied proposes it again.
        if (this.current.clusterId === null) this.current = { clusterId: c.clusterId, partitions: c.partitions, nodes: this.current.nodes };
        return { ok: true };
      case 'join': {
        if (this.current.clusterId === null) return { ok: false, code: 'ERR_NOT_INITIALIZED', message: 'the cluster is not initialized yet' };
        const known = this.current.nodes.find((n) => n.id === c.id);
        if (known !== undefined && known.incarnation !== c.incarnation) {
          return {
            ok: false,
            code: 'ERR_NODE_ID_IN_USE',
            message: `node ID "${c.id}" belongs to another data directory; a node ID is never reused: give this node a new ID, or start it on its original data directory`,
          };
        }
        const record: NodeRecord = {
          id: c.id,
          httpAddr: c.httpAddr,
          grpcAddr: c.grpcAddr,
          incarnation: c.incarnation,
          // A node coming back after a decommission is a member again.
          state: 'active',
          joinedAt: known?.joinedAt ?? c.at,
        };
        this.current = { ...this.current, nodes: [...this.current.nodes.filter((n) => n.id !== c.id), record].sort(byId) };
        return { ok: true };
      }
      case 'setState': {
        const known = this.current.nodes.find((n) => n.id === c.id);
        if (known === undefined) return { ok: false, code: 'ERR_UNKNOWN_NODE', message: `no node "${c.id}" in this cluster` };
        this.current = { ...this.current, nodes: this.current.nodes.map((n) => (n.id === c.id ? { ...n, state: c.state } : n)) };
        return { ok: true };
      }
    }
  }
}

function byId(a: NodeRecord, b: NodeRecord): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function decodeCommand(data: Uint8Array): MetaCommand {
  return JSON.parse(new TextDecoder().decode(data)) as MetaCommand;
}

function decodeState(data: Uint8Array): MetaState {
  return JSON.parse(new TextDecoder().decode(data)) as MetaState;
}
