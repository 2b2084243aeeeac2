/**
 * `invscope observe` samples the host clock's sync state at the start and every period
 * (src/cli/observe/clock-watch.ts) into run.json's clockSync, the timeline's clock columns and the
 * log: a short run against a small `invscope simulate` with the test-only period of 200 ms and a
 * stand-in `chronyc` first on PATH that reports 1 ms, 2 ms, 3 ms ... fast at its 1st, 2nd, 3rd
 * call. Test process; the CLI in child processes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { query } from '../store/duck.js';
import { BIN, startSimulate } from './children.js';

const STATES = ['synced', 'unsynced', 'unknown'];

/** A `chronyc` that answers `tracking` with n ms fast at its n-th call (shell builtins only). */
function fakeChronyc(dir: string): void {
  const calls = join(dir, 'calls');
  const script = `#!/bin/sh
n=0; [ -f '${calls}' ] && read n < '${calls}'
n=$((n + 1)); echo "$n" > '${calls}'
printf 'Reference ID    : 7F000001 (stand-in)\\nSystem time     : 0.%03d000000 seconds fast of NTP time\\nRoot delay      : 0.002000000 seconds\\nRoot dispersion : 0.001000000 seconds\\nLeap status     : Normal\\n' "$n"
`;
  writeFileSync(join(dir, 'chronyc'), script);
  chmodSync(join(dir, 'chronyc'), 0o755);
}

const dir = mkdtempSync(join(tmpdir(), 'invscope-observe-clock-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('observe with a 200 ms clock period: several samples in run.json, each a new probe, the timeline and the log following them', async () => {
  const tools = join(dir, 'bin');
  mkdirSync(tools);
  fakeChronyc(tools);
  const sim = await startSimulate(dir, 3, 5, '127.5.0.0');
  const out = join(dir, 'run');
  const r = spawnSync(process.execPath, [BIN, 'observe', '--network', 'regtest', '--peers', join(dir, 'nodes.txt'), '--out', out, '--duration', '3', '--shards', '1', '--quiet', '--vantage', 'clock-1'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PATH: `${tools}:${process.env.PATH}`, INVSCOPE_TEST_CLOCK_SAMPLE_MS: '200' },
  });
  sim.kill('SIGTERM');
  assert.is(r.status, 0, r.stderr + r.stdout);

  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  const samples = run.clockSync.samples as { time: number; source: string; state: string; offsetMs: number; errorMs: number; reference: string }[];
  assert.is(run.clockSync.periodMs, 200);
  assert.ok(samples.length >= 4, `${samples.length} samples in a 3 s run sampled every 200 ms`);
  assert.equal(samples[0], run.clockSync.atStart, 'the first sample is the one at the start');
  for (const s of samples) {
    assert.ok(STATES.includes(s.state), s.state);
    assert.equal([s.source, s.state, s.reference, s.errorMs], ['chrony', 'synced', '7F000001 (stand-in)', 2]);
  }
  for (let i = 1; i < samples.length; i++) assert.ok(samples[i]!.time > samples[i - 1]!.time, `sample ${i} after sample ${i - 1}`);
  assert.ok(samples[0]!.time >= run.started && samples[samples.length - 1]!.time <= run.stopped, 'every sample within the run');
  assert.equal(samples.map((s) => Math.round(s.offsetMs)), samples.map((_, i) => i + 1), 'one probe per sample, in order');

  const tl = await query(`SELECT DISTINCT clock_source, clock_state, round(clock_offset_ms)::INTEGER AS off_ms FROM read_parquet('${out}/timeline/**/*.parquet') ORDER BY off_ms`);
  assert.ok(tl.length >= 2, `the timeline follows the latest sample: ${JSON.stringify(tl)}`);
  for (const row of tl) {
    assert.equal([row['clock_source'], row['clock_state']], ['chrony', 'synced']);
    assert.ok((row['off_ms'] as number) >= 1 && (row['off_ms'] as number) <= samples.length, `offset ${row['off_ms']} is a sample's`);
  }

  const logs = readdirSync(join(out, 'log')).map((f) => readFileSync(join(out, 'log', f), 'utf8')).join('');
  const logged = [...logs.matchAll(/INFO  clock: chrony synced offset (\d+(?:\.\d+)?) ms error 2 ms/g)].map((m) => Math.round(Number(m[1])));
  assert.equal(logged, samples.slice(1).map((_, i) => i + 2), 'every sample after the start logged');
});

test.run();
