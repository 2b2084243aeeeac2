/**
 * `npm run fuzz [-- --seconds N | --execs N] [--target frame,...] [--seed S] [--corpus DIR]`:
 * writes each target's seed corpus (from the fixtures) into DIR/<target>/, fuzzes each target for
 * N seconds (default 40) or N executions and saves every finding, shrunk, as
 * test/fixtures/fuzz-regressions/<target>-<sha256[0..12]>.bin. Exits 1 when anything was found. `--replay` instead runs the seeds,
 * the saved findings and the huge-count sweep once, with the allocation meter (used by the tests).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fuzz, minimize } from './engine.js';
import { TARGETS, seedsFor, regressionsFor, REGRESSIONS, installAllocationMeter, hugeCountSweep } from './targets.js';
import { ROOT } from '../helpers.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const execs = arg('execs') === undefined ? undefined : Number(arg('execs'));
const seconds = Number(arg('seconds') ?? (execs === undefined ? 40 : Infinity));
const seed = Number(arg('seed') ?? Date.now() % 1_000_000);
const corpusRoot = arg('corpus') ?? join(ROOT, 'dist', 'fuzz-corpus');
const names = (arg('target') ?? Object.keys(TARGETS).join(',')).split(',');
if (!(seconds > 0)) throw new Error('--seconds must be positive');
if (execs !== undefined && !(execs > 0)) throw new Error('--execs must be positive');

installAllocationMeter();

if (process.argv.includes('--replay')) {
  let bad = 0;
  for (const name of Object.keys(TARGETS)) {
    const inputs = [...seedsFor(name).map((data, i) => ({ name: `seed ${i}`, data })), ...regressionsFor(name)];
    for (const { name: what, data } of inputs) {
      try {
        TARGETS[name]!(data);
      } catch (e) {
        bad++;
        console.log(`${name} ${what}: ${String((e as Error)?.message ?? e)}`);
      }
    }
  }
  try {
    hugeCountSweep();
  } catch (e) {
    bad++;
    console.log(`huge-count sweep: ${String((e as Error)?.message ?? e)}`);
  }
  console.log(bad === 0 ? 'replay ok' : `replay: ${bad} failure(s)`);
  process.exit(bad === 0 ? 0 : 1);
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex').slice(0, 12);

let found = 0;
const each = execs === undefined ? `${seconds} s` : `${execs} executions`;
console.log(`fuzz: ${names.join(', ')}, ${each} each, seed ${seed}, corpus ${corpusRoot}`);
for (const name of names) {
  const target = TARGETS[name];
  if (!target) throw new Error(`no fuzz target ${name} (have ${Object.keys(TARGETS).join(', ')})`);
  const dir = join(corpusRoot, name);
  mkdirSync(dir, { recursive: true });
  const seeds = seedsFor(name);
  for (const s of seeds) writeFileSync(join(dir, `seed-${sha(s)}.bin`), s);
  // Earlier runs' corpus and the saved regressions come after the seeds.
  const corpus = readdirSync(dir)
    .filter((f) => !f.startsWith('seed-'))
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
  const all = [...seeds, ...regressionsFor(name).map((r) => r.data), ...corpus];
  const res = fuzz(target, all, {
    seconds,
    seed,
    ...(execs === undefined ? {} : { execs }),
    onNew: (input) => writeFileSync(join(dir, `cov-${sha(input)}.bin`), input),
  });
  const rate = Math.round(res.execs / res.seconds);
  console.log(
    `  ${name.padEnd(8)} ${String(res.execs).padStart(9)} execs  ${String(rate).padStart(7)} exec/s  ` +
      `corpus ${res.corpus} (${seeds.length} seeds)  features ${res.features}`,
  );
  if (res.finding) {
    found++;
    console.log(`  FINDING in ${name}: ${String((res.finding.error as Error)?.message ?? res.finding.error).split('\n')[0]}`);
    const failsAlone = (b: Uint8Array): string => {
      try {
        target(b);
        return '';
      } catch (e) {
        return String((e as Error)?.message ?? e);
      }
    };
    let small = minimize(target, res.finding.input);
    let why = failsAlone(small);
    if (!why) (small = res.finding.input), (why = failsAlone(small));
    mkdirSync(REGRESSIONS, { recursive: true });
    const file = join(REGRESSIONS, `${name}-${sha(small)}.bin`);
    writeFileSync(file, small);
    console.log(`  ${small.length} bytes saved as ${file}${why ? `:\n    ${why.split('\n').join('\n    ')}` : ' (does not fail when run alone)'}`);
  }
}
if (found > 0) {
  console.log(`fuzz: ${found} finding(s); replay with npm run test:quick (test/fuzz-regressions.test.ts)`);
  process.exitCode = 1;
}
