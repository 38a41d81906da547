import {
  MemoryStorage,
  RawNode,
  logIndex,
  type ConfState,
  type Entry,
  type LogIndex,
  type Message,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type Rng,
  type Term,
} from '../../src/raft/index.js';

/** What the simulated state machine is: the IDs of the commands it applied, in order. */
export interface SmSnapshot {
  readonly ids: string[];
}

export interface ApplyEvent {
  readonly node: NodeId;
  readonly incarnation: number;
  readonly entry: Entry;
  /** The command's ID (normal entries with data), 'noop' or 'cc:<type>:<node>'. */
  readonly id: string;
}

export interface ReadyHooks {
  /** Called after persisting, for each message the node sends. */
  send(m: Message): void;
  /** Called for every entry the host applies, in order. */
  applied(e: ApplyEvent): void;
  readState(node: NodeId, rs: ReadState): void;
  /** Called after persisting, with what is now durable, before messages go out. */
  persisted(node: NodeId, storage: MemoryStorage, sent: readonly Message[]): void;
  /** Asked after each Ready is persisted: true crashes the process right there, before it sends
   * or applies anything (a power cut between fsync and the network). */
  crashAfterPersist(node: NodeId, becameLeader: boolean): boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function commandData(id: string): Uint8Array {
  return enc.encode(id);
}

export function entryId(e: Entry): string {
  if (e.type === 'confChange') return `cc:${e.change.type}:${e.change.nodeId}`;
  return e.data.byteLength === 0 ? 'noop' : dec.decode(e.data);
}

/**
 * A simulated node: MemoryStorage is its disk (it survives crashes); the RawNode and the state
 * machine are its process (lost on a crash and rebuilt from the disk on restart).
 */
export class SimNode {
  raw: RawNode | null = null;
  /** Bumped on every start, so that a client of a crashed process is not acknowledged by its
   * successor replaying the log. */
  incarnation = 0;
  sm: string[] = [];
  applied: LogIndex = logIndex(0);

  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
    private readonly config: Omit<RaftConfig, 'id' | 'storage' | 'applied' | 'rng'>,
    private readonly rng: Rng,
  ) {}

  get alive(): boolean {
    return this.raw !== null;
  }

  start(): void {
    const snap = this.storage.snapshot();
    this.sm = snap.data.byteLength === 0 ? [] : (JSON.parse(dec.decode(snap.data)) as SmSnapshot).ids.slice();
    this.applied = snap.metadata.index;
    this.raw = new RawNode({ ...this.config, id: this.id, storage: this.storage, rng: this.rng, applied: this.applied });
    this.incarnation++;
  }

  crash(): void {
    this.raw = null;
  }

  /** Takes a snapshot at the applied index and compacts the log up to `keep` entries behind it. */
  snapshotAndCompact(keep: number): boolean {
    const raw = this.raw;
    if (raw === null) return false;
    const snapIndex = this.storage.snapshot().metadata.index;
    if (this.applied <= snapIndex) return false;
    const data = enc.encode(JSON.stringify({ ids: this.sm } satisfies SmSnapshot));
    this.storage.createSnapshot(this.applied, this.confState(), data);
    const compactTo = this.applied - keep;
    if (compactTo > this.storage.firstIndex()) this.storage.compact(logIndex(compactTo));
    return true;
  }

  confState(): ConfState {
    return this.raw!.status().confState;
  }

  /** Drains every Ready: persist, then send, then apply, then advance. */
  handleReadies(hooks: ReadyHooks): boolean {
    const raw = this.raw;
    if (raw === null) return false;
    let any = false;
    while (raw.hasReady()) {
      any = true;
      const rd = raw.ready();
      if (rd.snapshot !== null) {
        this.storage.applySnapshot(rd.snapshot);
        const data = rd.snapshot.data;
        this.sm = data.byteLength === 0 ? [] : (JSON.parse(dec.decode(data)) as SmSnapshot).ids.slice();
        this.applied = rd.snapshot.metadata.index;
      }
      this.storage.append(rd.entries);
      if (rd.hardState !== null) this.storage.setHardState(rd.hardState);
      hooks.persisted(this.id, this.storage, rd.messages);
      if (hooks.crashAfterPersist(this.id, rd.softState?.role === 'leader')) {
        this.crash();
        return true;
      }
      for (const m of rd.messages) hooks.send(m);
      for (const e of rd.committedEntries) {
        if (e.index !== this.applied + 1) {
          throw new SimHostError(`${this.id} was handed entry ${e.index} after applying ${this.applied}`);
        }
        this.applied = e.index;
        const id = entryId(e);
        if (e.type === 'confChange') raw.applyConfChange(e.change);
        else if (id !== 'noop') this.sm.push(id);
        hooks.applied({ node: this.id, incarnation: this.incarnation, entry: e, id });
      }
      for (const rs of rd.readStates) hooks.readState(this.id, rs);
      raw.advance(rd);
    }
    return any;
  }

  termAt(i: LogIndex): Term | null {
    try {
      return this.storage.term(i);
    } catch {
      return null;
    }
  }
}

/** The host contract was broken by the core (e.g. committed entries handed out of order). */
export class SimHostError extends Error {}
