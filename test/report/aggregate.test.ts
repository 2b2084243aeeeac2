import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport, HIST_REL_ERROR, type ReportResult } from '../../src/report/index.js';
import { binnedValue, PEER_REL_ERROR, PEER_BIN_RATIO } from '../../src/report/hist.js';
import { itemsFrom, peerRow, writeRunDir, type Obs, type RunFixture } from './make-fixture.js';

// The report's per-chunk aggregates: log-binned histograms agree with the exact answer within
// their documented bound, and the cache recomputes only the chunks whose files changed.

const root = mkdtempSync(join(tmpdir(), 'invscope-agg-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const H10 = Date.UTC(2026, 11, 4, 10);
const HOUR = 3_600_000;
const PEERS = 30;
const addr = (i: number): string => `127.0.1.${i}:8333`;

/** A deterministic stream in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `txs` transactions and one block first seen in [start, start + span), each announced by most of
 * the PEERS peers after log-normal delays (ms to tens of seconds); some peers announce twice.
 */
function run(start: number, span: number, txs: number, seed: number): RunFixture {
  const r = rng(seed);
  const obs: Obs[] = [];
  const item = (hash: string, kind: 'tx' | 'block', t0: number, scale: number): void => {
    for (let p = 1; p <= PEERS; p++) {
      if (p > 1 && r() < 0.15) continue;
      const d = p === 1 ? 0 : Math.exp(Math.log(scale) + 1.2 * (r() + r() + r() - 1.5)) + r() * 0.001;
      const o: Obs = { time: t0 + d, peer: p, address: addr(p), kind: kind === 'tx' ? 'inv' : 'headers', inv_type: kind === 'tx' ? 'wtx' : 'block', item_kind: kind, hash, shard: 0 };
      obs.push(o);
      if (r() < 0.05) obs.push({ ...o, time: o.time + 500 });
    }
  };
  for (let i = 0; i < txs; i++) item(`${seed.toString(16).padStart(2, '0')}${i.toString(16).padStart(62, '0')}`, 'tx', start + (i / txs) * span, 2000);
  item(`b${seed.toString(16).padStart(2, '0')}${'0'.repeat(61)}`, 'block', start + span / 2, 80);
  return {
    run: { vantage: 'v', started: start - 60_000, stopped: start + span + 120_000 },
    observations: obs,
    peers: Array.from({ length: PEERS }, (_, i) =>
      peerRow({ peer: i + 1, address: addr(i + 1), user_agent: '/Satoshi:28.0.0/', connected_at: start - 60_000, ready_at: start - 59_000, closed_at: start + span, close_reason: 'stopped', misbehaviour: '{}' }),
    ),
    items: itemsFrom(obs, () => PEERS),
    timeline: [
      { time: start - 30_000, peers_connected: PEERS, peers_ready: PEERS, inv_entries: 0, drops: 0 },
      { time: start + span, peers_connected: PEERS, peers_ready: PEERS, inv_entries: obs.length, drops: 0 },
    ],
  };
}

type Values = Record<string, unknown>[];
const data = (r: ReportResult, id: string): Values => (r.figures.find((f) => f.id === id)!.spec.data as { values: Values }).values;

/** |b - e| within the histogram's relative bound (nulls must agree). */
function near(b: unknown, e: unknown, what: string, bound = HIST_REL_ERROR): void {
  if (e === null || b === null) return assert.is(b, e, what);
  const x = Number(e);
  assert.ok(Math.abs(Number(b) - x) <= bound * Math.abs(x) + 1e-9, `${what}: binned ${b} vs exact ${e}`);
}

test('a binned value is within HIST_REL_ERROR of the delay; zero stays zero', () => {
  for (const d of [0.0005, 0.001, 0.37, 1, 9.99, 123.4, 5_000, 119_999]) {
    assert.ok(Math.abs(binnedValue(d) - Math.max(d, 0.001)) <= HIST_REL_ERROR * Math.max(d, 0.001) + 1e-12, `${d} -> ${binnedValue(d)}`);
  }
  assert.is(binnedValue(0), 0);
  for (const d of [0.37, 123.4, 5_000]) assert.ok(Math.abs(binnedValue(d, PEER_BIN_RATIO) - d) <= PEER_REL_ERROR * d, `${d} -> ${binnedValue(d, PEER_BIN_RATIO)}`);
});

test('binned chunks give the exact answer within their bounds: 1 % for the delay CDF and the propagation curves, 5 % for the latest peers', async () => {
  const dir = join(root, 'flat');
  await writeRunDir(dir, run(H10, 20 * 60_000, 120, 1));
  const exact = await buildReport({ dirs: [dir], html: false, cacheDir: null });
  const binned = await buildReport({ dirs: [dir], html: false, cacheDir: null, exactMaxRows: 0 });
  assert.ok(HIST_REL_ERROR <= 0.01 && PEER_REL_ERROR <= 0.05, `bounds ${HIST_REL_ERROR} ${PEER_REL_ERROR}`);
  assert.equal(binned.summary, exact.summary, 'counts and the items table are not binned');
  for (const id of ['delay-cdf', 'propagation', 'worst-peers']) {
    const key = (r: Record<string, unknown>): string => (id === 'worst-peers' ? String(r.address) : `${r.vantage} ${r.kind} ${r.pct ?? r.p}`);
    const e = data(exact, id);
    const byKey = new Map(data(binned, id).map((r) => [key(r), r]));
    assert.ok(e.length >= 20, `${id}: ${e.length} points`);
    // The 20 latest of 30 similar peers: medians within a bin of the 20th may change places.
    const both = e.filter((r) => byKey.has(key(r)));
    assert.ok(both.length >= (id === 'worst-peers' ? 15 : e.length), `${id}: ${both.length} of ${e.length} in common`);
    const b = both.map((r) => byKey.get(key(r))!);
    for (let i = 0; i < both.length; i++) {
      for (const k of ['value', 'p10', 'p50', 'p90', 'med']) if (k in both[i]!) near(b[i]![k], both[i]![k], `${id}[${i}].${k}`, id === 'worst-peers' ? PEER_REL_ERROR : HIST_REL_ERROR);
    }
  }
  // The binned values really are bins, not the exact delays.
  const cdf = data(binned, 'delay-cdf').map((r) => r.value as number);
  assert.ok(cdf.some((v, i) => v !== data(exact, 'delay-cdf')[i]!.value));
});

/** Moves a flat run directory's parts into a hive tree under vantage=v/date=/hour=HH. */
function intoTree(flat: string, tree: string, hour: number): void {
  const d = new Date(hour);
  for (const t of ['observations', 'peers', 'items', 'timeline']) {
    const to = join(tree, t, 'vantage=v', `date=${d.toISOString().slice(0, 10)}`, `hour=${String(d.getUTCHours()).padStart(2, '0')}`);
    mkdirSync(to, { recursive: true });
    for (const f of readdirSync(join(flat, t))) renameSync(join(flat, t, f), join(to, `${hour}-${f}`));
  }
}

test('a chunk computed in slices of its items gives the same answer as in one piece', async () => {
  const dir = join(root, 'flat');
  const whole = await buildReport({ dirs: [dir], html: false, cacheDir: null });
  const sliced = await buildReport({ dirs: [dir], html: false, cacheDir: null, sliceRows: 500 });
  assert.equal(sliced.summary, whole.summary);
  for (const id of ['delay-cdf', 'propagation', 'worst-peers', 'lateness']) assert.equal(data(sliced, id), data(whole, id), id);
});

test('an unwritable cache is a note, and the report is made without it', async () => {
  const dir = join(root, 'flat');
  const r = await buildReport({ dirs: [dir], html: false, cacheDir: '/proc/invscope-no-such/cache' });
  assert.ok(r.warnings.some((w) => /cannot write the aggregate cache \/proc\/invscope-no-such\/cache/.test(w)), r.warnings.join('\n'));
  assert.equal(r.summary.vantages[0]!.items, (await buildReport({ dirs: [dir], html: false, cacheDir: null })).summary.vantages[0]!.items);
});

test('the cache: a rerun computes nothing, a new hour computes only that hour and its tail, and the answer equals an uncached one', async () => {
  const tree = join(root, 'tree');
  const cache = join(root, 'cache');
  // Items first seen up to the end of each hour: announcements spill into the next one.
  let observations = 0;
  for (const [i, h] of [H10, H10 + HOUR].entries()) {
    const f = run(h + 60_000, HOUR - 60_000, 40, 10 + i);
    // And a tx announced in the hour's last 30 s: its item belongs to the next hour's chunk (or
    // the tail), its observations to this hour's count.
    for (let p = 1; p <= PEERS; p++) {
      f.observations.push({ time: h + HOUR - 30_000 + p * 500, peer: p, address: addr(p), kind: 'inv', inv_type: 'wtx', item_kind: 'tx', hash: `e${i}${'0'.repeat(62)}`, shard: 0 });
    }
    observations += f.observations.length;
    await writeRunDir(join(root, `h${i}`), f);
    intoTree(join(root, `h${i}`), tree, h);
  }
  const first = await buildReport({ dirs: [tree], html: false, cacheDir: cache });
  // Hours 10 and 11, and the tail of hour 11 (the items first seen in its last item window).
  assert.equal([first.aggregates.chunks, first.aggregates.computed], [3, 3]);
  assert.ok(first.aggregates.rows > 2000, `${first.aggregates.rows} first announcements`);
  const again = await buildReport({ dirs: [tree], html: false, cacheDir: cache });
  assert.equal([again.aggregates.chunks, again.aggregates.computed], [3, 0]);
  assert.equal(again.summary, first.summary);
  // Every observation counted once, by the chunk of its hour, whatever hour its item belongs to.
  assert.is(first.summary.all.observations, observations);
  const f2 = run(H10 + 2 * HOUR + 60_000, HOUR - 60_000, 40, 12);
  observations += f2.observations.length;
  await writeRunDir(join(root, 'h2'), f2);
  intoTree(join(root, 'h2'), tree, H10 + 2 * HOUR);
  const more = await buildReport({ dirs: [tree], html: false, cacheDir: cache });
  assert.equal([more.aggregates.chunks, more.aggregates.computed], [4, 2], 'hour 12 and its tail; hour 11 reads nothing of hour 12');
  const fresh = await buildReport({ dirs: [tree], html: false, cacheDir: null });
  assert.equal(more.summary, fresh.summary);
  for (const id of ['delay-cdf', 'propagation', 'worst-peers', 'lateness']) assert.equal(data(more, id), data(fresh, id), id);
  assert.is(more.summary.all.items.tx, 122, '40 an hour and the two late ones of hours 10 and 11');
  assert.is(more.summary.all.observations, observations);
  assert.is(readdirSync(join(cache, 'vantage=v')).length, 4, 'entries of replaced chunks (the tail of hour 11) are removed');
});

test.run();
