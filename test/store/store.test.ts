import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, existsSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { query } from './duck.js';
import { Store, StoreError, recoverDir, stagedParts, STAGING_DIR, type PeerRow } from '../../src/store/index.js';
import { PARQUET_SCHEMA, SCHEMA_VERSION, TABLES } from '../../src/store/schema.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'invscope-store-'));
const hash = (i: number): string => i.toString(16).padStart(64, '0');


const peerRow = (peer: number, reason: string): PeerRow => ({
  peer, address: `127.0.0.${peer}:8333`, network: 'ipv4', port: 8333, inbound: false, transport: 'v1', user_agent: '/Satoshi:27.0.0/', version: 70016,
  services: '1033', start_height: 900_000, connected_at: 1000, ready_at: 1010.5, closed_at: null, close_reason: reason, close_detail: null,
  ping_rtt_ms_min: 0.5, ping_rtt_ms_median: 0.7, ping_rtt_ms_max: 2, bytes_in: 12345, bytes_out: 678, msgs_in: 40, msgs_out: 6,
  by_command: '{"inv":{"msgsIn":30}}', misbehaviour: '{}',
});

const T0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const H22 = 'vantage=v1/date=2023-11-14/hour=22';
const H23 = 'vantage=v1/date=2023-11-14/hour=23';
const files = (d: string): string[] => {
  const out: string[] = [];
  const walk = (p: string, rel: string): void => {
    for (const f of readdirSync(p, { withFileTypes: true })) f.isDirectory() ? walk(join(p, f.name), `${rel}${f.name}/`) : out.push(rel + f.name);
  };
  if (existsSync(d)) walk(d, '');
  return out.sort();
};

test('writes every table as zstd Parquet in hive partitions by event time, with the contract types and metadata', async () => {
  const dir = tmp();
  const store = await Store.open({ dir, vantage: 'v1', runId: 'R1', network: 'main', version: '9.9.9' });
  for (let i = 0; i < 5000; i++) store.appendObservation(T0 + i / 8, i % 50, `127.0.0.${i % 50}:8333`, 'inv', i % 2 ? 5 : 1, hash(i), i % 2);
  store.appendObservation(T0 + 1_000, 3, '127.0.0.3:8333', 'headers', 2, hash(1), 0);
  store.appendObservation(T0 + 1_001, 3, '127.0.0.3:8333', 'cmpctblock', 2, hash(2), 0);
  store.appendObservation(T0 + 1_002, 3, '127.0.0.3:8333', 'inv', 0x40000001, hash(3), 0);
  store.appendObservation(T0 + 1_003, 3, '127.0.0.3:8333', 'inv', 77, hash(4), 0);
  store.appendPeer(peerRow(1, 'bad-magic'));
  store.appendItem({ hash: hash(9), item_kind: 'tx', id_type: 'wtxid', first_seen: T0 + 5, first_peer: 2, announcing_peers: 3, peers_at_first_seen: 4, t50: 1.5, t90: null, t99: null });
  store.appendTimeline({ time: T0, peers_connected: 10, peers_ready: 9, inv_entries: 5000, drops: 0, clock: { time: T0, source: 'chrony', state: 'synced', offsetMs: 0.25, errorMs: 1.5, reference: 'x' } });
  await store.rotate();
  // Part 1 straddles 23:00: its rows land in the hour of their own time.
  const h23 = Date.UTC(2023, 10, 14, 23);
  for (let i = 0; i < 1000; i++) store.appendObservation(h23 - 500 + i, 7, '[::1]:8333', 'inv', 2, hash(i), 1);
  store.appendPeer(peerRow(2, 'local-close'));
  await store.close();
  assert.equal(store.parts, ['part-R1-0000', 'part-R1-0001']);
  assert.is(store.counters.observations, 6004);
  assert.is(store.counters.lost, 0);
  assert.equal(files(join(dir, 'observations')), [`${H22}/part-R1-0000.parquet`, `${H22}/part-R1-0001.parquet`, `${H23}/part-R1-0001.parquet`]);
  assert.equal(files(join(dir, 'timeline')), [`${H22}/part-R1-0000.parquet`], 'a table with no rows in a part has no file for it');
  assert.not.ok(existsSync(join(dir, STAGING_DIR)), 'no staging directory left after a clean close');
  const [c] = await query(`SELECT count(*)::INTEGER AS n, count(*) FILTER (hour = 23)::INTEGER AS late FROM read_parquet('${dir}/observations/**/*.parquet', hive_partitioning = true)`);
  assert.equal(c, { n: 6004, late: 500 });
  const kinds = await query(`SELECT kind, inv_type, item_kind, id_type, count(*)::INTEGER AS n FROM '${dir}/observations/${H22}/part-R1-0000.parquet' GROUP BY ALL ORDER BY ALL`);
  assert.equal(kinds, [
    { kind: 'cmpctblock', inv_type: 'block', item_kind: 'block', id_type: 'block', n: 1 },
    { kind: 'headers', inv_type: 'block', item_kind: 'block', id_type: 'block', n: 1 },
    { kind: 'inv', inv_type: '77', item_kind: 'block', id_type: 'block', n: 1 },
    { kind: 'inv', inv_type: 'tx', item_kind: 'tx', id_type: 'txid', n: 2500 },
    { kind: 'inv', inv_type: 'witness_tx', item_kind: 'tx', id_type: 'txid', n: 1 },
    { kind: 'inv', inv_type: 'wtx', item_kind: 'tx', id_type: 'wtxid', n: 2500 },
  ]);
  const first = await query(`SELECT epoch_us(time)::DOUBLE AS us, run_id, peer, node_id = ('0x' || left(sha256('invscope-node-v1' || chr(0) || 'main' || chr(0) || address), 16))::UBIGINT AS id_ok, hash FROM '${dir}/observations/${H22}/part-R1-0000.parquet' WHERE peer = 1 ORDER BY time LIMIT 2`);
  assert.equal(first, [
    { us: T0 * 1000 + 125, run_id: 'R1', peer: 1, id_ok: true, hash: hash(1) },
    { us: T0 * 1000 + 6375, run_id: 'R1', peer: 1, id_ok: true, hash: hash(51) },
  ], 'microseconds kept; node_id recomputable in SQL');
  // Every table's files have exactly the contract's columns and types, and its metadata.
  for (const t of TABLES) {
    const [{ file: f }] = (await query(`SELECT file FROM glob('${dir}/${t}/**/part-R1-0000.parquet')`)) as [{ file: string }];
    const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${f}', hive_partitioning = false))`);
    assert.equal(types.map((r) => `${r.column_name} ${r.column_type}`), Object.entries(PARQUET_SCHEMA[t]).map(([c, ty]) => `${c} ${ty.replace('TIMESTAMPTZ', 'TIMESTAMP WITH TIME ZONE')}`), t);
    const kv = await query(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${f}') ORDER BY k`);
    assert.equal(Object.fromEntries(kv.map((r) => [r.k, r.v])), { invscope: '9.9.9', run_id: 'R1', schema_version: String(SCHEMA_VERSION), table: t, units: 'TIMESTAMP: UTC, microseconds; *_ms: milliseconds', vantage: 'v1' }, t);
  }
  const peers = await query(`SELECT peer, close_reason, closed_at, bytes_in::INTEGER AS b, epoch_ms(ready_at)::INTEGER AS r, attempts FROM read_parquet('${dir}/peers/**/*.parquet') ORDER BY peer`);
  assert.equal(peers, [
    { peer: 1, close_reason: 'bad-magic', closed_at: null, b: 12345, r: 1010, attempts: 1 },
    { peer: 2, close_reason: 'local-close', closed_at: null, b: 12345, r: 1010, attempts: 1 },
  ]);
  const items = await query(`SELECT * EXCLUDE (first_seen, hour, date), epoch_ms(first_seen)::DOUBLE AS fs, hour::INTEGER AS hour, date::VARCHAR AS date FROM read_parquet('${dir}/items/**/*.parquet')`);
  assert.equal(items, [{ run_id: 'R1', hash: hash(9), item_kind: 'tx', id_type: 'wtxid', first_peer: 2, announcing_peers: 3, peers_at_first_seen: 4, t50_ms: 1.5, t90_ms: null, t99_ms: null, vantage: 'v1', fs: T0 + 5, hour: 22, date: '2023-11-14' }]);
  const [tl] = await query(`SELECT clock_source, clock_state, clock_offset_ms, clock_error_ms FROM read_parquet('${dir}/timeline/**/*.parquet')`);
  assert.equal(tl, { clock_source: 'chrony', clock_state: 'synced', clock_offset_ms: 0.25, clock_error_ms: 1.5 });
  rmSync(dir, { recursive: true, force: true });
});

test('failed dials to one address are one peers row per part and hour, with the attempts counted', async () => {
  const dir = tmp();
  const store = await Store.open({ dir, vantage: 'v1', runId: 'R2' });
  const failed = (peer: number, address: string, at: number, detail: string): PeerRow => ({ ...peerRow(peer, 'connect-failed'), address, connected_at: null, ready_at: null, closed_at: at, close_detail: detail, bytes_in: 0, bytes_out: 0, msgs_in: 0, msgs_out: 0 });
  for (let i = 0; i < 5; i++) store.appendPeer(failed(10 + i, '10.0.0.1:8333', T0 + i * 1000, `ECONNREFUSED ${i}`));
  store.appendPeer(failed(20, '10.0.0.2:8333', T0, 'ETIMEDOUT'));
  store.appendPeer(failed(21, '10.0.0.1:8333', Date.UTC(2023, 10, 14, 23, 5), 'ECONNREFUSED late'));
  store.appendPeer(peerRow(3, 'local-close'));
  await store.close();
  const rows = await query(`SELECT address, peer, attempts, close_reason, close_detail, hour::INTEGER AS hour FROM read_parquet('${dir}/peers/**/*.parquet', hive_partitioning = true) ORDER BY hour, address, peer`);
  assert.equal(rows, [
    { address: '127.0.0.3:8333', peer: 3, attempts: 1, close_reason: 'local-close', close_detail: null, hour: 0 },
    { address: '10.0.0.1:8333', peer: 10, attempts: 5, close_reason: 'connect-failed', close_detail: 'ECONNREFUSED 4', hour: 22 },
    { address: '10.0.0.2:8333', peer: 20, attempts: 1, close_reason: 'connect-failed', close_detail: 'ETIMEDOUT', hour: 22 },
    { address: '10.0.0.1:8333', peer: 21, attempts: 1, close_reason: 'connect-failed', close_detail: 'ECONNREFUSED late', hour: 23 },
  ]);
  rmSync(dir, { recursive: true, force: true });
});

test('rotations, commits and the close racing each other lose no row and put no row twice', async () => {
  const dir = tmp();
  const store = await Store.open({ dir, vantage: 'v', runId: 'R', rotateMs: 25, flushMs: 5, flushRows: 300 });
  const n = 40_000;
  for (let i = 0; i < n; i++) {
    store.appendObservation(i, i % 13, '127.0.0.1:8333', 'inv', 1, hash(i), 0);
    if (i % 1000 === 999) {
      if (i % 3000 === 2999) void store.rotate();
      await new Promise<void>((r) => setTimeout(r, 10));
    }
  }
  void store.rotate();
  await store.close();
  assert.is(store.error, null);
  assert.ok(store.parts.length >= 3, `${store.parts.length} parts`);
  const [c] = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT time)::INTEGER AS d, epoch_us(min(time))::INTEGER AS lo, epoch_us(max(time))::INTEGER AS hi FROM '${dir}/observations/**/*.parquet'`);
  assert.equal(c, { n, d: n, lo: 0, hi: (n - 1) * 1000 });
  rmSync(dir, { recursive: true, force: true });
});

test('refuses a run directory it cannot create, naming the path', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'file'), 'x');
  const err = await Store.open({ dir: join(dir, 'file', 'run') }).catch((e: unknown) => e);
  assert.instance(err, StoreError);
  assert.match((err as Error).message, /cannot create .*file\/run: ENOTDIR/);
  rmSync(dir, { recursive: true, force: true });
});

test('a crash leaves the committed rows of the open part in .store; recoverDir exports exactly those', async () => {
  const dir = tmp();
  const child = fileURLToPath(new URL('./crash-child.js', import.meta.url));
  const r = spawnSync(process.execPath, [child, dir, '3000', '500'], { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.signal, 'SIGKILL', r.stderr);
  assert.is(r.stdout.trim(), 'ready');
  assert.equal(stagedParts(dir), ['part-000', 'part-001'], 'the open part and the spare');
  const opened = await Store.open({ dir }).catch((e: unknown) => e);
  assert.instance(opened, StoreError, 'a new run refuses a directory with unexported parts');
  assert.match((opened as Error).message, /--recover/);
  const done = await recoverDir(dir);
  assert.equal(done.map((d) => [d.part, d.rows.observations, d.rows.peers]), [['part-R1-0000', 3000, 1]], 'the spare (empty) part is dropped; vantage and run id from run.json');
  assert.equal(stagedParts(dir), []);
  const [c] = await query(`SELECT count(*)::INTEGER AS n, epoch_ms(min(time))::DOUBLE AS t0, any_value(run_id) AS r FROM '${dir}/observations/vantage=crash/*/*/part-R1-0000.parquet'`);
  assert.is(c!.n, 3000, 'the 500 uncommitted rows are the loss the README bounds');
  assert.is(c!.t0, 1_700_000_000_000);
  assert.is(c!.r, 'R1');
  const [p] = await query(`SELECT close_reason FROM '${dir}/peers/**/part-R1-0000.parquet'`);
  assert.is(p!.close_reason, 'bad-magic');
  rmSync(dir, { recursive: true, force: true });
});

test('a disk that fills up during an export: a clear error naming the file, earlier parts intact, the open part recoverable', async () => {
  const dir = tmp();
  const errors: StoreError[] = [];
  const store = await Store.open({ dir, vantage: 'v1', runId: 'R', onError: (e) => errors.push(e) });
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ vantage: 'v1', runId: 'R' }));
  for (let i = 0; i < 2000; i++) store.appendObservation(1_700_000_000_000 + i, 1, '127.0.0.1:8333', 'inv', 5, hash(i), 0);
  await store.rotate();
  for (let i = 0; i < 700; i++) store.appendObservation(1_700_000_100_000 + i, 2, '127.0.0.2:8333', 'inv', 5, hash(i), 0);
  // The next export writes its scratch file under .store/export-0001: /dev/full answers every write with ENOSPC.
  const scratch = join(dir, STAGING_DIR, 'export-0001', 'observations', H22);
  mkdirSync(scratch, { recursive: true });
  symlinkSync('/dev/full', join(scratch, 'part-R-0001-0.parquet'));
  await store.rotate();
  assert.is(errors.length, 1, 'one error, reported once');
  assert.match(errors[0]!.message, /cannot write .*observations/);
  assert.match(errors[0]!.message, /space/i);
  assert.not.ok(store.writable);
  assert.not.ok(store.appendObservation(1, 1, 'x', 'inv', 5, hash(1), 0), 'rows after the failure are refused');
  assert.is(store.counters.lost, 1);
  await store.close();
  assert.equal(store.parts, ['part-R-0000']);
  const [c] = await query(`SELECT count(*)::INTEGER AS n FROM '${dir}/observations/**/part-R-0000.parquet'`);
  assert.is(c!.n, 2000, 'the part written before the failure is intact');
  assert.ok(stagedParts(dir).includes('part-001'), 'the failed part stays staged');
  assert.equal(files(join(dir, 'observations')), [`${H22}/part-R-0000.parquet`], 'no half-written file under a final name');
  assert.not.ok(existsSync(join(dir, STAGING_DIR, 'export-0001')), 'the scratch folder is removed');
  const done = await recoverDir(dir);
  assert.equal(done.map((d) => [d.part, d.rows.observations]), [['part-R-0001', 700]]);
  const [all] = await query(`SELECT count(*)::INTEGER AS n FROM '${dir}/observations/**/*.parquet'`);
  assert.is(all!.n, 2700);
  rmSync(dir, { recursive: true, force: true });
});

test.run();
