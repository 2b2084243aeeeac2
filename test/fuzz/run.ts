/**
 * `npm run fuzz [-- --seconds N] [--target frame,payload,...] [--seed S] [--corpus DIR]`:
 * writes each target's seed corpus (from the fixtures) into DIR/<target>/, fuzzes each target for
 * N seconds (default 40) and saves every finding, shrunk, as test/fixtures/fuzz-regressions/
 * <target>-<sha256[0..12]>.bin. Exits 1 when anything was found.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fuzz, minimize } from './engine.js';
import { TARGETS, seedsFor, regressionsFor, REGRESSIONS } from './targets.js';
import { ROOT } from '../helpers.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seconds = Number(arg('seconds') ?? 40);
const seed = Number(arg('seed') ?? Date.now() % 1_000_000);
const corpusRoot = arg('corpus') ?? join(ROOT, 'dist', 'fuzz-corpus');
const names = (arg('target') ?? Object.keys(TARGETS).join(',')).split(',');
if (!(seconds > 0)) throw new Error('--seconds must be positive');

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex').slice(0, 12);

let found = 0;
console.log(`fuzz: ${names.join(', ')}, ${seconds} s each, seed ${seed}, corpus ${corpusRoot}`);
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
    onNew: (input) => writeFileSync(join(dir, `cov-${sha(input)}.bin`), input),
  });
  const rate = Math.round(res.execs / res.seconds);
  console.log(
    `  ${name.padEnd(8)} ${String(res.execs).padStart(9)} execs  ${String(rate).padStart(7)} exec/s  ` +
      `corpus ${res.corpus} (${seeds.length} seeds)  features ${res.features}`,
  );
  if (res.finding) {
    found++;
    const small = minimize(target, res.finding.input);
    mkdirSync(REGRESSIONS, { recursive: true });
    const file = join(REGRESSIONS, `${name}-${sha(small)}.bin`);
    writeFileSync(file, small);
    let why = '';
    try {
      target(small);
    } catch (e) {
      why = String((e as Error)?.message ?? e);
    }
    console.log(`  FINDING in ${name} (${small.length} bytes, saved as ${file}):\n    ${why.split('\n').join('\n    ')}`);
  }
}
if (found > 0) {
  console.log(`fuzz: ${found} finding(s); replay with npm run test:quick (test/fuzz-regressions.test.ts)`);
  process.exitCode = 1;
}
