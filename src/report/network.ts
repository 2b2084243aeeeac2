/**
 * The network-wide view over several vantages: each item's earliest sighting anywhere (after
 * shifting each vantage's clock to the reference's with --align-clocks), how far behind it each
 * vantage's own first-seen is, and the time until x % of the nodes that announced the item (to
 * any vantage) had done so, from that network-wide first-seen. Main thread, cold path.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows, num, sqlString } from './load.js';
import { timedSql } from './aggregate.js';
import { alignmentShifts, clockOffsets, type ClockOffset } from './clocks.js';
import { networkCurves, type NetworkCurves } from './network-curve.js';

export interface NetworkVantage {
  vantage: string;
  /** Shift added to this vantage's times (ms): minus its estimated offset when aligned, else 0. */
  shiftMs: number;
  /** Timed items this vantage saw. */
  items: number;
  /** Fraction of those it saw first (earliest sighting anywhere, ties to each). */
  firstShare: number | null;
  /** Its first-seen minus the network-wide first-seen, over its items: median and 90th percentile. */
  lagP50Ms: number | null;
  lagP90Ms: number | null;
}

export interface NetworkTimes {
  /** Items in the curve (transactions: the sample). */
  items: number;
  /** One item in this many is in the sample (1: all). */
  sampleEvery: number;
  /** Median over items of the time until 50 / 90 / 99 % of the item's announcing nodes announced. */
  t50p50Ms: number | null;
  t90p50Ms: number | null;
  t99p50Ms: number | null;
}

export interface Network {
  reference: string;
  aligned: boolean;
  /** With --align-clocks: vantages without a block heard from a peer in common with the reference (not shifted). */
  unaligned: string[];
  offsets: ClockOffset[];
  vantages: NetworkVantage[];
  timeTo: { tx: NetworkTimes; block: NetworkTimes };
  /** The propagation curves from the network-wide first-seen (network-curve.ts). */
  curves: NetworkCurves;
}

const shiftSql = (shift: Map<string, number>, col = 'vantage'): string =>
  `CASE ${col} ${[...shift].map(([v, s]) => `WHEN ${sqlString(v)} THEN ${s}`).join(' ')} ELSE 0 END`;

/** The network-wide first-seen (table `nfs`) and its figures; `align` applies the clock offsets. */
export async function network(conn: DuckDBConnection, vantages: readonly string[], align: boolean): Promise<Network> {
  const offsets = await clockOffsets(conn, vantages);
  const shift = align ? alignmentShifts(vantages, offsets) : new Map(vantages.map((v) => [v, 0]));
  // The settled, timed items of every vantage (aggregate.ts fs) and their network-wide first-seen
  // (the earliest aligned first-seen at any vantage).
  await conn.run(`CREATE OR REPLACE TEMP TABLE nit AS
    SELECT a.vantage, a.hash, a.item_kind, a.first_seen + ${shiftSql(shift, 'a.vantage')} AS t FROM agg_fs a
    WHERE ${timedSql('a')} AND (a.vantage, a.hash) IN (SELECT (vantage, hash) FROM settled)`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE nfs AS SELECT hash, any_value(item_kind) AS item_kind, min(t) AS first_seen FROM nit GROUP BY hash`);
  const per = await rows(
    conn,
    `SELECT vantage, count(*) AS n, avg(CASE WHEN v.t <= f.first_seen THEN 1 ELSE 0 END) AS first,
            quantile_cont(v.t - f.first_seen, 0.5) AS p50, quantile_cont(v.t - f.first_seen, 0.9) AS p90
     FROM nit v JOIN nfs f USING (hash) GROUP BY vantage`,
  );
  const byV = new Map(per.map((r) => [String(r.vantage), r]));
  const out: NetworkVantage[] = vantages.map((v) => {
    const r = byV.get(v);
    const n = r === undefined ? 0 : num(r.n);
    const val = (x: unknown): number | null => (n === 0 || !Number.isFinite(num(x)) ? null : num(x));
    return { vantage: v, shiftMs: shift.get(v) ?? 0, items: n, firstShare: val(r?.first), lagP50Ms: val(r?.p50), lagP90Ms: val(r?.p90) };
  });
  const curves = await networkCurves(conn, shiftSql(shift, 'a.vantage'));
  const kind = (k: 'tx' | 'block'): NetworkTimes => {
    const c = curves[k];
    const at = (pct: number): number | null => c.points.find((p) => p.pct === pct)?.p50Ms ?? null;
    return { items: c.items, sampleEvery: c.sampleEvery, t50p50Ms: at(50), t90p50Ms: at(90), t99p50Ms: at(99) };
  };
  const unaligned = align ? vantages.slice(1).filter((v) => offsets.find((o) => o.a === vantages[0] && o.b === v)?.offsetMs == null) : [];
  return { reference: vantages[0]!, aligned: align, unaligned, offsets, vantages: out, timeTo: { tx: kind('tx'), block: kind('block') }, curves };
}

/** The network section as text lines (summary, report.html). */
export function formatNetwork(n: Network, fmt: (ms: number | null) => string): string[] {
  const lines: string[] = [];
  for (const o of n.offsets) {
    const ci = o.ciMs === null ? 'CI n/a' : `95 % CI ${fmt(o.ciMs[0])} .. ${fmt(o.ciMs[1])}`;
    lines.push(`clock ${o.b} - ${o.a}: ${fmt(o.offsetMs)} (${ci}, ${o.samples} peer-block pairs)`);
  }
  if (n.offsets.length === 0) lines.push('clock offsets: one vantage, none to estimate');
  lines.push(`network-wide first-seen: earliest sighting at any vantage${n.aligned ? `, clocks aligned to ${n.reference}` : ' (clocks not aligned; --align-clocks)'}`);
  if (n.unaligned.length > 0) lines.push(`  not aligned (no block heard from a peer in common with ${n.reference}): ${n.unaligned.join(', ')}`);
  for (const v of n.vantages) {
    const share = v.firstShare === null ? '-' : `${(v.firstShare * 100).toFixed(1)} %`;
    lines.push(`  ${v.vantage}: first for ${share} of ${v.items} items; behind the network p50 ${fmt(v.lagP50Ms)}, p90 ${fmt(v.lagP90Ms)}${v.shiftMs !== 0 ? `; shifted ${fmt(v.shiftMs)}` : ''}`);
  }
  for (const k of ['block', 'tx'] as const) {
    const t = n.timeTo[k];
    const sample = t.sampleEvery > 1 ? ` (a sample of 1 in ${t.sampleEvery})` : '';
    const ci = n.curves[k].points.find((p) => p.pct === 50)?.p50CiMs;
    const ciText = ci == null ? '' : `; 95 % CI of the first ${fmt(ci[0])} .. ${fmt(ci[1])}`;
    lines.push(`  ${k}: ${t.items} items${sample}, median time from network first-seen to 50 / 90 / 99 % of announcing nodes ${fmt(t.t50p50Ms)} / ${fmt(t.t90p50Ms)} / ${fmt(t.t99p50Ms)}${ciText}`);
  }
  return lines;
}
