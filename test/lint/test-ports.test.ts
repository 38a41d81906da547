import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GRPC_OFFSET, KV_TEST_PORTS, NODE_TEST_PORTS, PORT_SPAN } from '../support/ports.js';

/** Every port range a test owns, named after it (see test/support/ports.ts). */
function ownedRanges(): { owner: string; from: number; to: number }[] {
  const out: { owner: string; from: number; to: number }[] = [];
  for (const [owner, base] of Object.entries(NODE_TEST_PORTS)) {
    out.push({ owner: `${owner} (HTTP)`, from: base, to: base + PORT_SPAN - 1 });
    out.push({ owner: `${owner} (gRPC)`, from: base + GRPC_OFFSET, to: base + GRPC_OFFSET + PORT_SPAN - 1 });
  }
  for (const [owner, base] of Object.entries(KV_TEST_PORTS)) out.push({ owner, from: base, to: base + PORT_SPAN - 1 });
  return out;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('test ports', () => {
  it('no two test files share a port (vitest runs files in parallel)', () => {
    const ranges = ownedRanges().sort((a, b) => a.from - b.from);
    const clashes: string[] = [];
    for (let i = 1; i < ranges.length; i++) {
      if (ranges[i]!.from <= ranges[i - 1]!.to) clashes.push(`${ranges[i - 1]!.owner} and ${ranges[i]!.owner}`);
    }
    expect(clashes).toEqual([]);
  });

  it('tests take their ports from the registry, not from literals', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const ranges = ownedRanges();
    const literals: string[] = [];
    for (const file of testFiles(root)) {
      if (file.endsWith(join('support', 'ports.ts'))) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/(?<![\w.])\d{5}(?![\w.])/g)) {
        const port = Number(m[0]);
        const owner = ranges.find((r) => port >= r.from && port <= r.to);
        if (owner !== undefined) literals.push(`${relative(root, file)}: ${port} (${owner.owner}'s range)`);
      }
    }
    expect(literals).toEqual([]);
  });
});
