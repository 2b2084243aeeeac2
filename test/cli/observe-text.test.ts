import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plural, fitWidth } from '../../src/cli/text.js';
import { BIN, startSimulate } from './children.js';


test('counts agree in number', () => {
  assert.is(plural(1, 'part'), '1 part');
  assert.is(plural(2, 'part'), '2 parts');
  assert.is(plural(0, 'shard'), '0 shards');
  assert.is(plural(1000, 'peer'), '1,000 peers');
});

test('a status line is cut to the terminal width, leaving the last column free', () => {
  const line = 'x'.repeat(200);
  assert.is(fitWidth(line, 80).length, 79);
  assert.ok(fitWidth(line, 80).endsWith('…'));
  assert.is(fitWidth('short', 80), 'short');
  assert.is(fitWidth(line, undefined), line, 'not a terminal: unchanged');
});

test('observe over 3 addresses: the status target is 3, the summary says 1 shard and 1 part, run.json names the transport', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'invscope-observe-text-'));
  const sim = await startSimulate(dir, 3, 5, '127.4.0.0');
  try {
    const r = spawnSync(process.execPath, [BIN, 'observe', '--network', 'regtest', '--peers', join(dir, 'nodes.txt'), '--out', join(dir, 'run'), '--duration', '3', '--shards', '1', '--status-interval', '1'], { encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stderr, /target 1,000 peers over 1 shard,/);
    assert.match(r.stderr, /peers \d\/3 /, 'the target this run can reach');
    assert.match(r.stderr, /; 1 part in /);
    const run = JSON.parse(readFileSync(join(dir, 'run', 'run.json'), 'utf8'));
    assert.is(run.settings.transport, 'auto');
  } finally {
    sim.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
