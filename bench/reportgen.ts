/**
 * A synthetic mainnet-like run tree for `npm run bench:report`: N peers, 7 tx/s, a block every
 * 10 minutes, several vantages with overlapping peer sets and known clock offsets, written by
 * DuckDB SQL straight to hive-partitioned Parquet in the store's file contract (src/store/README.md).
 * Deterministic for a seed. Bench process only (DuckDB's threads do the work), cold path.
 */
import { rmSync } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { makeDirs } from '../src/store/dirs.js';
import { SCHEMA_VERSION as STORE_SCHEMA_VERSION } from '../src/store/schema.js';

export interface GenOptions {
  /** The run tree to write (created). */
  out: string;
  /** Hours of data, starting at `start` (a UTC hour). @default 1 */
  hours?: number;
  /** Peers in the network. @default 10_000 */
  peers?: number;
  /** @default 3 */
  vantages?: number;
  /** Transactions per second. @default 7 */
  txPerSecond?: number;
  /** Seconds between blocks. @default 600 */
  blockIntervalS?: number;
  /** Peers connected to every vantage: those with p % sharedEvery = 0. @default 20 (5 %) */
  sharedEvery?: number;
  /** Fraction of the other peers (each belongs to vantage p % V) that their vantage reaches. @default 0.9 */
  coverage?: number;
  /** Fraction of peers announcing by txid (no wtxidrelay). @default 0.1 */
  txidFraction?: number;
  /** Epoch ms of the first hour (rounded down to a UTC hour). @default 2026-01-05T00:00Z */
  start?: number;
  /** The first hour written (the incremental case writes hour `fromHour` .. `hours - 1` only). @default 0 */
  fromHour?: number;
  /** Clock offset of each vantage in ms (vantage i gets offsets[i], else 0). @default [0, 37.5, -12.25] */
  clockOffsetsMs?: number[];
  /** @default 1 */
  seed?: number;
  /** DuckDB memory_limit for the generation. @default '1GB' */
  memoryLimit?: string;
  /** DuckDB threads. @default 2 */
  threads?: number;
}

export interface GenResult {
  /** Rows written per table by this call (hours fromHour .. hours - 1). */
  rows: { observations: number; items: number; peers: number; timeline: number };
  vantages: string[];
  /** Links (vantage, peer) over all vantages: observations per item. */
  links: number;
  /** Observations written per vantage by this call. */
  observationsByVantage: Record<string, number>;
  /** Blocks in the whole span (every vantage sees each, a block is announced within ~1 s). */
  blocks: number;
}

export const VANTAGE_NAMES = ['eu', 'us', 'asia', 'sa', 'af', 'oc'];
export const TABLE_NAMES = ['observations', 'peers', 'items', 'timeline'] as const;
/** The store's schema version, written into each file's key-value metadata as the store does. */
const SCHEMA_VERSION = String(STORE_SCHEMA_VERSION);

function resolved(o: GenOptions): Required<GenOptions> {
  const start = Math.floor((o.start ?? Date.UTC(2026, 0, 5)) / 3_600_000) * 3_600_000;
  return {
    out: o.out,
    hours: o.hours ?? 1,
    peers: o.peers ?? 10_000,
    vantages: o.vantages ?? 3,
    txPerSecond: o.txPerSecond ?? 7,
    blockIntervalS: o.blockIntervalS ?? 600,
    sharedEvery: o.sharedEvery ?? 20,
    coverage: o.coverage ?? 0.9,
    txidFraction: o.txidFraction ?? 0.1,
    start,
    fromHour: o.fromHour ?? 0,
    clockOffsetsMs: o.clockOffsetsMs ?? [0, 37.5, -12.25],
    seed: o.seed ?? 1,
    memoryLimit: o.memoryLimit ?? '1GB',
    threads: o.threads ?? 2,
  };
}

/** The run id of a vantage's synthetic run, in the store's form (YYYYMMDDTHHMMSSZ-xxxxxx). */
export function runIdOf(startMs: number, v: number, seed: number): string {
  const t = new Date(startMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${t}-${((seed * 0x9e37 + v * 0x85eb + 0x100000) & 0xffffff).toString(16).padStart(6, '0')}`;
}

/**
 * A uniform draw in (0, 1) from an integer expression below 2^62: two multiplications modulo the
 * prime 2^31 - 1 around an xorshift, in 64-bit integer arithmetic (vectorised by DuckDB, far
 * cheaper per row than hash() or md5 of text).
 */
const P = 2147483647;
const U = (expr: string): string => {
  const m = `((${expr}) % ${P} * 1103515245 % ${P})`;
  return `((xor(${m}, ${m} >> 13) * 48271 % ${P})::DOUBLE + 0.5) / ${P}.0`;
};

/** Writes the tree; resolves with what was written. */
export async function generate(options: GenOptions): Promise<GenResult> {
  const o = resolved(options);
  makeDirs(o.out);
  const db = await DuckDBInstance.create(':memory:', { memory_limit: o.memoryLimit, threads: String(o.threads), autoinstall_known_extensions: 'false' });
  const c = await db.connect();
  try {
    await c.run(`SET TimeZone = 'UTC'; SET preserve_insertion_order = false`);
    await defineTables(c, o);
    const rows = { observations: 0, items: 0, peers: 0, timeline: 0 };
    const observationsByVantage: Record<string, number> = {};
    for (let v = 0; v < o.vantages; v++) {
      for (const table of TABLE_NAMES) {
        const t = performance.now();
        const n = await writeTable(c, o, table, v);
        rows[table] += n;
        if (table === 'observations') observationsByVantage[VANTAGE_NAMES[v]!] = n;
        if (process.env.REPORTGEN_TRACE) console.error(`${table} v${v}: ${Math.round(performance.now() - t)} ms`);
      }
    }
    const links = Number((await c.runAndReadAll(`SELECT count(*) FROM links`)).getRows()[0]![0]);
    const blocks = Math.floor((o.hours * 3600) / o.blockIntervalS);
    return { rows, vantages: VANTAGE_NAMES.slice(0, o.vantages), links, observationsByVantage, blocks };
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/**
 * The longest origin-to-announcement delay, in seconds, with room to spare: a tx's network delay is
 * at most 3.5 s x e^1.2 (11.7 s), its trickle at most -5 s x ln(0.5 / (2^31 - 1)) (111 s), the
 * link latency 80 ms and the clock offsets tens of ms.
 */
const ORIGIN_MARGIN_S = 600;

/**
 * The draws made once: per link (vantage, peer) its address, node_id, txid/wtxid relay and
 * latency; per item its origin time, hash and the network's delay to reach the peers' median.
 * Observations combine them with one cheap per-row draw (the trickle).
 */
async function defineTables(c: DuckDBConnection, o: Required<GenOptions>): Promise<void> {
  const names = VANTAGE_NAMES.slice(0, o.vantages).map((n, i) => `('${n}', ${i}, ${o.clockOffsetsMs[i] ?? 0}, '${runIdOf(o.start, i, o.seed)}')`);
  const t0 = o.start * 1000; // microseconds
  const nTx = Math.round(o.hours * 3600 * o.txPerSecond);
  const nBlocks = Math.floor((o.hours * 3600) / o.blockIntervalS);
  // An extension (fromHour > 0) draws only the items that can be announced in its hours: those that
  // originate at most ORIGIN_MARGIN_S before its first hour. Item i keeps its draws (they hang on i),
  // so hours written in several calls equal the same hours written in one.
  const fromS = Math.max(0, o.fromHour * 3600 - ORIGIN_MARGIN_S);
  const firstTx = Math.ceil(fromS * o.txPerSecond);
  const firstBlock = Math.max(0, Math.ceil(fromS / o.blockIntervalS - 0.5));
  const s = o.seed;
  await c.run(`CREATE TABLE vantages(vantage VARCHAR, v INTEGER, offset_ms DOUBLE, run_id VARCHAR); INSERT INTO vantages VALUES ${names.join(', ')}`);
  await c.run(`CREATE TABLE links AS
    SELECT vantage, v, offset_ms, run_id, (p + 1)::UINTEGER AS peer, p,
           addr AS address,
           ('0x' || left(sha256('invscope-node-v1' || chr(0) || 'main' || chr(0) || addr), 16))::UBIGINT AS node_id,
           ${U(`p * 7 + ${s}`)} < ${o.txidFraction} AS by_txid,
           5 + 75 * ${U(`p * 13 + v * 1000003 + ${s}`)} AS latency_ms,
           -- a peer's own distance from the tx's source: a multiplier of the item's median delay
           exp(0.8 * (${U(`p * 17 + ${s}`)} - 0.5) * 3) AS reach_factor
    FROM (SELECT p, '10.' || (p // 65536) || '.' || ((p // 256) % 256) || '.' || (p % 256) || ':8333' AS addr FROM range(${o.peers}) r(p))
    JOIN vantages ON p % ${o.sharedEvery} = 0
      OR (p % ${o.vantages} = v AND ${U(`p * 19 + ${s}`)} < ${o.coverage})`);
  await c.run(`CREATE TABLE items AS
    SELECT i AS item, false AS is_block, ${t0} + (i * 1e6 / ${o.txPerSecond})::BIGINT AS origin_us,
           -- network delay to a median peer: 0.5-3.5 s per tx
           500 + 3000 * ${U(`i * 23 + ${s}`)} AS median_ms,
           sha256('txid' || ${s} || '-' || i) AS txid, sha256('wtxid' || ${s} || '-' || i) AS wtxid
    FROM range(${firstTx}, ${nTx}) r(i)
    UNION ALL
    SELECT ${nTx} + b, true, ${t0} + ((b + 0.5) * ${o.blockIntervalS} * 1e6)::BIGINT, 300, sha256('block' || ${s} || '-' || b), sha256('block' || ${s} || '-' || b)
    FROM range(${firstBlock}, ${nBlocks}) r(b)`);
}

/** Epoch microseconds of each observation of vantage v (and its link and item columns). */
function observationsUs(v: number): string {
  // A tx reaches a peer after the item's median network delay times the peer's reach factor, and
  // is announced to the vantage (an inbound peer) after Core's Poisson trickle (mean 5 s), plus
  // the link latency. A block is announced within ~1 s (no trickle): 0.3 s x reach + latency.
  const trickle = `-5000 * ln(${U(`item * 1000003 + p * 101 + ${v}`)})`;
  const delay = `(CASE WHEN is_block THEN median_ms * reach_factor ELSE median_ms * reach_factor + ${trickle} END + latency_ms + offset_ms)`;
  return `SELECT origin_us + (${delay} * 1000)::BIGINT AS t_us, l.*, i.*
    FROM (SELECT * FROM links WHERE v = ${v}) l, items i`;
}

/** date and hour of epoch microseconds by integer arithmetic (no strftime per row). */
const PARTITION = (us: string): string =>
  `(DATE '1970-01-01' + (${us} // 86400000000)::INTEGER) AS date, ((${us} // 3600000000) % 24)::INTEGER AS hour`;
const TS = (us: string): string => `make_timestamp(${us})::TIMESTAMPTZ`;

function observationsQuery(v: number): string {
  return `SELECT ${TS('t_us')} AS time, run_id, peer, node_id, address, 'inv' AS kind,
      CASE WHEN is_block THEN 'block' WHEN by_txid THEN 'witness_tx' ELSE 'wtx' END AS inv_type,
      CASE WHEN is_block THEN 'block' ELSE 'tx' END AS item_kind,
      CASE WHEN is_block THEN 'block' WHEN by_txid THEN 'txid' ELSE 'wtxid' END AS id_type,
      CASE WHEN is_block OR NOT by_txid THEN wtxid ELSE txid END AS hash, (p % 2)::UTINYINT AS shard, ${PARTITION('t_us')}
    FROM (${observationsUs(v)})`;
}

/**
 * One row per (hash) at the vantage, from a pass that keeps only time and two keys per row;
 * the delays to 50/90/99 % come from a 1-in-8 sample of the peers (the shape of the curve, not
 * its exact tail: the report under test computes its own figures from observations).
 */
function itemsQuery(v: number): string {
  const links = `(SELECT count(*) FROM links WHERE v = ${v})`;
  return `SELECT run_id, hash, item_kind, id_type, ${TS('first_us')} AS first_seen, first_peer, announcing_peers,
      ${links}::UINTEGER AS peers_at_first_seen, (q[1] - first_us) / 1000.0 AS t50_ms, (q[2] - first_us) / 1000.0 AS t90_ms,
      (q[3] - first_us) / 1000.0 AS t99_ms, ${PARTITION('first_us')}
    FROM (SELECT any_value(run_id) AS run_id, hash, any_value(CASE WHEN is_block THEN 'block' ELSE 'tx' END) AS item_kind,
        any_value(CASE WHEN is_block THEN 'block' WHEN by_txid THEN 'txid' ELSE 'wtxid' END) AS id_type,
        min(t_us) AS first_us, arg_min(peer, t_us) AS first_peer, count(*)::UINTEGER AS announcing_peers,
        quantile_disc(t_us, [0.5, 0.9, 0.99]) FILTER (WHERE p % 8 = 0) AS q
      FROM (SELECT *, CASE WHEN is_block OR NOT by_txid THEN wtxid ELSE txid END AS hash FROM (${observationsUs(v)}))
      GROUP BY hash)`;
}

function peersQuery(o: Required<GenOptions>): string {
  const first = o.start * 1000;
  const closed = (o.start + o.hours * 3_600_000) * 1000;
  return `SELECT run_id, peer, node_id, address, 'ipv4' AS network, 8333::UINTEGER AS port, true AS inbound, 'v2' AS transport,
      '/Satoshi:29.0.0/' AS user_agent, 70016 AS version, '3081' AS services, 900000 AS start_height,
      ${TS(String(first))} AS connected_at, ${TS(`${first} + 200000`)} AS ready_at, ${TS(String(closed))} AS closed_at,
      'local-close' AS close_reason, NULL::VARCHAR AS close_detail, 1::UINTEGER AS attempts,
      latency_ms * 1.8 AS ping_rtt_ms_min, latency_ms * 2 AS ping_rtt_ms_median, latency_ms * 3 AS ping_rtt_ms_max,
      0::UBIGINT AS bytes_in, 0::UBIGINT AS bytes_out, 0::UBIGINT AS msgs_in, 0::UBIGINT AS msgs_out, '{}' AS by_command, '{}' AS misbehaviour,
      ${PARTITION(String(first))}`;
}

function timelineQuery(o: Required<GenOptions>, v: number): string {
  const links = `(SELECT count(*) FROM links WHERE v = ${v})`;
  const us = `(${o.start * 1000} + s * 1000000)`;
  return `SELECT ${TS(us)} AS time, '${runIdOf(o.start, v, o.seed)}' AS run_id, ${links}::UINTEGER AS peers_connected, ${links}::UINTEGER AS peers_ready,
      0::UBIGINT AS inv_entries, 0::UBIGINT AS drops, 'chrony' AS clock_source, 'synced' AS clock_state,
      0.05::DOUBLE AS clock_offset_ms, 1.0::DOUBLE AS clock_error_ms, ${PARTITION(us)}
    FROM range(${o.hours * 3600}) r(s)`;
}

/** COPYs one table of one vantage for hours fromHour .. hours - 1; resolves with the rows written. */
async function writeTable(c: DuckDBConnection, o: Required<GenOptions>, table: (typeof TABLE_NAMES)[number], v: number): Promise<number> {
  const vantage = VANTAGE_NAMES[v]!;
  const runId = runIdOf(o.start, v, o.seed);
  const query =
    table === 'observations'
      ? observationsQuery(v)
      : table === 'items'
        ? itemsQuery(v)
        : table === 'peers'
          ? `${peersQuery(o)} FROM links WHERE v = ${v}`
          : timelineQuery(o, v);
  // The hours written: event time in [fromHour, hours), as an observe cut at hour boundaries (the
  // tail of the last hour's items belongs to the next hour, written by a later call).
  const fromHour = o.start / 3_600_000 + o.fromHour;
  const window = `(date - DATE '1970-01-01') * 24 + hour BETWEEN ${fromHour} AND ${o.start / 3_600_000 + o.hours - 1}`;
  const kv = `{"schema_version": '${SCHEMA_VERSION}', "table": '${table}', "vantage": '${vantage}', "run_id": '${runId}', "units": 'TIMESTAMP: UTC, microseconds; *_ms: milliseconds', "invscope": 'bench/reportgen'}`;
  const part = String(o.fromHour + 1).padStart(4, '0');
  if (o.hours - o.fromHour === 1) {
    // One hour: its one folder is known, so a plain COPY writes the file the partitioned COPY
    // would (same name, same columns: the partition keys are in the path, not in the file),
    // without the partitioned writer's per-row hashing and buffering.
    const h = new Date(o.start + o.fromHour * 3_600_000);
    const folder = `${o.out}/${table}/vantage=${vantage}/date=${h.toISOString().slice(0, 10)}/hour=${String(h.getUTCHours()).padStart(2, '0')}`;
    makeDirs(folder);
    const file = `${folder}/part-${runId}-${part}-0.parquet`;
    const r = await c.runAndReadAll(`COPY (SELECT * EXCLUDE (date, hour) FROM (${query}) WHERE ${window}) TO '${file}' (FORMAT parquet, COMPRESSION zstd, KV_METADATA ${kv})`);
    const n = Number(r.getRows()[0]?.[0] ?? 0);
    // As the store: a table with no rows in the hour has no file (COPY writes one with no rows).
    if (n === 0) rmSync(file);
    return n;
  }
  // The hour folders are two digits (hour=00), as the store writes them.
  const r = await c.runAndReadAll(
    `COPY (SELECT '${vantage}' AS vantage, * REPLACE (lpad(hour::VARCHAR, 2, '0') AS hour) FROM (${query}) WHERE ${window}) TO '${o.out}/${table}'
     (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (vantage, date, hour), OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'part-${runId}-${part}-{i}', KV_METADATA ${kv})`,
  );
  return Number(r.getRows()[0]?.[0] ?? 0);
}
