import {
  MemoryStorage,
  RawNode,
  logIndex,
  nodeId,
  term,
  type ConfState,
  type Entry,
  type HardState,
  type LogIndex,
  type Message,
  type NodeId,
  type ProposalPosition,
  type RaftConfig,
  type RaftStatus,
  type ReadState,
  type Ready,
  type Rng,
  type Snapshot,
  type SoftState,
  type Term,
} from '../../src/raft/index.js';

/**
 * The shared harness of the paper tests: nodes over MemoryStorage, deterministic randomness, and a
 * tiny synchronous network that carries Ready.messages between RawNodes. Everything a test checks
 * goes through the public RawNode API and the contents of Ready batches.
 */

export const A = nodeId('a');
export const B = nodeId('b');
export const C = nodeId('c');
export const D = nodeId('d');
export const E = nodeId('e');

export const ids = (...names: string[]): NodeId[] => names.map(nodeId);
export const li = logIndex;
export const tm = term;

/** mulberry32: a tiny seeded generator, so a seeded run replays exactly. */
export function seededRng(seed: number): Rng & { nextFloat(): number } {
  let s = seed >>> 0;
  const nextFloat = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { nextFloat, nextInt: (bound) => Math.floor(nextFloat() * bound) };
}

/** An rng that always draws `value` (clamped to the bound): the election timeout is exactly
 * electionTick + value, so a test decides who times out first by how much it ticks each node. */
export const constRng = (value = 0): Rng => ({ nextInt: (bound) => Math.min(value, bound - 1) });

/** Config knobs a test may set; id and storage come from the peer. */
export type NodeConfig = Partial<Omit<RaftConfig, 'id' | 'storage'>>;

/** Plain Raft as the paper describes it: no PreVote, no CheckQuorum, so each rule shows alone. */
export const PAPER: NodeConfig = { electionTick: 10, heartbeatTick: 1, preVote: false, checkQuorum: false };
/** What taskraft runs: PreVote and CheckQuorum on. */
export const PRODUCTION: NodeConfig = { electionTick: 10, heartbeatTick: 1, preVote: true, checkQuorum: true };

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (d: Uint8Array): string => new TextDecoder().decode(d);

export function ent(index: number, t: number, data = ''): Entry {
  return { type: 'normal', index: li(index), term: tm(t), data: bytes(data) };
}

/** [index, term] pairs, the shape most log assertions compare. */
export const positions = (ents: readonly Entry[]): [number, number][] => ents.map((e) => [e.index, e.term]);

/** Client payloads of normal entries, skipping the leaders' empty no-ops. */
export const payloads = (ents: readonly Entry[]): string[] =>
  ents.flatMap((e) => (e.type === 'normal' && e.data.byteLength > 0 ? [text(e.data)] : []));

/**
 * Storage whose log starts at index 1 (no snapshot) and holds entries with the given terms, like
 * the logs drawn in the paper's figures. `hs` defaults to term = last log term, no vote, commit 0.
 */
export function storageWithLog(
  voters: readonly NodeId[],
  terms: readonly number[],
  hs: Partial<HardState> = {},
  learners: readonly NodeId[] = [],
): MemoryStorage {
  const s = new MemoryStorage({ voters: [...voters], learners: [...learners] });
  s.append(terms.map((t, k) => ent(k + 1, t)));
  s.setHardState({
    term: hs.term ?? tm(Math.max(0, ...terms)),
    vote: hs.vote ?? null,
    commit: hs.commit ?? li(0),
  });
  return s;
}

/** Every entry `storage` holds, in order. */
export function storedLog(storage: MemoryStorage): Entry[] {
  const lo = storage.firstIndex();
  const hi = li(storage.lastIndex() + 1);
  return lo >= hi ? [] : storage.entries(lo, hi, Number.MAX_SAFE_INTEGER);
}

/** What several Readies handed out, concatenated. */
export interface Drained {
  readonly readies: Ready[];
  readonly messages: Message[];
  readonly entries: Entry[];
  readonly committed: Entry[];
  readonly readStates: ReadState[];
  /** The last hard state handed out, if any. */
  readonly hardState: HardState | null;
  readonly softState: SoftState | null;
  readonly snapshot: Snapshot | null;
}

/**
 * One group member driven the way the host loop in notes/api.md drives it: persist what a Ready
 * hands out, queue its messages, apply its committed entries (membership changes through
 * applyConfChange), then advance.
 */
export class Peer {
  node: RawNode;
  /** Entries applied since the last (re)start, in order. */
  applied: Entry[] = [];
  readStates: ReadState[] = [];
  /** Every Ready handled, oldest first. */
  readonly readies: Ready[] = [];
  /** Messages handed out and not yet taken by a network or a test. */
  outbox: Message[] = [];
  /** The membership as the host last applied it. */
  confState: ConfState;
  /** The index the host applied last (a snapshot counts as applying up to its index). */
  appliedIndex: number;
  onReady: ((p: Peer, rd: Ready) => void) | null = null;
  onApply: ((p: Peer, e: Entry) => void) | null = null;

  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
    readonly config: NodeConfig = PAPER,
  ) {
    this.node = this.boot();
    this.confState = storage.initialState().confState;
    this.appliedIndex = storage.snapshot().metadata.index;
  }

  private boot(): RawNode {
    return new RawNode({
      ...PAPER,
      rng: constRng(0),
      applied: this.storage.snapshot().metadata.index,
      ...this.config,
      electionTick: this.config.electionTick ?? 10,
      heartbeatTick: this.config.heartbeatTick ?? 1,
      id: this.id,
      storage: this.storage,
    });
  }

  /** A crash and restart: the RawNode and the state machine are lost; storage survives. */
  restart(): void {
    this.node = this.boot();
    this.applied = [];
    this.readStates = [];
    this.outbox = [];
    this.confState = this.storage.snapshot().metadata.confState;
    this.appliedIndex = this.storage.snapshot().metadata.index;
  }

  status(): RaftStatus {
    return this.node.status();
  }

  get role(): SoftState['role'] {
    return this.node.status().softState.role;
  }

  get term(): Term {
    return this.node.status().hardState.term;
  }

  step(m: Message): void {
    this.node.step(m);
  }

  tick(n = 1): void {
    for (let i = 0; i < n; i++) this.node.tick();
  }

  propose(data: string): ProposalPosition | null {
    return this.node.propose(bytes(data));
  }

  /** Handles one Ready, or returns null when there is none. */
  handleReady(): Ready | null {
    if (!this.node.hasReady()) return null;
    const rd = this.node.ready();
    this.readies.push(rd);
    if (rd.snapshot !== null) {
      this.storage.applySnapshot(rd.snapshot);
      this.confState = rd.snapshot.metadata.confState;
      this.appliedIndex = rd.snapshot.metadata.index;
    }
    this.storage.append(rd.entries);
    if (rd.hardState !== null) this.storage.setHardState(rd.hardState);
    this.onReady?.(this, rd);
    this.outbox.push(...rd.messages);
    for (const e of rd.committedEntries) {
      // The host contract: committed entries come in log order, without gaps or repeats.
      if (e.index !== this.appliedIndex + 1) {
        throw new Error(`${this.id} was handed entry ${e.index} to apply after ${this.appliedIndex}`);
      }
      this.appliedIndex = e.index;
      this.applied.push(e);
      if (e.type === 'confChange') this.confState = this.node.applyConfChange(e.change);
      this.onApply?.(this, e);
    }
    this.readStates.push(...rd.readStates);
    this.node.advance(rd);
    return rd;
  }

  /** Handles Readies until there are none, and returns what they carried. The messages are also
   * removed from the outbox: the caller now owns them. */
  drain(): Drained {
    const readies: Ready[] = [];
    for (let rd = this.handleReady(); rd !== null; rd = this.handleReady()) readies.push(rd);
    this.outbox = [];
    let hardState: HardState | null = null;
    let softState: SoftState | null = null;
    let snapshot: Snapshot | null = null;
    for (const rd of readies) {
      hardState = rd.hardState ?? hardState;
      softState = rd.softState ?? softState;
      snapshot = rd.snapshot ?? snapshot;
    }
    return {
      readies,
      messages: readies.flatMap((rd) => rd.messages),
      entries: readies.flatMap((rd) => rd.entries),
      committed: readies.flatMap((rd) => rd.committedEntries),
      readStates: readies.flatMap((rd) => rd.readStates),
      hardState,
      softState,
      snapshot,
    };
  }

  /** Steps one message and drains the result. */
  stepDrain(m: Message): Drained {
    this.step(m);
    return this.drain();
  }
}

/** A founding member of a new group (MemoryStorage.bootstrap: snapshot at 1, term 1). */
export function founder(id: NodeId, voters: readonly NodeId[], config: NodeConfig = PAPER): Peer {
  return new Peer(id, MemoryStorage.bootstrap(voters), config);
}

/**
 * Makes a lone peer leader by feeding it granted votes from the other voters (no network), then
 * drains its Readies. Returns the drained output of becoming leader.
 */
export function forceLeader(p: Peer): Drained {
  p.node.campaign();
  const first = p.drain();
  const voters = p.status().confState.voters.filter((v) => v !== p.id);
  const preVote = first.messages.some((m) => m.type === 'preVote');
  if (preVote) {
    for (const v of voters) {
      if (p.role !== 'preCandidate') break;
      p.step({ type: 'preVoteResp', from: v, to: p.id, term: tm(p.term + 1), reject: false });
    }
    p.drain();
  }
  for (const v of voters) {
    if (p.role === 'leader') break;
    p.step({ type: 'voteResp', from: v, to: p.id, term: p.term, reject: false });
  }
  const out = p.drain();
  if (p.role !== 'leader') throw new Error(`${p.id} did not become leader (${p.role})`);
  return out;
}

/** Acknowledges everything a peer's appends carried, from each given follower (no network). */
export function ackAll(leader: Peer, msgs: readonly Message[], from: readonly NodeId[]): void {
  for (const m of msgs) {
    if (m.type !== 'app' || !from.includes(m.to)) continue;
    const last = m.entries[m.entries.length - 1]?.index ?? m.index;
    leader.step(appResp(m.to, leader.id, m.term, last));
  }
}

// ---- Message builders --------------------------------------------------------------------------

export function app(
  from: NodeId,
  to: NodeId,
  t: number,
  index: number,
  logTerm: number,
  entries: readonly Entry[],
  commit: number,
): Message {
  return { type: 'app', from, to, term: tm(t), index: li(index), logTerm: tm(logTerm), entries, commit: li(commit) };
}

export function appResp(from: NodeId, to: NodeId, t: number, index: number, reject = false, rejectHint = 0, logTerm = 0): Message {
  return { type: 'appResp', from, to, term: tm(t), index: li(index), reject, rejectHint: li(rejectHint), logTerm: tm(logTerm) };
}

export function voteReq(from: NodeId, to: NodeId, t: number, index: number, logTerm: number, kind: 'vote' | 'preVote' = 'vote', transfer = false): Message {
  return { type: kind, from, to, term: tm(t), index: li(index), logTerm: tm(logTerm), transfer };
}

export function heartbeat(from: NodeId, to: NodeId, t: number, commit: number, context: string | null = null): Message {
  return { type: 'heartbeat', from, to, term: tm(t), commit: li(commit), context };
}

export function heartbeatResp(from: NodeId, to: NodeId, t: number, context: string | null = null): Message {
  return { type: 'heartbeatResp', from, to, term: tm(t), context };
}

export type MessageOf<T extends Message['type']> = Message & { readonly type: T };

export function ofType<T extends Message['type']>(msgs: readonly Message[], type: T, to?: NodeId): MessageOf<T>[] {
  return msgs.filter((m): m is MessageOf<T> => m.type === type && (to === undefined || m.to === to));
}

/** The one message of `type` in `msgs` (to `to`, if given); fails the test otherwise. */
export function only<T extends Message['type']>(msgs: readonly Message[], type: T, to?: NodeId): MessageOf<T> {
  const found = ofType(msgs, type, to);
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${type}${to === undefined ? '' : ` to ${to}`}, got ${found.length}: ${JSON.stringify(msgs.map((m) => [m.type, m.from, m.to]))}`);
  }
  return found[0]!;
}

// ---- Network -----------------------------------------------------------------------------------

export interface Chaos {
  readonly rng: ReturnType<typeof seededRng>;
  /** Probability that a message is lost, and that a delivered one is delivered twice. */
  readonly loss: number;
  readonly duplicate: number;
  readonly reorder: boolean;
}

export interface NetworkOptions {
  /** Drives losses, duplicates and reordering; without it delivery is FIFO and lossless. */
  readonly chaos?: Chaos;
  /** Gives peer k of Network.of its own seededRng(rngSeed + k) for election timeouts. */
  readonly rngSeed?: number;
}

/**
 * A synchronous network of peers. Delivery follows the host contract: a message leaves only after
 * the Ready that carried it was persisted. Cut links, crashed receivers and drop rules lose
 * messages; a lost or delivered snapshot is reported to its sender (notes/api.md).
 *
 * It also watches the safety properties of Figure 3 on every Ready and every apply, recording any
 * breach in `violations` (tests assert it stays empty).
 */
export class Network {
  readonly peers = new Map<NodeId, Peer>();
  /** Messages sent and not yet delivered or lost, oldest first. */
  queue: Message[] = [];
  readonly delivered: Message[] = [];
  readonly lost: Message[] = [];
  readonly down = new Set<NodeId>();
  readonly violations: string[] = [];
  /** Election Safety: the one leader seen in each term. */
  readonly leaders = new Map<number, NodeId>();
  /** State Machine Safety: the term of the entry applied at each index, by anyone. */
  readonly appliedTerms = new Map<number, number>();
  private readonly cuts = new Set<string>();
  private drops: ((m: Message) => boolean)[] = [];
  private readonly lastHard = new Map<NodeId, HardState>();

  private chaos: Chaos | null;

  constructor(options: NetworkOptions = {}) {
    this.chaos = options.chaos ?? null;
  }

  /** Turns random faults on or off (e.g. off to check that the cluster converges afterwards). */
  setChaos(chaos: Chaos | null): void {
    this.chaos = chaos;
  }

  /** A network of founding members that all share `config`. */
  static of(names: readonly string[], config: NodeConfig = PAPER, options: NetworkOptions = {}): Network {
    const net = new Network(options);
    const voters = ids(...names);
    voters.forEach((id, k) => {
      const rng = options.rngSeed === undefined ? {} : { rng: seededRng(options.rngSeed + k) };
      net.add(new Peer(id, MemoryStorage.bootstrap(voters), { ...config, ...rng }));
    });
    return net;
  }

  add(p: Peer): Peer {
    this.peers.set(p.id, p);
    p.onReady = (peer, rd) => this.checkReady(peer, rd);
    p.onApply = (peer, e) => this.checkApply(peer, e);
    return p;
  }

  peer(id: NodeId | string): Peer {
    const p = this.peers.get(id as NodeId);
    if (p === undefined) throw new Error(`no peer ${id}`);
    return p;
  }

  /** The peers that currently believe they lead. */
  leaderIds(): NodeId[] {
    return [...this.peers.values()].filter((p) => !this.down.has(p.id) && p.role === 'leader').map((p) => p.id);
  }

  // -- faults --

  /** Cuts the link between a and b, both directions. */
  cut(a: NodeId, b: NodeId): void {
    this.cuts.add(`${a}>${b}`);
    this.cuts.add(`${b}>${a}`);
  }

  isolate(id: NodeId): void {
    for (const other of this.peers.keys()) if (other !== id) this.cut(id, other);
  }

  /** Splits the peers into groups that cannot talk to each other. */
  partition(...groups: NodeId[][]): void {
    for (const g of groups) for (const h of groups) if (g !== h) for (const x of g) for (const y of h) this.cuts.add(`${x}>${y}`);
  }

  /** Loses every message matching `pred` until heal(). */
  dropIf(pred: (m: Message) => boolean): void {
    this.drops.push(pred);
  }

  heal(): void {
    this.cuts.clear();
    this.drops = [];
  }

  crash(id: NodeId): void {
    this.down.add(id);
  }

  restart(id: NodeId): Peer {
    const p = this.peer(id);
    p.restart();
    this.down.delete(id);
    return p;
  }

  // -- delivery --

  /** Handles every live peer's Readies and queues their messages. Returns what was queued. */
  collect(): Message[] {
    const out: Message[] = [];
    for (const p of this.peers.values()) {
      if (this.down.has(p.id)) continue;
      while (p.handleReady() !== null) {
        /* drain */
      }
      out.push(...p.outbox);
      p.outbox = [];
    }
    this.queue.push(...out);
    return out;
  }

  private isLost(m: Message): boolean {
    if (this.down.has(m.to) || !this.peers.has(m.to)) return true;
    if (this.cuts.has(`${m.from}>${m.to}`)) return true;
    if (this.drops.some((d) => d(m))) return true;
    return this.chaos !== null && this.chaos.rng.nextFloat() < this.chaos.loss;
  }

  private deliver(m: Message): void {
    const sender = this.down.has(m.from) ? undefined : this.peers.get(m.from);
    if (this.isLost(m)) {
      this.lost.push(m);
      if (m.type === 'snap') sender?.node.reportSnapshot(m.to, 'failure');
      return;
    }
    this.delivered.push(m);
    this.peer(m.to).step(m);
    if (m.type === 'snap') sender?.node.reportSnapshot(m.to, 'finish');
  }

  /** Delivers the queued messages (those matching `which`, if given; the rest stay queued), one
   * hop, then collects what the receivers answered. Returns the messages delivered or lost. */
  deliverOnce(which?: (m: Message) => boolean): Message[] {
    const batch = which === undefined ? this.queue : this.queue.filter(which);
    this.queue = which === undefined ? [] : this.queue.filter((m) => !which(m));
    const chaos = this.chaos;
    if (chaos?.reorder === true) {
      for (let i = batch.length - 1; i > 0; i--) {
        const j = chaos.rng.nextInt(i + 1);
        [batch[i], batch[j]] = [batch[j]!, batch[i]!];
      }
    }
    for (const m of batch) {
      this.deliver(m);
      if (chaos !== null && chaos.rng.nextFloat() < chaos.duplicate) this.deliver(m);
    }
    this.collect();
    return batch;
  }

  /** Delivers until nothing is left to do. */
  settle(maxRounds = 500): void {
    this.collect();
    for (let round = 0; this.queue.length > 0; round++) {
      if (round >= maxRounds) throw new Error('network did not settle');
      this.deliverOnce();
    }
  }

  /** Ticks every live peer (or the named ones) n times, settling after each tick. */
  tick(n = 1, only?: readonly NodeId[]): void {
    for (let i = 0; i < n; i++) {
      for (const p of this.peers.values()) {
        if (this.down.has(p.id) || (only !== undefined && !only.includes(p.id))) continue;
        p.node.tick();
      }
      this.settle();
    }
  }

  /** Makes `id` campaign and settles; fails unless it wins. */
  elect(id: NodeId): Peer {
    const p = this.peer(id);
    p.node.campaign();
    this.settle();
    if (p.role !== 'leader') throw new Error(`${id} did not win the election (${p.role}, term ${p.term})`);
    return p;
  }

  propose(id: NodeId, data: string): ProposalPosition | null {
    const pos = this.peer(id).propose(data);
    this.settle();
    return pos;
  }

  // -- invariants --

  private checkReady(p: Peer, rd: Ready): void {
    const hs = p.status().hardState;
    const prev = this.lastHard.get(p.id);
    if (prev !== undefined && (hs.term < prev.term || hs.commit < prev.commit)) {
      this.violations.push(`${p.id}: hard state went back from ${JSON.stringify(prev)} to ${JSON.stringify(hs)}`);
    }
    this.lastHard.set(p.id, hs);
    for (const m of rd.messages) {
      if (m.from !== p.id) this.violations.push(`${p.id} sent a message from ${m.from}`);
      if (m.to === p.id) this.violations.push(`${p.id} sent a message to itself`);
    }
    if (rd.softState?.role !== 'leader') return;
    const other = this.leaders.get(hs.term);
    if (other !== undefined && other !== p.id) {
      this.violations.push(`Election Safety: ${other} and ${p.id} both lead term ${hs.term}`);
    }
    this.leaders.set(hs.term, p.id);
    // Leader Completeness: the new leader's log holds every entry anybody applied.
    const first = p.storage.firstIndex();
    for (const [index, t] of this.appliedTerms) {
      if (index < first) continue;
      let mine: number | null = null;
      try {
        mine = p.storage.term(li(index));
      } catch {
        mine = null;
      }
      if (mine !== t) {
        this.violations.push(`Leader Completeness: ${p.id} leads term ${hs.term} with ${mine} at ${index}, applied ${t} there`);
      }
    }
  }

  private checkApply(p: Peer, e: Entry): void {
    const t = this.appliedTerms.get(e.index);
    if (t === undefined) this.appliedTerms.set(e.index, e.term);
    else if (t !== e.term) {
      this.violations.push(`State Machine Safety: ${p.id} applied term ${e.term} at ${e.index}, another applied term ${t}`);
    }
  }
}

export const entriesBetween = (s: MemoryStorage, lo: number, hi: number): Entry[] => s.entries(li(lo), li(hi), Number.MAX_SAFE_INTEGER);

export type { LogIndex };
