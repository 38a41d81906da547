import { logIndex, type LogIndex, type MemoryStorage, type Message, type NodeId, type Term } from '../../src/raft/index.js';
import { entryId, type ApplyEvent } from './sim-node.js';

/** A broken safety property, with the rule it breaks. */
export class Violation extends Error {
  constructor(
    readonly rule: string,
    detail: string,
  ) {
    super(`${rule}: ${detail}`);
  }
}

/** What the checker can see of a node: its durable log and, if running, its raft status. */
export interface NodeView {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly role: string | null;
  readonly term: Term;
  readonly lastIndex: LogIndex;
  /** The node's commit index (in memory), or null when it is down. */
  readonly committed: LogIndex | null;
}

function termAt(s: MemoryStorage, i: number): number | null {
  try {
    return s.term(logIndex(i));
  } catch {
    return null;
  }
}

function idAt(s: MemoryStorage, i: number): string | null {
  try {
    const [e] = s.entries(logIndex(i), logIndex(i + 1), Number.MAX_SAFE_INTEGER);
    return e === undefined ? null : entryId(e);
  } catch {
    return null;
  }
}

/**
 * The Raft paper's safety properties (Figure 3), checked against everything the simulator
 * observes: Election Safety, Leader Append-Only, Log Matching, Leader Completeness and State
 * Machine Safety, plus Figure 2's "persist before you answer".
 */
export class SafetyChecker {
  /** term -> the one node that led it. */
  private readonly leaders = new Map<number, NodeId>();
  /** index -> the entry applied there, by whoever applied it first. */
  private readonly appliedAt = new Map<number, { term: number; id: string; by: NodeId }>();
  /** (node, term) -> the leader's log as of the last check, for Leader Append-Only. */
  private readonly leaderLogs = new Map<string, { last: number; entries: Map<number, number> }>();
  private readonly leadersChecked = new Set<string>();
  /** (node, term) -> the commit index that leader had at the last check. */
  private readonly leaderCommits = new Map<string, number>();

  /** Every state machine must apply the same entry at the same index. */
  onApply(e: ApplyEvent): void {
    const prior = this.appliedAt.get(e.entry.index);
    if (prior === undefined) {
      this.appliedAt.set(e.entry.index, { term: e.entry.term, id: e.id, by: e.node });
    } else if (prior.term !== e.entry.term || prior.id !== e.id) {
      throw new Violation(
        'State Machine Safety',
        `${e.node} applied ${e.id}@t${e.entry.term} at index ${e.entry.index}, ${prior.by} applied ${prior.id}@t${prior.term}`,
      );
    }
  }

  /**
   * Called after a node persisted a Ready and before its messages leave: a granted vote and an
   * acknowledged append must already be durable (Figure 2: respond only after updating stable
   * storage).
   */
  onPersistedSend(node: NodeId, storage: MemoryStorage, sent: readonly Message[]): void {
    const hs = storage.initialState().hardState;
    for (const m of sent) {
      // A later term on disk supersedes the promise: the node can never vote in m.term again.
      if (m.type === 'voteResp' && !m.reject && (hs.term < m.term || (hs.term === m.term && hs.vote !== m.to))) {
        throw new Violation('Persist before responding', `${node} granted ${m.to} a vote in term ${m.term} but has (term ${hs.term}, vote ${hs.vote}) on disk`);
      }
      if (m.type === 'vote' && (hs.term < m.term || (hs.term === m.term && hs.vote !== node))) {
        throw new Violation('Persist before responding', `${node} asked for votes in term ${m.term} with (term ${hs.term}, vote ${hs.vote}) on disk`);
      }
      if (m.type === 'appResp' && !m.reject && m.index > 0 && storage.lastIndex() < m.index) {
        throw new Violation('Persist before responding', `${node} acknowledged index ${m.index} holding only ${storage.lastIndex()} on disk`);
      }
      if (m.term > hs.term && m.type !== 'preVote' && m.type !== 'preVoteResp') {
        throw new Violation('Persist before responding', `${node} sent ${m.type} with term ${m.term} but term ${hs.term} on disk`);
      }
    }
  }

  /** Checks taken after every step of the simulation. */
  afterStep(nodes: readonly NodeView[]): void {
    for (const n of nodes) {
      if (n.role !== 'leader') continue;
      const prior = this.leaders.get(n.term);
      if (prior !== undefined && prior !== n.id) {
        throw new Violation('Election Safety', `term ${n.term} has two leaders: ${prior} and ${n.id}`);
      }
      this.leaders.set(n.term, n.id);
      const key = `${n.id}/${n.term}`;
      if (!this.leadersChecked.has(key)) {
        this.leadersChecked.add(key);
        this.checkLeaderCompleteness(n);
      }
      this.checkAppendOnly(key, n);
      this.checkCommitRule(key, n);
    }
  }

  /** Figure 2, rules for leaders: commitIndex moves to N only if log[N].term == currentTerm; an
   * entry of an older term is committed only indirectly, with a current-term entry after it. */
  private checkCommitRule(key: string, n: NodeView): void {
    if (n.committed === null) return;
    const prev = this.leaderCommits.get(key);
    this.leaderCommits.set(key, n.committed);
    if (prev === undefined || n.committed <= prev) return;
    const t = termAt(n.storage, n.committed);
    if (t !== null && t !== n.term) {
      throw new Violation('Leader commits only current-term entries', `${key} moved its commit index from ${prev} to ${n.committed}, an entry of term ${t}`);
    }
  }

  /** Every entry applied anywhere so far is committed, so it must be in every new leader's log. */
  private checkLeaderCompleteness(n: NodeView): void {
    const first = n.storage.firstIndex();
    for (const [index, e] of this.appliedAt) {
      if (index < first - 1) continue; // covered by the leader's snapshot
      const t = termAt(n.storage, index);
      if (t !== e.term) {
        throw new Violation(
          'Leader Completeness',
          `${n.id} leads term ${n.term} without committed entry ${index} (${e.id}@t${e.term}); it has ${t === null ? 'nothing' : `term ${t}`} there`,
        );
      }
    }
  }

  /** A leader never overwrites or deletes entries in its log (it only appends). */
  private checkAppendOnly(key: string, n: NodeView): void {
    const prev = this.leaderLogs.get(key);
    const last = n.storage.lastIndex();
    if (prev !== undefined) {
      if (last < prev.last) throw new Violation('Leader Append-Only', `${key} log shrank from ${prev.last} to ${last}`);
      for (const [i, t] of prev.entries) {
        const now = termAt(n.storage, i);
        if (now !== null && now !== t) throw new Violation('Leader Append-Only', `${key} rewrote index ${i} from term ${t} to ${now}`);
      }
    }
    // Remember the tail; compaction may drop older entries and that is allowed.
    const entries = new Map<number, number>();
    for (let i = Math.max(n.storage.firstIndex(), last - 63); i <= last; i++) {
      const t = termAt(n.storage, i);
      if (t !== null) entries.set(i, t);
    }
    this.leaderLogs.set(key, { last, entries });
  }

  /** Log Matching: if two logs hold an entry with the same index and term, the logs are identical
   * up to that index. Checked on the durable logs of every pair of nodes. */
  checkLogMatching(nodes: readonly NodeView[]): void {
    for (let a = 0; a < nodes.length; a++) {
      for (let b = a + 1; b < nodes.length; b++) {
        const x = nodes[a]!.storage;
        const y = nodes[b]!.storage;
        const lo = Math.max(x.firstIndex(), y.firstIndex());
        const hi = Math.min(x.lastIndex(), y.lastIndex());
        let agreeFrom = -1;
        for (let i = hi; i >= lo; i--) {
          if (termAt(x, i) === termAt(y, i)) {
            agreeFrom = i;
            break;
          }
        }
        for (let i = lo; i <= agreeFrom; i++) {
          if (termAt(x, i) !== termAt(y, i) || idAt(x, i) !== idAt(y, i)) {
            throw new Violation(
              'Log Matching',
              `${nodes[a]!.id} and ${nodes[b]!.id} agree at index ${agreeFrom} but differ at ${i}: ${idAt(x, i)}@t${termAt(x, i)} vs ${idAt(y, i)}@t${termAt(y, i)}`,
            );
          }
        }
      }
    }
  }

  appliedCount(): number {
    return this.appliedAt.size;
  }
}
