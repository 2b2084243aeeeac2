/**
 * The summary of one or more runs: items seen per kind, peers, the percentiles of each item's
 * time to 50 / 90 / 99 % of peers (blocks and transactions apart), drops and misbehaving peers,
 * per vantage and over all vantages, as numbers (`--json`) and as a text table. Percentiles are
 * DuckDB's quantile_cont (linear interpolation between order statistics, numpy's default).
 * Main thread, cold path.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { allDirs, num, rows, type LoadedRun, type VantageDir } from './load.js';
import { timedSql } from './aggregate.js';
import { IN_FLIGHT_MARGIN_MS, type Accuracy } from './accuracy.js';

const IN_FLIGHT_S = IN_FLIGHT_MARGIN_MS / 1000;

export const PERCENTILES = [0.1, 0.5, 0.9, 0.99] as const;

export interface Percentiles {
  /** Items that reached the fraction (the others never did while observed). */
  n: number;
  p10: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface KindTimes {
  /**
   * Items of this kind in the items table first seen inside the window (after the warm-up, before
   * the settling time at the end; load.ts): the percentiles are over these.
   */
  items: number;
  /** Time from first-seen until 50 / 90 / 99 % of the peers connected at first-seen announced it, ms. */
  t50: Percentiles;
  t90: Percentiles;
  t99: Percentiles;
}

export interface VantageSummary {
  /** The vantage name, or 'all' for the pooled row. */
  vantage: string;
  /** Its DIRs (several for a restarted or split run); for 'all', every DIR once. */
  dirs: string[];
  /**
   * Seconds from run.json's started to stopped; for 'all', from the earliest start to the latest
   * stop (the wall-clock span covered: durations of different vantages are never summed); null if
   * unknown.
   */
  durationS: number | null;
  /** First-seen window of the items whose times count (epoch ms; null: open; for 'all' null). */
  window: { from: number | null; to: number | null; settleS: number } | null;
  observations: number;
  /** Observations that announce an item (inv, headers, cmpctblock; not notfound). */
  announcements: number;
  /**
   * Distinct items announced, per kind; `txidOnly` counts the tx hashes outside the vantage's main
   * namespace (txids of segwit transactions announced by pre-BIP339 peers; load.ts), not in `tx`.
   */
  items: { tx: number; block: number; txidOnly: number };
  peers: {
    /** Connections recorded (rows of the peers table). */
    connections: number;
    /** Distinct host:port among them. */
    addresses: number;
    /** Connections that completed the handshake. */
    ready: number;
    /** Connections (sessions) with at least one counted fault. */
    misbehaving: number;
    /** Distinct host:port among those: the misbehaving nodes. */
    misbehavingAddresses: number;
  };
  timeTo: { tx: KindTimes; block: KindTimes };
  /** Ring drops and consumer drops from run.json's counters (else the timeline's drop column). */
  drops: { ring: number; consumer: number };
  /** Fault counts summed over peers (the peers table's misbehaviour JSON). */
  faults: Record<string, number>;
  /** Connections per close reason. */
  disconnects: Record<string, number>;
}

export interface Summary {
  vantages: VantageSummary[];
  all: VantageSummary;
  warnings: string[];
}

/** The key of the pooled row: a vantage name cannot hold NUL (it comes from a path or JSON string checked here). */
const ALL = '\u0000all';

function pct(list: unknown, n: unknown): Percentiles {
  const a = Array.isArray(list) ? list.map(num) : [];
  const v = (i: number): number | null => (a.length > i && Number.isFinite(a[i]) ? a[i]! : null);
  return { n: num(n) || 0, p10: v(0), p50: v(1), p90: v(2), p99: v(3) };
}

function counterOf(run: Record<string, unknown> | null, key: string): number | null {
  const c = run?.counters as Record<string, unknown> | undefined;
  const v = c?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Per vantage (key: its name) and pooled (key: ALL, which no name can equal) rows of a GROUPING SETS query. */
async function grouped(conn: DuckDBConnection, select: string, from: string): Promise<Map<string, Record<string, unknown>>> {
  const r = await rows(conn, `SELECT vantage, grouping(vantage) AS pooled, ${select} FROM ${from} GROUP BY GROUPING SETS ((vantage), ())`);
  return new Map(r.map((row) => [num(row.pooled) === 1 ? ALL : String(row.vantage), row]));
}

function parseFaults(json: unknown): Record<string, number> | null {
  if (typeof json !== 'string' || json === '') return {};
  try {
    const o = JSON.parse(json) as unknown;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return null;
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) if (typeof v === 'number' && v > 0) out[k] = v;
    return out;
  } catch {
    return null;
  }
}

type Grouped = Map<string, Record<string, unknown>>;

/** The per-vantage and pooled rows the summary is filled from (one query each). */
interface SummaryRows {
  obs: Grouped;
  seen: Grouped;
  items: Grouped;
  peers: Grouped;
  timelineDrops: Grouped;
  windows: Map<string, Record<string, unknown>>;
  reasons: Record<string, unknown>[];
  faulty: Record<string, unknown>[];
}

async function summaryRows(conn: DuckDBConnection): Promise<SummaryRows> {
  const q = `[${PERCENTILES.join(', ')}]`;
  const kindCols = (k: string): string =>
    `count(*) FILTER (item_kind = '${k}') AS ${k}_items, ` +
    ['t50', 't90', 't99']
      .map((t) => `quantile_cont(${t}, ${q}) FILTER (item_kind = '${k}' AND ${t} IS NOT NULL) AS ${k}_${t}, count(${t}) FILTER (item_kind = '${k}') AS ${k}_${t}_n`)
      .join(', ');
  return {
    obs: await grouped(conn, 'coalesce(sum(observations), 0) AS observations, coalesce(sum(announcements), 0) AS announcements', 'agg_counts'),
    seen: await grouped(
      conn,
      `count(DISTINCT hash) FILTER (item_kind = 'tx' AND timed) AS tx, count(DISTINCT hash) FILTER (item_kind = 'tx' AND NOT timed) AS txid_only,
       count(DISTINCT hash) FILTER (item_kind = 'block') AS block`,
      `(SELECT a.*, ${timedSql('a')} AS timed FROM agg_fs a)`,
    ),
    items: await grouped(conn, `${kindCols('tx')}, ${kindCols('block')}`, 'settled'),
    peers: await grouped(conn, 'count(*) AS connections, count(DISTINCT address) AS addresses, count(ready_at) AS ready', 'peers'),
    timelineDrops: await grouped(conn, 'coalesce(sum(drops), 0) AS drops', 'timeline'),
    windows: new Map((await rows(conn, 'SELECT vantage, lo, hi, settle FROM win')).map((w) => [String(w.vantage), w])),
    reasons: await rows(conn, `SELECT vantage, coalesce(close_reason, '(open)') AS reason, count(*) AS n FROM peers GROUP BY ALL`),
    faulty: await rows(conn, `SELECT vantage, address, misbehaviour FROM peers WHERE misbehaviour IS NOT NULL AND misbehaviour NOT IN ('', '{}')`),
  };
}

function kindTimes(row: Record<string, unknown> | undefined, k: string): KindTimes {
  return {
    items: num(row?.[`${k}_items`]) || 0,
    t50: pct(row?.[`${k}_t50`], row?.[`${k}_t50_n`]),
    t90: pct(row?.[`${k}_t90`], row?.[`${k}_t90_n`]),
    t99: pct(row?.[`${k}_t99`], row?.[`${k}_t99_n`]),
  };
}

function emptyVantage(vantage: string, dirs: string[]): VantageSummary {
  return {
    vantage,
    dirs,
    durationS: null,
    window: null,
    observations: 0,
    announcements: 0,
    items: { tx: 0, block: 0, txidOnly: 0 },
    peers: { connections: 0, addresses: 0, ready: 0, misbehaving: 0, misbehavingAddresses: 0 },
    timeTo: { tx: kindTimes(undefined, 'tx'), block: kindTimes(undefined, 'block') },
    drops: { ring: 0, consumer: 0 },
    faults: {},
    disconnects: {},
  };
}

/** The counts, items and peers of one vantage (or of all: key ALL). */
function fill(s: VantageSummary, key: string, r: SummaryRows): void {
  const o = r.obs.get(key);
  s.observations = num(o?.observations) || 0;
  s.announcements = num(o?.announcements) || 0;
  const i = r.seen.get(key);
  s.items = { tx: num(i?.tx) || 0, block: num(i?.block) || 0, txidOnly: num(i?.txid_only) || 0 };
  const it = r.items.get(key);
  s.timeTo = { tx: kindTimes(it, 'tx'), block: kindTimes(it, 'block') };
  const p = r.peers.get(key);
  s.peers.connections = num(p?.connections) || 0;
  s.peers.addresses = num(p?.addresses) || 0;
  s.peers.ready = num(p?.ready) || 0;
}

function vantageSummary(v: VantageDir, r: SummaryRows): VantageSummary {
  const s = emptyVantage(v.vantage, v.dirs);
  fill(s, v.vantage, r);
  const started = v.run?.started;
  const stopped = v.run?.stopped;
  s.durationS = typeof started === 'number' && typeof stopped === 'number' ? (stopped - started) / 1000 : null;
  const w = r.windows.get(v.vantage);
  const fin = (x: unknown): number | null => (Number.isFinite(num(x)) ? num(x) : null);
  if (w) s.window = { from: fin(w.lo), to: fin(w.hi), settleS: num(w.settle) / 1000 };
  s.drops.ring = counterOf(v.run, 'drops') ?? (num(r.timelineDrops.get(v.vantage)?.drops) || 0);
  s.drops.consumer = counterOf(v.run, 'consumerDrops') ?? 0;
  return s;
}

/** Close reasons and fault counts per vantage and pooled; returns the peers rows whose misbehaviour is not a JSON object of counts. */
function addPeerOutcomes(byName: Map<string, VantageSummary>, all: VantageSummary, r: SummaryRows): number {
  for (const x of r.reasons) {
    const s = byName.get(String(x.vantage))!;
    const reason = String(x.reason);
    s.disconnects[reason] = (s.disconnects[reason] ?? 0) + num(x.n);
    all.disconnects[reason] = (all.disconnects[reason] ?? 0) + num(x.n);
  }
  let unparsed = 0;
  const badAddresses = new Map<string, Set<string>>([[ALL, new Set()]]);
  for (const x of r.faulty) {
    const f = parseFaults(x.misbehaviour);
    if (f === null) {
      unparsed++;
      continue;
    }
    if (Object.keys(f).length === 0) continue;
    const s = byName.get(String(x.vantage))!;
    s.peers.misbehaving++;
    all.peers.misbehaving++;
    (badAddresses.get(s.vantage) ?? badAddresses.set(s.vantage, new Set()).get(s.vantage)!).add(String(x.address));
    badAddresses.get(ALL)!.add(String(x.address));
    for (const [k, n] of Object.entries(f)) {
      s.faults[k] = (s.faults[k] ?? 0) + n;
      all.faults[k] = (all.faults[k] ?? 0) + n;
    }
  }
  for (const s of byName.values()) s.peers.misbehavingAddresses = badAddresses.get(s.vantage)?.size ?? 0;
  all.peers.misbehavingAddresses = badAddresses.get(ALL)!.size;
  return unparsed;
}

export async function summarize(run: LoadedRun): Promise<Summary> {
  const { conn, vantages } = run;
  const warnings = [...run.warnings];
  const r = await summaryRows(conn);
  const per = vantages.map((v) => vantageSummary(v, r));
  const all = emptyVantage('all', allDirs(vantages));
  fill(all, ALL, r);
  const starts = vantages.map((v) => v.run?.started).filter((x): x is number => typeof x === 'number');
  const stops = vantages.map((v) => v.run?.stopped).filter((x): x is number => typeof x === 'number');
  all.durationS = starts.length === vantages.length && stops.length === vantages.length ? (Math.max(...stops) - Math.min(...starts)) / 1000 : null;
  for (const s of per) {
    all.drops.ring += s.drops.ring;
    all.drops.consumer += s.drops.consumer;
  }
  const unparsed = addPeerOutcomes(new Map(per.map((s) => [s.vantage, s])), all, r);
  if (unparsed > 0) warnings.push(`${unparsed} peers rows have a misbehaviour value that is not a JSON object of counts; not counted`);
  return { vantages: per, all, warnings };
}

/** Milliseconds for a table cell: 0.35 ms, 412 ms, 3.21 s; '-' when unknown. */
export function fmtMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (Math.abs(ms) < 10) return `${ms.toFixed(2)} ms`;
  if (Math.abs(ms) < 1000) return `${ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

function fmtCounts(o: Record<string, number>): string {
  const e = Object.entries(o).sort((a, b) => b[1] - a[1]);
  return e.length === 0 ? '-' : e.map(([k, n]) => `${k} ${n}`).join(', ');
}

/** The first-seen window as UTC clock times, and the settling time. */
function windowText(v: VantageSummary): string {
  if (v.window === null) return '-';
  const s = (x: number | null): string => (x === null ? '..' : new Date(x).toISOString().slice(11, 19));
  return `${s(v.window.from)}-${s(v.window.to)} (settle ${v.window.settleS.toFixed(1)} s)`;
}

/** The summary as a table: a header (one column per vantage, plus 'all' when there are several) and labelled rows. */
export function summaryTable(s: Summary): { header: string[]; rows: string[][]; notes: string[] } {
  const cols = s.vantages.length > 1 ? [...s.vantages, s.all] : s.vantages;
  const lines: [string, (v: VantageSummary) => string][] = [
    ['duration', (v) => (v.durationS === null ? '-' : `${v.durationS.toFixed(1)} s`)],
    ['observations', (v) => `${v.observations}`],
    ['announcements', (v) => `${v.announcements}`],
    ['items seen: tx', (v) => `${v.items.tx}`],
    ['items seen: block', (v) => `${v.items.block}`],
    ['tx seen by txid only', (v) => `${v.items.txidOnly}`],
    ['items timed: tx / block', (v) => `${v.timeTo.tx.items} / ${v.timeTo.block.items}`],
    ['timed: first seen (UTC)', (v) => windowText(v)],
    ['peers: connections', (v) => `${v.peers.connections}`],
    ['peers: addresses', (v) => `${v.peers.addresses}`],
    ['peers: handshaken', (v) => `${v.peers.ready}`],
    ['misbehaving: nodes / sessions', (v) => `${v.peers.misbehavingAddresses} / ${v.peers.misbehaving}`],
  ];
  for (const k of ['block', 'tx'] as const) {
    for (const t of ['t50', 't90', 't99'] as const) {
      const label = `${k} to ${t.slice(1)} %`;
      lines.push([`${label}: items reaching`, (v) => `${v.timeTo[k][t].n} of ${v.timeTo[k].items}`]);
      lines.push([`${label}: p10 / p50`, (v) => `${fmtMs(v.timeTo[k][t].p10)} / ${fmtMs(v.timeTo[k][t].p50)}`]);
      lines.push([`${label}: p90 / p99`, (v) => `${fmtMs(v.timeTo[k][t].p90)} / ${fmtMs(v.timeTo[k][t].p99)}`]);
    }
  }
  lines.push(['drops: ring / consumer', (v) => `${v.drops.ring} / ${v.drops.consumer}`]);
  const notes: string[] = [];
  for (const v of cols) {
    notes.push(`${v.vantage}: faults: ${fmtCounts(v.faults)}`);
    notes.push(`${v.vantage}: disconnects: ${fmtCounts(v.disconnects)}`);
  }
  return { header: ['', ...cols.map((c) => c.vantage)], rows: lines.map(([label, f]) => [label, ...cols.map(f)]), notes };
}

/** The summary as an aligned text table, then the faults and disconnects per column and the DIRs of a merged vantage. */
export function formatSummary(s: Summary, acc: readonly Accuracy[] | null = null): string {
  const { header, rows: body, notes } = summaryTable(s);
  const table = [header, ...body];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const out = table.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  out.push(...notes);
  for (const v of s.vantages) if (v.dirs.length > 1) out.push(`${v.vantage}: one vantage from ${v.dirs.length} directories: ${v.dirs.join(', ')}`);
  return out.join('\n') + '\n' + (acc === null ? '' : `accuracy against the ground truth:\n${formatAccuracy(acc)}`);
}

/** The accuracy lines: one per vantage with a ground truth. */
export function formatAccuracy(acc: readonly Accuracy[]): string {
  return (
    acc
      .map(
        (a) =>
          `${a.vantage}: measured vs true send time: error p50 ${fmtMs(a.errorMs.p50)}, p99 ${fmtMs(a.errorMs.p99)}, max ${fmtMs(a.errorMs.max)} (min ${fmtMs(a.errorMs.min)}) ` +
          `over ${a.matched} matched announcements; of the truth's ${a.truthAnnouncements} sent up to ${IN_FLIGHT_S} s before the stop request ` +
          `${a.truthAnnouncements - a.missing - a.missingMisbehaving} measured, ${a.missing} missing (+${a.missingMisbehaving} from misbehaving nodes); measured but not in the truth ${a.unmatched}`,
      )
      .join('\n') + '\n'
  );
}
