/**
 * Replays the fuzz targets' seed corpus (built from the fixtures) and every saved finding in
 * test/fixtures/fuzz-regressions/ through the same property checks as `npm run fuzz`
 * (test/fuzz/targets.ts), checks the huge-count bound directly, and runs the fuzzer briefly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TARGETS, seedsFor, regressionsFor, hugeCountSweep, bounded, coded, Finding, REGRESSIONS } from './fuzz/targets.js';
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

test('the saved regressions are there: the folder is not empty, every file names a target, each wire decoder target has some', () => {
  assert.ok(existsSync(REGRESSIONS), `${REGRESSIONS} is missing: the regression replays would check nothing`);
  const files = readdirSync(REGRESSIONS).filter((f) => f.endsWith('.bin'));
  assert.ok(files.length > 0, `${REGRESSIONS} holds no .bin input`);
  for (const f of files) assert.ok(Object.hasOwn(TARGETS, f.split('-')[0]!), `${f}: no target ${f.split('-')[0]}`);
  for (const t of ['frame', 'payload', 'addrv2', 'tx', 'block']) assert.ok(regressionsFor(t).length > 0, `no regression input for ${t}`);
});

for (const name of Object.keys(TARGETS)) {
  test(`fuzz seeds: ${name} (fixtures through the properties)`, () => {
    const seeds = seedsFor(name);
    assert.ok(seeds.length >= 5, `${name} has seeds`);
    for (const s of seeds) TARGETS[name]!(s);
  });

  test(`fuzz regressions: ${name}`, () => {
    for (const r of regressionsFor(name)) {
      try {
        TARGETS[name]!(r.data);
      } catch (e) {
        assert.unreachable(`${r.name}: ${(e as Error).message}`);
      }
    }
  });
}

test('huge counts: every command, a 100-byte payload with a CompactSize at each offset, returns a status within the bounds', () => {
  hugeCountSweep(); // throws a Finding on a bound or status failure
});

test('replay with the allocation meter (child process): seeds, saved findings, huge-count sweep', () => {
  const run = new URL('./fuzz/run.js', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [run, '--replay'], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /replay ok/);
});

test('the checks fire: an allocation driven by a count, an escaping exception, an uncoded status', () => {
  const isFinding = (e: unknown) => e instanceof Finding;
  assert.throws(() => bounded('hog', 100, () => new Array(1 << 22).fill(0)), isFinding);
  assert.throws(() => bounded('thrower', 100, () => JSON.parse('{')), isFinding);
  assert.throws(() => coded(99, 'odd'), isFinding);
  assert.throws(() => coded(0, 'zero'), isFinding);
  coded(1, 'truncated');
  assert.is(bounded('small', 100, () => new Uint8Array(100).length), 100);
});

test('frame target: a garbage stream ends in a coded fatal status, not an exception', () => {
  TARGETS.frame!(Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff));
});

// The engine resets V8's coverage counters, which would wipe c8's counts for this process: it
// runs in a child process.
function child(script: string): { status: number | null; out: string } {
  const engine = new URL('./fuzz/engine.js', import.meta.url).href;
  const targets = new URL('./fuzz/targets.js', import.meta.url).href;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script.replaceAll('ENGINE', engine).replaceAll('TARGETS_JS', targets)], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('fuzz engine: a short run on every target finds nothing and runs mutants', () => {
  // A budget of executions, not of time: on a loaded machine the seeds alone can take a fixed
  // time slice (the v2 seeds build BIP324 sessions). 60 s is only a hang guard.
  const r = child(`
    import { fuzz } from 'ENGINE';
    import { TARGETS, seedsFor } from 'TARGETS_JS';
    for (const name of Object.keys(TARGETS)) {
      const res = fuzz(TARGETS[name], seedsFor(name), { seconds: 60, execs: 300, batch: 64, seed: 42 });
      if (res.finding) { console.log(name, 'FINDING', res.finding.error?.message); process.exit(2); }
      if (!(res.execs > res.corpus && res.features > 0)) { console.log(name, 'idle', JSON.stringify(res)); process.exit(3); }
    }
    console.log('ok');`);
  assert.is(r.status, 0, r.out);
});

test('fuzz engine: finds a planted bug that only coverage guidance finds, and shrinks the input', () => {
  // Four nested byte comparisons: a random mutant passes all four with odds of about 2^-32, but
  // each comparison passed is new code, so the guided corpus climbs them one byte at a time.
  // Same seed, same budget of executions (not seconds: the result must not depend on the machine).
  const r = child(`
    import { fuzz, minimize } from 'ENGINE';
    const planted = (d) => {
      if (d.length >= 4 && d[0] === 0x42) {
        if (d[1] === 0x13) {
          if (d[2] === 0x37) {
            if (d[3] === 0x99) throw new Error('planted');
          }
        }
      }
    };
    const opts = { seconds: 120, execs: 400000, seed: 3, include: '[eval' };
    const plain = fuzz(planted, [Uint8Array.of(0, 0, 0, 0)], { ...opts, coverage: false });
    const guided = fuzz(planted, [Uint8Array.of(0, 0, 0, 0)], opts);
    console.log(JSON.stringify({ plain: !!plain.finding, plainExecs: plain.execs, guided: !!guided.finding, guidedExecs: guided.execs,
      shrunk: guided.finding ? minimize(planted, guided.finding.input).length : -1 }));`);
  assert.is(r.status, 0, r.out);
  const o = JSON.parse(r.out.trim().split('\n').pop()!);
  assert.is(o.plain, false, `plain mutation found it in ${o.plainExecs} executions`);
  assert.ok(o.plainExecs >= 400000, `the plain run used its whole budget (${o.plainExecs})`);
  assert.is(o.guided, true, `coverage guidance did not find it in ${o.guidedExecs} executions`);
  assert.is(o.shrunk, 4);
});

test.run();
