/**
 * The runnable examples under examples/: each runs as its own process (as a user would run it,
 * against the compiled dist/) and its output is checked. examples/observe.mjs embeds the pool
 * against a simulated network on loopback; examples/handlers.mjs runs a handler module in its shards.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

function run(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'examples', file), ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (err as unknown as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : err ? 1 : 0, stdout, stderr });
    });
  });
}

test('examples/observe.mjs: embeds the coordinator against a simulation and prints first-seen per item', async () => {
  const r = await run('observe.mjs', ['3']);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^simulation: 50 nodes on 127\.1\.x\.y:\d+$/);
  const items = lines.filter((l) => /^[0-9a-f]{64}  first seen \+\d+\.\d ms  (inv|headers|cmpctblock)\/\d+  by \d+ peers$/.test(l));
  assert.ok(items.length >= 5, `first-seen lines: ${items.length}\n${r.stdout}`);
  const summary = JSON.parse(lines[lines.length - 1]!);
  assert.is(summary.nodes, 50);
  assert.is(summary.ready, 50);
  assert.is(summary.events.connected, 50);
  assert.is(summary.events.ready, 50);
  assert.is(summary.events.gone, 50); // every peer closed by stop()
  assert.ok(summary.observations > 100, `observations ${summary.observations}`);
  assert.ok(summary.items >= items.length);
  assert.is(summary.ringDrops, 0);
  assert.is(summary.consumerDrops, 0);
});

test('examples/handlers.mjs: a handler module in every shard fetches announced txs and posts a summary per shard', async () => {
  const r = await run('handlers.mjs', ['3']);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^simulation: 30 nodes on 127\.1\.x\.y:\d+$/);
  const shardLines = lines.filter((l) => /^shard [01]: \d+ tx announcements, \d+ requested, \d+ fetched \(\d+ bytes, \d+ weight units\), \d+ not found; median inv->tx [\d.]+ ms$/.test(l));
  assert.is(shardLines.length, 2, r.stdout);
  const s = JSON.parse(lines[lines.length - 1]!);
  assert.is(s.ready, 30);
  assert.is(s.shards, 2, 'both shards posted their summary');
  assert.is(s.announced, s.txObservations, 'the inv handlers saw every tx entry the ring carried');
  assert.ok(s.txObservations > 100 && s.observations >= s.txObservations);
  assert.ok(s.requested > 10, `requested ${s.requested}`);
  // Asked once per shard, answered by the node that announced it: nearly all arrive before stop.
  assert.ok(s.fetched > 0 && s.fetched <= s.requested && s.fetched >= s.requested * 0.9, `fetched ${s.fetched} of ${s.requested}`);
  assert.ok(s.bytes > s.fetched * 60, `bytes ${s.bytes}`);
  assert.is(s.handlerErrors, 0);
  assert.not.match(r.stdout, /handler error/);
});

test.run();
