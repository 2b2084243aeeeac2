import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';
import { checkTruth, connectionAt, growth, type Conn, type Sample } from '../../bench/soak-check.js';

const SCRIPT = join(ROOT, 'dist', 'bench', 'soak-observe.js');
const MiB = 1048576;

/** Every test's files, removed whatever the outcome. */
const root = mkdtempSync(join(tmpdir(), 'invscope-soak-check-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('the soak of observe in its short mode: exit 0, every part, row, announcement and log accounted for', () => {
  const r = spawnSync(
    process.execPath,
    [SCRIPT, '--minutes', '0.2', '--rotate', '3', '--nodes', '24', '--time-scale', '20', '--tx-rate', '2', '--sample-seconds', '1', '--report-seconds', '4', '--address-base', '127.10.0.0', '--json'],
    { encoding: 'utf8', timeout: 90_000 },
  );
  assert.is(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[lines.length - 1], 'SOAK PASSED');
  const s = JSON.parse(lines[lines.length - 2]!);
  assert.ok(s.ok);
  // 12 s plus half a period at a part every 3 s: four rotations, five parts.
  assert.is(s.parts.expected, 5);
  assert.is(s.parts.inRunJson, 5);
  assert.is(s.parts.tables.observations.files, 5);
  assert.equal(s.parts.unreadable, []);
  assert.ok(s.rows.parquet > 1000, `${s.rows.parquet} observations`);
  assert.is(s.rows.parquet, s.rows.runJson);
  assert.is(s.rows.parquet, s.rows.finalLine);
  assert.ok(s.truth.expected > 1000, `${s.truth.expected} announcements expected`);
  assert.is(s.truth.missing, 0);
  assert.is(s.logs.files, 5, 'one log per part');
  assert.ok(s.logs.lastComplete);
  assert.is(s.stop.exit, 0);
  assert.ok(s.memory.rssEndMiB > 0 && s.memory.fdsMax > 0 && s.memory.threadsMax > 1, JSON.stringify(s.memory));
});

test('a bad argument exits 2 before anything starts', () => {
  const r = spawnSync(process.execPath, [SCRIPT, '--nodes', 'many'], { encoding: 'utf8', timeout: 20_000 });
  assert.is(r.status, 2);
  assert.match(r.stderr, /--nodes takes a positive number, not "many"/);
  const u = spawnSync(process.execPath, [SCRIPT, '--no-such-option'], { encoding: 'utf8', timeout: 20_000 });
  assert.is(u.status, 2);
});

test('the memory criterion: flat or noisy RSS is bounded, a steady climb in the second half is not', () => {
  const flat: Sample[] = [];
  const climb: Sample[] = [];
  for (let i = 0; i < 100; i++) {
    flat.push({ t: i * 10_000, rss: 200 * MiB + (i % 3) * 5 * MiB, heap: 0 });
    climb.push({ t: i * 10_000, rss: 200 * MiB + i * MiB, heap: 0 });
  }
  assert.ok(growth(flat, 'rss', 32).bounded);
  const g = growth(climb, 'rss', 32);
  assert.not.ok(g.bounded);
  assert.ok(Math.abs(g.mib - 49) < 1, `${g.mib} MiB over the second half`);
});

test('the truth check: an announcement not observed is missing; near a close, after the end or to a fault-closed connection it is apart', async () => {
  const dir = mkdtempSync(join(root, 't-'));
  const hash = (c: string): string => c.repeat(64);
  const truth = [
    { e: 'item', id: 0, kind: 'tx', hash: hash('a'), wtxid: hash('b'), origin: 0, t: 0, size: 100 },
    { e: 'item', id: 1, kind: 'tx', hash: hash('c'), wtxid: hash('d'), origin: 0, t: 0, size: 100 },
    { e: 'announce', node: 0, item: 0, observer: 'x', t: 1_000, how: 'inv' }, // observed (by wtxid)
    { e: 'announce', node: 1, item: 0, observer: 'x', t: 1_000, how: 'inv' }, // missing
    { e: 'announce', node: 0, item: 1, observer: 'x', t: 9_500, how: 'inv' }, // within the margin of the end
    { e: 'announce', node: 2, item: 1, observer: 'x', t: 5_000, how: 'inv' }, // its connection closed 1 s later
    { e: 'announce', node: 3, item: 1, observer: 'x', t: 5_000, how: 'inv' }, // to a connection we closed for a fault
  ];
  writeFileSync(join(dir, 'truth.jsonl'), truth.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const conns: Record<number, Conn[]> = {
    0: [{ readyAt: 0, goneAt: Infinity, reason: '' }],
    1: [{ readyAt: 0, goneAt: Infinity, reason: '' }],
    2: [{ readyAt: 0, goneAt: 6_000, reason: 'remote-closed' }],
    3: [{ readyAt: 0, goneAt: 7_000, reason: 'inv-flood' }],
  };
  const v = await checkTruth({
    truthPath: join(dir, 'truth.jsonl'),
    nodes: 4,
    modes: [null, null, null, 'inv-storm'],
    tEnd: 10_000,
    marginMs: 2_000,
    observations: async (add) => add(0, 'b'.repeat(16)),
    connection: (node, _o, t) => connectionAt(conns[node], t),
  });
  assert.equal(
    { items: v.items, announces: v.announces, expected: v.expected, observed: v.observed, missing: v.missing, afterEnd: v.afterEnd, inFlightAtClose: v.inFlightAtClose, toFaultClosed: v.toFaultClosed },
    { items: 2, announces: 5, expected: 2, observed: 1, missing: 1, afterEnd: 1, inFlightAtClose: 1, toFaultClosed: 1 },
  );
  assert.equal(v.missingByMode, { honest: 1 });
});

test.run();
