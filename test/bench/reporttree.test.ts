/**
 * bench/reporttree.ts: a kept bench tree built hour by hour, several hours at once, resumed after a
 * cut, and refused when it holds another peer count. Test process, cold path.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildTree, extendTree, readTree, type TreeOptions } from '../../bench/reporttree.js';

const OPTS: TreeOptions = { txPerSecond: 0.2, blockIntervalS: 1200, start: Date.UTC(2026, 0, 5, 22), threads: 1, memoryLimit: '256MB' };
const dirs: string[] = [];
const fresh = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'invscope-reporttree-'));
  dirs.push(d);
  return d;
};

/** Every file under d (gen.json aside) with its bytes. */
function files(d: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(d, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    if (e.isFile() && e.name !== 'gen.json') out[relative(d, p)] = readFileSync(p).toString('base64');
  }
  return out;
}

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('three hours built two at a time equal the same hours built one at a time, byte for byte', async () => {
  const one = fresh();
  const two = fresh();
  const a = await buildTree(one, 3, 40, 1, OPTS);
  const b = await buildTree(two, 3, 40, 2, OPTS);
  assert.ok(typeof a !== 'string' && typeof b !== 'string');
  assert.equal(b.hours, 3);
  assert.equal(b.gen, a.gen);
  assert.equal(readTree(two), readTree(one));
  assert.equal(readTree(two)!.hours, 3);
  const fa = files(one);
  assert.ok(Object.keys(fa).length >= 3 * 3, 'an observations part per vantage and hour at least');
  assert.equal(files(two), fa);
  // One more hour adds to the totals.
  const more = await extendTree(two, 3, 40, OPTS);
  assert.equal(readTree(two)!.hours, 4);
  assert.ok(more.gen.rows.observations > a.gen.rows.observations);
});

test('a cut build resumes from the hours gen.json records; a built tree is reused as it is', async () => {
  const whole = fresh();
  const cut = fresh();
  const w = await buildTree(whole, 3, 40, 1, OPTS);
  assert.ok(typeof w !== 'string');
  const first = await buildTree(cut, 1, 40, 2, OPTS);
  assert.ok(typeof first !== 'string');
  assert.equal(first.hours, 1);
  const rest = await buildTree(cut, 3, 40, 2, OPTS);
  assert.ok(typeof rest !== 'string');
  assert.equal(rest.gen, w.gen);
  assert.ok(rest.wallS !== null);
  const again = await buildTree(cut, 2, 40, 2, OPTS);
  assert.ok(typeof again !== 'string');
  assert.equal(again.hours, 3, 'a tree longer than asked for is used whole');
  assert.equal(again.wallS, null, 'nothing generated');
});

test('a tree of another peer count is refused, and nothing is written to it', async () => {
  const d = fresh();
  writeFileSync(join(d, 'gen.json'), JSON.stringify({ hours: 1, peers: 80 }));
  const r = await buildTree(d, 2, 40, 2, OPTS);
  assert.type(r, 'string');
  assert.match(r as string, /80 peers, not 40/);
  assert.equal(readdirSync(d), ['gen.json']);
});

test.run();
