import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

test('the demo measures every announcement of a small simulated network, checked against the ground truth', () => {
  const r = spawnSync(process.execPath, [BIN, 'demo', '--nodes', '40', '--seconds', '3', '--time-scale', '20', '--misbehaving', '0.1', '--json'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(r.status, 0, r.stderr + r.stdout);
  const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.is(s.ok, true);
  assert.ok(s.items.tx > 0, 'transactions originated');
  assert.ok(s.announcementsInTruth > 100, `${s.announcementsInTruth} announcements`);
  assert.is(s.missing, 0);
  assert.is(s.observed, s.announcementsInTruth);
  assert.ok(s.misbehaving >= 1, 'some nodes misbehave');
  assert.ok(s.sendToReceiveMs.p50 >= 0 && s.sendToReceiveMs.p50 < 1000);
});

test('the demo rejects bad options with a message naming the value', () => {
  const r = spawnSync(process.execPath, [BIN, 'demo', '--nodes', 'many'], { encoding: 'utf8', timeout: 20_000 });
  assert.is(r.status, 2);
  assert.match(r.stderr, /many/);
});

test.run();
