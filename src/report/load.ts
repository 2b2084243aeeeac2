/**
 * Opens the output of one or more `invscope observe` runs (one DIR per vantage point, format in
 * src/store/README.md and src/report/README.md) as DuckDB views: `observations`, `peers`, `items`,
 * `timeline`, each row tagged with its `vantage`, plus the aggregates of aggregate.ts. Every problem with the input is a
 * ReportError with a stable code and a message naming the file, checked before any query runs.
 * Main thread, cold path. Reads files only; DuckDB's extension auto-install is off (no network).
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { makeDirs } from '../store/dirs.js';
import { basename, join, resolve } from 'node:path';
import type { DuckDBInstance, DuckDBConnection } from '@duckdb/node-api';
import { openEngine, classifyEngineError, type EngineOptions } from './engine.js';
import { OBSERVATION_KINDS } from '../observe/kinds.js';
import { TABLES, PARQUET_SCHEMA, sqlString, type TableName } from '../store/schema.js';
import { aggregate, timedSql, type AggregateStats } from './aggregate.js';
import { Phases } from './phases.js';
import { partHour } from './chunks.js';

/** Coded input problems; the CLI maps them to exit statuses (README: "Bad input"). */
export type ReportErrorCode =
  | 'ERR_REPORT_NO_DIR' // a DIR argument that does not exist or is not a directory
  | 'ERR_REPORT_NO_PARTS' // a DIR without observations/*.parquet
  | 'ERR_REPORT_CORRUPT' // a Parquet file DuckDB cannot read (no footer, bad magic, bad pages)
  | 'ERR_REPORT_SCHEMA' // a part lacks a column the report needs, or it has the wrong type
  | 'ERR_REPORT_OOM' // DuckDB hit the memory cap (--memory-limit) or could not spill
  | 'ERR_REPORT_ENGINE' // any other DuckDB failure: not the input's fault
  | 'ERR_REPORT_RUN_JSON' // run.json present but not a JSON object
  | 'ERR_REPORT_TRUTH'; // truth.jsonl present but unreadable

export class ReportError extends Error {
  override name = 'ReportError';
  constructor(
    readonly code: ReportErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The tables of a run directory (the store's definition), in the order they are checked. */
export { TABLES, type TableName };

/** The columns the report reads from each table; their types come from the store's PARQUET_SCHEMA. */
const READS = {
  observations: ['time', 'peer', 'address', 'kind', 'inv_type', 'item_kind', 'hash'],
  peers: ['peer', 'address', 'user_agent', 'connected_at', 'ready_at', 'closed_at', 'close_reason', 'misbehaviour'],
  items: ['hash', 'item_kind', 'first_seen', 'first_peer', 'announcing_peers', 'peers_at_first_seen', 't50', 't90', 't99'],
  timeline: ['time', 'peers_connected', 'peers_ready', 'inv_entries', 'drops'],
} as const satisfies { [T in TableName]: readonly (keyof (typeof PARQUET_SCHEMA)[T] | 't50' | 't90' | 't99')[] };

/** The stored type of a column the report reads (t50 is stored as t50_ms, ALIASES). */
const storedType = (t: TableName, c: string): string => {
  const schema = PARQUET_SCHEMA[t] as Record<string, string>;
  return schema[c] ?? schema[`${c}_ms`]!;
};

/**
 * Integers are widened to BIGINT so that unions of parts written by different versions agree;
 * times are read as epoch ms (DOUBLE) whichever way a part stores them (columnExpr).
 */
const widen = (type: string): string => (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT)$/.test(type) ? 'BIGINT' : type.startsWith('TIMESTAMP') ? 'DOUBLE' : type);

/**
 * The columns the report reads from each table and the type it reads them as. Columns the
 * contract has and the report does not use are not required.
 */
export const COLUMNS = Object.fromEntries(
  TABLES.map((t) => [t, Object.fromEntries(READS[t].map((c) => [c, widen(storedType(t, c))]))]),
) as Record<TableName, Record<string, string>>;

/** Kinds of observation that announce an item: every kind the ring records (src/observe/kinds.ts). */
export const ANNOUNCING_KINDS = OBSERVATION_KINDS;

export interface VantageDir {
  /** The vantage name rows are tagged with: run.json's `vantage`, else the DIR's basename (made unique). */
  vantage: string;
  /** The first DIR holding it: where the report is written unless --out says otherwise. */
  dir: string;
  /** Every DIR holding it, in argument order: several for one vantage of a restarted or split run. */
  dirs: string[];
  /** run.json parsed, or null when absent. */
  run: Record<string, unknown> | null;
  /** Part files per table (absolute paths, sorted). */
  parts: Record<TableName, string[]>;
  /** Parts skipped as unreadable (only with skipCorrupt). */
  skipped: { file: string; error: string }[];
  /** Every column name and DuckDB type found in the readable parts, per table (set by the check). */
  columns?: Partial<Record<TableName, Map<string, string>>>;
  /** DIR/truth.jsonl when present. */
  truth: string | null;
}

/** Every DIR of the vantages, once each, in order. */
export function allDirs(vantages: readonly VantageDir[]): string[] {
  return [...new Set(vantages.flatMap((v) => v.dirs))];
}

export interface LoadOptions extends EngineOptions {
  /** Only rows from this time on (epoch ms; observations by receive time, items by first-seen, timeline by time). */
  fromMs?: number | undefined;
  /** Only rows before this time (epoch ms). */
  toMs?: number | undefined;
  /** Skip unreadable Parquet parts (counted and named in `skipped`) instead of failing. @default false */
  skipCorrupt?: boolean;
  /**
   * Items first seen this close to the end of a run are left out of the time-to-x % figures and
   * percentiles: they had no time to reach the peers. @default min(60 s, a third of the run)
   */
  settleMs?: number;
  /**
   * A simulator's ground truth (truth.jsonl) for every DIR, wherever it is (`simulate --out A`
   * with `observe --out B`). @default each DIR's own truth.jsonl, if any
   */
  truth?: string;
  /**
   * Where per-chunk aggregates are kept between runs (aggregate.ts); an unwritable one falls back
   * to the spill directory for this run only. @default the spill directory (no reuse)
   */
  cacheDir?: string | undefined;
  /** Chunks above this many announcements keep binned delays. @default EXACT_MAX_ROWS */
  exactMaxRows?: number | undefined;
  /** A chunk is computed in slices of about this many announcements. @default SLICE_ROWS */
  sliceRows?: number | undefined;
  /** The network-wide curves' sample: about this many (transaction, node) rows per chunk. @default NANN_TARGET_ROWS */
  nannTargetRows?: number | undefined;
}

/** The longest default settling time (Core's trickles put mainnet's t99 well under it). */
export const DEFAULT_SETTLE_MAX_MS = 60_000;
/** Ready peers must reach this fraction of their maximum before first-seen times count (warm-up). */
export const WARMUP_READY_FRACTION = 0.9;

export interface LoadedRun {
  db: DuckDBInstance;
  conn: DuckDBConnection;
  vantages: VantageDir[];
  /** Non-fatal notes (a table with no parts, skipped files), for stderr and the summary. */
  warnings: string[];
  /** Chunks read and computed (aggregate.ts). */
  aggregates: AggregateStats;
  /** Wall time of loading, by phase (the report adds its own). */
  phases: Phases;
  close(): void;
}

export { sqlString };

/**
 * The Parquet parts of a table, sorted: DIR/table/*.parquet, and in hive partition folders below
 * it (DIR/table/vantage=NAME/date=YYYY-MM-DD/hour=HH/part-*.parquet, src/store/README.md).
 */
function listParts(dir: string, table: TableName): string[] {
  const sub = join(dir, table);
  if (!existsSync(sub) || !statSync(sub).isDirectory()) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory() && e.name.includes('=')) walk(join(d, e.name));
      else if (e.isFile() && e.name.endsWith('.parquet')) out.push(join(d, e.name));
    }
  };
  walk(sub);
  return out.sort();
}

/** The hive `vantage=NAME` folder of a part, or null for a part directly in its table folder. */
export function partVantage(file: string): string | null {
  const m = /[/\\]vantage=([^/\\]+)[/\\]/.exec(file);
  return m === null ? null : decodeURIComponent(m[1]!);
}

function readRunJson(dir: string): Record<string, unknown> | null {
  const p = join(dir, 'run.json');
  if (!existsSync(p)) return null;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new ReportError('ERR_REPORT_RUN_JSON', `${p}: not valid JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ReportError('ERR_REPORT_RUN_JSON', `${p}: not a JSON object`);
  return v as Record<string, unknown>;
}

/** The earliest start and the latest stop of two run.json records of one vantage. */
function mergeRuns(a: Record<string, unknown> | null, b: Record<string, unknown> | null): Record<string, unknown> | null {
  if (a === null || b === null) return a ?? b;
  const pick = (k: string, f: (x: number, y: number) => number): number | undefined => {
    const x = typeof a[k] === 'number' ? (a[k] as number) : undefined;
    const y = typeof b[k] === 'number' ? (b[k] as number) : undefined;
    return x === undefined ? y : y === undefined ? x : f(x, y);
  };
  return { ...a, started: pick('started', Math.min), stopped: pick('stopped', Math.max), stopRequested: pick('stopRequested', Math.max) };
}

/** Adds (or merges into) the vantage NAME the parts of one partitioned tree under vantage=NAME. */
function addHiveVantage(out: VantageDir[], name: string, dir: string, run: Record<string, unknown> | null, parts: Record<TableName, string[]>, truth: string | null): void {
  const mine = {} as Record<TableName, string[]>;
  for (const t of TABLES) mine[t] = parts[t].filter((f) => partVantage(f) === name);
  const ownRun = run !== null && run.vantage === name ? run : null;
  const seen = out.find((v) => v.vantage === name);
  if (seen === undefined) {
    out.push({ vantage: name, dir, dirs: [dir], run: ownRun, parts: mine, skipped: [], truth });
    return;
  }
  if (!seen.dirs.includes(dir)) seen.dirs.push(dir);
  for (const t of TABLES) seen.parts[t] = [...seen.parts[t], ...mine[t]].sort();
  seen.run = mergeRuns(seen.run, ownRun);
  seen.truth ??= truth;
}

/** Checks the DIR arguments and names each vantage; touches no Parquet yet. */
export function scanDirs(dirs: string[], truthFile?: string): VantageDir[] {
  const out: VantageDir[] = [];
  if (truthFile !== undefined && !(existsSync(truthFile) && statSync(truthFile).isFile())) {
    throw new ReportError('ERR_REPORT_TRUTH', `--truth ${truthFile}: no such file`);
  }
  const used = new Set<string>();
  for (const d of dirs) {
    const dir = resolve(d);
    if (!existsSync(dir)) throw new ReportError('ERR_REPORT_NO_DIR', `${d}: no such directory`);
    if (!statSync(dir).isDirectory()) throw new ReportError('ERR_REPORT_NO_DIR', `${d}: not a directory`);
    const parts = {} as Record<TableName, string[]>;
    for (const t of TABLES) parts[t] = listParts(dir, t);
    if (parts.observations.length === 0) {
      throw new ReportError('ERR_REPORT_NO_PARTS', `${d}: no observation parts (${join(d, 'observations', '*.parquet')}): not an invscope observe output directory, or a run that never flushed`);
    }
    const run = readRunJson(dir);
    const own = join(dir, 'truth.jsonl');
    const truth = truthFile !== undefined ? resolve(truthFile) : existsSync(own) ? own : null;
    const hive = new Set(parts.observations.map(partVantage));
    if (!hive.has(null)) {
      // A partitioned tree: its vantages are its vantage= folders, and one name in several
      // trees (a restarted or split run) is one vantage.
      for (const name of [...hive].sort() as string[]) addHiveVantage(out, name, dir, run, parts, truth);
      continue;
    }
    const named = typeof run?.vantage === 'string' && run.vantage.length > 0 ? run.vantage : basename(dir);
    // Two flat DIRs with one name (a/run1, b/run1) stay apart: the second becomes run1-2.
    let vantage = named;
    for (let i = 2; used.has(vantage) || out.some((v) => v.vantage === vantage); i++) vantage = `${named}-${i}`;
    used.add(vantage);
    out.push({ vantage, dir, dirs: [dir], run, parts, skipped: [], truth });
  }
  return out;
}

function errorText(e: unknown): string {
  return ((e as Error).message ?? String(e)).split('\n')[0]!;
}

/** Reads each part's footer and schema: a truncated or foreign file is named before any query. */
async function checkParts(conn: DuckDBConnection, v: VantageDir, table: TableName, skipCorrupt: boolean): Promise<void> {
  const good: string[] = [];
  for (const file of v.parts[table]) {
    let cols: Map<string, string>;
    try {
      const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`);
      cols = new Map(r.getRowObjectsJS().map((row) => [String(row.column_name), String(row.column_type)]));
    } catch (e) {
      if (classifyEngineError(e) === 'oom') throw engineError(e, `${file}: reading its schema`);
      if (skipCorrupt) {
        v.skipped.push({ file, error: errorText(e) });
        continue;
      }
      throw new ReportError('ERR_REPORT_CORRUPT', `${file}: not a readable Parquet file (${errorText(e)}); rerun with --skip-corrupt to leave it out`);
    }
    for (const c of Object.keys(COLUMNS[table])) {
      if (!namesOf(c).some((n) => cols.has(n))) throw new ReportError('ERR_REPORT_SCHEMA', `${file}: no column ${c} (${table} parts need ${Object.keys(COLUMNS[table]).join(', ')})`);
    }
    const seen = ((v.columns ??= {})[table] ??= new Map());
    for (const [c, t] of cols) seen.set(c, t);
    good.push(file);
  }
  v.parts[table] = good;
}

/** An empty relation with the table's columns, for a vantage without parts of that table. */
function emptySelect(table: TableName, vantage: string): string {
  const cols = Object.entries(COLUMNS[table]).map(([c, t]) => `NULL::${t} AS ${c}`);
  return `SELECT ${cols.join(', ')}, ${sqlString(vantage)} AS vantage WHERE false`;
}

/**
 * Other names a column has in the partitioned layout (src/store/README.md): durations carry
 * their unit, and a peer's address is its stable node_id where no address column is written.
 */
const ALIASES: Record<string, string[]> = { t50: ['t50', 't50_ms'], t90: ['t90', 't90_ms'], t99: ['t99', 't99_ms'], address: ['address', 'node_id'] };
const namesOf = (c: string): string[] => ALIASES[c] ?? [c];

/**
 * The expression that reads column c as type t from parts with these columns: times stored as
 * Parquet TIMESTAMP become epoch ms (DOUBLE, microseconds kept), session ids of several runs
 * are made distinct with the run id.
 */
function columnExpr(c: string, t: string, have: Map<string, string>): string {
  const n = namesOf(c).find((x) => have.has(x)) ?? c;
  const type = have.get(n) ?? '';
  if (type.startsWith('TIMESTAMP')) return `CAST(epoch_us(${n}) AS DOUBLE) / 1000.0`;
  if (c === 'peer' && have.has('run_id')) {
    return `(CAST(hash(run_id) % 1048576 AS BIGINT) << 32) + CAST(${n} AS BIGINT)`;
  }
  return `CAST(${n} AS ${t})`;
}

/** The time column each table is windowed on by --from/--to (peers keep whole sessions). */
const WINDOW_COLUMN: Partial<Record<TableName, string>> = { observations: 'time', items: 'first_seen', timeline: 'time' };

const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** A receive-time range on the stored column (epoch ms; open ends as +-Infinity). */
export interface TimeRange {
  lo: number;
  hi: number;
}

/** SQL: the stored time column `col` (TIMESTAMP or epoch-ms DOUBLE) in [lo, hi), on the raw column so Parquet statistics prune row groups. */
function rawTimeFilter(col: string, type: string, r: TimeRange): string[] {
  const lit = (ms: number): string => (type.startsWith('TIMESTAMP') ? `to_timestamp(${ms / 1000})` : String(ms));
  const out: string[] = [];
  if (Number.isFinite(r.lo)) out.push(`${col} >= ${lit(r.lo)}`);
  if (Number.isFinite(r.hi)) out.push(`${col} < ${lit(r.hi)}`);
  return out;
}

/**
 * The rows of `files` (parts of `table` of vantage v) with the report's columns and types; with
 * `range`, only rows whose time column is in it (filtered on the stored column).
 */
export function partsSelect(table: TableName, v: VantageDir, o: LoadOptions, files: readonly string[] = v.parts[table], range?: TimeRange): string {
  if (files.length === 0) return emptySelect(table, v.vantage);
  const have = v.columns?.[table] ?? new Map<string, string>();
  const cols = Object.entries(COLUMNS[table]).map(([c, t]) => `${columnExpr(c, t, have)} AS ${c}`);
  const list = `[${files.map(sqlString).join(', ')}]`;
  const col = WINDOW_COLUMN[table];
  const where: string[] = [];
  const prune: string[] = [];
  // Hive date= folders let DuckDB skip whole partitions outside the window.
  const dated = files.every((f) => /[/\\]date=\d{4}-\d{2}-\d{2}[/\\]/.test(f));
  if (col !== undefined) {
    where.push(...rawTimeFilter(col, have.get(col) ?? 'DOUBLE', { lo: o.fromMs ?? -Infinity, hi: o.toMs ?? Infinity }));
    if (range !== undefined) where.push(...rawTimeFilter(col, have.get(col) ?? 'DOUBLE', range));
    if (dated && o.fromMs !== undefined) prune.push(`date >= DATE '${isoDate(o.fromMs)}'`);
    if (dated && o.toMs !== undefined) prune.push(`date <= DATE '${isoDate(o.toMs)}'`);
  }
  const hive = dated ? ', hive_partitioning = true' : ', hive_partitioning = false';
  const cond = [...prune, ...where];
  return `SELECT ${cols.join(', ')}, ${sqlString(v.vantage)} AS vantage FROM read_parquet(${list}, union_by_name = true${hive})${cond.length > 0 ? ` WHERE ${cond.join(' AND ')}` : ''}`;
}

/** An engine failure as a ReportError: out of memory, a really corrupt file, or the engine's own. */
export function engineError(e: unknown, what: string): ReportError {
  const c = classifyEngineError(e);
  if (c === 'oom') return new ReportError('ERR_REPORT_OOM', `${what}: DuckDB ran out of memory (${errorText(e)}); raise --memory-limit (what spills to the temp directory was not enough), or point --temp-dir at a disk with more room`);
  if (c === 'corrupt') return new ReportError('ERR_REPORT_CORRUPT', `${what}: ${errorText(e)}`);
  return new ReportError('ERR_REPORT_ENGINE', `${what}: ${errorText(e)}`);
}

/**
 * Table win: the window of items whose time-to-x % is meaningful, per vantage: from the first
 * second with 90 % of the run's most ready peers (before, an item is first-seen by whoever
 * happens to be connected; items in flight when we connected reach few of them) to the stop
 * request minus the settling time (items first seen later had no time to reach the peers).
 */
async function windows(conn: DuckDBConnection, vantages: readonly VantageDir[], options: LoadOptions): Promise<void> {
  await conn.run(`CREATE TABLE win (vantage VARCHAR, lo DOUBLE, hi DOUBLE, settle DOUBLE, stop DOUBLE)`);
  const lit = (x: number): string => (Number.isFinite(x) ? String(x) : x > 0 ? "'infinity'::DOUBLE" : "'-infinity'::DOUBLE");
  for (const v of vantages) {
    const vt = sqlString(v.vantage);
    const [w] = await rows(
      conn,
      `SELECT min(time) AS warm FROM timeline WHERE vantage = ${vt} AND peers_ready >= ${WARMUP_READY_FRACTION} * (SELECT max(peers_ready) FROM timeline WHERE vantage = ${vt})`,
    );
    const r = v.run ?? {};
    const started = typeof r.started === 'number' ? r.started : -Infinity;
    const known = typeof r.stopRequested === 'number' ? r.stopRequested : typeof r.stopped === 'number' ? r.stopped : null;
    const end = known ?? (await lastObservation(conn, v, options));
    const lo = Number.isFinite(num(w!.warm)) ? num(w!.warm) : started;
    const settle = options.settleMs ?? Math.min(DEFAULT_SETTLE_MAX_MS, Number.isFinite(lo) && Number.isFinite(end) ? Math.max(0, end - lo) / 3 : DEFAULT_SETTLE_MAX_MS);
    const hi = Number.isFinite(end) ? end - settle : Infinity;
    await conn.run(`INSERT INTO win VALUES (${vt}, ${lit(lo)}, ${lit(hi)}, ${settle}, ${lit(end)})`);
  }
}

/** The columns of the items table that the readers of `settled` use (the summary, the network view, the accuracy). */
const SETTLED_COLUMNS = ['vantage', 'hash', 'item_kind', 'first_seen', 'peers_at_first_seen', 't50', 't90', 't99'];

/**
 * The time of a vantage's last observation (epoch ms), for a run without run.json's stop: read from
 * the parts of its newest hour partition inside the window (the store files every row under the
 * hour of its event time), else from all its parts.
 */
async function lastObservation(conn: DuckDBConnection, v: VantageDir, options: LoadOptions): Promise<number> {
  const last = async (files: readonly string[]): Promise<number> =>
    num((await rows(conn, `SELECT max(time) AS last FROM (${partsSelect('observations', v, options, files)})`))[0]!.last);
  const hours = v.parts.observations.map((f) => partHour(f) ?? NaN);
  const inWindow = hours.filter((h) => h < (options.toMs ?? Infinity));
  if (inWindow.length > 0 && !hours.some(Number.isNaN)) {
    const newest = Math.max(...inWindow);
    const t = await last(v.parts.observations.filter((_, i) => hours[i] === newest));
    if (Number.isFinite(t)) return t;
  }
  return last(v.parts.observations);
}

/**
 * Opens the DIRs: checks every part, creates the views, the timed windows (`win`) and the
 * aggregates of every chunk (aggregate.ts: `agg_*`, computed or read from the cache) and the
 * table `settled`. Throws ReportError for bad input; the caller closes the result.
 */
export async function loadRuns(dirs: string[], options: LoadOptions = {}): Promise<LoadedRun> {
  const vantages = scanDirs(dirs, options.truth);
  // No extension is ever fetched: parquet and json are built into the bindings.
  let engine;
  try {
    engine = await openEngine(options);
  } catch (e) {
    throw engineError(e, 'starting DuckDB failed (check --memory-limit, --temp-dir, --threads)');
  }
  const db = engine.db;
  const conn = await db.connect();
  // Aggregates kept in the spill directory (no usable cache) are for this run only.
  let scratch: string | null = null;
  const close = (): void => {
    conn.closeSync();
    db.closeSync();
    if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
    engine.cleanup();
  };
  const warnings: string[] = [];
  let aggregates: AggregateStats = { chunks: 0, computed: 0, rows: 0, seconds: 0 };
  const phases = new Phases();
  try {
    await phases.time('parts', () => checkVantages(conn, vantages, options, warnings));
    for (const t of TABLES) {
      await conn.run(`CREATE VIEW ${t} AS ${vantages.map((v) => partsSelect(t, v, options)).join(' UNION ALL ')}`);
    }
    await phases.time('probe', () => probeViews(conn));
    await phases.time('windows', () => windows(conn, vantages, options));
    // Every chunk's aggregates (aggregate.ts), then the items whose time to x % is meaningful.
    const settle = new Map((await rows(conn, 'SELECT vantage, lo, hi FROM win')).map((w) => [String(w.vantage), { lo: num(w.lo), hi: num(w.hi) }]));
    const cacheDir = usableCache(options.cacheDir, engine.tempDir, warnings);
    if (cacheDir !== options.cacheDir) scratch = cacheDir;
    aggregates = await phases.time('aggregates', () => aggregate(conn, vantages, settle, { ...options, cacheDir }));
    // A table: the summary and the network view both read it (items parts joined with agg_fs).
    await phases.time('settled', () =>
      conn.run(`CREATE TEMP TABLE settled AS SELECT ${SETTLED_COLUMNS.map((c) => `i.${c}`).join(', ')} FROM items i JOIN win w ON w.vantage = i.vantage
        WHERE i.first_seen >= w.lo AND i.first_seen <= w.hi AND EXISTS (SELECT 1 FROM agg_fs a WHERE a.vantage = i.vantage AND a.hash = i.hash AND ${timedSql('a')})`),
    );
  } catch (e) {
    close();
    if (e instanceof ReportError) throw e;
    throw engineError(e, `reading ${allDirs(vantages).join(', ')} failed`);
  }
  return { db, conn, vantages, warnings, aggregates, phases, close };
}

/** Every vantage's parts checked (checkParts), with a warning per skipped part and missing table. */
async function checkVantages(conn: DuckDBConnection, vantages: VantageDir[], options: LoadOptions, warnings: string[]): Promise<void> {
  for (const v of vantages) {
    for (const t of TABLES) await checkParts(conn, v, t, options.skipCorrupt === true);
    for (const s of v.skipped) warnings.push(`skipped unreadable part ${s.file}: ${s.error}`);
    if (v.parts.observations.length === 0) throw new ReportError('ERR_REPORT_NO_PARTS', `${v.dirs.join(', ')}: every observation part was unreadable`);
    for (const t of TABLES) if (t !== 'observations' && v.parts[t].length === 0) warnings.push(`${v.dirs.join(', ')}: no ${t} parts; its figures are empty for vantage ${v.vantage}`);
  }
}

/**
 * Probes every view but observations once: a part whose footer is fine but whose data pages are
 * not fails here, with DuckDB naming the file. The observation parts are read whole by the
 * aggregates of the chunks computed now, and were read whole when a cached chunk was computed (its
 * cache key holds each file's size and mtime), so a probe of theirs would be a second full read.
 */
async function probeViews(conn: DuckDBConnection): Promise<void> {
  for (const t of TABLES.filter((x) => x !== 'observations')) {
    try {
      await conn.run(`SELECT count(*) FROM ${t}`);
    } catch (e) {
      const err = engineError(e, `reading the ${t} parts failed`);
      // A part whose data pages are damaged fails the scan without a recognisable message.
      throw err.code === 'ERR_REPORT_ENGINE' ? new ReportError('ERR_REPORT_CORRUPT', err.message) : err;
    }
  }
}

/** The cache directory if it can be written, else a folder in the spill directory (with a warning). */
function usableCache(dir: string | undefined, spill: string, warnings: string[]): string {
  if (dir !== undefined) {
    try {
      makeDirs(dir);
      accessSync(dir, constants.W_OK);
      return dir;
    } catch (e) {
      warnings.push(`cannot write the aggregate cache ${dir} (${errorText(e)}): aggregates kept for this run only`);
    }
  }
  return join(spill, 'aggregates');
}

/** Runs a query and returns plain JS rows (BIGINT as bigint, see `num`). */
export async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** A DuckDB value as a number (bigint counts, NULL as NaN). */
export function num(v: unknown): number {
  if (v === null || v === undefined) return NaN;
  return typeof v === 'bigint' ? Number(v) : Number(v);
}
