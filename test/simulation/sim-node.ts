import {
  MemoryStorage,
  RawNode,
  logIndex,
  type ConfState,
  type DurableMark,
  type Entry,
  type LogIndex,
  type Message,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type Rng,
  type Snapshot,
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
  /** Asynchronous mode: the tick at which a write staged now becomes durable. */
  writeDue(node: NodeId): number;
}

/** A write in flight (asynchronous mode): what it changes on disk and what waits for it. */
interface PendingWrite {
  readonly ops: ((disk: MemoryStorage) => void)[];
  /** Votes and acknowledgements: they leave only once the write is durable. */
  late: Message[];
  readonly marks: DurableMark[];
  becameLeader: boolean;
}

const emptyWrite = (): PendingWrite => ({ ops: [], late: [], marks: [], becameLeader: false });

const enc = new TextEncoder();
const dec = new TextDecoder();

export function commandData(id: string): Uint8Array {
  return enc.encode(id);
}

export function entryId(e: Entry): string {
  if (e.type === 'confChange') return `cc:${e.change.type}:${e.change.nodeId}`;
  return e.data.byteLength === 0 ? 'noop' : dec.decode(e.data);
}

/** A copy of a storage's state: the process's view of a disk, read at start. */
function copyOf(disk: MemoryStorage): MemoryStorage {
  const first = disk.firstIndex();
  const last = disk.lastIndex();
  return MemoryStorage.fromParts({
    hardState: disk.initialState().hardState,
    snapshot: disk.snapshot(),
    offset: disk.logOffset(),
    entries: last >= first ? disk.entries(first, logIndex(last + 1), Number.MAX_SAFE_INTEGER) : [],
  });
}

/**
 * A simulated node: `disk` is what survives crashes; the RawNode, the state machine and `storage`
 * are its process (lost on a crash and rebuilt from the disk on restart).
 *
 * With synchronous writes (the etcd RawNode contract) `storage` is the disk: each Ready is
 * persisted, then sent, applied and advanced. With asynchronous writes (the MultiRaftHost's
 * pipeline) `storage` is the process's view, ahead of the disk by the writes in flight: a Ready is
 * staged, its appends and heartbeats sent (in a term already on disk), its committed entries
 * applied and advanced at once; its votes and acknowledgements leave, and the leader counts its
 * own copy (RawNode.persisted), only when the simulator completes the write that holds it. A
 * crash loses the write in flight and everything staged for the next.
 */
export class SimNode {
  raw: RawNode | null = null;
  /** What the process reads and writes through (see the class comment). */
  storage: MemoryStorage;
  /** As MultiRaftHost: one write in flight at a time, ending at tick `due`; everything staged
   * meanwhile goes into the next. */
  private inFlight: (PendingWrite & { readonly due: number }) | null = null;
  private staged: PendingWrite = emptyWrite();
  /** Writes in flight that crashes lost, over the node's life. */
  writesLost = 0;
  /** Bumped on every start, so that a client of a crashed process is not acknowledged by its
   * successor replaying the log. */
  incarnation = 0;
  sm: string[] = [];
  applied: LogIndex = logIndex(0);

  constructor(
    readonly id: NodeId,
    readonly disk: MemoryStorage,
    private readonly config: Omit<RaftConfig, 'id' | 'storage' | 'applied' | 'rng'>,
    private readonly rng: Rng,
    readonly asyncWrites = false,
  ) {
    this.storage = disk;
  }

  get alive(): boolean {
    return this.raw !== null;
  }

  start(): void {
    this.storage = this.asyncWrites ? copyOf(this.disk) : this.disk;
    this.inFlight = null;
    this.staged = emptyWrite();
    this.restoreFrom(this.storage.snapshot());
    this.raw = new RawNode({ ...this.config, id: this.id, storage: this.storage, rng: this.rng, applied: this.applied });
    this.incarnation++;
  }

  /** The state machine as of a snapshot. */
  private restoreFrom(snap: Snapshot): void {
    this.sm = snap.data.byteLength === 0 ? [] : (JSON.parse(dec.decode(snap.data)) as SmSnapshot).ids.slice();
    this.applied = snap.metadata.index;
  }

  crash(): void {
    this.raw = null;
    if (this.inFlight !== null) this.writesLost++;
    if (this.staged.ops.length > 0) this.writesLost++;
    this.inFlight = null;
    this.staged = emptyWrite();
  }

  /** The tick at which the oldest write in flight becomes durable; Infinity when none is. */
  nextWriteDue(): number {
    return this.inFlight?.due ?? Infinity;
  }

  /** Takes a snapshot at the applied index and compacts the log up to `keep` entries behind it. */
  snapshotAndCompact(keep: number): boolean {
    const raw = this.raw;
    if (raw === null) return false;
    const snapIndex = this.storage.snapshot().metadata.index;
    if (this.applied <= snapIndex) return false;
    const data = enc.encode(JSON.stringify({ ids: this.sm } satisfies SmSnapshot));
    const at = this.applied;
    const cs = this.confState();
    const compactTo = logIndex(at - keep);
    const snapshotAndCompact = (s: MemoryStorage): void => {
      s.createSnapshot(at, cs, data);
      if (compactTo > s.firstIndex()) s.compact(compactTo);
    };
    snapshotAndCompact(this.storage);
    // Written after the entries it covers, which are on the disk or in an earlier write.
    if (this.asyncWrites) this.staged.ops.push(snapshotAndCompact);
    return true;
  }

  confState(): ConfState {
    return this.raw!.status().confState;
  }

  /** Drains every Ready: persist, then send, then apply, then advance (or, with asynchronous
   * writes, stage, send what may leave, apply, advance, and queue the write). */
  handleReadies(hooks: ReadyHooks): boolean {
    const raw = this.raw;
    if (raw === null) return false;
    if (this.asyncWrites) return this.stageReadies(raw, hooks);
    let any = false;
    while (raw.hasReady()) {
      any = true;
      const rd = raw.ready();
      if (rd.snapshot !== null) {
        this.storage.applySnapshot(rd.snapshot);
        this.restoreFrom(rd.snapshot);
      }
      this.storage.append(rd.entries);
      if (rd.hardState !== null) this.storage.setHardState(rd.hardState);
      hooks.persisted(this.id, this.storage, rd.messages);
      if (hooks.crashAfterPersist(this.id, rd.softState?.role === 'leader')) {
        this.crash();
        return true;
      }
      for (const m of rd.messages) hooks.send(m);
      this.apply(raw, rd.committedEntries, hooks);
      for (const rs of rd.readStates) hooks.readState(this.id, rs);
      raw.advance(rd);
    }
    return any;
  }

  private stageReadies(raw: RawNode, hooks: ReadyHooks): boolean {
    let any = false;
    while (raw.hasReady()) {
      any = true;
      const rd = raw.ready();
      const ops: PendingWrite['ops'] = [];
      const before = this.storage.initialState().hardState;
      const snap = rd.snapshot;
      if (snap !== null) {
        this.storage.applySnapshot(snap);
        ops.push((d) => d.applySnapshot(snap));
        this.restoreFrom(snap);
      }
      const entries = rd.entries;
      this.storage.append(entries);
      if (entries.length > 0) ops.push((d) => d.append(entries));
      const hs = rd.hardState;
      if (hs !== null) {
        this.storage.setHardState(hs);
        ops.push((d) => d.setHardState(hs));
      }
      const w = this.staged;
      // As the host: acknowledgements staged earlier may be of entries this Ready truncates.
      if (hs !== null && hs.term > before.term) w.late = w.late.filter((m) => m.term >= hs.term);
      w.ops.push(...ops);
      // A leader's appends and heartbeats leave at once only in a term already on disk.
      const durableTerm = this.disk.initialState().hardState.term;
      for (const m of rd.messages) {
        if ((m.type === 'app' || m.type === 'heartbeat') && m.term <= durableTerm) hooks.send(m);
        else w.late.push(m);
      }
      this.apply(raw, rd.committedEntries, hooks);
      for (const rs of rd.readStates) hooks.readState(this.id, rs);
      const mark = raw.advanceBeforeDurable(rd);
      if (mark !== null) w.marks.push(mark);
      if (rd.softState?.role === 'leader') w.becameLeader = true;
    }
    this.startWrite(hooks);
    return any;
  }

  /** Starts the next write unless one is in flight. */
  private startWrite(hooks: ReadyHooks): void {
    if (this.inFlight !== null) return;
    const w = this.staged;
    if (w.ops.length === 0 && w.late.length === 0 && w.marks.length === 0) return;
    this.staged = emptyWrite();
    this.inFlight = { ...w, due: hooks.writeDue(this.id) };
  }

  /** Completes the oldest write in flight: it is on disk, what waited for it leaves. */
  completeWrite(hooks: ReadyHooks): void {
    const raw = this.raw;
    const w = this.inFlight;
    if (raw === null || w === null) return;
    this.inFlight = null;
    for (const op of w.ops) op(this.disk);
    hooks.persisted(this.id, this.disk, w.late);
    if (hooks.crashAfterPersist(this.id, w.becameLeader)) {
      this.crash();
      return;
    }
    for (const m of w.late) hooks.send(m);
    for (const mark of w.marks) raw.persisted(mark);
    this.startWrite(hooks);
  }

  private apply(raw: RawNode, committed: readonly Entry[], hooks: ReadyHooks): void {
    for (const e of committed) {
      if (e.index !== this.applied + 1) {
        throw new SimHostError(`${this.id} was handed entry ${e.index} after applying ${this.applied}`);
      }
      this.applied = e.index;
      const id = entryId(e);
      if (e.type === 'confChange') raw.applyConfChange(e.change);
      else if (id !== 'noop') this.sm.push(id);
      hooks.applied({ node: this.id, incarnation: this.incarnation, entry: e, id });
    }
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
