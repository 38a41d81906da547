import { expect } from 'vitest';
import { runSeed } from './run-seed.js';

export const SIM_STEPS = 1500;

/** Runs seeds [from, to] and fails with every failing seed's replay command. */
export function expectSeedsPass(from: number, to: number): void {
  const failures: string[] = [];
  for (let seed = from; seed <= to; seed++) {
    const r = runSeed({ seed, steps: SIM_STEPS });
    if (r.violation !== null) {
      failures.push(`seed ${seed}: ${r.violation.message}\n  replay: npm run sim -- --seed ${seed} --steps ${SIM_STEPS} --verbose`);
    }
  }
  expect(failures, failures.join('\n')).toEqual([]);
}
