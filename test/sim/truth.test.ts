/**
 * TruthWriter and readTruth: JSON-lines round trips through a file in a temp dir, the same
 * records as the in-memory mode, large buffered writes, escaping, close semantics, bad lines.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TruthWriter, readTruth, TRUTH_CLOCK, TRUTH_VERSION } from '../../src/sim/truth.js';
import { SimModel } from '../../src/sim/model.js';
import { hashToHex } from '../../src/protocol/index.js';

const dir = mkdtempSync(join(tmpdir(), 'invscope-truth-'));

function run(truth: TruthWriter): SimModel {
  const clock = { t: 1.7e12 };
  const m = new SimModel({ nodes: 80, seed: 21, txRate: 5, blockIntervalMs: 4_000, misbehaving: 0.1, clock: () => clock.t }, truth);
  m.runUntil(clock.t);
  for (let i = 0; i < 20; i++) {
    clock.t += 1000;
    m.runUntil(clock.t);
  }
  m.setOnline(3, false);
  m.setOnline(3, true);
  return m;
}

test('round-trips a model run through a JSON-lines file to the same records as the in-memory mode', async () => {
  const path = join(dir, 'run.jsonl');
  const file = new TruthWriter(path);
  const m = run(file);
  file.announce(5, 0, '127.0.0.1:50000', 1.7e12 + 3, 'inv');
  file.announce(5, 1, 'observer "quoted"', 1.7e12 + 4, 'cmpctblock');
  file.misbehave(7, 'bad-checksum', 1.7e12 + 5);
  await file.close();

  const mem = new TruthWriter(null);
  run(mem);
  mem.announce(5, 0, '127.0.0.1:50000', 1.7e12 + 3, 'inv');
  mem.announce(5, 1, 'observer "quoted"', 1.7e12 + 4, 'cmpctblock');
  mem.misbehave(7, 'bad-checksum', 1.7e12 + 5);

  const back = await readTruth(path);
  assert.equal(back, mem.records);
  assert.is(back.meta.length, 1);
  assert.is(back.meta[0]!.version, TRUTH_VERSION);
  assert.is(back.meta[0]!.clock, TRUTH_CLOCK);
  assert.is(back.meta[0]!.seed, 21);
  assert.is(back.nodes.length, 80);
  assert.is(back.nodes[0]!.services, m.nodes[0]!.services.toString());
  assert.is(back.nodes.filter((n) => n.misbehaviour !== null).length, 8);
  assert.is(back.items.length, m.itemCount);
  for (const r of back.items) {
    const it = m.item(r.id)!;
    assert.is(r.hash, hashToHex(it.hash));
    assert.is(r.wtxid, hashToHex(it.wtxid));
    assert.is(r.t, it.createdAt);
    assert.is(r.size, it.raw.length);
    assert.is(r.height, it.height);
  }
  assert.ok(back.learns.length > 80 * 50);
  for (const l of back.learns) if (!Number.isNaN(m.learnedAt(l.node, l.item))) assert.is(l.t, m.learnedAt(l.node, l.item));
  assert.equal(back.churns.map((c) => [c.node, c.online]), [
    [3, false],
    [3, true],
  ]);
  assert.is(back.announces[1]!.observer, 'observer "quoted"');
  assert.is(back.announces[1]!.how, 'cmpctblock');
  for (const k of ['meta', 'node', 'item', 'learn', 'announce', 'churn', 'misbehave']) {
    assert.is(file.counts[k], mem.counts[k], k);
  }
  assert.is(file.counts.learn, back.learns.length);
  assert.is(file.bytesWritten, readFileSync(path).length);
});

test('writes large runs in buffered pieces and reads every line back in order', async () => {
  const path = join(dir, 'big.jsonl');
  const w = new TruthWriter(path);
  const n = 60_000; // ~3.5 MB: several flushes
  for (let i = 0; i < n; i++) w.learn(i % 1000, i, 1.7e12 + i / 7, i % 3 === 0 ? -1 : i % 1000);
  assert.ok(w.bytesWritten > 0, 'flushed before close');
  await w.close();
  const back = await readTruth(path);
  assert.is(back.learns.length, n);
  for (let i = 0; i < n; i += 997) {
    const l = back.learns[i]!;
    assert.equal(l, { e: 'learn', node: i % 1000, item: i, t: 1.7e12 + i / 7, from: i % 3 === 0 ? -1 : i % 1000 });
  }
});

test('counts records written after close and leaves the file as it was', async () => {
  const path = join(dir, 'closed.jsonl');
  const w = new TruthWriter(path);
  w.churn(1, false, 1.7e12);
  await w.close();
  await w.close();
  const size = readFileSync(path).length;
  w.learn(1, 1, 1.7e12);
  w.churn(1, true, 1.7e12);
  w.flush();
  assert.is(readFileSync(path).length, size);
  assert.is(w.counts.afterClose, 2);
  const back = await readTruth(path);
  assert.is(back.churns.length, 1);
});

test('rejects a file with a line that is not JSON, naming the line', async () => {
  const path = join(dir, 'bad.jsonl');
  writeFileSync(path, '{"e":"churn","node":1,"online":false,"t":1}\n{"e":"learn",\n');
  try {
    await readTruth(path);
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.match((e as Error).message, /bad\.jsonl:2: not a JSON line/);
  }
});

test('keeps records in arrays in memory mode and writes no file', () => {
  const w = new TruthWriter(null);
  w.learn(1, 2, 3);
  w.misbehave(4, 'garbage', 5);
  assert.equal(w.records.learns, [{ e: 'learn', node: 1, item: 2, t: 3, from: -1 }]);
  assert.equal(w.records.misbehaves, [{ e: 'misbehave', node: 4, what: 'garbage', t: 5 }]);
  assert.is(w.bytesWritten, 0);
  assert.is(w.path, null);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
