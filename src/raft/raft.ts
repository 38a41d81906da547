import { resolveRaftConfig, type RaftConfig, type ResolvedRaftConfig } from './config.js';
import {
  CompactedError,
  ProposalDroppedError,
  RaftInvariantError,
  ReadIndexDroppedError,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
} from './errors.js';
import type {
  AppendMessage,
  AppendResponseMessage,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  Message,
  SnapshotMessage,
  VoteMessage,
} from './message.js';
import { ProgressTracker } from './progress-tracker.js';
import { RaftLog } from './raft-log.js';
import { ReadOnly } from './read-only.js';
import {
  assertNever,
  entryPayloadSize,
  isEmptyHardState,
  logIndex,
  term as toTerm,
  type ConfChange,
  type ConfState,
  type Entry,
  type EntryPayload,
  type HardState,
  type LogIndex,
  type NodeId,
  type ReadState,
  type Role,
  type Snapshot,
  type SoftState,
  type Term,
} from './types.js';

type CampaignKind = 'preElection' | 'election' | 'transfer';

/**
 * One member of one Raft group: the rules of the Raft paper's Figure 2 plus PreVote, CheckQuorum,
 * leadership transfer, ReadIndex, learners, single-server membership changes and flow control.
 * Pure and synchronous: inputs are ticks, messages and requests; outputs accumulate in `msgs`,
 * `readStates` and the log, and the RawNode turns them into Ready batches.
 */
export class Raft {
  readonly id: NodeId;
  readonly cfg: ResolvedRaftConfig;
  term: Term = toTerm(0);
  /** The candidate voted for in `term` (Figure 2 "votedFor"). */
  vote: NodeId | null = null;
  role: Role = 'follower';
  lead: NodeId | null = null;
  readonly log: RaftLog;
  readonly prs: ProgressTracker;
  /** Messages to send once the current Ready is persisted. */
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  /** While set, the leader refuses proposals: it is handing leadership to this node. */
  leadTransferee: NodeId | null = null;
  /** A leader proposes no conf change while one up to this index may still be unapplied: one
   * change at a time keeps every pair of consecutive majorities overlapping. */
  pendingConfIndex: LogIndex = logIndex(0);
  /** Bytes of uncommitted entries this leader appended, against maxUncommittedEntriesSize. */
  uncommittedSize = 0;
  /** Proposals were appended since the last broadcast. They go out together when the host asks
   * for the next Ready, so a loop turn with many proposals costs one append per follower. */
  private proposalsUnsent = false;
  /** The term in which this lone voter, a candidate, waits for its vote to be on disk. */
  private selfVoteAwaitingDisk: Term | null = null;
  private readonly readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before this leader committed an entry of its own term: the
   * commit index it knows may still lag its predecessor's, so they wait (§6.4 step 1). */
  private pendingReadIndex: { from: NodeId; context: string }[] = [];
  /** Ticks since the last election timeout reset; for a leader, since the last CheckQuorum round. */
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;

  constructor(config: RaftConfig) {
    this.cfg = resolveRaftConfig(config);
    this.id = this.cfg.id;
    this.log = new RaftLog(this.cfg.storage, this.cfg.maxCommittedSizePerReady);
    this.prs = new ProgressTracker(this.cfg.maxInflightMsgs);
    const { hardState, confState } = this.cfg.storage.initialState();
    this.prs.reset(confState, logIndex(this.log.lastIndex() + 1));
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (this.cfg.applied > 0) this.log.appliedTo(this.cfg.applied);
    this.becomeFollower(this.term, null);
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new RaftInvariantError(
        `hard state commit ${hs.commit} is outside [${this.log.committed}, ${this.log.lastIndex()}]`,
      );
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { leader: this.lead, role: this.role };
  }

  // ---- Role transitions -------------------------------------------------------------------------

  private reset(t: Term): void {
    if (this.term !== t) {
      this.term = t;
      this.vote = null;
      // Messages still queued from an older term are stale, and one of them may be dangerous: an
      // append acknowledgement queued earlier in this batch, for entries a newer leader has just
      // truncated before they reached the disk. Sent, it would let the old leader count entries
      // this node does not hold. Dropping them equals losing them on the network.
      this.msgs = this.msgs.filter((m) => m.term >= t);
    }
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = null;
    this.prs.resetVotes();
    const next = logIndex(this.log.lastIndex() + 1);
    for (const [id, pr] of this.prs.progress) {
      pr.becomeProbe();
      pr.match = logIndex(0);
      pr.next = next;
      pr.recentActive = false;
      pr.sentCommit = 0;
      if (id === this.id) pr.match = this.log.lastIndex();
    }
    this.pendingConfIndex = logIndex(0);
    this.uncommittedSize = 0;
    this.readOnly.reset();
    this.pendingReadIndex = [];
    this.proposalsUnsent = false;
    this.selfVoteAwaitingDisk = null;
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout =
      this.cfg.electionTick + this.cfg.rng.nextInt(this.cfg.electionTick);
  }

  becomeFollower(t: Term, lead: NodeId | null): void {
    this.reset(t);
    this.lead = lead;
    this.role = 'follower';
  }

  private becomePreCandidate(): void {
    if (this.role === 'leader') throw new RaftInvariantError('leader cannot become pre-candidate');
    // A pre-candidate changes neither term nor vote: the probe must not disrupt anyone.
    this.prs.resetVotes();
    this.lead = null;
    this.role = 'preCandidate';
  }

  private becomeCandidate(): void {
    if (this.role === 'leader') throw new RaftInvariantError('leader cannot become candidate');
    this.reset(toTerm(this.term + 1));
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    if (this.role === 'follower') throw new RaftInvariantError('follower cannot become leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const self = this.prs.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Entries of earlier terms may hold an unapplied conf change: forbid a new one until this
    // leader's log up to here is applied (the fix to the single-server change bug, dissertation 4.1).
    this.pendingConfIndex = this.log.lastIndex();
    // §8: commit a no-op of this term at once, so earlier entries commit and reads can be served.
    this.appendEntries([{ type: 'normal', data: new Uint8Array(0) }]);
    this.cfg.logger?.info(`${this.id} became leader at term ${this.term}`);
  }

  // ---- Ticks ------------------------------------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup('election');
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.checkQuorumActive()) return;
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.role === 'leader' && this.leadTransferee !== null) this.leadTransferee = null;
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.readOnly.lastPendingContext());
    }
  }

  /** CheckQuorum: a leader that has not heard from a majority in an election timeout steps down,
   * so a partitioned leader stops accepting work it can never commit. Returns whether it stayed. */
  private checkQuorumActive(): boolean {
    const active = this.prs.quorumActive(this.id);
    for (const [id, pr] of this.prs.progress) if (id !== this.id) pr.recentActive = false;
    if (!active) {
      this.cfg.logger?.warn(`${this.id} stepped down at term ${this.term}: quorum not active`);
      this.becomeFollower(this.term, null);
    }
    return active;
  }

  /** Whether this node may campaign: a voter, with no snapshot waiting to be persisted. */
  promotable(): boolean {
    return this.prs.isVoter(this.id) && this.log.unstable.snapshot === null;
  }

  // ---- Elections --------------------------------------------------------------------------------

  /** Starts a campaign if allowed. `election` means "the timer fired": PreVote first if enabled. */
  hup(kind: 'election' | 'transfer'): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    // A node that has committed but unapplied membership changes may not know the real voters.
    if (this.hasUnappliedConfChanges()) {
      this.cfg.logger?.warn(`${this.id} not campaigning: conf changes committed but unapplied`);
      return;
    }
    if (kind === 'transfer') this.campaign('transfer');
    else this.campaign(this.cfg.preVote ? 'preElection' : 'election');
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    const lo = logIndex(Math.max(this.log.applied + 1, this.log.firstIndex()));
    const ents = this.log.slice(lo, logIndex(this.log.committed + 1), Number.MAX_SAFE_INTEGER);
    return ents.some((e) => e.type === 'confChange');
  }

  private campaign(kind: CampaignKind): void {
    let voteTerm: Term;
    if (kind === 'preElection') {
      this.becomePreCandidate();
      // Ask with the term we would have, without moving to it.
      voteTerm = toTerm(this.term + 1);
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    const type = kind === 'preElection' ? 'preVote' : 'vote';
    if (kind !== 'preElection' && this.prs.isSingleton(this.id)) {
      // A lone voter counts its own vote only once its new term and vote are on disk
      // (termPersisted): leading a term that is not on disk, it could crash, win the same term
      // again and write other entries at the same indexes and term.
      this.selfVoteAwaitingDisk = this.term;
      return;
    }
    if (this.poll(this.id, true) === 'won') {
      // A lone voter's pre-vote wins at once; the election itself waits for the disk (above).
      if (kind === 'preElection') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.prs.voters()) {
      if (id === this.id) continue;
      const m: VoteMessage = {
        type,
        from: this.id,
        to: id,
        term: voteTerm,
        index: lastIndex,
        logTerm: lastTerm,
        transfer: kind === 'transfer',
      };
      this.msgs.push(m);
    }
  }

  private poll(id: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    this.prs.recordVote(id, granted);
    return this.prs.voteResult();
  }

  // ---- Step: every message enters here ----------------------------------------------------------

  step(m: Message): void {
    if (m.to !== this.id) return;
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        // Leader lease (with CheckQuorum): a node that heard from a leader within the minimum
        // election timeout ignores a campaign, so a partitioned node returning cannot depose a
        // healthy leader. A transfer-initiated campaign is legitimate and bypasses it.
        const inLease =
          this.cfg.checkQuorum && this.lead !== null && this.electionElapsed < this.cfg.electionTick;
        if (inLease && !m.transfer) return;
      }
      if (m.type === 'preVote') {
        // A PreVote never changes our term.
      } else if (m.type === 'preVoteResp' && !m.reject) {
        // Our term moves when the real election starts; a granting peer merely echoes term+1.
      } else if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.term) {
      if (m.type === 'heartbeat' || m.type === 'app') {
        // Figure 2, AppendEntries rule 1: reply false with our term. A stale leader (partitioned,
        // now back) learns it and steps down; with PreVote and CheckQuorum nobody would otherwise
        // ever send it a higher term.
        this.send({ type: 'appResp', from: this.id, to: m.from, term: this.term, index: logIndex(0), reject: false, rejectHint: logIndex(0), logTerm: toTerm(0) });
      } else if (m.type === 'preVote') {
        this.send({ type: 'preVoteResp', from: this.id, to: m.from, term: this.term, reject: true });
      }
      return;
    }

    switch (m.type) {
      case 'vote':
      case 'preVote':
        this.handleVoteRequest(m);
        return;
      default:
        break;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
      default:
        assertNever(this.role);
    }
  }

  /** Figure 2, RequestVote receiver rules, plus PreVote. */
  private handleVoteRequest(m: VoteMessage): void {
    // Rule 2: grant if we have not voted for someone else this term (a repeated request from the
    // same candidate is granted again), and the candidate's log is at least as up-to-date as ours.
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.lead === null) ||
      (m.type === 'preVote' && m.term > this.term);
    const respType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // A PreVote answer carries the proposed term so the candidate counts it as current.
      this.send({ type: respType, from: this.id, to: m.from, term: m.type === 'vote' ? this.term : m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'prop':
        // Forwarded proposals are dropped silently when refused: the follower's client times out.
        try {
          this.propose(m.entries);
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
        return;
      case 'readIndex':
        this.handleReadIndex(m.from, m.context);
        return;
      case 'transferLeader':
        this.handleTransferLeader(m.transferee);
        return;
      case 'appResp':
        this.handleAppendResponse(m);
        return;
      case 'heartbeatResp':
        this.handleHeartbeatResponse(m);
        return;
      case 'app':
      case 'heartbeat':
      case 'snap':
      case 'voteResp':
      case 'preVoteResp':
      case 'timeoutNow':
      case 'readIndexResp':
      case 'vote':
      case 'preVote':
        // Same-term messages a leader has no use for: stale responses from an election it won, or
        // impossible ones (two leaders in one term), which Election Safety rules out.
        return;
      default:
        assertNever(m);
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'prop':
        return;
      case 'app':
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'voteResp':
      case 'preVoteResp': {
        // Only the answers to the current phase count.
        const mine = this.role === 'preCandidate' ? 'preVoteResp' : 'voteResp';
        if (m.type !== mine) return;
        switch (this.poll(m.from, !m.reject)) {
          case 'won':
            if (this.role === 'preCandidate') this.campaign('election');
            else {
              this.becomeLeader();
              this.bcastAppend();
            }
            return;
          case 'lost':
            this.becomeFollower(this.term, null);
            return;
          case 'pending':
            return;
        }
        return;
      }
      case 'readIndex':
      case 'transferLeader':
      case 'timeoutNow':
      case 'appResp':
      case 'heartbeatResp':
      case 'readIndexResp':
      case 'vote':
      case 'preVote':
        return;
      default:
        assertNever(m);
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'prop':
        if (this.lead === null || this.cfg.disableProposalForwarding) return;
        this.send({ ...m, from: this.id, to: this.lead, term: this.term });
        return;
      case 'app':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'transferLeader':
        if (this.lead === null) return;
        this.send({ ...m, from: this.id, to: this.lead, term: this.term });
        return;
      case 'timeoutNow':
        // Leadership transfer: campaign now, skipping PreVote (the leader asked for it).
        this.hup('transfer');
        return;
      case 'readIndex':
        if (this.lead === null) return;
        this.send({ ...m, from: this.id, to: this.lead, term: this.term });
        return;
      case 'readIndexResp':
        this.readStates.push({ index: m.index, context: m.context });
        return;
      case 'appResp':
      case 'heartbeatResp':
      case 'voteResp':
      case 'preVoteResp':
      case 'vote':
      case 'preVote':
        return;
      default:
        assertNever(m);
    }
  }

  // ---- Follower side of replication ------------------------------------------------------------

  private handleAppend(m: AppendMessage): void {
    if (m.index < this.log.committed) {
      // Everything up to our commit index already matches the leader (Leader Completeness).
      this.sendAppendResponse(m.from, this.log.committed);
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== null) {
      this.sendAppendResponse(m.from, lastNew);
      return;
    }
    // Figure 2 receiver rule 2: reject when the entry before the new ones does not match. The hint
    // lets the leader skip past a whole conflicting term in one round trip.
    const hint = this.log.findConflictByTerm(logIndex(Math.min(m.index, this.log.lastIndex())), m.logTerm);
    this.send({
      type: 'appResp',
      from: this.id,
      to: m.from,
      term: this.term,
      index: m.index,
      reject: true,
      rejectHint: hint.index,
      logTerm: hint.term,
    });
  }

  private sendAppendResponse(to: NodeId, index: LogIndex): void {
    this.send({ type: 'appResp', from: this.id, to, term: this.term, index, reject: false, rejectHint: logIndex(0), logTerm: toTerm(0) });
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    // The leader sends min(its commit, our match), so this never commits what we do not hold.
    this.log.commitTo(m.commit);
    const resp: HeartbeatResponseMessage = { type: 'heartbeatResp', from: this.id, to: m.from, term: this.term, context: m.context };
    this.send(resp);
  }

  private handleSnapshot(m: SnapshotMessage): void {
    const { index, term: t } = m.snapshot.metadata;
    if (this.restore(m.snapshot)) {
      this.cfg.logger?.info(`${this.id} restored snapshot at ${index} (term ${t})`);
      this.sendAppendResponse(m.from, this.log.lastIndex());
    } else {
      this.sendAppendResponse(m.from, this.log.committed);
    }
  }

  /** InstallSnapshot receiver (§7). Returns false when the snapshot brings nothing new. */
  private restore(snap: Snapshot): boolean {
    const { index, term: t } = snap.metadata;
    if (index <= this.log.committed) return false;
    if (this.role !== 'follower') {
      throw new RaftInvariantError(`${this.id} asked to restore a snapshot as ${this.role}`);
    }
    if (this.log.matchTerm(index, t)) {
      // Our log already holds the snapshot's last entry: keep the log, just advance commit (§7
      // receiver rule 6).
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snap);
    this.prs.reset(snap.metadata.confState, logIndex(this.log.lastIndex() + 1));
    return true;
  }

  // ---- Leader side of replication --------------------------------------------------------------

  private handleAppendResponse(m: AppendResponseMessage): void {
    const pr = this.prs.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    // The reply to a stale-term append (index 0) tells us the sender's term, not its log: taking
    // it as an acknowledgement of index 0 would send a probing follower back to the beginning.
    if (!m.reject && m.index === 0) return;
    if (m.reject) {
      let probeFrom = m.rejectHint;
      if (m.logTerm > 0) probeFrom = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, probeFrom)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === 'probe')) {
      switch (pr.state) {
        case 'probe':
          pr.becomeReplicate();
          break;
        case 'snapshot':
          if (pr.match + 1 >= this.log.firstIndex()) {
            pr.becomeProbe();
            pr.becomeReplicate();
          } else if (pr.match >= pr.pendingSnapshot) {
            // The follower installed the snapshot, but the log has been compacted past it since:
            // probe again, which sends the newer snapshot. Waiting for reportSnapshot here would
            // wait forever if the host never reports a delivered snapshot.
            pr.becomeProbe();
          }
          break;
        case 'replicate':
          pr.inflights.freeLE(m.index);
          break;
      }
      if (this.maybeCommit()) {
        this.bcastCommit();
      } else if (wasPaused || pr.state === 'replicate') {
        let sent = false;
        while (this.maybeSendAppend(m.from, false)) sent = true;
        // Nothing new to send, but the follower may not know the commit index yet (it was paused
        // when the commit moved): tell it now rather than a heartbeat later.
        if (!sent && this.commitGoesOutAlone() && pr.sentCommit < Math.min(this.log.committed, pr.match)) this.sendAppend(m.from);
      }
      if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
        this.sendTimeoutNow(m.from);
      }
    }
  }

  private handleHeartbeatResponse(m: HeartbeatResponseMessage): void {
    const pr = this.prs.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.probeSent = false;
    // Appends lost in flight are never acknowledged, so a full window would stay full forever and
    // the follower would never be sent anything again. Free one slot: the next append either
    // lands or is rejected, and a rejection sends the leader back to probing.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
    if (m.context === null) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === null || !this.prs.hasQuorum(acks)) return;
    for (const read of this.readOnly.advance(m.context)) {
      this.respondToRead(read.from, read.context, read.index);
    }
  }

  /** Commits the highest index a majority holds, if it is of the current term. */
  private maybeCommit(): boolean {
    const wasCommittedInTerm = this.committedEntryInCurrentTerm();
    const changed = this.log.maybeCommit(this.prs.committed(), this.term);
    if (changed && !wasCommittedInTerm && this.committedEntryInCurrentTerm()) {
      this.releasePendingReads();
    }
    return changed;
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  /** Whether a new commit index is worth an append of its own: always, unless skipBcastCommit,
   * and even then for a membership change, which every member should apply without waiting. */
  private commitGoesOutAlone(): boolean {
    return !this.cfg.skipBcastCommit || this.pendingConfIndex > this.log.applied;
  }

  /** The commit index moved: tell the followers now, or in what goes out anyway. */
  private bcastCommit(): void {
    if (this.commitGoesOutAlone()) this.bcastAppend();
    else this.sendNewEntries();
  }

  /** Sends each follower the entries it lacks, and nothing to those that lack none. */
  private sendNewEntries(): void {
    for (const id of this.prs.progress.keys()) {
      if (id !== this.id) this.maybeSendAppend(id, false);
    }
  }

  private bcastAppend(): void {
    for (const id of this.prs.progress.keys()) {
      if (id !== this.id) this.sendAppend(id);
    }
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends the follower the entries it needs next, or a snapshot if they are compacted away.
   * `sendIfEmpty` sends even with no entries (to probe, or to carry the commit index).
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = logIndex(pr.next - 1);
    const prevTerm = this.log.term(prevIndex);
    let ents: Entry[] | null;
    try {
      // A probe carries at most one entry: most probes are rejected, so more would be waste.
      ents = pr.state === 'probe'
        ? this.log.entriesFrom(pr.next, 1)
        : this.log.entriesFrom(pr.next, this.cfg.maxSizePerMsg);
    } catch (e) {
      if (!(e instanceof CompactedError || e instanceof UnavailableError)) throw e;
      ents = null;
    }
    if (prevTerm === null || ents === null) return this.maybeSendSnapshot(to);
    if (ents.length === 0 && !sendIfEmpty) return false;
    const last = ents[ents.length - 1];
    this.send({
      type: 'app',
      from: this.id,
      to,
      term: this.term,
      index: prevIndex,
      logTerm: prevTerm,
      entries: ents,
      commit: this.log.committed,
    });
    pr.sentEntries(ents.length, last?.index ?? prevIndex);
    pr.sentCommit = Math.max(pr.sentCommit, this.log.committed);
    return true;
  }

  private maybeSendSnapshot(to: NodeId): boolean {
    const pr = this.prs.progress.get(to);
    if (pr === undefined) return false;
    // Do not ship a snapshot to a node we have not heard from lately: it is likely down.
    if (!pr.recentActive) return false;
    let snap: Snapshot;
    try {
      snap = this.log.snapshot();
    } catch (e) {
      if (e instanceof SnapshotTemporarilyUnavailableError) return false;
      throw e;
    }
    if (snap.metadata.index === 0) throw new RaftInvariantError('need a snapshot but none exists');
    this.send({ type: 'snap', from: this.id, to, term: this.term, snapshot: snap });
    pr.becomeSnapshot(snap.metadata.index);
    return true;
  }

  private bcastHeartbeat(context: string | null): void {
    for (const id of this.prs.progress.keys()) {
      if (id === this.id) continue;
      const pr = this.prs.progress.get(id);
      if (pr === undefined) continue;
      pr.sentCommit = Math.max(pr.sentCommit, Math.min(pr.match, this.log.committed));
      this.send({
        type: 'heartbeat',
        from: this.id,
        to: id,
        term: this.term,
        // A follower may not hold everything up to our commit index; it must not commit past it.
        commit: logIndex(Math.min(pr.match, this.log.committed)),
        context,
      });
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeoutNow', from: this.id, to, term: this.term });
  }

  // ---- Proposals --------------------------------------------------------------------------------

  /**
   * Appends proposals as leader, or forwards them. Returns the index of the last appended entry
   * when appended here, null when forwarded. Throws ProposalDroppedError when refused.
   */
  propose(entries: readonly EntryPayload[]): LogIndex | null {
    switch (this.role) {
      case 'leader':
        break;
      case 'follower':
        if (this.lead === null) throw new ProposalDroppedError('noLeader');
        if (this.cfg.disableProposalForwarding) throw new ProposalDroppedError('forwardingDisabled', this.lead);
        // Forwarded entries get their term and index from the leader; these are placeholders.
        this.send({
          type: 'prop',
          from: this.id,
          to: this.lead,
          term: this.term,
          entries: entries.map((e) => ({ ...e, term: toTerm(0), index: logIndex(0) })),
        });
        return null;
      case 'candidate':
      case 'preCandidate':
        throw new ProposalDroppedError('noLeader');
      default:
        assertNever(this.role);
    }
    if (!this.prs.isMember(this.id)) throw new ProposalDroppedError('notMember');
    if (this.leadTransferee !== null) throw new ProposalDroppedError('transferring', this.leadTransferee);
    const hasConfChange = entries.some((e) => e.type === 'confChange');
    if (hasConfChange) {
      if (entries.length > 1) throw new ProposalDroppedError('confChangePending');
      if (this.pendingConfIndex > this.log.applied) throw new ProposalDroppedError('confChangePending');
    }
    this.appendEntries(entries);
    if (hasConfChange) this.pendingConfIndex = this.log.lastIndex();
    this.proposalsUnsent = true;
    return this.log.lastIndex();
  }

  /** Sends the appends for proposals accepted since the last call (see proposalsUnsent). */
  flushProposals(): void {
    if (!this.proposalsUnsent) return;
    this.proposalsUnsent = false;
    if (this.role === 'leader') this.bcastAppend();
  }

  private appendEntries(proposed: readonly EntryPayload[]): void {
    let size = 0;
    for (const e of proposed) size += entryPayloadSize(e);
    // The cap bounds memory when followers cannot keep up; an empty entry always passes so that a
    // new leader can commit its no-op.
    if (size > 0 && this.uncommittedSize > 0 && this.uncommittedSize + size > this.cfg.maxUncommittedEntriesSize) {
      throw new ProposalDroppedError('uncommittedSizeCap', this.id);
    }
    this.uncommittedSize += size;
    let index = this.log.lastIndex();
    const stamped: Entry[] = proposed.map((e) => {
      index = logIndex(index + 1);
      return e.type === 'normal'
        ? { type: 'normal', term: this.term, index, data: e.data }
        : { type: 'confChange', term: this.term, index, change: e.change };
    });
    // The leader's own copy counts towards a quorum only once the host reports it durable
    // (persistedTo): with writes in flight while the next turn runs, counting it at append would
    // let two copies, one of them not on any disk, commit an entry.
    this.log.append(stamped);
  }

  /** The host made the hard state of `term` durable: a lone candidate of that term counts its own
   * vote now, and wins. */
  termPersisted(term: Term): void {
    if (this.role !== 'candidate' || this.selfVoteAwaitingDisk !== term || this.term !== term) return;
    this.selfVoteAwaitingDisk = null;
    if (this.poll(this.id, true) === 'won') this.becomeLeader();
  }

  /**
   * The host made the log durable up to `index`, whose entry had term `term` when it was written.
   * A leader counts its own copy from now on (etcd's self-acknowledgement after the storage write).
   * Ignored when the entry there is no longer that one: the log was truncated and rewritten while
   * the write was in flight, and what is durable at `index` is not what the log holds.
   */
  persistedTo(index: LogIndex, term: Term): void {
    if (this.role !== 'leader' || this.log.term(index) !== term) return;
    const self = this.prs.progress.get(this.id);
    if (self === undefined || !self.maybeUpdate(index)) return;
    if (this.maybeCommit()) this.bcastCommit();
  }

  /** Called as committed entries are handed to the host: they no longer count as uncommitted. */
  reduceUncommittedSize(ents: readonly Entry[]): void {
    if (this.role !== 'leader') return;
    let size = 0;
    for (const e of ents) size += entryPayloadSize(e);
    this.uncommittedSize = Math.max(0, this.uncommittedSize - size);
  }

  // ---- Reads ------------------------------------------------------------------------------------

  /** ReadIndex (§6.4). A follower forwards to its leader; the answer arrives as a ReadState. */
  readIndex(context: string): void {
    switch (this.role) {
      case 'leader':
        this.handleReadIndex(this.id, context);
        return;
      case 'follower':
        if (this.lead === null) throw new ReadIndexDroppedError('noLeader');
        this.send({ type: 'readIndex', from: this.id, to: this.lead, term: this.term, context });
        return;
      case 'candidate':
      case 'preCandidate':
        throw new ReadIndexDroppedError('noLeader');
      default:
        assertNever(this.role);
    }
  }

  private handleReadIndex(from: NodeId, context: string): void {
    // Even a lone voter waits for its term's first commit: until then its commit index may be
    // behind what an earlier incarnation of it acknowledged (a commit index is not always synced).
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndex.push({ from, context });
      return;
    }
    this.serveReadIndex(from, context);
  }

  /**
   * ReadIndex in its safe form only (§6.4): the read waits for a heartbeat round acknowledged by a
   * quorum. A lease-based shortcut is deliberately absent: CheckQuorum runs once per election
   * timeout, so a cut-off leader can believe in its lease for almost two timeouts, longer than
   * followers honour it.
   */
  private serveReadIndex(from: NodeId, context: string): void {
    if (this.prs.isSingleton(this.id)) {
      this.respondToRead(from, context, this.log.committed);
      return;
    }
    this.readOnly.add(this.log.committed, context, from);
    this.readOnly.recvAck(this.id, context);
    this.bcastHeartbeat(context);
  }

  /**
   * After a membership change the quorum is different: pending reads whose acknowledgements now
   * make a quorum are answered (a lone voter's reads need nobody), or they would wait for
   * heartbeat answers that may never come.
   */
  private answerReadsWithQuorum(): void {
    let upTo: string | null = null;
    for (const read of this.readOnly.pending()) if (this.prs.hasQuorum(read.acks)) upTo = read.context;
    if (upTo === null) return;
    for (const read of this.readOnly.advance(upTo)) this.respondToRead(read.from, read.context, read.index);
  }

  private releasePendingReads(): void {
    const waiting = this.pendingReadIndex;
    this.pendingReadIndex = [];
    for (const r of waiting) this.serveReadIndex(r.from, r.context);
  }

  private respondToRead(from: NodeId, context: string, index: LogIndex): void {
    if (from === this.id) this.readStates.push({ index, context });
    else this.send({ type: 'readIndexResp', from: this.id, to: from, term: this.term, index, context });
  }

  // ---- Leadership transfer ----------------------------------------------------------------------

  transferLeader(to: NodeId): void {
    if (this.role === 'leader') {
      this.handleTransferLeader(to);
      return;
    }
    if (this.lead !== null) {
      this.send({ type: 'transferLeader', from: this.id, to: this.lead, term: this.term, transferee: to });
    }
  }

  private handleTransferLeader(transferee: NodeId): void {
    const pr = this.prs.progress.get(transferee);
    if (pr === undefined || pr.isLearner || transferee === this.id) return;
    if (this.leadTransferee === transferee) return;
    this.leadTransferee = transferee;
    // The transfer must finish within an election timeout or it is abandoned.
    this.electionElapsed = 0;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(transferee);
    else this.sendAppend(transferee);
  }

  // ---- Membership -------------------------------------------------------------------------------

  /** Applies a committed membership change; the host calls it when it applies the entry. */
  applyConfChange(cc: ConfChange): ConfState {
    this.prs.applyConfChange(cc, logIndex(this.log.lastIndex() + 1));
    if (this.role === 'leader') {
      const pr = this.prs.progress.get(cc.nodeId);
      // A freshly added member is presumed alive, or CheckQuorum could depose us at once.
      if (pr !== undefined && (cc.type === 'addLearner' || cc.type === 'addVoter')) pr.recentActive = true;
      if (!this.prs.isVoter(this.id)) {
        // Removed or demoted: a leader outside the voters would count itself in no quorum.
        this.becomeFollower(this.term, null);
      } else {
        if (this.leadTransferee !== null && !this.prs.isVoter(this.leadTransferee)) this.leadTransferee = null;
        this.answerReadsWithQuorum();
        if (this.maybeCommit()) this.bcastCommit();
        else this.sendNewEntries();
      }
    }
    return this.prs.confState();
  }

  // ---- Host interface ---------------------------------------------------------------------------

  reportUnreachable(id: NodeId): void {
    if (this.role !== 'leader') return;
    const pr = this.prs.progress.get(id);
    if (pr !== undefined && pr.state === 'replicate') pr.becomeProbe();
  }

  reportSnapshot(id: NodeId, status: 'finish' | 'failure'): void {
    if (this.role !== 'leader') return;
    const pr = this.prs.progress.get(id);
    if (pr === undefined || pr.state !== 'snapshot') return;
    if (status === 'failure') pr.pendingSnapshot = logIndex(0);
    pr.becomeProbe();
    // Wait for the follower's next response (to a heartbeat) before probing again.
    pr.probeSent = true;
  }

  private send(m: Message): void {
    if (m.to === this.id) throw new RaftInvariantError(`${this.id} sending ${m.type} to itself`);
    this.msgs.push(m);
  }
}
