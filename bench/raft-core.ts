/**
 * Micro-benchmark of the consensus core alone: proposals committed per second through a 3-node
 * in-memory cluster (no disk, no network), one proposal per round trip and in batches.
 *
 *   npm run bench:raft-core [-- --seconds 2 --size 100]
 */
import { parseArgs } from 'node:util';
import { InMemoryCluster } from './in-memory-cluster.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    size: { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
  },
});
const seconds = Number(values.seconds);
const entrySize = Number(values.size);
const runs = Number(values.runs);
if (!(seconds > 0) || !(entrySize >= 0) || !(runs >= 1)) {
  console.error('usage: bench:raft-core [--seconds S>0] [--size BYTES] [--runs N>=1]');
  process.exit(2);
}

interface Row {
  mode: string;
  batch: number;
  committedPerSec: number;
  usPerRound: number;
}

function measure(batch: number): { perSec: number; usPerRound: number } {
  const cluster = new InMemoryCluster(3, 7, { maxSizePerMsg: 1024 * 1024, maxInflightMsgs: 256 });
  const leader = cluster.elect();
  const payload = new Uint8Array(entrySize).fill(7);
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let rounds = 0;
  while (performance.now() < deadline) {
    // One round: propose `batch` entries, then run the cluster until they are committed and applied.
    for (let i = 0; i < batch; i++) leader.propose(payload);
    cluster.settle();
    rounds++;
    if (rounds % 64 === 0) cluster.compact();
  }
  const elapsed = (performance.now() - start) / 1000;
  return { perSec: cluster.appliedCount / elapsed, usPerRound: (elapsed * 1e6) / rounds };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const rows: Row[] = [];
for (const batch of [1, 10, 100, 1000]) {
  const samples = Array.from({ length: runs }, () => measure(batch));
  rows.push({
    mode: batch === 1 ? 'one at a time' : 'batched',
    batch,
    committedPerSec: Math.round(median(samples.map((s) => s.perSec))),
    usPerRound: Math.round(median(samples.map((s) => s.usPerRound)) * 10) / 10,
  });
}
console.log(`raft core: 3 nodes in memory, ${entrySize}-byte entries, median of ${runs} runs of ${seconds}s`);
console.table(rows);
