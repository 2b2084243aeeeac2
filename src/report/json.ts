/**
 * `invscope report --json`: the summary and the accuracy as one JSON object for scripts. Every
 * value carries its unit in its name (`_ms`, `_s`, ISO times) and is rounded to what it can
 * resolve (durations in ms to the microsecond, seconds to the millisecond), so no
 * `92.90449218750001` reaches a script. Main thread, cold path.
 */
import type { Summary, VantageSummary, Percentiles, KindTimes } from './summary.js';
import type { Accuracy } from './accuracy.js';
import type { Network, NetworkTimes } from './network.js';
import type { NetworkCurve } from './network-curve.js';

/** Rounded to `digits` decimals; null stays null, a non-finite number becomes null. */
export function round(x: number | null, digits: number): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const ms = (x: number | null): number | null => round(x, 3);
const iso = (t: number | null): string | null => (t === null || !Number.isFinite(t) ? null : new Date(t).toISOString());

function percentilesJson(p: Percentiles): Record<string, number | null> {
  return { items_reaching: p.n, p10_ms: ms(p.p10), p50_ms: ms(p.p50), p90_ms: ms(p.p90), p99_ms: ms(p.p99) };
}

function kindJson(k: KindTimes): Record<string, unknown> {
  return { items_timed: k.items, to_50_pct: percentilesJson(k.t50), to_90_pct: percentilesJson(k.t90), to_99_pct: percentilesJson(k.t99) };
}

export function vantageJson(v: VantageSummary): Record<string, unknown> {
  return {
    vantage: v.vantage,
    dirs: v.dirs,
    duration_s: round(v.durationS, 3),
    timed_window: v.window === null ? null : { first_seen_from: iso(v.window.from), first_seen_to: iso(v.window.to), settle_s: round(v.window.settleS, 3) },
    observations: v.observations,
    announcements: v.announcements,
    items_seen: { tx: v.items.tx, block: v.items.block, tx_by_txid_only: v.items.txidOnly },
    peers: {
      connections: v.peers.connections,
      addresses: v.peers.addresses,
      handshaken: v.peers.ready,
      misbehaving_sessions: v.peers.misbehaving,
      misbehaving_nodes: v.peers.misbehavingAddresses,
    },
    time_to: { tx: kindJson(v.timeTo.tx), block: kindJson(v.timeTo.block) },
    drops: { ring: v.drops.ring, consumer: v.drops.consumer },
    faults: v.faults,
    disconnects: v.disconnects,
  };
}

export function accuracyJson(a: Accuracy): Record<string, unknown> {
  return {
    vantage: a.vantage,
    truth: a.truth,
    truth_announcements: a.truthAnnouncements,
    matched: a.matched,
    missing: a.missing,
    missing_misbehaving: a.missingMisbehaving,
    unmatched: a.unmatched,
    error_ms: { min: ms(a.errorMs.min), p50: ms(a.errorMs.p50), p99: ms(a.errorMs.p99), max: ms(a.errorMs.max) },
  };
}

function timesJson(t: NetworkTimes): Record<string, unknown> {
  return { items: t.items, sample_every: t.sampleEvery, median_to_50_pct_ms: ms(t.t50p50Ms), median_to_90_pct_ms: ms(t.t90p50Ms), median_to_99_pct_ms: ms(t.t99p50Ms) };
}

function curveJson(c: NetworkCurve): Record<string, unknown> {
  return {
    items: c.items,
    sample_every: c.sampleEvery,
    announcements: c.announcements,
    time_to_pct: c.points.map((p) => ({ pct: p.pct, p10_ms: ms(p.p10Ms), p50_ms: ms(p.p50Ms), p90_ms: ms(p.p90Ms), p50_ci95_ms: p.p50CiMs === null ? null : [ms(p.p50CiMs[0]), ms(p.p50CiMs[1])] })),
    delay_cdf: c.delayCdf.map((p) => ({ p: p.p, ms: ms(p.ms) })),
  };
}

export function networkJson(n: Network): Record<string, unknown> {
  return {
    reference: n.reference,
    clocks_aligned: n.aligned,
    not_aligned: n.unaligned,
    clock_offsets: n.offsets.map((o) => ({ a: o.a, b: o.b, samples: o.samples, offset_ms: ms(o.offsetMs), ci95_ms: o.ciMs === null ? null : [ms(o.ciMs[0]), ms(o.ciMs[1])] })),
    vantages: n.vantages.map((v) => ({ vantage: v.vantage, shift_ms: ms(v.shiftMs), items: v.items, first_pct: round(v.firstShare === null ? null : v.firstShare * 100, 3), lag_p50_ms: ms(v.lagP50Ms), lag_p90_ms: ms(v.lagP90Ms) })),
    time_to: { tx: timesJson(n.timeTo.tx), block: timesJson(n.timeTo.block) },
    curves: { tx: curveJson(n.curves.tx), block: curveJson(n.curves.block) },
  };
}

export function reportJson(r: {
  empty: boolean;
  summary: Summary;
  network?: Network | null;
  accuracy: Accuracy[] | null;
  files: { html: string | null; htmlBytes: number; svg: string[]; csv?: string[] };
  aggregates?: { chunks: number; computed: number; rows: number; seconds: number };
  phases?: Record<string, number>;
}): Record<string, unknown> {
  return {
    empty: r.empty,
    summary: { vantages: r.summary.vantages.map(vantageJson), all: vantageJson(r.summary.all), warnings: r.summary.warnings },
    network: r.network == null ? null : networkJson(r.network),
    accuracy: r.accuracy === null ? null : r.accuracy.map(accuracyJson),
    files: { html: r.files.html, html_bytes: r.files.htmlBytes, svg: r.files.svg, csv: r.files.csv ?? [] },
    ...(r.aggregates === undefined ? {} : { aggregates: { chunks: r.aggregates.chunks, computed: r.aggregates.computed, first_announcements: r.aggregates.rows, seconds: round(r.aggregates.seconds, 3) } }),
    ...(r.phases === undefined ? {} : { phases_s: Object.fromEntries(Object.entries(r.phases).map(([k, v]) => [k, round(v, 3)])) }),
  };
}
