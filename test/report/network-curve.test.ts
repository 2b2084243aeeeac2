/**
 * The network-wide propagation curves (src/report/network-curve.ts) against an exact computation
 * in plain JavaScript from the same announcements: two vantages hearing overlapping peer sets of
 * one network; each item's network-wide first-seen, each node's earliest announcement anywhere,
 * the time to x % of the announcing nodes for x = 1..100 and its percentiles over the items, the
 * delay CDF; then the transaction sample (one in W by hash) with its 95 % confidence intervals.
 * Test, main thread.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport, medianCiRanks, type ReportResult } from '../../src/report/index.js';
import { CDF_GRID } from '../../src/report/figures.js';
import { reportJson } from '../../src/report/json.js';
import { prng, sortedQuantile } from '../helpers.js';
import { itemsFrom, peerRow, timelineFrom, writeRunDir, type Obs, type RunFixture } from './make-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'invscope-ncurve-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const T0 = 1.7e12;
/** 210 items, every 21st a block. */
const TXS = 200;
const BLOCKS = 10;
/** Nodes 1..45: east hears 1..30, west 16..45. */
const NODES = 45;
const VANTAGES = { east: [1, 30], west: [16, 45] } as const;
type V = keyof typeof VANTAGES;

/** Whole microseconds, as the store keeps them. */
const us = (t: number): number => Math.round(t * 1000) / 1000;
const addr = (u: number): string => `127.0.2.${u}:8333`;

interface Item {
  hash: string;
  kind: 'tx' | 'block';
  /** Per node: when it announces (true time), or none. */
  at: Map<number, number>;
}

function network(): Item[] {
  const r = prng(11);
  const hex = (): string => Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join('');
  const items: Item[] = [];
  for (let i = 0; i < TXS + BLOCKS; i++) {
    const kind = i % 21 === 20 ? 'block' : 'tx'; // 10 blocks among the 210 items
    const origin = T0 + 5_000 + i * 150;
    const spread = kind === 'tx' ? 3_000 : 300;
    const at = new Map<number, number>();
    for (let u = 1; u <= NODES; u++) if (r() < 0.85) at.set(u, origin + spread * -Math.log(1 - r()));
    items.push({ hash: hex(), kind, at });
  }
  return items;
}

/** What a vantage hears: every announcing node it is connected to, 0-3 ms later, some twice. */
function vantage(name: V, items: readonly Item[], seed: number): { fixture: RunFixture; heard: Obs[] } {
  const r = prng(seed);
  const [lo, hi] = VANTAGES[name];
  const obs: Obs[] = [];
  for (const it of items) {
    for (const [u, t] of it.at) {
      if (u < lo || u > hi) continue;
      const o = { time: us(t + r() * 3), peer: u, address: addr(u), kind: 'inv' as const, inv_type: it.kind === 'tx' ? 'wtx' : 'block', item_kind: it.kind, hash: it.hash, shard: 0 };
      obs.push(o);
      if (r() < 0.1) obs.push({ ...o, time: us(o.time + 500) }); // a repeat: only the first counts
    }
  }
  obs.sort((a, b) => a.time - b.time);
  const peers = Array.from({ length: hi - lo + 1 }, (_, i) => peerRow({ peer: lo + i, address: addr(lo + i), connected_at: T0, ready_at: T0 }));
  const end = T0 + 120_000;
  const fixture = { run: { vantage: name, started: T0, stopped: end }, observations: obs, peers, items: itemsFrom(obs, () => peers.length), timeline: timelineFrom(obs, peers, T0, end) };
  return { fixture, heard: obs };
}

interface Exact {
  items: number;
  /** Per x = 1..100: the sorted times to x % over the items. */
  byPct: number[][];
  delays: number[];
}

/** The curves computed directly from the announcements, over the items `keep` selects. */
function exact(heard: Record<V, Obs[]>, kind: 'tx' | 'block', keep: (hash: string) => boolean): Exact {
  const first = new Map<string, number>();
  const node = new Map<string, Map<string, number>>();
  for (const obs of Object.values(heard)) {
    for (const o of obs) {
      if (o.item_kind !== kind || !keep(o.hash)) continue;
      first.set(o.hash, Math.min(first.get(o.hash) ?? Infinity, o.time));
      const m = node.get(o.hash) ?? node.set(o.hash, new Map()).get(o.hash)!;
      m.set(o.address, Math.min(m.get(o.address) ?? Infinity, o.time));
    }
  }
  const byPct: number[][] = Array.from({ length: 100 }, () => []);
  const delays: number[] = [];
  for (const [hash, m] of node) {
    const l = [...m.values()].sort((a, b) => a - b);
    const f = first.get(hash)!;
    for (let x = 1; x <= 100; x++) byPct[x - 1]!.push(l[Math.ceil((x * l.length) / 100) - 1]! - f);
    for (const t of l) if (t > f) delays.push(t - f);
  }
  for (const a of byPct) a.sort((a, b) => a - b);
  delays.sort((a, b) => a - b);
  return { items: node.size, byPct, delays };
}

const close = (a: number | null, b: number, what: string): void => assert.ok(a !== null && Math.abs(a - b) < 1e-3, `${what}: ${a} vs ${b}`);

function check(r: ReportResult, want: Exact, kind: 'tx' | 'block'): void {
  const c = r.network!.curves[kind];
  assert.is(c.items, want.items, `${kind} items`);
  assert.is(c.points.length, 100);
  for (const p of c.points) {
    const s = want.byPct[p.pct - 1]!;
    close(p.p10Ms, sortedQuantile(s, 0.1), `${kind} x=${p.pct} p10`);
    close(p.p50Ms, sortedQuantile(s, 0.5), `${kind} x=${p.pct} p50`);
    close(p.p90Ms, sortedQuantile(s, 0.9), `${kind} x=${p.pct} p90`);
  }
  assert.is(c.announcements, want.delays.length);
  assert.is(c.delayCdf.length, CDF_GRID.length);
  for (const p of c.delayCdf) close(p.ms, sortedQuantile(want.delays, p.p), `${kind} cdf p=${p.p}`);
  // The summary numbers are the curve's medians at 50 / 90 / 99 %.
  const t = r.network!.timeTo[kind];
  close(t.t50p50Ms, sortedQuantile(want.byPct[49]!, 0.5), `${kind} t50`);
  close(t.t99p50Ms, sortedQuantile(want.byPct[98]!, 0.5), `${kind} t99`);
}

const items = network();
const east = vantage('east', items, 1);
const west = vantage('west', items, 2);
const heard = { east: east.heard, west: west.heard };
test.before(async () => {
  await writeRunDir(join(root, 'east'), east.fixture);
  await writeRunDir(join(root, 'west'), west.fixture);
});

test('network-wide curves: every item, equal to the exact computation from the announcements', async () => {
  const r = await buildReport({ dirs: [join(root, 'east'), join(root, 'west')], html: false, settleMs: 0, cacheDir: null });
  const all = (): boolean => true;
  for (const kind of ['tx', 'block'] as const) {
    check(r, exact(heard, kind, all), kind);
    assert.is(r.network!.curves[kind].sampleEvery, 1);
    assert.ok(r.network!.curves[kind].points.every((p) => p.p50CiMs === null), 'no sampling, no CI');
  }
  assert.is(r.network!.curves.block.items, BLOCKS);
  assert.is(r.network!.curves.tx.items, TXS);
  // The curve rises with x, and both figures are drawn.
  const p50 = r.network!.curves.tx.points.map((p) => p.p50Ms!);
  assert.ok(p50.every((v, i) => i === 0 || v >= p50[i - 1]!));
  assert.ok(p50[99]! > 1_000, `tx t100 median ${p50[99]}`);
  const ids = r.figures.map((f) => f.id);
  assert.ok(ids.includes('network-propagation') && ids.includes('network-delay-cdf'), ids.join(', '));
  const j = (reportJson(r).network as { curves: { tx: { time_to_pct: unknown[]; delay_cdf: unknown[]; sample_every: number } } }).curves.tx;
  assert.is(j.time_to_pct.length, 100);
  assert.is(j.delay_cdf.length, CDF_GRID.length);
  assert.is(j.sample_every, 1);
});

test('network-wide curves on a sample of the transactions: exact over the sampled items, with the CI of each median', async () => {
  // About 5,900 announcements (repeats included) per vantage: a target of 1,600 rows samples one tx in 4.
  const r = await buildReport({ dirs: [join(root, 'east'), join(root, 'west')], html: false, settleMs: 0, cacheDir: null, nannTargetRows: 1_600 });
  const owned = (o: Obs[]): number => o.length;
  const every = Math.max(...[east.heard, west.heard].map((o) => 2 ** Math.ceil(Math.log2(owned(o) / 1_600))));
  assert.is(every, 4);
  const tx = r.network!.curves.tx;
  assert.is(tx.sampleEvery, every);
  const sampled = (hash: string): boolean => parseInt(hash.slice(0, 6), 16) % every === 0;
  const want = exact(heard, 'tx', sampled);
  assert.ok(want.items >= 30 && want.items < TXS / 2, `sampled ${want.items}`);
  check(r, want, 'tx');
  // Blocks are never sampled.
  check(r, exact(heard, 'block', () => true), 'block');
  assert.is(r.network!.curves.block.sampleEvery, 1);
  // The 95 % CI of each median: the order statistics at medianCiRanks(items).
  const [lo, hi] = medianCiRanks(want.items)!;
  for (const p of tx.points) {
    const s = want.byPct[p.pct - 1]!;
    assert.ok(p.p50CiMs !== null, `x=${p.pct}: a CI`);
    close(p.p50CiMs[0], s[lo - 1]!, `x=${p.pct} ci lo`);
    close(p.p50CiMs[1], s[hi - 1]!, `x=${p.pct} ci hi`);
    assert.ok(p.p50CiMs[0] <= p.p50Ms! && p.p50Ms! <= p.p50CiMs[1]);
  }
});

test.run();
