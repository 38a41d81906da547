import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// Durability is only real if fsync happens. This counts fsync/fdatasync system calls under strace
// while a child writes a known number of batches, synced and not, through the real storage path.
// @nxtedition/rocksdb drops `sync` on put(); only batch writes with sync fsync, which is what we use.

const BATCHES = 40;
const work = mkdtempSync(join(tmpdir(), 'taskraft-fsync-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function hasStrace(): boolean {
  return spawnSync('strace', ['-V']).status === 0;
}

function syncCalls(mode: 'sync' | 'nosync', where: 'inline' | 'worker'): number {
  const out = join(work, `strace-${mode}-${where}.txt`);
  execFileSync(
    'strace',
    ['-f', '-c', '-e', 'trace=fsync,fdatasync', '-o', out, process.execPath, '--import', 'tsx',
      'test/storage/fixtures/write-batches.ts', join(work, `db-${mode}-${where}`), String(BATCHES), mode, where],
    { stdio: 'pipe', timeout: 60_000 },
  );
  let calls = 0;
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const cols = line.trim().split(/\s+/);
    const name = cols[cols.length - 1];
    if (name === 'fsync' || name === 'fdatasync') calls += Number(cols[3]);
  }
  return calls;
}

describe('durability', () => {
  it('strace is installed (.ci/run installs it)', () => {
    expect(hasStrace(), 'strace not found: apt-get install strace').toBe(true);
  });

  it.runIf(hasStrace()).each(['inline', 'worker'] as const)(`every synced batch write is fsynced (%s writer): ${BATCHES} batches add >= ${BATCHES} fsync/fdatasync calls`, (where) => {
    const synced = syncCalls('sync', where);
    const unsynced = syncCalls('nosync', where);
    expect(synced - unsynced).toBeGreaterThanOrEqual(BATCHES);
    // And the unsynced path really skips them (otherwise this test could not tell the two apart).
    expect(unsynced).toBeLessThan(BATCHES);
  });
});
