/**
 * The deterministic Raft simulator.
 *
 *   npm run sim -- --seeds N [--steps M] [--seed S] [--nodes K] [--verbose]
 *
 * Runs seeds S..S+N-1 (S defaults to 1; --seed alone runs just that seed), prints each failing
 * seed's violation and the command that replays it, and ends with `sim: N seeds, V violations`.
 * Exits 0 only when V is 0.
 */
import { parseArgs } from 'node:util';
import { runSeed, type SimStats } from './run-seed.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    seed: { type: 'string' },
    steps: { type: 'string', default: '1500' },
    nodes: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`sim: --${name} must be a positive integer, got "${v}"`);
    process.exit(2);
  }
  return n;
}

const first = positiveInt('seed', values.seed, 1);
const count = positiveInt('seeds', values.seeds, values.seed !== undefined ? 1 : 100);
const steps = positiveInt('steps', values.steps, 1500);
const nodes = values.nodes === undefined ? undefined : positiveInt('nodes', values.nodes, 3);
if (nodes !== undefined && (nodes < 3 || nodes > 7)) {
  console.error('sim: --nodes must be between 3 and 7');
  process.exit(2);
}

const totals: Partial<Record<keyof SimStats, number>> = {};
let violations = 0;
const started = performance.now();
for (let seed = first; seed < first + count; seed++) {
  const r = runSeed({ seed, steps, verbose: values.verbose, ...(nodes === undefined ? {} : { nodes }) });
  for (const [k, v] of Object.entries(r.stats) as [keyof SimStats, number][]) totals[k] = (totals[k] ?? 0) + v;
  if (values.verbose) console.log(r.trace.join('\n'));
  if (r.violation !== null) {
    violations++;
    const replay = `npm run sim -- --seed ${seed} --steps ${steps}${nodes === undefined ? '' : ` --nodes ${nodes}`}`;
    console.log(`seed ${seed}: ${r.violation.message}\n  replay: ${replay}\n  trace:  ${replay} --verbose`);
  }
}
const secs = ((performance.now() - started) / 1000).toFixed(1);
const t = (k: keyof SimStats): number => totals[k] ?? 0;
console.log(
  `figures: ${t('steps')} steps in ${secs}s; messages delivered ${t('delivered')}, dropped ${t('dropped')}, duplicated ${t('duplicated')}; ` +
    `crashes ${t('crashes')}, partitions ${t('partitions')}, membership changes ${t('confChanges')}, leadership transfers ${t('transfers')}, ` +
    `snapshots ${t('snapshots')}; ${t('asyncWrites')} seeds with asynchronous writes (${t('writesLost')} writes lost in crashes), ${t('skipBcastCommit')} with skipBcastCommit; proposals ${t('proposals')} (acknowledged ${t('acked')}), reads ${t('reads')} (served ${t('readsServed')})`,
);
console.log(`sim: ${count} seeds, ${violations} violations`);
process.exit(violations === 0 ? 0 : 1);
