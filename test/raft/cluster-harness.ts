import {
  MemoryStorage,
  RawNode,
  logIndex,
  nodeId,
  type Entry,
  type Message,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type Ready,
} from '../../src/raft/index.js';

export type Overrides = Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng' | 'applied'>>;

/** A deterministic rng: the election timeout offset is always `offset` (tests pick who times out
 * first by ticking that node more). */
export const fixedRng = (offset = 0): { nextInt: (bound: number) => number } => ({ nextInt: (bound) => Math.min(offset, bound - 1) });

export interface Member {
  readonly id: NodeId;
  storage: MemoryStorage;
  raw: RawNode;
  applied: Entry[];
  readStates: ReadState[];
  /** Every Ready this member produced, for tests that inspect what was persisted and sent. */
  readies: Ready[];
}

/**
 * A tiny synchronous network of RawNodes for the paper tests: `drain` persists, sends (through
 * an optional filter that may drop messages) and applies until nothing is left to do.
 */
export class TestCluster {
  readonly members = new Map<NodeId, Member>();
  /** Messages not yet delivered (when `hold` is used to stop the network). */
  pending: Message[] = [];
  /** Return false to drop a message. */
  filter: (m: Message) => boolean = () => true;
  /** While true, messages queue in `pending` instead of being delivered. */
  hold = false;

  constructor(
    names: readonly string[],
    private readonly overrides: Overrides = {},
  ) {
    const ids = names.map(nodeId);
    for (const id of ids) this.add(id, MemoryStorage.bootstrap(ids));
  }

  add(id: NodeId, storage: MemoryStorage, overrides: Overrides = {}): Member {
    const raw = this.makeNode(id, storage, overrides);
    const m: Member = { id, storage, raw, applied: [], readStates: [], readies: [] };
    this.members.set(id, m);
    return m;
  }

  private makeNode(id: NodeId, storage: MemoryStorage, overrides: Overrides): RawNode {
    return new RawNode({
      electionTick: 10,
      heartbeatTick: 1,
      preVote: false,
      checkQuorum: false,
      ...this.overrides,
      ...overrides,
      id,
      storage,
      rng: fixedRng(),
      applied: storage.snapshot().metadata.index,
    });
  }

  /** Simulates a crash and restart: a new RawNode from what the member persisted, nothing else. */
  restart(name: string, overrides: Overrides = {}): Member {
    const m = this.get(name);
    m.raw = this.makeNode(m.id, m.storage, overrides);
    m.applied = [];
    return m;
  }

  get(name: string): Member {
    const m = this.members.get(nodeId(name));
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  raw(name: string): RawNode {
    return this.get(name).raw;
  }

  /** Handles one Ready of one member: persist, queue messages, apply. Returns it (or null). */
  process(m: Member): Ready | null {
    if (!m.raw.hasReady()) return null;
    const rd = m.raw.ready();
    m.readies.push(rd);
    if (rd.snapshot !== null) m.storage.applySnapshot(rd.snapshot);
    m.storage.append(rd.entries);
    if (rd.hardState !== null) m.storage.setHardState(rd.hardState);
    for (const msg of rd.messages) this.pending.push(msg);
    for (const e of rd.committedEntries) {
      m.applied.push(e);
      if (e.type === 'confChange') m.raw.applyConfChange(e.change);
    }
    m.readStates.push(...rd.readStates);
    m.raw.advance(rd);
    return rd;
  }

  /** Runs readies and deliveries until quiescent. */
  drain(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const m of this.members.values()) while (this.process(m) !== null) busy = true;
      if (this.hold) return;
      const batch = this.pending;
      this.pending = [];
      for (const msg of batch) {
        if (!this.filter(msg)) continue;
        const to = this.members.get(msg.to);
        if (to === undefined) continue;
        to.raw.step(msg);
        if (msg.type === 'snap') this.members.get(msg.from)?.raw.reportSnapshot(msg.to, 'finish');
        busy = true;
      }
      if (!busy) return;
    }
    throw new Error('cluster did not quiesce');
  }

  /** Ticks every member (or the named ones) n times, draining after each tick. */
  tick(n = 1, names?: readonly string[]): void {
    for (let i = 0; i < n; i++) {
      for (const m of this.members.values()) if (names === undefined || names.includes(m.id)) m.raw.tick();
      this.drain();
    }
  }

  /** Makes `name` campaign and lets the election finish. */
  elect(name: string): Member {
    this.raw(name).campaign();
    this.drain();
    const m = this.get(name);
    if (m.raw.status().softState.role !== 'leader') throw new Error(`${name} did not become leader`);
    return m;
  }

  /** Proposes `text` on `name` and drains. */
  propose(name: string, text: string): void {
    this.raw(name).propose(new TextEncoder().encode(text));
    this.drain();
  }

  /** Cuts `name` off from everyone (both directions). */
  isolate(name: string): void {
    const id = nodeId(name);
    const prev = this.filter;
    this.filter = (m) => m.from !== id && m.to !== id && prev(m);
  }

  heal(): void {
    this.filter = () => true;
  }
}

export const text = (e: Entry): string => (e.type === 'normal' ? new TextDecoder().decode(e.data) : `cc:${e.change.type}:${e.change.nodeId}`);
export const appliedTexts = (m: Member): string[] => m.applied.filter((e) => e.type === 'confChange' || e.data.byteLength > 0).map(text);
export const data = (s: string): Uint8Array => new TextEncoder().encode(s);
export { logIndex };
