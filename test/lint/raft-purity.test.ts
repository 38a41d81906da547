import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The lint config is what keeps the consensus core pure; these tests prove each rule fires on a
// file inside src/raft and stays quiet elsewhere.
const eslint = new ESLint({ cwd: process.cwd() });

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('src/raft purity lint rule', () => {
  const core = 'src/raft/probe.ts';

  it.each([
    ["import fs from 'node:fs';\nexport const x = fs;\n", 'no-restricted-imports'],
    ["import { y } from '../cluster/host.js';\nexport const x = y;\n", 'no-restricted-imports'],
    ['export const x = Date.now();\n', 'no-restricted-globals'],
    ['export const x = setTimeout;\n', 'no-restricted-globals'],
    ['export const x = process.env;\n', 'no-restricted-globals'],
    ['export const x = Math.random();\n', 'no-restricted-properties'],
    ['export async function f(): Promise<number> { return await Promise.resolve(1); }\n', 'no-restricted-syntax'],
  ])('rejects %j in src/raft', async (code, rule) => {
    expect(await ruleIds(code, core)).toContain(rule);
  });

  it('accepts sibling imports and pure code in src/raft', async () => {
    expect(await ruleIds("import { term } from './types.js';\nexport const x = term(1);\n", core)).toEqual([]);
  });

  it('does not restrict code outside src/raft', async () => {
    expect(await ruleIds('export const x = Date.now() + Math.random();\n', 'src/cluster/probe.ts')).toEqual([]);
  });
});
