/**
 * A second, independent Parquet reader (hyparquet, tests only) reads a run's partitioned tree: the
 * contract's columns with their logical types; every time, read as integer microseconds (a custom
 * timestampFromMicroseconds parser: hyparquet's default Date drops them), equal to what was
 * stored and to DuckDB's epoch_us of the same row; and every row's hive folders equal the UTC date
 * and hour of its event time as read by hyparquet, the vantage folder the file's own metadata.
 * zstd pages are decompressed by the system's zstd tool (Node 20 has no zstd in zlib).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type FileMetaData } from 'hyparquet';
import { asyncBufferFromFile } from 'hyparquet/src/node.js';
import { Store, type PeerRow } from '../../src/store/index.js';
import { PARQUET_SCHEMA, TABLES, type TableName } from '../../src/store/schema.js';
import { query } from './duck.js';

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

/** Times (epoch ms with a fraction) and what they are in integer microseconds. */
const us = (ms: number): bigint => BigInt(Math.round(ms * 1000));
const t0 = Date.UTC(2026, 0, 5, 23, 59, 59, 500) + 0.25; // 23:59:59.500250
const t1 = t0 + 1000.125; // 00:00:00.500375 the next day
const t2 = Date.UTC(2026, 0, 6, 8, 30) + 0.001; // 08:30:00.000001
const failedAt = Date.UTC(2026, 0, 6, 1, 10) + 0.5; // a failed dial: no connected_at, filed by closed_at

/** What a hive reader takes from a file's folders: { vantage, date, hour } as text. */
const folders = (root: string, file: string): Record<string, string> =>
  Object.fromEntries(relative(root, file).split(sep).slice(0, -1).map((d) => d.split('=') as [string, string]));

/** Each table's event time (src/store/README.md "Layout"), from a row of microsecond times. */
const EVENT: Record<TableName, (r: Record<string, unknown>) => unknown> = {
  observations: (r) => r.time,
  peers: (r) => r.connected_at ?? r.closed_at,
  items: (r) => r.first_seen,
  timeline: (r) => r.time,
};

const peer = (p: number, over: Partial<PeerRow>): PeerRow => ({
  peer: p, address: `10.0.0.${p}:8333`, network: 'ipv4', port: 8333, inbound: false, transport: 'v1', user_agent: '/Satoshi:29.0.0/', version: 70016,
  services: '1033', start_height: 900_000, connected_at: t0 - 500.5, ready_at: t0 - 300.75, closed_at: t2, close_reason: 'local-close', close_detail: null,
  ping_rtt_ms_min: 1, ping_rtt_ms_median: 2, ping_rtt_ms_max: 3, bytes_in: 10, bytes_out: 20, msgs_in: 1, msgs_out: 2, by_command: '{}', misbehaviour: '{}',
  ...over,
});

const dir = mkdtempSync(join(tmpdir(), 'invscope-hyparquet-'));
const written = (async () => {
  const store = await Store.open({ dir, vantage: 'eu-1', runId: '20260105T235959Z-abcdef', network: 'main', version: 't' });
  store.appendObservation(t0, 4, '10.0.0.4:8333', 'inv', 5, 'ab'.repeat(32), 1);
  store.appendObservation(t1, 5, '10.0.0.5:8333', 'inv', 1, 'cd'.repeat(32), 0); // MSG_TX
  store.appendObservation(t2, 4, '10.0.0.4:8333', 'inv', 5, 'ef'.repeat(32), 1);
  store.appendPeer(peer(4, {}));
  store.appendPeer(peer(6, { connected_at: null, ready_at: null, closed_at: failedAt, close_reason: 'connect-failed', close_detail: 'ECONNREFUSED' }));
  store.appendTimeline({ time: t0, peers_connected: 2, peers_ready: 2, inv_entries: 1, drops: 0 });
  store.appendItem({ hash: 'ab'.repeat(32), item_kind: 'tx', id_type: 'wtxid', first_seen: t0, first_peer: 4, announcing_peers: 1, peers_at_first_seen: 2, t50: 0, t90: null, t99: null });
  await store.close();
})();

test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A file's rows as hyparquet decodes them: times as bigint microseconds, or as its default Date. */
async function readRows(f: string, micros: boolean): Promise<{ metadata: FileMetaData; rows: Record<string, unknown>[] }> {
  const file = await asyncBufferFromFile(f);
  const metadata = await parquetMetadataAsync(file);
  const parsers = micros ? { timestampFromMicroseconds: (v: bigint): bigint => v } : {};
  return { metadata, rows: await parquetReadObjects({ file, compressors: { ZSTD: zstd }, parsers }) };
}

/** The columns of a file whose logical type is a timestamp. */
const timeColumns = (metadata: FileMetaData): string[] =>
  parquetSchema(metadata).children.filter((c) => c.element.logical_type?.type === 'TIMESTAMP').map((c) => c.element.name);

test('the contract columns, in order, with times as TIMESTAMP (UTC, microseconds), in every table', async () => {
  await written;
  for (const t of TABLES) {
    const files = parquetFiles(join(dir, t));
    assert.ok(files.length > 0, t);
    for (const f of files) {
      const { metadata, rows } = await readRows(f, false);
      const schema = parquetSchema(metadata).children;
      assert.equal(schema.map((c) => c.element.name), Object.keys(PARQUET_SCHEMA[t]), f);
      const times = Object.entries(PARQUET_SCHEMA[t]).filter(([, ty]) => ty === 'TIMESTAMPTZ').map(([c]) => c);
      assert.equal(timeColumns(metadata), times, f);
      for (const c of schema.filter((x) => times.includes(x.element.name))) {
        assert.equal(c.element.logical_type, { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, `${f} ${c.element.name}`);
      }
      assert.ok(rows.length > 0, f);
      for (const r of rows) for (const c of times) assert.ok(r[c] === null || r[c] instanceof Date, `${f} ${c}: a Date by default`);
    }
  }
  const obs = [];
  for (const f of parquetFiles(join(dir, 'observations'))) obs.push(...(await readRows(f, false)).rows);
  assert.equal(obs.map((r) => [r.hash, r.id_type, r.run_id, typeof r.node_id]), [
    ['ab'.repeat(32), 'wtxid', '20260105T235959Z-abcdef', 'bigint'],
    ['cd'.repeat(32), 'txid', '20260105T235959Z-abcdef', 'bigint'],
    ['ef'.repeat(32), 'wtxid', '20260105T235959Z-abcdef', 'bigint'],
  ]);
  assert.is((obs[0]!.time as Date).toISOString(), '2026-01-05T23:59:59.500Z', 'the default Date: a UTC instant, to the millisecond');
});

test('times to the microsecond: hyparquet equals what was stored and DuckDB epoch_us of the same rows', async () => {
  await written;
  const got = new Map<string, bigint>();
  for (const t of TABLES) {
    for (const f of parquetFiles(join(dir, t))) {
      const { metadata, rows } = await readRows(f, true);
      const cols = timeColumns(metadata);
      // DuckDB reads the same file in file order; epoch_us as text keeps all 64 bits.
      const duck = await query(`SELECT ${cols.map((c) => `epoch_us(${c})::VARCHAR AS ${c}`).join(', ')} FROM read_parquet('${f}')`);
      assert.is(duck.length, rows.length, f);
      rows.forEach((r, i) => {
        for (const c of cols) {
          const v = r[c];
          assert.ok(v === null || typeof v === 'bigint', `${f} ${c}: ${typeof v}`);
          assert.is(v === null ? null : String(v), duck[i]![c] as string | null, `${f} row ${i} ${c}`);
        }
      });
      if (t === 'observations') for (const r of rows) got.set(r.hash as string, r.time as bigint);
    }
  }
  // And the values are the stored instants, fractions of a millisecond included.
  assert.equal(Object.fromEntries(got), { ['ab'.repeat(32)]: us(t0), ['cd'.repeat(32)]: us(t1), ['ef'.repeat(32)]: us(t2) });
  assert.is(us(t0) % 1000n, 250n);
  assert.is(us(t2) % 1000n, 1n);
});

test("every row's folders are its event time's UTC date and hour, and the file's vantage", async () => {
  await written;
  const seen: Record<string, string[]> = {};
  for (const t of TABLES) {
    const root = join(dir, t);
    for (const f of parquetFiles(root)) {
      const { metadata, rows } = await readRows(f, true);
      const kv = Object.fromEntries((metadata.key_value_metadata ?? []).map((e) => [e.key, e.value]));
      const where = folders(root, f);
      assert.equal(Object.keys(where), ['vantage', 'date', 'hour'], f);
      assert.is(where.vantage, kv.vantage, f);
      assert.is(kv.vantage, 'eu-1');
      for (const r of rows) {
        // The event time in microseconds, as a UTC instant by JavaScript's own calendar.
        const iso = new Date(Number((EVENT[t](r) as bigint) / 1000n)).toISOString();
        assert.is(where.date, iso.slice(0, 10), `${f}: ${iso}`);
        assert.is(where.hour, iso.slice(11, 13), `${f}: ${iso}`);
      }
      (seen[t] ??= []).push(`${where.date} ${where.hour}`);
    }
  }
  // The inputs' hours, written down: two digits, the next day after midnight, a failed dial by its close.
  assert.equal(seen, {
    observations: ['2026-01-05 23', '2026-01-06 00', '2026-01-06 08'],
    peers: ['2026-01-05 23', '2026-01-06 01'],
    items: ['2026-01-05 23'],
    timeline: ['2026-01-05 23'],
  });
});

test.run();
