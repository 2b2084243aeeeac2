import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

test('the demo runs simulate and observe as processes into one DIR and checks the stored measurement against the ground truth', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'invscope-demo-')), 'run');
  const r = spawnSync(process.execPath, [BIN, 'demo', '--nodes', '40', '--seconds', '3', '--time-scale', '20', '--block-interval', '20', '--misbehaving', '0.1', '--out', dir, '--json'], {
    encoding: 'utf8',
    timeout: 90_000,
  });
  assert.is(r.status, 0, r.stderr + r.stdout);
  const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.is(s.ok, true);
  assert.is(s.dir, dir);
  assert.ok(s.items.tx > 0, 'transactions originated');
  assert.ok(s.expected > 100, `${s.expected} announcements`);
  assert.is(s.missing, 0);
  assert.is(s.observed, s.expected);
  assert.ok(Object.keys(s.misbehaving).length >= 1, 'some nodes misbehave');
  assert.ok(s.sendToReceiveMs.p50 >= 0 && s.sendToReceiveMs.p50 < 1000);
  for (const f of ['run.json', 'truth.jsonl', 'nodes.txt', 'log', 'report.html', 'figures/propagation.svg']) assert.ok(existsSync(join(dir, f)), f);
  // The report's JSON line comes before the check's: its accuracy agrees that nothing is missing.
  const rep = JSON.parse(r.stdout.trim().split('\n').find((l) => l.includes('"accuracy"'))!);
  assert.is(rep.accuracy[0].missing, 0);
  assert.is(rep.accuracy[0].matched, s.observations);
  for (const t of ['observations', 'peers', 'items', 'timeline']) assert.ok((readdirSync(join(dir, t), { recursive: true }) as string[]).some((f) => f.endsWith('.parquet')), t);
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

test('the demo rejects bad options with a message naming the value', () => {
  const r = spawnSync(process.execPath, [BIN, 'demo', '--nodes', 'many'], { encoding: 'utf8', timeout: 20_000 });
  assert.is(r.status, 2);
  assert.match(r.stderr, /many/);
});

test.run();
