import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

const DEMO_ARGS = ['demo', '--nodes', '40', '--seconds', '3', '--time-scale', '20', '--block-interval', '20', '--misbehaving', '0.1'];

test('the demo runs simulate and two observers (vantages demo-a, demo-b) into one DIR, reports both with their clock offset and checks each against the ground truth', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'invscope-demo-')), 'run');
  const r = spawnSync(process.execPath, [BIN, ...DEMO_ARGS, '--out', dir, '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, r.stderr + r.stdout);
  const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.is(s.ok, true);
  assert.is(s.dir, dir);
  assert.is(s.unattributed, 0, 'every announcement of the truth went to a connection of one of the two runs');
  assert.equal(s.vantages.map((v: any) => v.vantage), ['demo-a', 'demo-b']);
  for (const v of s.vantages) {
    assert.ok(v.items.tx > 0, 'transactions originated');
    assert.ok(v.expected > 100, `${v.vantage}: ${v.expected} announcements`);
    assert.is(v.missing, 0, v.vantage);
    assert.is(v.observed, v.expected, v.vantage);
    assert.is(v.negativeDelays, 0, v.vantage);
    assert.ok(Object.keys(v.misbehaving).length >= 1, 'some nodes misbehave');
    assert.ok(v.sendToReceiveMs.p50 >= 0 && v.sendToReceiveMs.p50 < 1000);
    const run = JSON.parse(readFileSync(join(dir, v.vantage, 'run.json'), 'utf8'));
    assert.is(run.vantage, v.vantage);
    for (const t of ['observations', 'peers', 'items', 'timeline']) assert.ok((readdirSync(join(dir, v.vantage, t), { recursive: true }) as string[]).some((f) => f.endsWith('.parquet')), `${v.vantage} ${t}`);
    assert.ok(existsSync(join(dir, v.vantage, 'truth.jsonl')), `${v.vantage}'s share of the truth`);
  }
  // Both observers ran on this host's one clock: the estimate is near zero, from blocks both heard.
  assert.is(s.clock.length, 1);
  assert.is(s.clock[0].a, 'demo-a');
  assert.is(s.clock[0].b, 'demo-b');
  assert.ok(s.clock[0].samples > 0, `${s.clock[0].samples} peer-block pairs`);
  assert.ok(Math.abs(s.clock[0].offsetMs) < 100, `offset ${s.clock[0].offsetMs} ms on one host`);
  for (const f of ['truth.jsonl', 'nodes.txt', 'report.html', 'figures/propagation.svg']) assert.ok(existsSync(join(dir, f)), f);
  // The report's JSON line comes before the check's: its accuracy per vantage agrees that nothing is missing.
  const rep = JSON.parse(r.stdout.trim().split('\n').find((l) => l.includes('"accuracy"'))!);
  assert.equal(rep.accuracy.map((a: any) => a.vantage), ['demo-a', 'demo-b']);
  for (const [i, a] of rep.accuracy.entries()) {
    assert.is(a.missing, 0, a.vantage);
    assert.is(a.matched, s.vantages[i].observations, a.vantage);
  }
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

test('the demo\'s text output names both vantages and ends with the estimated clock offset between them', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'invscope-demo-')), 'run');
  const r = spawnSync(process.execPath, [BIN, ...DEMO_ARGS, '--out', dir], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, r.stderr + r.stdout);
  const out = r.stdout;
  assert.match(out, /vantages demo-a and demo-b/);
  assert.match(out, /\$ invscope observe .*--vantage demo-a/);
  assert.match(out, /\$ invscope observe .*--vantage demo-b/);
  assert.match(out, /^demo-a: .*missing: 0 /m);
  assert.match(out, /^demo-b: .*missing: 0 /m);
  const tail = out.slice(out.indexOf('items originated'));
  assert.match(tail, /estimated clock offset between the vantages .*clock demo-b - demo-a: -?\d+(\.\d+)? (µs|ms|s) \(95 % CI .*, [1-9]\d* peer-block pairs\)/);
  assert.match(tail, /CHECK PASSED/);
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

test('the demo rejects bad options with a message naming the value', () => {
  const r = spawnSync(process.execPath, [BIN, 'demo', '--nodes', 'many'], { encoding: 'utf8', timeout: 20_000 });
  assert.is(r.status, 2);
  assert.match(r.stderr, /many/);
});

test.run();
