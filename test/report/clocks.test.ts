/**
 * The report over several vantages: the clock offset estimated from block announcements that
 * both vantages heard from the same peers (against a known injected shift), its confidence
 * interval, the network-wide first-seen with and without --align-clocks, the --from/--to window
 * and the engine's memory cap and error codes. Test, main thread.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport, formatNetwork, fmtMs, medianCiRanks, ReportError } from '../../src/report/index.js';
import { classifyEngineError } from '../../src/report/engine.js';
import { prng as rng } from '../helpers.js';
import { readFileSync } from 'node:fs';
import { parseTime, reportCli } from '../../src/cli/report.js';
import { UsageError } from '../../src/cli/decode.js';
import { reportJson } from '../../src/report/json.js';
import { itemsFrom, peerRow, timelineFrom, toHiveLayout, writeRunDir, type Obs, type RunFixture } from './make-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'invscope-clocks-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const T0 = 1.7e12;
const PEERS = 20;
const BLOCKS = 12;
const SHIFT = 250;

/**
 * One network heard by two vantages: every peer announces every block to both at its own moment
 * (the block's relay delay to that peer), each vantage's receive adds 0-3 ms of path delay, and
 * the vantage `west` has its clock `shift` ms ahead. Txs: `tx-e` reaches east 100 ms after T0+20 s
 * by its clock, west (true time) 50 ms earlier.
 */
function vantage(name: string, shift: number, seed: number): RunFixture {
  const r = rng(seed);
  const relay = rng(7); // the same relay delays for both vantages: one network
  const obs: Obs[] = [];
  const addr = (p: number): string => `127.0.1.${p}:8333`;
  for (let b = 0; b < BLOCKS; b++) {
    const t = T0 + 5_000 + b * 3_000;
    for (let p = 1; p <= PEERS; p++) {
      obs.push({ time: t + relay() * 400 + r() * 3 + shift, peer: p, address: addr(p), kind: 'inv', inv_type: 'block', item_kind: 'block', hash: `b${String(b).padStart(2, '0')}`, shard: 0 });
    }
  }
  const txAt = T0 + 20_000 + (name === 'east' ? 100 : 50) + shift;
  for (let p = 1; p <= PEERS; p++) obs.push({ time: txAt + p * 10, peer: p, address: addr(p), kind: 'inv', inv_type: 'wtx', item_kind: 'tx', hash: 'tx-e', shard: 0 });
  obs.sort((a, b) => a.time - b.time);
  const peers = Array.from({ length: PEERS }, (_, i) => peerRow({ peer: i + 1, address: addr(i + 1), connected_at: T0 + shift, ready_at: T0 + shift }));
  const start = T0 + shift;
  const end = T0 + 60_000 + shift;
  return {
    run: { vantage: name, started: start, stopped: end },
    observations: obs,
    peers,
    items: itemsFrom(obs, () => PEERS),
    timeline: timelineFrom(obs, peers, start, end),
  };
}

const east = join(root, 'east');
const west = join(root, 'west');
test.before(async () => {
  await writeRunDir(east, vantage('east', 0, 1));
  await writeRunDir(west, vantage('west', SHIFT, 2));
});

test('medianCiRanks: the order statistics cover the median with at least 95 % (exact binomial)', () => {
  for (const n of [6, 10, 25, 100, 240, 1000]) {
    const r = medianCiRanks(n);
    assert.ok(r !== null, `n=${n}`);
    const [lo, hi] = r;
    // P(X_(lo) <= median < X_(hi)) = P(lo <= B < hi), B ~ binomial(n, 1/2).
    let logC = 0;
    let cover = 0;
    for (let k = 0; k <= n; k++) {
      if (k > 0) logC += Math.log(n - k + 1) - Math.log(k);
      if (k >= lo && k < hi) cover += Math.exp(logC - n * Math.LN2);
    }
    assert.ok(cover >= 0.94, `n=${n}: coverage ${cover}`);
    assert.ok(lo >= 1 && hi <= n && lo < hi);
  }
  assert.is(medianCiRanks(5), null);
  assert.equal(medianCiRanks(6), [1, 6]);
});

test('the clock offset between two vantages is the injected shift within a few ms, with a CI and the sample count', async () => {
  const r = await buildReport({ dirs: [east, west], html: false, settleMs: 0 });
  assert.ok(r.network !== null);
  const [o] = r.network.offsets;
  assert.ok(o !== undefined);
  assert.is(o.a, 'east');
  assert.is(o.b, 'west');
  assert.is(o.samples, PEERS * BLOCKS);
  assert.ok(Math.abs(o.offsetMs! - SHIFT) < 3, `offset ${o.offsetMs}`);
  assert.ok(o.ciMs !== null && o.ciMs[0] <= o.offsetMs! && o.offsetMs! <= o.ciMs[1] && o.ciMs[1] - o.ciMs[0] < 3, `ci ${o.ciMs}`);
  const j = reportJson(r).network as { clock_offsets: { samples: number; offset_ms: number }[] };
  assert.is(j.clock_offsets[0]!.samples, PEERS * BLOCKS);
});

test('network-wide first-seen: without alignment the shifted vantage is late; aligned, it saw the tx first', async () => {
  const raw = await buildReport({ dirs: [east, west], html: false, settleMs: 0 });
  const al = await buildReport({ dirs: [east, west], html: false, settleMs: 0, alignClocks: true });
  const v = (r: typeof raw, name: string) => r.network!.vantages.find((x) => x.vantage === name)!;
  assert.is(v(raw, 'east').firstShare, 1);
  assert.ok(v(raw, 'west').lagP50Ms! > 200, `raw west lag ${v(raw, 'west').lagP50Ms}`);
  assert.is(v(raw, 'west').shiftMs, 0);
  assert.ok(Math.abs(v(al, 'west').shiftMs + SHIFT) < 3);
  assert.is(v(al, 'east').shiftMs, 0);
  // Aligned: the block first-seens are within a few ms of each other, the tx is west's by 50 ms.
  assert.ok(Math.abs(v(al, 'west').lagP50Ms!) < 5, `aligned west lag ${v(al, 'west').lagP50Ms}`);
  assert.ok(v(al, 'east').firstShare! < 1 && v(al, 'west').firstShare! > 0);
  // The network-wide curve: the tx's 20 nodes announced 10 ms apart from its first-seen.
  assert.is(al.network!.timeTo.tx.items, 1);
  assert.ok(Math.abs(al.network!.timeTo.tx.t50p50Ms! - 90) < 3, `tx t50 ${al.network!.timeTo.tx.t50p50Ms}`);
  assert.is(al.network!.timeTo.block.items, BLOCKS);
  assert.equal(al.network!.unaligned, []);
  const text = formatNetwork(al.network!, fmtMs).join('\n');
  assert.match(text, /clock west - east: 25\d ms \(95 % CI 2\d\d ms \.\. 2\d\d ms, 240 peer-block pairs\)/);
  assert.match(text, /clocks aligned to east/);
});

test('--from/--to keep only the window: blocks after it are not counted', async () => {
  const r = await buildReport({ dirs: [east, west], html: false, settleMs: 0, fromMs: T0, toMs: T0 + 5_000 + 6 * 3_000 - 500 });
  // East's clock: blocks 0-5 in the window; west's (250 ms ahead): the same six.
  assert.is(r.network!.offsets[0]!.samples, PEERS * 6);
  assert.is(r.summary.vantages.find((v) => v.vantage === 'east')!.items.block, 6);
  assert.is(r.summary.vantages.find((v) => v.vantage === 'east')!.items.tx, 1);
  const early = await buildReport({ dirs: [east, west], html: false, settleMs: 0, toMs: T0 + 19_000 });
  assert.is(early.summary.vantages.find((v) => v.vantage === 'east')!.items.tx, 0);
  assert.is(early.summary.vantages.find((v) => v.vantage === 'east')!.items.block, 5);
});

test('a memory cap too small for the query is ERR_REPORT_OOM with a hint, not ERR_REPORT_CORRUPT', async () => {
  try {
    await buildReport({ dirs: [east, west], html: false, memoryLimit: '1KB', threads: 1 });
    assert.unreachable('a 1 KB cap should not suffice');
  } catch (e) {
    assert.instance(e, ReportError);
    assert.is((e as ReportError).code, 'ERR_REPORT_OOM', (e as Error).message);
    assert.match((e as ReportError).message, /--memory-limit/);
  }
});

test('classifyEngineError: out of memory, a corrupt Parquet file, anything else', () => {
  assert.is(classifyEngineError(new Error('Out of Memory Error: failed to allocate data of size 2.0 MiB (1.9 MiB/2.0 MiB used)')), 'oom');
  assert.is(classifyEngineError(new Error("Invalid Input Error: No magic bytes found at end of file 'x.parquet'")), 'corrupt');
  assert.is(classifyEngineError(new Error('IO Error: Could not read from file "x.parquet": truncated')), 'corrupt');
  assert.is(classifyEngineError(new Error('Binder Error: Referenced column "nope" not found')), 'engine');
  assert.is(classifyEngineError(new Error('INTERNAL Error: Attempted to access index 3 within vector of size 3')), 'engine');
});

test('partitioned trees: one vantage split over two trees is one vantage; the same figures as the flat layout', async () => {
  const flat = await buildReport({ dirs: [east, west], html: false, settleMs: 0 });
  const a = join(root, 'tree-a');
  const b = join(root, 'tree-b');
  // East's run split at T0 + 14 s into two runs (two trees), west whole in the second tree.
  await toHiveLayout(east, a, 'east', 'r1', (t) => `${t} < ${T0 + 14_000}`);
  await toHiveLayout(east, b, 'east', 'r2', (t) => `${t} >= ${T0 + 14_000}`);
  await toHiveLayout(west, b, 'west', 'r3');
  const r = await buildReport({ dirs: [a, b], html: false, settleMs: 0 });
  assert.equal(r.summary.vantages.map((v) => v.vantage), ['east', 'west']);
  const e = r.summary.vantages[0]!;
  const f = flat.summary.vantages[0]!;
  assert.is(e.items.block, BLOCKS);
  assert.is(e.announcements, f.announcements);
  assert.is(r.network!.offsets[0]!.samples, PEERS * BLOCKS);
  assert.ok(Math.abs(r.network!.offsets[0]!.offsetMs! - flat.network!.offsets[0]!.offsetMs!) < 0.01);
  // --from/--to on the tree (partition pruning by date keeps every row of that day).
  const w = await buildReport({ dirs: [a, b], html: false, settleMs: 0, toMs: T0 + 19_000 });
  assert.is(w.summary.vantages[0]!.items.block, 5);
});

test('report.html shows the clock offsets and the network-wide first-seen', async () => {
  const out = join(root, 'html');
  const r = await buildReport({ dirs: [east, west], out, settleMs: 0, alignClocks: true });
  const html = readFileSync(r.files.html!, 'utf8');
  assert.match(html, /Clocks and the network-wide first-seen/);
  assert.match(html, /clock west - east: 25\d ms/);
});

test('--from/--to take ISO times or epoch ms; a bad window, memory limit or thread count is a usage error', async () => {
  assert.is(parseTime('--from', '2026-12-04T20:00Z'), Date.UTC(2026, 11, 4, 20, 0));
  assert.is(parseTime('--to', '1700000000000'), 1.7e12);
  assert.throws(() => parseTime('--from', 'yesterday'), (e: Error) => e instanceof UsageError && /--from/.test(e.message));
  for (const args of [['--memory-limit', 'lots'], ['--threads', '0'], ['--from', '2000', '--to', '1000']]) {
    try {
      await reportCli([east, '--no-html', '--quiet', ...args]);
      assert.unreachable(args.join(' '));
    } catch (e) {
      assert.instance(e, UsageError, args.join(' '));
    }
  }
});

test.run();
