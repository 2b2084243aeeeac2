import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, existsSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { query } from './duck.js';
import { Store, StoreError, recoverDir, stagedParts, STAGING_DIR, type PeerRow } from '../../src/store/index.js';
import { PARQUET_SCHEMA, TABLES } from '../../src/store/schema.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'invscope-store-'));
const hash = (i: number): string => i.toString(16).padStart(64, '0');


const peerRow = (peer: number, reason: string): PeerRow => ({
  peer, address: `127.0.0.${peer}:8333`, network: 'ipv4', port: 8333, inbound: false, transport: 'v1', user_agent: '/Satoshi:27.0.0/', version: 70016,
  services: '1033', start_height: 900_000, connected_at: 1000, ready_at: 1010.5, closed_at: null, close_reason: reason, close_detail: null,
  ping_rtt_ms_min: 0.5, ping_rtt_ms_median: 0.7, ping_rtt_ms_max: 2, bytes_in: 12345, bytes_out: 678, msgs_in: 40, msgs_out: 6,
  by_command: '{"inv":{"msgsIn":30}}', misbehaviour: '{}',
});

test('writes every table as zstd Parquet parts that DuckDB reads back, one part per rotation', async () => {
  const dir = tmp();
  const store = await Store.open({ dir });
  for (let i = 0; i < 5000; i++) store.appendObservation(1_700_000_000_000 + i / 8, i % 50, `127.0.0.${i % 50}:8333`, 'inv', i % 2 ? 5 : 1, hash(i), i % 2);
  store.appendObservation(1_700_000_001_000, 3, '127.0.0.3:8333', 'headers', 2, hash(1), 0);
  store.appendObservation(1_700_000_001_001, 3, '127.0.0.3:8333', 'cmpctblock', 2, hash(2), 0);
  store.appendObservation(1_700_000_001_002, 3, '127.0.0.3:8333', 'inv', 0x40000001, hash(3), 0);
  store.appendObservation(1_700_000_001_003, 3, '127.0.0.3:8333', 'inv', 77, hash(4), 0);
  store.appendPeer(peerRow(1, 'bad-magic'));
  store.appendItem({ hash: hash(9), item_kind: 'tx', first_seen: 5, first_peer: 2, announcing_peers: 3, peers_at_first_seen: 4, t50: 1.5, t90: null, t99: null });
  store.appendTimeline({ time: 1, peers_connected: 10, peers_ready: 9, inv_entries: 5000, drops: 0 });
  await store.rotate();
  for (let i = 0; i < 1000; i++) store.appendObservation(1_700_000_002_000 + i, 7, '[::1]:8333', 'inv', 2, hash(i), 1);
  store.appendPeer(peerRow(2, 'local-close'));
  await store.close();
  assert.equal(store.parts, ['part-000', 'part-001']);
  assert.is(store.counters.observations, 6004);
  assert.is(store.counters.lost, 0);
  for (const t of ['observations', 'peers', 'items', 'timeline']) assert.equal(readdirSync(join(dir, t)).sort(), ['part-000.parquet', 'part-001.parquet'], t);
  assert.not.ok(existsSync(join(dir, STAGING_DIR)), 'no staging directory left after a clean close');
  const [c] = await query(`SELECT count(*)::INTEGER AS n FROM '${dir}/observations/*.parquet'`);
  assert.is(c!.n, 6004);
  const kinds = await query(`SELECT kind, inv_type, item_kind, count(*)::INTEGER AS n FROM '${dir}/observations/part-000.parquet' GROUP BY ALL ORDER BY ALL`);
  assert.equal(kinds, [
    { kind: 'cmpctblock', inv_type: 'block', item_kind: 'block', n: 1 },
    { kind: 'headers', inv_type: 'block', item_kind: 'block', n: 1 },
    { kind: 'inv', inv_type: '77', item_kind: 'block', n: 1 },
    { kind: 'inv', inv_type: 'tx', item_kind: 'tx', n: 2500 },
    { kind: 'inv', inv_type: 'witness_tx', item_kind: 'tx', n: 1 },
    { kind: 'inv', inv_type: 'wtx', item_kind: 'tx', n: 2500 },
  ]);
  const first = await query(`SELECT * FROM '${dir}/observations/part-000.parquet' LIMIT 1`);
  assert.equal(first[0], { time: 1_700_000_000_000, peer: 0, address: '127.0.0.0:8333', kind: 'inv', inv_type: 'tx', item_kind: 'tx', hash: hash(0), shard: 0 });
  // Every table's files have exactly the contract's columns and types (schema.ts PARQUET_SCHEMA).
  for (const t of TABLES) {
    const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '${dir}/${t}/part-001.parquet')`);
    assert.equal(
      types.map((r) => `${r.column_name} ${r.column_type}`),
      Object.entries(PARQUET_SCHEMA[t]).map(([c, ty]) => `${c} ${ty}`),
      t,
    );
  }
  const peers = await query(`SELECT peer, close_reason, closed_at, bytes_in::INTEGER AS b, ready_at FROM '${dir}/peers/*.parquet' ORDER BY peer`);
  assert.equal(peers, [
    { peer: 1, close_reason: 'bad-magic', closed_at: null, b: 12345, ready_at: 1010.5 },
    { peer: 2, close_reason: 'local-close', closed_at: null, b: 12345, ready_at: 1010.5 },
  ]);
  const items = await query(`SELECT * FROM '${dir}/items/*.parquet'`);
  assert.equal(items, [{ hash: hash(9), item_kind: 'tx', first_seen: 5, first_peer: 2, announcing_peers: 3, peers_at_first_seen: 4, t50: 1.5, t90: null, t99: null }]);
  const empty = await query(`SELECT count(*)::INTEGER AS n FROM '${dir}/timeline/part-001.parquet'`);
  assert.is(empty[0]!.n, 0, 'a part with no rows is still a readable file with the schema');
  rmSync(dir, { recursive: true, force: true });
});

test('rotations, commits and the close racing each other lose no row and put no row twice', async () => {
  const dir = tmp();
  const store = await Store.open({ dir, rotateMs: 25, flushMs: 5, flushRows: 300 });
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
  const [c] = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT time)::INTEGER AS d, min(time) AS lo, max(time) AS hi FROM '${dir}/observations/*.parquet'`);
  assert.equal(c, { n, d: n, lo: 0, hi: n - 1 });
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
  assert.equal(done.map((d) => [d.part, d.rows.observations, d.rows.peers]), [['part-000', 3000, 1]], 'the spare (empty) part is dropped');
  assert.equal(stagedParts(dir), []);
  const [c] = await query(`SELECT count(*)::INTEGER AS n, min(time) AS t0 FROM '${dir}/observations/*.parquet'`);
  assert.is(c!.n, 3000, 'the 500 uncommitted rows are the loss the README bounds');
  assert.is(c!.t0, 1_700_000_000_000);
  const [p] = await query(`SELECT close_reason FROM '${dir}/peers/part-000.parquet'`);
  assert.is(p!.close_reason, 'bad-magic');
  rmSync(dir, { recursive: true, force: true });
});

test('a disk that fills up during an export: a clear error naming the file, earlier parts intact, the open part recoverable', async () => {
  const dir = tmp();
  const errors: StoreError[] = [];
  const store = await Store.open({ dir, onError: (e) => errors.push(e) });
  for (let i = 0; i < 2000; i++) store.appendObservation(1_700_000_000_000 + i, 1, '127.0.0.1:8333', 'inv', 5, hash(i), 0);
  await store.rotate();
  for (let i = 0; i < 700; i++) store.appendObservation(1_700_000_100_000 + i, 2, '127.0.0.2:8333', 'inv', 5, hash(i), 0);
  // The next export writes observations/part-001.parquet.tmp: /dev/full answers every write with ENOSPC.
  symlinkSync('/dev/full', join(dir, 'observations', 'part-001.parquet.tmp'));
  await store.rotate();
  assert.is(errors.length, 1, 'one error, reported once');
  assert.match(errors[0]!.message, /cannot write .*observations\/part-001\.parquet/);
  assert.match(errors[0]!.message, /space/i);
  assert.not.ok(store.writable);
  assert.not.ok(store.appendObservation(1, 1, 'x', 'inv', 5, hash(1), 0), 'rows after the failure are refused');
  assert.is(store.counters.lost, 1);
  await store.close();
  assert.equal(store.parts, ['part-000']);
  const [c] = await query(`SELECT count(*)::INTEGER AS n FROM '${dir}/observations/part-000.parquet'`);
  assert.is(c!.n, 2000, 'the part written before the failure is intact');
  assert.ok(stagedParts(dir).includes('part-001'), 'the failed part stays staged');
  assert.not.ok(existsSync(join(dir, 'observations', 'part-001.parquet.tmp')), 'no half-written file under the final name or the tmp name');
  const done = await recoverDir(dir);
  assert.equal(done.map((d) => [d.part, d.rows.observations]), [['part-001', 700]]);
  const [all] = await query(`SELECT count(*)::INTEGER AS n FROM '${dir}/observations/*.parquet'`);
  assert.is(all!.n, 2700);
  rmSync(dir, { recursive: true, force: true });
});

test.run();
