/**
 * A second, independent Parquet reader (hyparquet, tests only) reads a run's partitioned tree: the
 * partition columns from the hive folders, the contract's columns with their logical types, times
 * as UTC instants (TIMESTAMP isAdjustedToUTC, microseconds). zstd pages are decompressed by the
 * system's zstd tool (Node 20 has no zstd in zlib), so DuckDB takes no part in the reading.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { asyncBufferFromFile } from 'hyparquet/src/node.js';
import { Store } from '../../src/store/index.js';
import { PARQUET_SCHEMA, TABLES } from '../../src/store/schema.js';

const zstd = (input: Uint8Array, outputLength: number): Uint8Array => {
  const r = spawnSync('zstd', ['-d', '-c', '-q'], { input });
  if (r.status !== 0 || r.stdout.length !== outputLength) throw new Error(`zstd -d failed: ${r.error?.message ?? r.stderr}`);
  return new Uint8Array(r.stdout);
};

function parquetFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: false } as { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.parquet'))
    .sort()
    .map((f) => join(dir, f));
}

/** vantage=, date=, hour= from a file's folders, as a hive reader takes them. */
const partitionsOf = (root: string, file: string): Record<string, string> =>
  Object.fromEntries(relative(root, file).split(sep).slice(0, -1).map((d) => d.split('=') as [string, string]));

test('hyparquet reads the partitioned tree: partition columns, logical types, UTC timestamps', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'invscope-hyparquet-'));
  const t0 = Date.UTC(2026, 0, 5, 23, 59, 59, 500) + 0.25; // a quarter of a millisecond: microseconds kept
  const store = await Store.open({ dir, vantage: 'eu-1', runId: '20260105T235959Z-abcdef', network: 'main', version: 't' });
  store.appendObservation(t0, 4, '10.0.0.4:8333', 'inv', 5, 'ab'.repeat(32), 1);
  store.appendObservation(t0 + 1000, 5, '10.0.0.5:8333', 'inv', 1, 'cd'.repeat(32), 0); // MSG_TX, next day, hour 00
  store.appendTimeline({ time: t0, peers_connected: 2, peers_ready: 2, inv_entries: 1, drops: 0 });
  store.appendItem({ hash: 'ab'.repeat(32), item_kind: 'tx', id_type: 'wtxid', first_seen: t0, first_peer: 4, announcing_peers: 1, peers_at_first_seen: 2, t50: 0, t90: null, t99: null });
  await store.close();

  const root = join(dir, 'observations');
  const files = parquetFiles(root);
  assert.equal(files.map((f) => partitionsOf(root, f)), [
    { vantage: 'eu-1', date: '2026-01-05', hour: '23' },
    { vantage: 'eu-1', date: '2026-01-06', hour: '00' },
  ]);
  const rows: Record<string, unknown>[] = [];
  for (const f of files) {
    const file = await asyncBufferFromFile(f);
    const metadata = await parquetMetadataAsync(file);
    const time = parquetSchema(metadata).children.find((c) => c.element.name === 'time')!.element;
    assert.equal(time.logical_type, { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, 'TIMESTAMP, UTC, microseconds');
    const kv = Object.fromEntries((metadata.key_value_metadata ?? []).map((e) => [e.key, e.value]));
    assert.is(kv.vantage, 'eu-1');
    assert.is(kv.schema_version, '2');
    const names = parquetSchema(metadata).children.map((c) => c.element.name);
    assert.equal(names, Object.keys(PARQUET_SCHEMA.observations), 'the contract columns, in order');
    for (const r of await parquetReadObjects({ file, compressors: { ZSTD: zstd }, utf8: true })) rows.push({ ...r, ...partitionsOf(root, f) });
  }
  assert.is(rows.length, 2);
  const first = rows[0]!;
  assert.instance(first.time, Date);
  assert.is((first.time as Date).toISOString(), '2026-01-05T23:59:59.500Z', 'a UTC instant');
  assert.is(first.id_type, 'wtxid');
  assert.is(first.hash, 'ab'.repeat(32));
  assert.is(typeof first.node_id, 'bigint');
  assert.is(first.run_id, '20260105T235959Z-abcdef');
  assert.is(rows[1]!.id_type, 'txid');
  assert.is(rows[1]!.date, '2026-01-06');
  // Every table's files decode whole with the contract's columns.
  for (const t of TABLES) {
    for (const f of parquetFiles(join(dir, t))) {
      const file = await asyncBufferFromFile(f);
      const got = await parquetReadObjects({ file, compressors: { ZSTD: zstd } });
      assert.ok(got.length > 0, f);
      assert.equal(Object.keys(got[0]!), Object.keys(PARQUET_SCHEMA[t]), t);
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

test.run();
