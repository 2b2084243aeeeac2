/**
 * bench/reportgen.ts against the store's file contract (its README's "Columns" table): every
 * table's column names, types, hive partition columns and key-value metadata keys, and row counts
 * that add up, on two hours of data from a few peers (test/fixtures/bench/store-contract-columns.md). Test process, cold path.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, TABLE_NAMES } from '../../bench/reportgen.js';
import { query } from '../store/duck.js';
import { FIXTURES } from '../helpers.js';

/** The contract's columns per table: the store README's column table, copied into the fixture. */
function contractColumns(): Record<string, [string, string][]> {
  const text = readFileSync(join(FIXTURES, 'bench', 'store-contract-columns.md'), 'utf8');
  const out: Record<string, [string, string][]> = {};
  for (const m of text.matchAll(/^\| (\w+) \| `(\w+)` \| (\w+) \|/gm)) (out[m[1]!] ??= []).push([m[2]!, m[3]!]);
  return out;
}

/** DuckDB's DESCRIBE names for the contract's type words. */
const DESCRIBED: Record<string, string> = { TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE' };

const dir = mkdtempSync(join(tmpdir(), 'invscope-reportgen-'));
const start = Date.UTC(2026, 0, 5, 23);
const result = generate({ out: dir, hours: 2, peers: 40, txPerSecond: 0.2, blockIntervalS: 1200, start, threads: 1, memoryLimit: '256MB' });

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('every table has the contract columns in order, with their types, plus vantage/date/hour from the path', async () => {
  await result;
  const contract = contractColumns();
  assert.equal(Object.keys(contract).sort(), [...TABLE_NAMES].sort());
  for (const table of TABLE_NAMES) {
    const rows = await query(`DESCRIBE SELECT * FROM read_parquet('${dir}/${table}/**/*.parquet', hive_partitioning = true)`);
    const got = rows.map((r) => [String(r['column_name']), String(r['column_type'])]);
    const want = contract[table]!.map(([n, t]) => [n, DESCRIBED[t] ?? t]);
    assert.equal(got.slice(0, want.length), want, table);
    const hive = Object.fromEntries(got.slice(want.length));
    assert.equal(Object.keys(hive).sort(), ['date', 'hour', 'vantage'], table);
    assert.equal([hive['vantage'], hive['date']], ['VARCHAR', 'DATE'], table);
  }
});

test('every file carries the store key-value metadata, naming its table, vantage and run', async () => {
  await result;
  const rows = await query(
    `SELECT file_name, decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${dir}/*/**/*.parquet')`,
  );
  const byFile = new Map<string, Record<string, string>>();
  for (const r of rows) (byFile.set(String(r['file_name']), byFile.get(String(r['file_name'])) ?? {}).get(String(r['file_name']))!)[String(r['k'])] = String(r['v']);
  assert.ok(byFile.size >= 4 * 3, 'a file per table and vantage');
  for (const [file, kv] of byFile) {
    assert.equal(Object.keys(kv).sort(), ['invscope', 'run_id', 'schema_version', 'table', 'units', 'vantage'], file);
    assert.equal(kv['schema_version'], '2');
    assert.ok(file.includes(`/${kv['table']}/vantage=${kv['vantage']}/date=`), file);
    assert.match(file, new RegExp(`/part-${kv['run_id']}-\\d{4}-\\d+\\.parquet$`));
    assert.match(kv['run_id']!, /^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
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
    const kv = async (d: string): Promise<unknown> =>
      query(`SELECT DISTINCT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${d}/*/**/*.parquet') ORDER BY ALL`);
    assert.equal(await kv(split), await kv(dir));
  } finally {
    rmSync(split, { recursive: true, force: true });
  }
});

test.run();
