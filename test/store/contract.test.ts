/**
 * The store's written contract against its one definition: src/store/README.md's column table
 * equals schema.ts PARQUET_SCHEMA (names, types, order); the test-only clock shift moves every
 * stored time; the clock-state parsers read chrony, timesyncd and adjtimex output.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { query } from './duck.js';
import { Store } from '../../src/store/index.js';
import { PARQUET_SCHEMA, TABLES } from '../../src/store/schema.js';
import { parseAdjtimex, parseChrony, parseTimesyncd } from '../../src/store/clock.js';

const README = fileURLToPath(new URL('../../../src/store/README.md', import.meta.url));

test("README's column table is PARQUET_SCHEMA, table by table, in order", () => {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf('<!-- columns:');
  assert.ok(start > 0, 'the column table marker');
  const rows = text
    .slice(start)
    .split('\n')
    .slice(1)
    .filter((l) => l.startsWith('|'))
    .slice(2)
    .map((l) => l.split('|').map((c) => c.trim()))
    .map(([, table, column, type]) => [table!, column!.replaceAll('`', ''), type!]);
  const expected = TABLES.flatMap((t) => Object.entries(PARQUET_SCHEMA[t]).map(([c, ty]) => [t, c, ty]));
  assert.equal(rows, expected);
});

test('INVSCOPE_TEST_CLOCK_SHIFT_MS (shiftMs) moves every stored time by the shift, and the partition with it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'invscope-shift-'));
  const t = Date.UTC(2026, 0, 5, 10, 59, 59, 900);
  const store = await Store.open({ dir, vantage: 'b', runId: 'S', shiftMs: 250 });
  store.appendObservation(t, 1, '10.0.0.1:8333', 'inv', 2, 'ab'.repeat(32), 0);
  store.appendItem({ hash: 'ab'.repeat(32), item_kind: 'block', id_type: 'block', first_seen: t, first_peer: 1, announcing_peers: 1, peers_at_first_seen: 1, t50: 0, t90: 0, t99: 0 });
  store.appendTimeline({ time: t, peers_connected: 1, peers_ready: 1, inv_entries: 1, drops: 0 });
  await store.close();
  for (const [table, col] of [['observations', 'time'], ['items', 'first_seen'], ['timeline', 'time']] as const) {
    const [r] = await query(`SELECT epoch_ms(${col})::DOUBLE AS t, hour::INTEGER AS h FROM read_parquet('${dir}/${table}/**/*.parquet', hive_partitioning = true)`);
    assert.equal(r, { t: t + 250, h: 11 }, table);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('clock state: chrony tracking, timedatectl show, adjtimex --print', () => {
  const chrony = [
    'Reference ID    : C0A80001 (ntp.example)',
    'Stratum         : 3',
    'System time     : 0.000250000 seconds slow of NTP time',
    'Root delay      : 0.010000000 seconds',
    'Root dispersion : 0.001000000 seconds',
    'Leap status     : Normal',
  ].join('\n');
  assert.equal(parseChrony(chrony, 5), { time: 5, source: 'chrony', state: 'synced', offsetMs: -0.25, errorMs: 6, reference: 'C0A80001 (ntp.example)' });
  assert.is(parseChrony(chrony.replace('Normal', 'Not synchronised'), 5)!.state, 'unsynced');
  assert.is(parseChrony('506 Cannot talk to daemon', 5), null);
  assert.equal(parseTimesyncd('Timezone=UTC\nNTPSynchronized=yes\n', 'ServerName=time.example\n', 1), { time: 1, source: 'timesyncd', state: 'synced', offsetMs: null, errorMs: null, reference: 'time.example' });
  assert.is(parseTimesyncd('NTPSynchronized=no\n', null, 1)!.state, 'unsynced');
  assert.is(parseTimesyncd('Timezone=UTC\n', null, 1), null);
  assert.equal(parseAdjtimex('    mode: 0\n  offset: -1500\n  status: 64\nesterror: 16000\n', 2), { time: 2, source: 'adjtimex', state: 'unsynced', offsetMs: -1.5, errorMs: 16, reference: null });
});

test.run();
