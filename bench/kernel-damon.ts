import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The kernel's DAMON monitors (kdamonds) running on this machine, read from its sysfs admin
 * interface. Machines of this kind boot with one that watches all physical memory to page out
 * cold page cache: every sample interval (500 ms there) it checks the access bits of pages in
 * thousands of regions. On 2026-12-02 the one running since boot took a core for 16-30 ms every
 * ~540 ms (~45 ms of CPU a second), and every process on the machine stalled with it: requests to
 * the cluster at 100 tasks/s took 20-45 ms in those moments, and their p99 went from 29-37 ms to
 * 14 ms with it turned off. One turned on again does less at first (12 ms of CPU a second). The
 * benchmarks print what runs, so that a figure can be read next to it.
 */
export interface Kdamond {
  /** Its directory name under kdamonds/ ("0", "1", ...). */
  readonly name: string;
  /** The operations set: "paddr" (physical memory) or "vaddr"/"fvaddr" (processes). */
  readonly operations: string;
  /** Microseconds between access checks. */
  readonly sampleUs: number;
  /** What its schemes do to the regions they match (e.g. "pageout"). */
  readonly actions: readonly string[];
}

export const DAMON_ADMIN = '/sys/kernel/mm/damon/admin';

/** The kdamonds whose state is "on"; none where DAMON or its sysfs interface is absent. */
export function runningKdamonds(admin: string = DAMON_ADMIN): Kdamond[] {
  const root = join(admin, 'kdamonds');
  const out: Kdamond[] = [];
  for (const name of subdirectories(root)) {
    const dir = join(root, name);
    if (read(join(dir, 'state')) !== 'on') continue;
    const context = join(dir, 'contexts', '0');
    const schemes = join(context, 'schemes');
    out.push({
      name,
      operations: read(join(context, 'operations')) ?? 'unknown',
      sampleUs: Number(read(join(context, 'monitoring_attrs', 'intervals', 'sample_us')) ?? NaN),
      actions: subdirectories(schemes).map((s) => read(join(schemes, s, 'action')) ?? 'unknown'),
    });
  }
  return out;
}

/** One line for a benchmark's header: what runs, and how to measure without it. */
export function describeKdamonds(kdamonds: readonly Kdamond[], admin: string = DAMON_ADMIN): string {
  if (kdamonds.length === 0) return 'kernel DAMON: not running';
  const each = kdamonds.map((k) => `kdamond ${k.name} (${k.operations}, every ${Math.round(k.sampleUs / 1000)} ms${k.actions.length > 0 ? `, ${k.actions.join('/')}` : ''})`);
  const off = kdamonds.map((k) => `echo off > ${join(admin, 'kdamonds', k.name, 'state')}`).join('; ');
  return `kernel DAMON running: ${each.join('; ')}; its checks have stalled every process here for 20-45 ms twice a second (see the README); to measure without it, as root: ${off} (echo on to restore)`;
}

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && /^\d+$/.test(e.name))
      .map((e) => e.name)
      .sort((a, b) => Number(a) - Number(b));
  } catch {
    return [];
  }
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}
