import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeKdamonds, runningKdamonds } from '../../bench/kernel-damon.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A fake DAMON sysfs admin tree: path (relative) -> file content. */
function adminTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'taskraft-damon-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `${content}\n`);
  }
  roots.push(root);
  return root;
}

/** The monitor machines of this kind boot with (read off one on 2026-12-02). */
const PADDR_PAGEOUT = {
  'kdamonds/nr_kdamonds': '1',
  'kdamonds/0/state': 'on',
  'kdamonds/0/contexts/0/operations': 'paddr',
  'kdamonds/0/contexts/0/monitoring_attrs/intervals/sample_us': '500000',
  'kdamonds/0/contexts/0/schemes/nr_schemes': '1',
  'kdamonds/0/contexts/0/schemes/0/action': 'pageout',
};

describe('runningKdamonds', () => {
  it('reads a running monitor: its operations, sample interval and scheme actions', () => {
    const admin = adminTree(PADDR_PAGEOUT);
    expect(runningKdamonds(admin)).toEqual([{ name: '0', operations: 'paddr', sampleUs: 500_000, actions: ['pageout'] }]);
    const line = describeKdamonds(runningKdamonds(admin), admin);
    expect(line).toContain('kdamond 0 (paddr, every 500 ms, pageout)');
    expect(line).toContain(`echo off > ${join(admin, 'kdamonds', '0', 'state')}`);
  });

  it('leaves out monitors that are off, and reports none where DAMON is absent', () => {
    const admin = adminTree({
      ...PADDR_PAGEOUT,
      'kdamonds/0/state': 'off',
      'kdamonds/1/state': 'on',
      'kdamonds/1/contexts/0/operations': 'vaddr',
      'kdamonds/1/contexts/0/monitoring_attrs/intervals/sample_us': '5000',
    });
    expect(runningKdamonds(admin)).toEqual([{ name: '1', operations: 'vaddr', sampleUs: 5000, actions: [] }]);
    expect(runningKdamonds(join(admin, 'no-such-dir'))).toEqual([]);
    expect(describeKdamonds([])).toBe('kernel DAMON: not running');
  });
});
