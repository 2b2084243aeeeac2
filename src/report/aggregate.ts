/**
 * The report's aggregates, computed once per chunk (chunks.ts) and kept in a cache directory, so
 * that a report over a day reads 24 small sets of aggregates per vantage instead of billions of
 * announcement rows, and a rerun after one more hour computes about that hour. Per chunk:
 * `fs` (its items: first-seen, namespace, announcers, ready peers at first-seen), `delay` (the
 * announcement-delay histogram), `peer` (a delay histogram per peer), `pct` (per x % the
 * histogram of the items' time until x % of their peers announced), `nann` (each node's first
 * announcement of every block and of a sample of the transactions) and `counts`. Histograms
 * are exact for a small chunk (EXACT_MAX_ROWS, EXACT_MAX_ITEMS) and log-binned above (hist.ts). The merged views
 * are `agg_fs`, `agg_delay`, `agg_peer`, `agg_pct`, `agg_nann`, `agg_counts`.
 * Main thread, cold path; the work is DuckDB's.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DuckDBConnection } from '@duckdb/node-api';
import { partsSelect, rows, num, sqlString, ANNOUNCING_KINDS, DEFAULT_SETTLE_MAX_MS, type LoadOptions, type TimeRange, type VantageDir } from './load.js';
import { planChunks, chunkKey, type Chunk } from './chunks.js';
import { histValueSql, PEER_BIN_RATIO } from './hist.js';

/** Bumped whenever what a chunk's aggregates hold changes: older cache entries are recomputed. */
const AGG_VERSION = 4;
/** A chunk with at most this many (item, peer) announcements and EXACT_MAX_ITEMS items keeps exact delays. */
export const EXACT_MAX_ROWS = 1_000_000;
/**
 * Exact per-item values cost a row per item and x % in the merged `pct` (and a row per peer and
 * item in `peer`): above this many items a chunk is binned, however few its announcements.
 */
export const EXACT_MAX_ITEMS = 2_000;
/** A chunk's items are cut into slices of about this many announcements (bounded memory). */
export const SLICE_ROWS = 24_000_000;
/**
 * `nann` keeps every block and about this many (transaction, node) rows per chunk: a day of 3
 * vantages is then ~7 M rows (at 10,000 peers about 25 sampled transactions an hour a vantage).
 */
export const NANN_TARGET_ROWS = 100_000;

/**
 * SQL: whether the item of alias `a` (columns item_kind, hash) is in the `nann` sample of one in
 * `every` transactions: its hash's first 24 bits divisible by `every` (a power of two, so the
 * sample of a larger `every` is inside that of a smaller one; hashes are uniform, so the sample
 * is independent of the item's timing). Blocks are always in.
 */
export function nannSampledSql(a: string, every: number): string {
  return every <= 1 ? 'true' : `(${a}.item_kind <> 'tx' OR coalesce(TRY_CAST('0x' || substr(${a}.hash, 1, 6) AS INTEGER) % ${every} = 0, false))`;
}
/** Announcements later than this after first-seen are late (counted, not in the delays) unless run.json says otherwise. */
export const DEFAULT_ITEM_WINDOW_MS = 120_000;

export const AGG_TABLES = ['fs', 'delay', 'peer', 'pct', 'nann', 'counts'] as const;
export type AggTable = (typeof AGG_TABLES)[number];

export interface AggregateOptions extends LoadOptions {
  /** Where the per-chunk aggregates are kept between runs. */
  cacheDir: string;
  /** Chunks above this many announcements are binned. @default EXACT_MAX_ROWS */
  exactMaxRows?: number | undefined;
  /** A chunk's items are computed in slices of about this many announcements. @default SLICE_ROWS */
  sliceRows?: number | undefined;
}

export interface AggregateStats {
  chunks: number;
  /** Chunks computed now (the rest came from the cache). */
  computed: number;
  /** Announcement rows (after the first per item and peer) in the computed chunks. */
  rows: number;
  /** Wall time of bringing the aggregates up to date (the rest of a report reads them). */
  seconds: number;
}

const kinds = (): string => ANNOUNCING_KINDS.map(sqlString).join(', ');
const lit = (x: number): string => (Number.isFinite(x) ? String(x) : x > 0 ? "'infinity'::DOUBLE" : "'-infinity'::DOUBLE");

/** The item window of a vantage: run.json's settings.itemWindowMs, else the default. */
function itemWindow(v: VantageDir): number {
  const s = (v.run?.settings ?? {}) as Record<string, unknown>;
  return typeof s.itemWindowMs === 'number' && s.itemWindowMs > 0 ? s.itemWindowMs : DEFAULT_ITEM_WINDOW_MS;
}

/** Everything a chunk's aggregates depend on besides its files. */
function chunkSettings(c: Chunk, settle: TimeRange, o: AggregateOptions): Record<string, unknown> {
  const clip = (x: number, lo: number, hi: number): number | string => (Number.isFinite(x) ? Math.min(Math.max(x, lo), hi) : String(x));
  return {
    version: AGG_VERSION,
    vantage: c.vantage.vantage,
    label: c.label,
    window: itemWindow(c.vantage),
    exactMax: [o.exactMaxRows ?? EXACT_MAX_ROWS, EXACT_MAX_ITEMS],
    nann: o.nannTargetRows ?? NANN_TARGET_ROWS,
    settle: [clip(settle.lo, c.items.lo, c.items.hi), clip(settle.hi, c.items.lo, c.items.hi)],
    from: o.fromMs ?? null,
    to: o.toMs ?? null,
  };
}

/** Items of a chunk: counts that decide how it is computed. */
interface ChunkItems {
  /** Observations (any kind) and announcements received inside the chunk's hour. */
  inside: number;
  insideAnn: number;
  /** Announcements of the chunk's own items in its read range (repeats included). */
  ownedRows: number;
  /** The chunk's own items. */
  items: number;
}

/** The chunk's items: c_h (every hash in its read range) and c_it (those first seen in its hour, with ids). */
async function chunkItems(conn: DuckDBConnection, c: Chunk, src: string): Promise<ChunkItems> {
  const { lo, hi } = c.items;
  const own = [Number.isFinite(lo) ? `first_seen >= ${lo}` : null, Number.isFinite(hi) ? `first_seen < ${hi}` : null].filter((x) => x !== null);
  // Observations are counted by the chunk of their hour (a tail chunk counts none).
  const inside = [Number.isFinite(c.hour.lo) ? `time >= ${c.hour.lo}` : null, Number.isFinite(c.hour.hi) ? `time < ${c.hour.hi}` : null].filter((x) => x !== null);
  const isAnn = `kind IN (${kinds()})`;
  const inChunk = inside.length > 0 ? inside.join(' AND ') : 'true';
  await conn.run(`CREATE OR REPLACE TEMP TABLE c_h AS
    SELECT hash, any_value(item_kind) FILTER (${isAnn}) AS item_kind, min(time) FILTER (${isAnn}) AS first_seen, bool_or(inv_type = 'wtx') FILTER (${isAnn}) AS wtx,
           count(*) FILTER (${inChunk}) AS inside, count(*) FILTER (${inChunk} AND ${isAnn}) AS inside_ann, count(*) FILTER (${isAnn}) AS ann
    FROM (${src}) GROUP BY hash`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE c_it AS
    SELECT CAST(row_number() OVER () AS INTEGER) AS id, hash, item_kind, first_seen, wtx, ann FROM c_h
    WHERE first_seen IS NOT NULL${own.length > 0 ? ` AND ${own.join(' AND ')}` : ''}`);
  const [r] = await rows(conn, 'SELECT (SELECT sum(inside) FROM c_h) AS inside, (SELECT sum(inside_ann) FROM c_h) AS inside_ann, (SELECT sum(ann) FROM c_it) AS owned, (SELECT count(*) FROM c_it) AS items');
  return { inside: num(r!.inside) || 0, insideAnn: num(r!.inside_ann) || 0, ownedRows: num(r!.owned) || 0, items: num(r!.items) };
}

/** How a chunk is computed: exact or binned values, item slices, the nann sampling. */
interface ChunkPlan {
  exact: boolean;
  slices: number;
  every: number;
  windowMs: number;
  settle: TimeRange;
}

/** One slice of the chunk's items: every peer's first announcement (c_first), added into the acc_ tables. */
async function accumulate(conn: DuckDBConnection, src: string, p: ChunkPlan, slice: number): Promise<void> {
  const val = histValueSql('d', p.exact);
  const coarse = histValueSql('d', p.exact, PEER_BIN_RATIO);
  const items = p.slices === 1 ? 'c_it' : `(SELECT * FROM c_it WHERE id % ${p.slices} = ${slice})`;
  // value (and pvalue, the per-peer histograms' coarser one) is null after the item window (late).
  await conn.run(`CREATE OR REPLACE TEMP TABLE c_first AS
    SELECT id, peer, CASE WHEN d <= ${p.windowMs} THEN ${val} END AS value, CASE WHEN d <= ${p.windowMs} THEN ${coarse} END AS pvalue FROM (
      SELECT i.id, s.peer, min(s.time) - any_value(i.first_seen) AS d
      FROM (${src}) s JOIN ${items} i ON i.hash = s.hash WHERE s.kind IN (${kinds()}) GROUP BY i.id, s.peer)`);
  await conn.run(`INSERT INTO acc_fs SELECT id, count(value), count(*) - count(value) FROM c_first GROUP BY id`);
  await conn.run(`INSERT INTO acc_delay SELECT i.item_kind, i.wtx, f.value, count(*) FROM c_first f JOIN c_it i USING (id) WHERE f.value > 0 GROUP BY ALL`);
  await conn.run(`INSERT INTO acc_peer SELECT f.peer, i.item_kind, i.wtx, f.pvalue, count(*) FROM c_first f JOIN c_it i USING (id) WHERE f.pvalue IS NOT NULL GROUP BY ALL`);
  await conn.run(`INSERT INTO acc_pct
    WITH it AS (SELECT i.id, i.item_kind, i.wtx, CAST(i.nr AS BIGINT) AS nr FROM c_it i
                WHERE i.nr > 0 AND i.first_seen >= ${lit(p.settle.lo)} AND i.first_seen <= ${lit(p.settle.hi)}),
         v AS (SELECT f.id, f.value, count(*) AS n FROM c_first f SEMI JOIN it USING (id) WHERE f.value IS NOT NULL GROUP BY ALL),
         c AS (SELECT id, value, n, CAST(sum(n) OVER (PARTITION BY id ORDER BY value ROWS UNBOUNDED PRECEDING) AS BIGINT) AS hi FROM v),
         e AS (SELECT it.item_kind, it.wtx, c.value, unnest(range((100 * (c.hi - c.n)) // it.nr + 1, least(100, (100 * c.hi) // it.nr) + 1)) AS pct FROM c JOIN it USING (id))
    SELECT item_kind, wtx, CAST(pct AS INTEGER), value, count(*) FROM e GROUP BY ALL`);
}

const ACC_TABLES = `CREATE OR REPLACE TEMP TABLE acc_fs (id INTEGER, announcers BIGINT, late BIGINT);
  CREATE OR REPLACE TEMP TABLE acc_delay (item_kind VARCHAR, wtx BOOLEAN, value DOUBLE, n BIGINT);
  CREATE OR REPLACE TEMP TABLE acc_peer (peer BIGINT, item_kind VARCHAR, wtx BOOLEAN, value DOUBLE, n BIGINT);
  CREATE OR REPLACE TEMP TABLE acc_pct (item_kind VARCHAR, wtx BOOLEAN, pct INTEGER, value DOUBLE, n BIGINT);`;

/** The SELECTs whose results are the chunk's aggregate files (from c_it and the acc_ tables). */
function outputs(c: Chunk, o: AggregateOptions, p: ChunkPlan, counts: string): Record<AggTable, string> {
  const vt = sqlString(c.vantage.vantage);
  const sampled = nannSampledSql('i', p.every);
  return {
    fs: `SELECT ${vt} AS vantage, i.hash, i.item_kind, i.wtx, i.first_seen, coalesce(a.announcers, 0) AS announcers, i.nr AS n_ready FROM c_it i LEFT JOIN acc_fs a USING (id)`,
    delay: `SELECT ${vt} AS vantage, item_kind, wtx, value, sum(n) AS n FROM acc_delay GROUP BY ALL`,
    peer: `SELECT ${vt} AS vantage, peer, item_kind, wtx, value, sum(n) AS n FROM acc_peer GROUP BY ALL`,
    pct: `SELECT ${vt} AS vantage, item_kind, wtx, pct, value, sum(n) AS n FROM acc_pct GROUP BY ALL`,
    nann: `SELECT ${vt} AS vantage, i.hash, i.item_kind, i.wtx, s.address AS node, min(s.time) AS t, ${p.every} AS w
           FROM (${partsSelect('observations', c.vantage, o, c.files.observations, { lo: c.items.lo, hi: c.items.hi + p.windowMs })}) s
           JOIN (SELECT * FROM c_it i WHERE ${sampled}) i ON i.hash = s.hash
           WHERE s.kind IN (${kinds()}) AND s.time - i.first_seen <= ${p.windowMs} GROUP BY ALL`,
    counts,
  };
}

/** Computes one chunk's aggregates into `dir` (written beside it, then renamed into place). */
async function computeChunk(conn: DuckDBConnection, c: Chunk, o: AggregateOptions, settle: TimeRange, dir: string): Promise<number> {
  const windowMs = itemWindow(c.vantage);
  const src = partsSelect('observations', c.vantage, o, c.files.observations, c.read);
  const it = await chunkItems(conn, c, src);
  // The ready peers at first-seen, from the items table observe wrote.
  await conn.run(`ALTER TABLE c_it ADD COLUMN nr BIGINT`);
  await conn.run(`UPDATE c_it SET nr = r.nr FROM (SELECT hash, max(peers_at_first_seen) AS nr FROM (${partsSelect('items', c.vantage, o, c.files.items)}) GROUP BY hash) r WHERE r.hash = c_it.hash`);
  const exact = it.ownedRows <= (o.exactMaxRows ?? EXACT_MAX_ROWS) && it.items <= EXACT_MAX_ITEMS;
  const p: ChunkPlan = {
    exact,
    slices: Math.max(1, Math.ceil(it.ownedRows / (o.sliceRows ?? SLICE_ROWS))),
    every: 2 ** Math.ceil(Math.log2(Math.max(1, it.ownedRows / (o.nannTargetRows ?? NANN_TARGET_ROWS)))),
    windowMs,
    settle,
  };
  await conn.run(ACC_TABLES);
  for (let j = 0; j < p.slices; j++) await accumulate(conn, src, p, j);
  const [f] = await rows(conn, 'SELECT coalesce(sum(announcers), 0) AS firsts, coalesce(sum(late), 0) AS late FROM acc_fs');
  const firsts = num(f!.firsts);
  const late = num(f!.late);
  const counts = `SELECT ${sqlString(c.vantage.vantage)} AS vantage, ${sqlString(c.label)} AS chunk, CAST(${it.inside} AS BIGINT) AS observations,
    CAST(${it.insideAnn} AS BIGINT) AS announcements, CAST(${firsts} AS BIGINT) AS firsts, CAST(${it.ownedRows - firsts - late} AS BIGINT) AS repeats,
    CAST(${late} AS BIGINT) AS late, ${exact} AS exact, ${p.slices} AS slices, ${p.every} AS sample_every`;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const q = outputs(c, o, p, counts);
  for (const t of AGG_TABLES) await conn.run(`COPY (${q[t]}) TO ${sqlString(join(tmp, `${t}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`);
  await conn.run('DROP TABLE c_first; DROP TABLE c_it; DROP TABLE c_h; DROP TABLE acc_fs; DROP TABLE acc_delay; DROP TABLE acc_peer; DROP TABLE acc_pct');
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return firsts;
}

/** The cache folder of a vantage (its name made safe for a path). */
const vantageFolder = (cacheDir: string, v: VantageDir): string => join(cacheDir, `vantage=${encodeURIComponent(v.vantage)}`);

/** Removes the cache entries of a vantage's chunks other than the ones in use. */
function prune(folder: string, keep: Set<string>): void {
  if (!existsSync(folder)) return;
  for (const e of readdirSync(folder)) if (!keep.has(e)) rmSync(join(folder, e), { recursive: true, force: true });
}

/**
 * Brings every chunk's aggregates up to date in `o.cacheDir` (computing the missing ones) and
 * creates the merged views. `settle` gives each vantage's timed window (table `win`).
 */
export async function aggregate(conn: DuckDBConnection, vantages: readonly VantageDir[], settle: Map<string, TimeRange>, o: AggregateOptions): Promise<AggregateStats> {
  const t0 = performance.now();
  const stats: AggregateStats = { chunks: 0, computed: 0, rows: 0, seconds: 0 };
  const dirs: string[] = [];
  for (const v of vantages) {
    const folder = vantageFolder(o.cacheDir, v);
    const keep = new Set<string>();
    const w = itemWindow(v);
    for (const c of planChunks(v, w, w + DEFAULT_SETTLE_MAX_MS)) {
      const s = settle.get(v.vantage) ?? { lo: -Infinity, hi: Infinity };
      const name = `${c.label}-${chunkKey(c, chunkSettings(c, s, o))}`;
      const dir = join(folder, name);
      keep.add(name);
      stats.chunks++;
      if (!AGG_TABLES.every((t) => existsSync(join(dir, `${t}.parquet`)))) {
        stats.rows += await computeChunk(conn, c, o, s, dir);
        stats.computed++;
      }
      dirs.push(dir);
    }
    prune(folder, keep);
  }
  for (const t of AGG_TABLES) {
    // fs (a row per item and vantage) is read by the summary, the network view, the settled items
    // and a figure: one read of its files into a table, not one per query. The others are read once.
    const kind = t === 'fs' ? 'TEMP TABLE' : 'VIEW';
    await conn.run(`CREATE OR REPLACE ${kind} agg_${t} AS SELECT * FROM read_parquet([${dirs.map((d) => sqlString(join(d, `${t}.parquet`))).join(', ')}])`);
  }
  // The timed namespace of each vantage's transactions (README "Transactions have two names").
  await conn.run(`CREATE OR REPLACE TABLE ns AS
    SELECT vantage, coalesce(sum(announcers) FILTER (wtx), 0) >= coalesce(sum(announcers) FILTER (NOT wtx), 0) AS wtx FROM agg_fs WHERE item_kind = 'tx' GROUP BY vantage`);
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}

/** SQL: whether a row of an aggregate (columns vantage, item_kind, wtx; alias `a`) is timed. */
export function timedSql(a: string): string {
  return `(${a}.item_kind <> 'tx' OR ${a}.wtx = (SELECT ns.wtx FROM ns WHERE ns.vantage = ${a}.vantage))`;
}
