/**
 * What the store's `hash` column costs on disk as display-order hex VARCHAR (what the store
 * writes) against 32-byte BLOB (src/store/README.md "Types and units"), on the same observations:
 * bench/reportgen.ts's mainnet-like hours for one vantage (7 tx/s, a block every 10 minutes, each
 * item announced by every connected peer), in receive-time order as the store writes them,
 * Parquet zstd with DuckDB's default row groups like the store's export. Prints bytes a row of
 * each file and of its hash column alone (parquet_metadata's compressed column chunks, dictionary
 * pages included). Refuses to report (exit 1) unless both files hold every generated row, in the
 * same order, the hex hashes 64 lowercase hex characters and the BLOB ones the same 32 bytes; a
 * bad option exits 2.
 *
 * `npm run bench:hashsize [-- --peers N --hours H --tx-per-second R --json --keep]`.
 * Bench process (DuckDB's threads do the work), cold path.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generate } from './reportgen.js';
import { sqlString } from '../src/store/schema.js';

export interface HashSizeOptions {
  /** Working directory (created files: gen/, hex.parquet, blob.parquet). */
  dir: string;
  /** Peers in reportgen's network; one vantage connects to about 90 % of them. @default 1100 */
  peers?: number;
  /** @default 1 */
  hours?: number;
  /** @default 7 */
  txPerSecond?: number;
  /** @default 1 */
  seed?: number;
  /** DuckDB threads. @default 2 */
  threads?: number;
  /** @default '2GB' */
  memoryLimit?: string;
}

/** One file's figures. */
export interface Variant {
  file: string;
  rows: number;
  rowGroups: number;
  bytes: number;
  bytesPerRow: number;
  /** The hash column's compressed chunks over every row group. */
  hashBytes: number;
  hashBytesPerRow: number;
}

export interface HashSizeResult {
  rows: number;
  distinctHashes: number;
  hex: Variant;
  blob: Variant;
}

/** Why the two files are not the same generated rows, or null when they are. */
export type Refusal = string | null;

async function withDuck<T>(threads: number, memoryLimit: string, f: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads), memory_limit: memoryLimit, autoinstall_known_extensions: 'false' });
  const c = await db.connect();
  try {
    await c.run(`SET TimeZone = 'UTC'`);
    return await f(c);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const one = async (c: DuckDBConnection, sql: string): Promise<number> => Number((await c.runAndReadAll(sql)).getRows()[0]![0]);

/**
 * Generates the observations (reportgen, one vantage) and writes them twice, sorted by receive
 * time: hex.parquet as generated, blob.parquet with unhex(hash). Resolves with the rows generated.
 */
export async function writeVariants(o: HashSizeOptions): Promise<{ rows: number; hex: string; blob: string; distinctHashes: number }> {
  const gen = join(o.dir, 'gen');
  const g = await generate({ out: gen, hours: o.hours ?? 1, peers: o.peers ?? 1100, vantages: 1, txPerSecond: o.txPerSecond ?? 7, seed: o.seed ?? 1, threads: o.threads ?? 2, memoryLimit: o.memoryLimit ?? '2GB' });
  const hex = join(o.dir, 'hex.parquet');
  const blob = join(o.dir, 'blob.parquet');
  const distinctHashes = await withDuck(o.threads ?? 2, o.memoryLimit ?? '2GB', async (c) => {
    await c.run(`SET temp_directory = ${sqlString(join(o.dir, 'spill'))}`);
    const src = `read_parquet(${sqlString(`${gen}/observations/**/*.parquet`)})`;
    await c.run(`COPY (SELECT * FROM ${src} ORDER BY time, peer) TO ${sqlString(hex)} (FORMAT parquet, COMPRESSION zstd)`);
    // Insertion order is kept (DuckDB's default): the same rows in the same order, hash as bytes.
    await c.run(`COPY (SELECT * REPLACE (unhex(hash) AS hash) FROM read_parquet(${sqlString(hex)})) TO ${sqlString(blob)} (FORMAT parquet, COMPRESSION zstd)`);
    return one(c, `SELECT count(DISTINCT hash) FROM read_parquet(${sqlString(hex)})`);
  });
  rmSync(gen, { recursive: true, force: true });
  rmSync(join(o.dir, 'spill'), { recursive: true, force: true });
  return { rows: g.rows.observations, hex, blob, distinctHashes };
}

/**
 * The refusal rule: both files hold `rows` rows (and more than none), the hex hashes are 64
 * lowercase hex characters, the BLOB ones 32 bytes, and row by row the times, peers and hashes
 * agree (the BLOB is the hex decoded).
 */
export async function verifyVariants(hex: string, blob: string, rows: number): Promise<Refusal> {
  return withDuck(2, '1GB', async (c) => {
    const h = `read_parquet(${sqlString(hex)})`;
    const b = `read_parquet(${sqlString(blob)})`;
    if (!(rows > 0)) return `no rows generated (${rows})`;
    for (const [name, src] of [['hex', h], ['blob', b]] as const) {
      const n = await one(c, `SELECT count(*) FROM ${src}`);
      if (n !== rows) return `${name}.parquet holds ${n} rows, ${rows} were generated`;
    }
    const badHex = await one(c, `SELECT count(*) FROM ${h} WHERE NOT regexp_full_match(hash, '[0-9a-f]{64}')`);
    if (badHex > 0) return `${badHex} hex hashes are not 64 lowercase hex characters`;
    const badBlob = await one(c, `SELECT count(*) FROM ${b} WHERE octet_length(hash) <> 32`);
    if (badBlob > 0) return `${badBlob} BLOB hashes are not 32 bytes`;
    const differ = await one(c, `SELECT count(*) FROM ${h} x POSITIONAL JOIN ${b} y WHERE x.time IS DISTINCT FROM y.time OR x.peer IS DISTINCT FROM y.peer OR x.hash IS DISTINCT FROM lower(hex(y.hash))`);
    if (differ > 0) return `${differ} rows differ between hex.parquet and blob.parquet`;
    return null;
  });
}

/** A file's size, rows, row groups and its hash column's compressed bytes. */
export async function measureVariant(file: string): Promise<Variant> {
  return withDuck(1, '256MB', async (c) => {
    const [rows, rowGroups, hashBytes] = (
      await c.runAndReadAll(
        `SELECT (SELECT sum(num_rows) FROM (SELECT DISTINCT row_group_id, row_group_num_rows AS num_rows FROM parquet_metadata(${sqlString(file)}))),
           count(DISTINCT row_group_id), sum(total_compressed_size) FILTER (WHERE path_in_schema = 'hash')
         FROM parquet_metadata(${sqlString(file)})`,
      )
    )
      .getRows()[0]!
      .map(Number) as [number, number, number];
    const bytes = statSync(file).size;
    return { file, rows, rowGroups, bytes, bytesPerRow: bytes / rows, hashBytes, hashBytesPerRow: hashBytes / rows };
  });
}

/** Writes both files, checks them and measures them; a Refusal when the check fails. */
export async function hashSize(o: HashSizeOptions): Promise<HashSizeResult | { refusal: string }> {
  const w = await writeVariants(o);
  const refusal = await verifyVariants(w.hex, w.blob, w.rows);
  if (refusal !== null) return { refusal };
  return { rows: w.rows, distinctHashes: w.distinctHashes, hex: await measureVariant(w.hex), blob: await measureVariant(w.blob) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      peers: { type: 'string', default: '1100' },
      hours: { type: 'string', default: '1' },
      'tx-per-second': { type: 'string', default: '7' },
      json: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  });
  const peers = Number(values.peers);
  const hours = Number(values.hours);
  const txPerSecond = Number(values['tx-per-second']);
  if (!(Number.isInteger(peers) && peers >= 1 && Number.isInteger(hours) && hours >= 1 && txPerSecond > 0 && Number.isFinite(txPerSecond))) {
    console.error(`bench:hashsize: --peers and --hours take integers of at least 1, --tx-per-second a positive number, not ${JSON.stringify([values.peers, values.hours, values['tx-per-second']])}`);
    process.exitCode = 2;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'invscope-hashsize-'));
  const load = loadavg()[0]!;
  const t0 = performance.now();
  const r = await hashSize({ dir, peers, hours, txPerSecond });
  const wallS = (performance.now() - t0) / 1000;
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  if ('refusal' in r) {
    console.error(`bench: refusing to report: ${r.refusal}`);
    process.exitCode = 1;
    return;
  }
  const machine = { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg1AtStart: load };
  if (values.json) {
    console.log(JSON.stringify({ machine, peers, hours, txPerSecond, wallS, ...r }, null, 2));
    return;
  }
  const line = (name: string, v: Variant): string =>
    `${name}: ${v.bytesPerRow.toFixed(3)} bytes a row (${v.bytes.toLocaleString('en')} bytes, ${v.rowGroups} row groups), hash column ${v.hashBytesPerRow.toFixed(3)} bytes a row (${v.hashBytes.toLocaleString('en')} bytes)`;
  console.log(`${r.rows.toLocaleString('en')} observations of ${r.distinctHashes.toLocaleString('en')} hashes (${hours} h, ${peers} peers, ${txPerSecond} tx/s), receive-time order, zstd`);
  console.log(line('hex VARCHAR', r.hex));
  console.log(line('32-byte BLOB', r.blob));
  console.log(`hex costs ${(r.hex.bytesPerRow - r.blob.bytesPerRow).toFixed(3)} bytes a row more (${((r.hex.bytes / r.blob.bytes - 1) * 100).toFixed(1)} % of the file)`);
  console.log(`${wallS.toFixed(0)} s; load ${load.toFixed(1)} on ${cpus().length} cores, node ${process.version}`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/dist\//, '/dist/'))) await main();
