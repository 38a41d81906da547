import { RaftInvariantError } from './errors.js';
import type { LogIndex } from './types.js';

/**
 * The append messages sent to one follower and not yet acknowledged, as the last index each one
 * carried. Bounding their count is the replication window: a slow follower cannot make the leader
 * buffer an unbounded amount of data for it.
 */
export class Inflights {
  /** Ring buffer of last indexes, in increasing order from `start`. */
  private readonly buffer: LogIndex[] = [];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {}

  add(lastIndex: LogIndex): void {
    if (this.full()) throw new RaftInvariantError('inflights: add to a full window');
    const slot = (this.start + this.count) % this.capacity;
    this.buffer[slot] = lastIndex;
    this.count++;
  }

  /** Frees every message whose last index is <= `to` (acknowledged, cumulatively). */
  freeLE(to: LogIndex): void {
    while (this.count > 0) {
      const head = this.buffer[this.start];
      if (head === undefined || head > to) break;
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  /** Frees the oldest message, acknowledged or not (see Raft.handleHeartbeatResponse). */
  freeFirstOne(): void {
    if (this.count === 0) return;
    this.start = (this.start + 1) % this.capacity;
    this.count--;
    if (this.count === 0) this.start = 0;
  }

  full(): boolean {
    return this.count === this.capacity;
  }

  size(): number {
    return this.count;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}
