/**
 * bench/reportgen.ts against the store's file contract, src/store/schema.ts itself: every table's
 * Parquet columns (names in order, physical, converted and logical types, repetition) equal both
 * PARQUET_SCHEMA and the files the store itself writes; the key-value metadata is the store's
 * (SCHEMA_VERSION, UNITS, table, vantage, run); the hive folders are the store's layout; and row
 * counts add up, on two hours of data from a few peers. Test process, cold path.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { generate, TABLE_NAMES } from '../../bench/reportgen.js';
import { Store } from '../../src/store/index.js';
import { EVENT_TIME, PARQUET_SCHEMA, PARTITION_COLUMNS, SCHEMA_VERSION, TABLES, UNITS } from '../../src/store/schema.js';
import { query } from '../store/duck.js';

/**
 * How DuckDB's Parquet writer stores each type word of PARQUET_SCHEMA (physical type, converted
 * type, logical type), from the Parquet format's spec: a type the store starts using that is not
 * here fails the test until it is added.
 */
const PARQUET_TYPES: Record<string, { type: string; converted_type: string | null; logical_type: string | null; duckdb_type: string }> = {
  TIMESTAMPTZ: {
    type: 'INT64',
    converted_type: 'TIMESTAMP_MICROS',
    logical_type: 'TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))',
    duckdb_type: 'TIMESTAMP WITH TIME ZONE',
  },
  VARCHAR: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: null, duckdb_type: 'VARCHAR' },
  BOOLEAN: { type: 'BOOLEAN', converted_type: null, logical_type: null, duckdb_type: 'BOOLEAN' },
  UTINYINT: { type: 'INT32', converted_type: 'UINT_8', logical_type: null, duckdb_type: 'UTINYINT' },
  INTEGER: { type: 'INT32', converted_type: 'INT_32', logical_type: null, duckdb_type: 'INTEGER' },
  UINTEGER: { type: 'INT32', converted_type: 'UINT_32', logical_type: null, duckdb_type: 'UINTEGER' },
  UBIGINT: { type: 'INT64', converted_type: 'UINT_64', logical_type: null, duckdb_type: 'UBIGINT' },
  DOUBLE: { type: 'DOUBLE', converted_type: null, logical_type: null, duckdb_type: 'DOUBLE' },
};

/** The leaf columns of Parquet files as parquet_schema() gives them, per file (the root element left out). */
async function schemaOf(glob: string): Promise<Map<string, Record<string, unknown>[]>> {
  const rows = await query(
    `SELECT file_name, name, type, converted_type, logical_type, repetition_type, duckdb_type FROM parquet_schema('${glob}') WHERE num_children IS NULL`,
  );
  const out = new Map<string, Record<string, unknown>[]>();
  for (const { file_name, ...col } of rows) out.set(String(file_name), [...(out.get(String(file_name)) ?? []), col]);
  return out;
}

/** The key-value metadata of Parquet files, per file. */
async function kvOf(glob: string): Promise<Map<string, Record<string, string>>> {
  const rows = await query(`SELECT file_name, decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${glob}')`);
  const out = new Map<string, Record<string, string>>();
  for (const r of rows) {
    const f = String(r['file_name']);
    out.set(f, { ...out.get(f), [String(r['k'])]: String(r['v']) });
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'invscope-reportgen-'));
const start = Date.UTC(2026, 0, 5, 23);
const result = generate({ out: dir, hours: 2, peers: 40, txPerSecond: 0.2, blockIntervalS: 1200, start, threads: 1, memoryLimit: '256MB' });

/** A run the store itself writes: one row of every table, so every table has a file to compare with. */
const storeDir = mkdtempSync(join(tmpdir(), 'invscope-reportgen-store-'));
const stored = (async () => {
  const t0 = start + 1_000.25;
  const store = await Store.open({ dir: storeDir, vantage: 'ref', runId: '20260105T230000Z-abcdef', network: 'main', version: 'test' });
  store.appendObservation(t0, 1, '10.0.0.1:8333', 'inv', 5, 'ab'.repeat(32), 0);
  store.appendPeer({
    peer: 1, address: '10.0.0.1:8333', network: 'ipv4', port: 8333, inbound: true, transport: 'v2', user_agent: '/Satoshi:29.0.0/', version: 70016,
    services: '3081', start_height: 900_000, connected_at: t0 - 500, ready_at: t0 - 300, closed_at: t0 + 5_000, close_reason: 'local-close', close_detail: null,
    ping_rtt_ms_min: 1, ping_rtt_ms_median: 2, ping_rtt_ms_max: 3, bytes_in: 10, bytes_out: 20, msgs_in: 1, msgs_out: 2, by_command: '{}', misbehaviour: '{}',
  });
  store.appendItem({ hash: 'ab'.repeat(32), item_kind: 'tx', id_type: 'wtxid', first_seen: t0, first_peer: 1, announcing_peers: 1, peers_at_first_seen: 1, t50: 0, t90: null, t99: null });
  store.appendTimeline({ time: t0, peers_connected: 1, peers_ready: 1, inv_entries: 1, drops: 0 });
  await store.close();
})();

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(storeDir, { recursive: true, force: true });
});

test("the tables are the store's", () => {
  assert.equal([...TABLE_NAMES], [...TABLES]);
});

test("every file's columns are PARQUET_SCHEMA's, in order, stored as the store stores them (types, repetition)", async () => {
  await Promise.all([result, stored]);
  for (const table of TABLES) {
    const want = Object.entries(PARQUET_SCHEMA[table]).map(([name, word]) => {
      const parquet = PARQUET_TYPES[word];
      assert.ok(parquet !== undefined, `${table}.${name}: no Parquet type known for ${word}`);
      return { name, ...parquet, repetition_type: 'OPTIONAL' };
    });
    const mine = await schemaOf(`${dir}/${table}/**/*.parquet`);
    const theirs = await schemaOf(`${storeDir}/${table}/**/*.parquet`);
    assert.is(theirs.size, 1, `${table}: the store wrote one file`);
    // The store's own file is the reference of what PARQUET_SCHEMA becomes (nullability included).
    assert.equal([...theirs.values()][0], want, `${table}: the store's file`);
    assert.ok(mine.size >= 3, `${table}: a file per vantage at least`);
    for (const [file, cols] of mine) assert.equal(cols, want, file);
  }
});

test("every file's key-value metadata has the store's keys, SCHEMA_VERSION, UNITS, and its table, vantage and run", async () => {
  await Promise.all([result, stored]);
  const storeKeys = [...(await kvOf(`${storeDir}/*/**/*.parquet`)).values()].map((kv) => Object.keys(kv).sort());
  assert.is(storeKeys.length, TABLES.length);
  const byFile = await kvOf(`${dir}/*/**/*.parquet`);
  assert.ok(byFile.size >= TABLES.length * 3, 'a file per table and vantage');
  for (const [file, kv] of byFile) {
    for (const keys of storeKeys) assert.equal(Object.keys(kv).sort(), keys, file);
    assert.is(kv['schema_version'], String(SCHEMA_VERSION), file);
    assert.is(kv['units'], UNITS, file);
    assert.ok(kv['invscope']!.length > 0, file);
    assert.match(kv['run_id']!, /^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    const path = relative(dir, file).split('/');
    assert.is(path[0], kv['table'], file);
    assert.is(path[1], `vantage=${kv['vantage']}`, file);
    assert.match(path.at(-1)!, new RegExp(`^part-${kv['run_id']}-\\d{4}(-\\d+)?\\.parquet$`), file);
  }
});

test("the folders are the store's layout: vantage=NAME/date=YYYY-MM-DD/hour=HH, each row under its event time's hour", async () => {
  await Promise.all([result, stored]);
  const layout = new RegExp(`^(\\w+)/${PARTITION_COLUMNS.map((c) => `${c}=([^/]+)`).join('/')}/[^/]+\\.parquet$`);
  const folders = async (root: string): Promise<string[][]> =>
    (await query(`SELECT file FROM glob('${root}/*/**/*.parquet')`)).map((r) => layout.exec(relative(root, String(r['file'])))?.slice(1) ?? [String(r['file'])]);
  const theirs = await folders(storeDir);
  const mine = await folders(dir);
  assert.equal(theirs.map((f) => f.length), TABLES.map(() => 4), 'the store writes the layout');
  for (const f of [...theirs, ...mine]) {
    assert.is(f.length, 4, f.join('/'));
    assert.match(f[2]!, /^\d{4}-\d{2}-\d{2}$/, f.join('/'));
    assert.match(f[3]!, /^\d{2}$/, f.join('/'));
  }
  assert.equal([...new Set(mine.map((f) => `${f[2]} ${f[3]}`))].sort(), ['2026-01-05 23', '2026-01-06 00']);
  // As the store's: a file only where a table has rows.
  const [empty] = await query(`SELECT count(*)::INTEGER AS n FROM parquet_file_metadata('${dir}/*/**/*.parquet') WHERE num_rows = 0`);
  assert.is(empty!['n'], 0, 'no file without rows');
  for (const table of TABLES) {
    const ev = `(${EVENT_TIME[table]}) AT TIME ZONE 'UTC'`;
    const [r] = await query(`SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE date <> (${ev})::DATE OR hour <> hour(${ev}))::INTEGER AS misfiled
      FROM read_parquet('${dir}/${table}/**/*.parquet', hive_partitioning = true)`);
    assert.ok((r!['n'] as number) > 0, table);
    assert.is(r!['misfiled'], 0, table);
  }
});

test('rows: one observation per (link, item) inside the hours, items per hash, partitions by event time', async () => {
  const r = await result;
  const [obs] = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT hash)::INTEGER AS hashes, min(time) AS lo, max(time) AS hi,
      count(*) FILTER (WHERE date <> time::DATE OR hour <> hour(time))::INTEGER AS misfiled
    FROM read_parquet('${dir}/observations/**/*.parquet', hive_partitioning = true)`);
  assert.equal(obs!['n'], r.rows.observations);
  assert.equal(obs!['misfiled'], 0);
  assert.ok((obs!['lo'] as Date).getTime() >= start && (obs!['hi'] as Date).getTime() < start + 2 * 3_600_000);
  // 1,440 txs and 6 blocks over 2 h; every (link, item) whose announcement falls inside the hours.
  const items = 1440 + 6;
  assert.ok(r.rows.observations <= r.links * items && r.rows.observations > r.links * items * 0.95, `${r.rows.observations} of ${r.links * items}`);
  const [it] = await query(`SELECT count(*)::INTEGER AS n, sum(announcing_peers)::INTEGER AS ann, count(*) FILTER (id_type = 'block')::INTEGER AS blocks
    FROM read_parquet('${dir}/items/**/*.parquet', hive_partitioning = true)`);
  assert.equal(it!['n'], r.rows.items);
  assert.equal(it!['blocks'], 6 * 3);
  const [nodes] = await query(`SELECT count(*)::INTEGER AS links, count(DISTINCT node_id)::INTEGER AS nodes, count(DISTINCT vantage)::INTEGER AS vantages
    FROM read_parquet('${dir}/peers/**/*.parquet', hive_partitioning = true)`);
  assert.equal([nodes!['links'], nodes!['vantages']], [r.links, 3]);
  assert.ok((nodes!['nodes'] as number) < r.links, 'vantages overlap on the shared peers');
});

test('delays have mainnet shape: txs spread over seconds by the trickle, blocks within about a second', async () => {
  await result;
  const rows = await query(`SELECT id_type = 'block' AS block, median(t50_ms) AS t50, median(t90_ms) AS t90
    FROM read_parquet('${dir}/items/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY block`);
  const [tx, block] = rows.map((r) => [Number(r['t50']), Number(r['t90'])]);
  // A tx: the peers' network delays (0.15-12 s) plus a 5 s mean trickle, from the first sighting.
  assert.ok(tx![0]! > 1_000 && tx![0]! < 15_000 && tx![1]! > tx![0]!, `tx t50/t90 ${tx}`);
  // A block: 0.3 s x the peer's reach factor (0.09-1 s) plus the link latency, no trickle.
  assert.ok(block![1]! > 50 && block![1]! < 1_500, `block t90 ${block![1]}`);
});

test('hours written in two calls (an extension by fromHour) equal the same hours written in one', async () => {
  await result;
  const split = mkdtempSync(join(tmpdir(), 'invscope-reportgen-split-'));
  try {
    const opts = { out: split, peers: 40, txPerSecond: 0.2, blockIntervalS: 1200, start, threads: 1, memoryLimit: '256MB' };
    const a = await generate({ ...opts, hours: 1 });
    const b = await generate({ ...opts, hours: 2, fromHour: 1 });
    const r = await result;
    assert.equal(a.rows.observations + b.rows.observations, r.rows.observations);
    assert.equal(a.rows.items + b.rows.items, r.rows.items);
    const digest = async (d: string): Promise<unknown> =>
      (await query(`SELECT count(*)::INTEGER AS n, sum(epoch_us(time) % 1000003)::BIGINT AS t, sum(hash(hash, peer) % 1000003)::BIGINT AS h
        FROM read_parquet('${d}/observations/**/*.parquet', hive_partitioning = true)`))[0];
    assert.equal(await digest(split), await digest(dir));
    // A one-hour call writes its folder with a plain COPY: the same columns, types and metadata.
    for (const table of TABLE_NAMES) {
      const described = async (d: string): Promise<unknown> => query(`DESCRIBE SELECT * FROM read_parquet('${d}/${table}/**/*.parquet', hive_partitioning = true)`);
      assert.equal(await described(split), await described(dir), table);
    }
    const [empty] = await query(`SELECT count(*)::INTEGER AS n FROM parquet_file_metadata('${split}/*/**/*.parquet') WHERE num_rows = 0`);
    assert.is(empty!['n'], 0, 'an extension writes no file for a table without rows in its hours');
    const kv = async (d: string): Promise<unknown> =>
      query(`SELECT DISTINCT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${d}/*/**/*.parquet') ORDER BY ALL`);
    assert.equal(await kv(split), await kv(dir));
  } finally {
    rmSync(split, { recursive: true, force: true });
  }
});

test.run();
