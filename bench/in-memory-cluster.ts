import {
  MemoryStorage,
  RawNode,
  nodeId,
  type Message,
  type NodeId,
  type Rng,
} from '../src/raft/index.js';

/** A seeded xorshift generator: benchmarks are repeatable run to run. */
export function seededRng(seed: number): Rng {
  let x = seed | 0 || 1;
  return {
    nextInt(bound: number): number {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % bound;
    },
  };
}

/**
 * N RawNodes wired by an in-process message queue, with MemoryStorage and no I/O: what the core
 * itself costs, without disks or sockets.
 */
export class InMemoryCluster {
  readonly ids: NodeId[];
  readonly nodes = new Map<NodeId, RawNode>();
  private readonly storages = new Map<NodeId, MemoryStorage>();
  private inbox: Message[] = [];
  appliedCount = 0;

  constructor(size: number, seed: number, opts: { maxSizePerMsg?: number; maxInflightMsgs?: number } = {}) {
    this.ids = Array.from({ length: size }, (_, i) => nodeId(`n${i + 1}`));
    const rng = seededRng(seed);
    for (const id of this.ids) {
      const storage = MemoryStorage.bootstrap(this.ids);
      this.storages.set(id, storage);
      this.nodes.set(
        id,
        new RawNode({
          id,
          storage,
          rng,
          electionTick: 10,
          heartbeatTick: 1,
          applied: storage.snapshot().metadata.index,
          ...opts,
        }),
      );
    }
  }

  /** Persists, sends and applies until no node has anything left to do. */
  settle(): void {
    for (;;) {
      let busy = false;
      for (const [id, node] of this.nodes) {
        while (node.hasReady()) {
          busy = true;
          const rd = node.ready();
          const storage = this.storages.get(id)!;
          if (rd.snapshot !== null) storage.applySnapshot(rd.snapshot);
          storage.append(rd.entries);
          if (rd.hardState !== null) storage.setHardState(rd.hardState);
          for (const m of rd.messages) this.inbox.push(m);
          for (const e of rd.committedEntries) {
            if (e.type === 'confChange') node.applyConfChange(e.change);
            else if (id === this.ids[0] && e.data.byteLength > 0) this.appliedCount++;
          }
          node.advance(rd);
        }
      }
      const batch = this.inbox;
      this.inbox = [];
      for (const m of batch) this.nodes.get(m.to)?.step(m);
      if (!busy && batch.length === 0) return;
    }
  }

  elect(): RawNode {
    const first = this.nodes.get(this.ids[0]!)!;
    first.campaign();
    this.settle();
    if (first.status().softState.role !== 'leader') throw new Error('bench: election failed');
    return first;
  }

  /** Compacts every log behind what is applied, as a host does to bound memory. */
  compact(): void {
    for (const [id, node] of this.nodes) {
      const storage = this.storages.get(id)!;
      const { applied, confState } = node.status();
      if (applied > storage.snapshot().metadata.index) {
        storage.createSnapshot(applied, confState, new Uint8Array(0));
        storage.compact(applied);
      }
    }
  }
}
