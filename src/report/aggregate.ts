/**
 * The report's aggregates, computed once per chunk (chunks.ts) and kept in a cache directory, so
 * that a report over a day reads 24 small sets of aggregates per vantage instead of billions of
 * announcement rows, and a rerun after one more hour computes about that hour. Per chunk:
 * `fs` (its items: first-seen, namespace, announcers, ready peers at first-seen), `delay` (the
 * announcement-delay histogram), `peer` (a delay histogram per peer), `pct` (per x % the
 * histogram of the items' time until x % of their peers announced), `nann` (each node's first
 * announcement of every block and of a sample of the transactions) and `counts`. Histograms
 * are exact for a small chunk and log-binned above EXACT_MAX_ROWS (hist.ts). The merged views
 * are `agg_fs`, `agg_delay`, `agg_peer`, `agg_pct`, `agg_nann`, `agg_counts`.
 * Main thread, cold path; the work is DuckDB's.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { partsSelect, rows, num, sqlString, ANNOUNCING_KINDS, type LoadOptions, type TimeRange, type VantageDir } from './load.js';
import { planChunks, chunkKey, type Chunk } from './chunks.js';
import { histValueSql } from './hist.js';

/** Bumped whenever what a chunk's aggregates hold changes: older cache entries are recomputed. */
const AGG_VERSION = 1;
/** A chunk with at most this many (item, peer) announcements keeps exact delays. */
export const EXACT_MAX_ROWS = 1_000_000;
/** `nann` keeps every block and about this many (transaction, node) rows per chunk. */
export const NANN_TARGET_ROWS = 1_000_000;
/** Announcements later than this after first-seen are late (counted, not in the delays) unless run.json says otherwise. */
export const DEFAULT_ITEM_WINDOW_MS = 120_000;

export const AGG_TABLES = ['fs', 'delay', 'peer', 'pct', 'nann', 'counts'] as const;
export type AggTable = (typeof AGG_TABLES)[number];

export interface AggregateOptions extends LoadOptions {
  /** Where the per-chunk aggregates are kept between runs. */
  cacheDir: string;
  /** Chunks above this many announcements are binned. @default EXACT_MAX_ROWS */
  exactMaxRows?: number;
}

export interface AggregateStats {
  chunks: number;
  /** Chunks computed now (the rest came from the cache). */
  computed: number;
  /** Announcement rows (after the first per item and peer) in the computed chunks. */
  rows: number;
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
    exactMax: o.exactMaxRows ?? EXACT_MAX_ROWS,
    nann: NANN_TARGET_ROWS,
    settle: [clip(settle.lo, c.items.lo, c.items.hi), clip(settle.hi, c.items.lo, c.items.hi)],
    from: o.fromMs ?? null,
    to: o.toMs ?? null,
  };
}

/** The chunk's items (c_it, with ids) and every peer's first announcement of each (c_first). */
async function firsts(conn: DuckDBConnection, c: Chunk, o: AggregateOptions, windowMs: number): Promise<{ inside: number; insideAnn: number; repeats: number; late: number }> {
  const { lo, hi } = c.items;
  const src = partsSelect('observations', c.vantage, o, c.files.observations, { lo: lo - windowMs, hi: hi + windowMs });
  const own = [Number.isFinite(lo) ? `first_seen >= ${lo}` : null, Number.isFinite(hi) ? `first_seen < ${hi}` : null].filter((x) => x !== null);
  const inside = [Number.isFinite(lo) ? `time >= ${lo}` : null, Number.isFinite(hi) ? `time < ${hi}` : null].filter((x) => x !== null);
  const isAnn = `kind IN (${kinds()})`;
  const inChunk = inside.length > 0 ? inside.join(' AND ') : 'true';
  await conn.run(`CREATE OR REPLACE TEMP TABLE c_h AS
    SELECT hash, any_value(item_kind) FILTER (${isAnn}) AS item_kind, min(time) FILTER (${isAnn}) AS first_seen, bool_or(inv_type = 'wtx') FILTER (${isAnn}) AS wtx,
           count(*) FILTER (${inChunk}) AS inside, count(*) FILTER (${inChunk} AND ${isAnn}) AS inside_ann
    FROM (${src}) GROUP BY hash`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE c_it AS
    SELECT CAST(row_number() OVER () AS INTEGER) AS id, hash, item_kind, first_seen, wtx FROM c_h
    WHERE first_seen IS NOT NULL${own.length > 0 ? ` AND ${own.join(' AND ')}` : ''}`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE c_first AS
    SELECT i.id, s.peer, min(s.time) - any_value(i.first_seen) AS d, count(*) AS n
    FROM (${src}) s JOIN c_it i ON i.hash = s.hash WHERE s.kind IN (${kinds()}) GROUP BY i.id, s.peer`);
  const [r] = await rows(
    conn,
    `SELECT (SELECT sum(inside) FROM c_h) AS inside, (SELECT sum(inside_ann) FROM c_h) AS inside_ann, sum(n) - count(*) AS repeats, count(*) FILTER (d > ${windowMs}) AS late FROM c_first`,
  );
  await conn.run(`DELETE FROM c_first WHERE d > ${windowMs}`);
  return { inside: num(r!.inside) || 0, insideAnn: num(r!.inside_ann) || 0, repeats: num(r!.repeats) || 0, late: num(r!.late) || 0 };
}

/** The SELECTs whose results are the chunk's aggregate files. */
function aggregateQueries(c: Chunk, o: AggregateOptions, settle: TimeRange, exact: boolean, every: number, counts: string): Record<AggTable, string> {
  const vt = sqlString(c.vantage.vantage);
  const val = histValueSql('f.d', exact);
  const ready = `SELECT hash, max(peers_at_first_seen) AS nr FROM (${partsSelect('items', c.vantage, o, c.files.items)}) GROUP BY hash`;
  const sampled = every <= 1 ? 'true' : `i.item_kind <> 'tx' OR coalesce(TRY_CAST('0x' || substr(i.hash, 1, 6) AS INTEGER) % ${every} = 0, false)`;
  return {
    fs: `SELECT ${vt} AS vantage, i.hash, i.item_kind, i.wtx, i.first_seen, coalesce(a.n, 0) AS announcers, r.nr AS n_ready
         FROM c_it i LEFT JOIN (SELECT id, count(*) AS n FROM c_first GROUP BY id) a USING (id) LEFT JOIN (${ready}) r USING (hash)`,
    delay: `SELECT ${vt} AS vantage, i.item_kind, i.wtx, ${val} AS value, count(*) AS n FROM c_first f JOIN c_it i USING (id) WHERE f.d > 0 GROUP BY ALL`,
    peer: `SELECT ${vt} AS vantage, f.peer, i.item_kind, i.wtx, ${val} AS value, count(*) AS n FROM c_first f JOIN c_it i USING (id) GROUP BY ALL`,
    pct: `WITH it AS (SELECT i.id, i.item_kind, i.wtx, CAST(r.nr AS BIGINT) AS nr FROM c_it i JOIN (${ready}) r USING (hash)
                      WHERE r.nr > 0 AND i.first_seen >= ${lit(settle.lo)} AND i.first_seen <= ${lit(settle.hi)}),
               v AS (SELECT f.id, ${val} AS value, count(*) AS n FROM c_first f SEMI JOIN it USING (id) GROUP BY ALL),
               c AS (SELECT id, value, n, CAST(sum(n) OVER (PARTITION BY id ORDER BY value ROWS UNBOUNDED PRECEDING) AS BIGINT) AS hi FROM v),
               e AS (SELECT it.item_kind, it.wtx, c.value, unnest(range((100 * (c.hi - c.n)) // it.nr + 1, least(100, (100 * c.hi) // it.nr) + 1)) AS pct FROM c JOIN it USING (id))
          SELECT ${vt} AS vantage, item_kind, wtx, CAST(pct AS INTEGER) AS pct, value, count(*) AS n FROM e GROUP BY ALL`,
    nann: `SELECT ${vt} AS vantage, i.hash, i.item_kind, i.wtx, s.address AS node, min(s.time) AS t, ${every} AS w
           FROM (${partsSelect('observations', c.vantage, o, c.files.observations, { lo: c.items.lo, hi: c.items.hi + itemWindow(c.vantage) })}) s
           JOIN (SELECT * FROM c_it i WHERE ${sampled}) i ON i.hash = s.hash
           WHERE s.kind IN (${kinds()}) AND s.time - i.first_seen <= ${itemWindow(c.vantage)} GROUP BY ALL`,
    counts: counts,
  };
}

/** Computes one chunk's aggregates into `dir` (written beside it, then renamed into place). */
async function computeChunk(conn: DuckDBConnection, c: Chunk, o: AggregateOptions, settle: TimeRange, dir: string): Promise<number> {
  const windowMs = itemWindow(c.vantage);
  const f = await firsts(conn, c, o, windowMs);
  const [n] = await rows(conn, 'SELECT count(*) AS n FROM c_first');
  const total = num(n!.n);
  const exact = total <= (o.exactMaxRows ?? EXACT_MAX_ROWS);
  const every = exact ? 1 : 2 ** Math.ceil(Math.log2(Math.max(1, total / NANN_TARGET_ROWS)));
  const counts = `SELECT ${sqlString(c.vantage.vantage)} AS vantage, ${sqlString(c.label)} AS chunk, CAST(${f.inside} AS BIGINT) AS observations,
    CAST(${f.insideAnn} AS BIGINT) AS announcements, CAST(${total} AS BIGINT) AS firsts, CAST(${f.repeats} AS BIGINT) AS repeats, CAST(${f.late} AS BIGINT) AS late, ${exact} AS exact, ${every} AS sample_every`;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const q = aggregateQueries(c, o, settle, exact, every, counts);
  for (const t of AGG_TABLES) await conn.run(`COPY (${q[t]}) TO ${sqlString(join(tmp, `${t}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`);
  await conn.run('DROP TABLE c_first; DROP TABLE c_it; DROP TABLE c_h');
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return total;
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
  const stats: AggregateStats = { chunks: 0, computed: 0, rows: 0 };
  const dirs: string[] = [];
  for (const v of vantages) {
    const folder = vantageFolder(o.cacheDir, v);
    const keep = new Set<string>();
    for (const c of planChunks(v)) {
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
    await conn.run(`CREATE OR REPLACE VIEW agg_${t} AS SELECT * FROM read_parquet([${dirs.map((d) => sqlString(join(d, `${t}.parquet`))).join(', ')}])`);
  }
  // The timed namespace of each vantage's transactions (README "Transactions have two names").
  await conn.run(`CREATE OR REPLACE TABLE ns AS
    SELECT vantage, coalesce(sum(announcers) FILTER (wtx), 0) >= coalesce(sum(announcers) FILTER (NOT wtx), 0) AS wtx FROM agg_fs WHERE item_kind = 'tx' GROUP BY vantage`);
  return stats;
}

/** SQL: whether a row of an aggregate (columns vantage, item_kind, wtx; alias `a`) is timed. */
export function timedSql(a: string): string {
  return `(${a}.item_kind <> 'tx' OR ${a}.wtx = (SELECT ns.wtx FROM ns WHERE ns.vantage = ${a}.vantage))`;
}
