import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportCommand } from '../../src/cli/report.js';
import { buildReport, type ReportResult } from '../../src/report/index.js';
import { ROOT, sortedQuantile } from '../helpers.js';
import { peerRow, simFixture, writeParts, writeRunDir, type Obs, type RunFixture, type SimFixture } from './make-fixture.js';

const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const root = mkdtempSync(join(tmpdir(), 'invscope-report-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

/** numpy's default ('linear') quantile (test/helpers.ts). */
const q = (values: number[], p: number): number => sortedQuantile([...values].sort((a, b) => a - b), p);

const sink = (): { write(s: string): boolean; text: string } => {
  const o = {
    text: '',
    write(s: string) {
      o.text += s;
      return true;
    },
  };
  return o;
};

const T0 = 1.7e12;
const addr = (i: number): string => `127.0.0.${i}:8333`;
function ob(peer: number, hash: string, dt: number, kind: Obs['kind'] = 'inv', itemKind: 'tx' | 'block' = hash.startsWith('b') ? 'block' : 'tx'): Obs {
  return { time: T0 + dt, peer, address: addr(peer), kind, inv_type: itemKind === 'tx' ? 'wtx' : 'block', item_kind: itemKind, hash, shard: 0 };
}
const item = (hash: string, t50: number | null, t90: number | null, t99: number | null, n = 3) => ({
  hash,
  item_kind: (hash.startsWith('b') ? 'block' : 'tx') as 'tx' | 'block',
  id_type: (hash.startsWith('b') ? 'block' : 'wtxid') as 'block' | 'wtxid',
  first_seen: T0,
  first_peer: 1,
  announcing_peers: n,
  peers_at_first_seen: n,
  t50,
  t90,
  t99,
});

/**
 * Vantage A: 4 peers (peer 3 never handshaken, peer 4 with 3 bad checksums), 3 txs and a block
 * announced, a notfound for a fourth tx (not an announcement), items with hand-picked times.
 */
const A: RunFixture = {
  run: { vantage: 'alpha', started: T0 - 10_000, stopped: T0 + 50_000, counters: { drops: 5, consumerDrops: 2 } },
  observations: [
    ob(1, 'tx1', 0),
    ob(2, 'tx1', 10),
    ob(2, 'tx1', 15), // a second inv of tx1 from peer 2: only its first counts
    ob(4, 'tx1', 40),
    ob(2, 'tx2', 0),
    ob(1, 'tx2', 100),
    ob(1, 'tx3', 5),
    ob(4, 'tx2', 150),
    ob(4, 'tx3', 60),
    ob(4, 'tx8', 40_000), // first seen after the window closes (stop 50 s, settle 50/3 s)
    ob(1, 'b1', 0, 'headers'),
    ob(2, 'b1', 2, 'cmpctblock'),
    ob(4, 'b1', 7),
    ob(1, 'tx9', 50, 'notfound'),
  ],
  peers: [
    peerRow({ peer: 1, address: addr(1), user_agent: '/Satoshi:27.0.0/', connected_at: T0 - 9000, ready_at: T0 - 8990, closed_at: T0 + 50_000, close_reason: 'stopped', misbehaviour: '{}' }),
    peerRow({ peer: 2, address: addr(2), user_agent: '/Satoshi:27.0.0/', connected_at: T0 - 9000, ready_at: T0 - 8990, closed_at: T0 + 50_000, close_reason: 'stopped', misbehaviour: null }),
    peerRow({ peer: 3, address: addr(3), user_agent: '', connected_at: T0 - 9000, ready_at: null, closed_at: T0 - 3000, close_reason: 'no-version', misbehaviour: '{}' }),
    peerRow({ peer: 4, address: addr(4), user_agent: '/btcd:0.24.0/', connected_at: T0 - 9000, ready_at: T0 - 8990, closed_at: T0 + 50_000, close_reason: 'stopped', misbehaviour: '{"ERR_WIRE_CHECKSUM":3}' }),
  ],
  items: [item('tx1', 10, 40, 40), item('tx2', 100, 150, 150), item('tx3', 55, null, null), item('b1', 2, 7, 7), { ...item('tx8', null, null, null), first_seen: T0 + 40_000, first_peer: 4, announcing_peers: 1 }],
  timeline: [
    { time: T0, peers_connected: 3, peers_ready: 3, inv_entries: 8, drops: 4 },
    { time: T0 + 1000, peers_connected: 3, peers_ready: 3, inv_entries: 2, drops: 1 },
  ],
};

/** Vantage B (no run.json: named after its directory, drops from the timeline): shares tx1 and peer 1's address with A. */
const B: RunFixture = {
  run: null,
  observations: [ob(1, 'tx1', 3), ob(2, 'tx1', 23), ob(2, 'tx5', 0), ob(1, 'tx5', 30), ob(1, 'b2', 0), ob(2, 'b2', 4), { ...ob(1, 'tx5id', 1), inv_type: 'tx' }],
  peers: [
    peerRow({ peer: 1, address: addr(1), user_agent: '/Satoshi:26.0.0/', connected_at: T0 - 5000, ready_at: T0 - 4990, closed_at: null, close_reason: null, misbehaviour: '{"ERR_WIRE_BAD_MAGIC":1}' }),
    peerRow({ peer: 2, address: addr(7), user_agent: '/Satoshi:26.0.0/', connected_at: T0 - 5000, ready_at: T0 - 4990, closed_at: null, close_reason: null, misbehaviour: 'not json' }),
  ],
  items: [item('tx1', 20, 20, 20, 2), item('tx5', 0, 30, 30, 2), item('b2', 0, 4, 4, 2), item('tx5id', null, null, null, 2)],
  timeline: [
    { time: T0, peers_connected: 2, peers_ready: 2, inv_entries: 6, drops: 1 },
    { time: T0 + 1000, peers_connected: 2, peers_ready: 2, inv_entries: 0, drops: 2 },
  ],
};

const dirA = join(root, 'alpha-dir');
const dirB = join(root, 'beta');
let both: ReportResult;

test.before(async () => {
  await writeRunDir(dirA, A, 2); // two parts per table: the report unions them
  await writeRunDir(dirB, B);
  both = await buildReport({ dirs: [dirA, dirB], out: join(root, 'out') });
});

test('the summary counts items per kind, announcements and peers per vantage, with hand-computed answers', () => {
  const [a, b] = both.summary.vantages;
  assert.is(a!.vantage, 'alpha', "run.json's vantage names the rows");
  assert.is(b!.vantage, 'beta', "without run.json the directory's name does");
  assert.is(a!.observations, 14);
  assert.is(a!.announcements, 13, 'notfound is not an announcement');
  assert.equal(a!.items, { tx: 4, block: 1, txidOnly: 0 });
  assert.equal(a!.peers, { connections: 4, addresses: 4, ready: 3, misbehaving: 1, misbehavingAddresses: 1 });
  assert.equal(a!.faults, { ERR_WIRE_CHECKSUM: 3 });
  assert.equal(a!.disconnects, { stopped: 3, 'no-version': 1 });
  assert.equal(a!.drops, { ring: 5, consumer: 2 }, "run.json's counters");
  assert.is(a!.durationS, 60);
  // Timed: first seen from the first second with 90 % of the most ready peers to the stop minus
  // min(60 s, a third of the 50 s since then).
  assert.equal(a!.window, { from: T0, to: T0 + 50_000 - 50_000 / 3, settleS: 50 / 3 });
  assert.equal(b!.items, { tx: 2, block: 1, txidOnly: 1 }, 'a txid announced as MSG_TX where most announce wtxids is counted apart');
  assert.equal(b!.peers, { connections: 2, addresses: 2, ready: 2, misbehaving: 1, misbehavingAddresses: 1 });
  assert.equal(b!.drops, { ring: 3, consumer: 0 }, "the timeline's drops without run.json");
  assert.equal(b!.disconnects, { '(open)': 2 });
  assert.is(b!.durationS, null);
  assert.ok(both.warnings.some((w) => /1 peers rows have a misbehaviour value/.test(w)), 'an unparsable misbehaviour is noted, not counted');
});

test('time-to-x % percentiles per kind are the linear-interpolation quantiles of the items that reached x %', () => {
  const a = both.summary.vantages[0]!;
  // tx t50 over A: 10, 100, 55: p10 = 10 + 0.2 * 45, p99 = 55 + 0.98 * 45 (by hand); tx8 is
  // first seen after the window and not timed.
  assert.is(a.timeTo.tx.items, 3);
  assert.is(a.timeTo.tx.t50.n, 3);
  assert.is(a.timeTo.tx.t50.p50, 55);
  assert.ok(Math.abs(a.timeTo.tx.t50.p10! - 19) < 1e-9);
  assert.ok(Math.abs(a.timeTo.tx.t50.p90! - 91) < 1e-9);
  assert.ok(Math.abs(a.timeTo.tx.t50.p99! - 99.1) < 1e-9);
  // t90: 40, 150 (tx3 never reached 90 %).
  assert.is(a.timeTo.tx.t90.n, 2);
  assert.is(a.timeTo.tx.t90.p50, 95);
  assert.equal(a.timeTo.tx.t99.n, 2);
  assert.equal(a.timeTo.block.t50, { n: 1, p10: 2, p50: 2, p90: 2, p99: 2 });
  const bt = both.summary.vantages[1]!.timeTo;
  assert.is(bt.block.t90.p50, 4);
  assert.is(bt.tx.items, 2, 'the txid-only item is not timed');
  // Pooled over both vantages: tx t50 values 10, 100, 55, 20, 0.
  const all = both.summary.all;
  const t50 = [10, 100, 55, 20, 0];
  for (const [k, p] of [['p10', 0.1], ['p50', 0.5], ['p90', 0.9], ['p99', 0.99]] as const) {
    assert.ok(Math.abs(all.timeTo.tx.t50[k]! - q(t50, p)) < 1e-9, `${k}: ${all.timeTo.tx.t50[k]} vs ${q(t50, p)}`);
  }
  assert.is(all.timeTo.tx.t50.n, 5);
});

test('the pooled row counts distinct items and addresses across vantages and sums the rest', () => {
  const all = both.summary.all;
  assert.is(all.vantage, 'all');
  assert.equal(all.items, { tx: 5, block: 2, txidOnly: 1 }, 'tx1 is seen by both vantages and counted once');
  assert.equal(all.peers, { connections: 6, addresses: 5, ready: 5, misbehaving: 2, misbehavingAddresses: 2 });
  assert.equal(all.drops, { ring: 8, consumer: 2 });
  assert.equal(all.faults, { ERR_WIRE_CHECKSUM: 3, ERR_WIRE_BAD_MAGIC: 1 });
  assert.is(all.observations, 21);
});

test('the figures hold the announcement delays after first-seen, per vantage', () => {
  const fig = (id: string) => both.figures.find((f) => f.id === id)!;
  assert.equal(
    both.figures.map((f) => f.id),
    ['delay-cdf', 'propagation', 'peers', 'inv-rate', 'lateness', 'worst-peers', 'user-agents', 'network-propagation', 'network-delay-cdf'],
    'two vantages: the network-wide curves; no accuracy figures without a truth',
  );
  const cdf = (fig('delay-cdf').spec.data as { values: { vantage: string; kind: string; value: number; p: number }[] }).values;
  // A's tx delays after first-seen, excluding the first announcers: tx1 10, 40; tx2 100, 150; tx3 55.
  const aTx = cdf.filter((r) => r.vantage === 'alpha' && r.kind.startsWith('tx'));
  assert.is(aTx[0]!.value, 10);
  assert.is(aTx[aTx.length - 1]!.value, 150);
  assert.ok(Math.abs(aTx.find((r) => r.p === 0.5)!.value - 55) < 1e-9);
  assert.ok(Math.abs(aTx.find((r) => r.p === 0.25)!.value - 40) < 1e-9);
  const prop = (fig('propagation').spec.data as { values: { vantage: string; kind: string; pct: number; p50: number; items: number }[] }).values;
  // A's 3 timed txs have N = 3: 50 % is the 2nd announcer (tx1 10, tx2 100, tx3 55), 100 % the
  // 3rd (tx1 40, tx2 150; tx3 never: +infinity). Quantiles over all 3 items: [40, 150, inf] has
  // median 150, 10th percentile 40 + 0.2 * 110 = 62 and no 90th (it falls on the never-reached).
  const at = (pct: number) => prop.find((r) => r.vantage === 'alpha' && r.kind === 'tx' && r.pct === pct)! as unknown as { p10: number | null; p50: number | null; p90: number | null; items: number };
  assert.is(at(50).p50, 55);
  assert.is(at(50).items, 3);
  assert.is(at(33).p50, 0, '33 % of 3 is the first announcer');
  assert.is(at(34).p50, 55);
  assert.is(at(100).p50, 150);
  assert.ok(Math.abs(at(100).p10! - 62) < 1e-9);
  assert.is(at(100).p90, null);
  assert.is(at(100).items, 2);
  const agents = (fig('user-agents').spec.data as { values: { vantage: string; agent: string; peers: number }[] }).values;
  assert.equal(
    agents.filter((r) => r.vantage === 'alpha').map((r) => [r.agent, r.peers]),
    [['/Satoshi:27.0.0/', 2], ['/btcd:0.24.0/', 1]],
    'handshaken peers only',
  );
  const worst = (fig('worst-peers').spec.data as { values: { vantage: string; address: string; med: number }[] }).values;
  // Peers with at least min(10, the busiest peer's 5) announcements: A's peer 4 (0, 7, 40, 55,
  // 150: median 40); the others announced fewer.
  assert.equal(worst.map((w) => [w.vantage, w.address, w.med]), [['alpha', addr(4), 40]]);
});

test('report.html and one SVG per figure are written, self-contained', () => {
  const html = readFileSync(both.files.html!, 'utf8');
  assert.is(both.files.html, join(root, 'out', 'report.html'));
  for (const f of both.figures) {
    assert.ok(html.includes(`id="plot-${f.id}"`), f.id);
    const svg = readFileSync(join(root, 'out', 'figures', `${f.id}.svg`), 'utf8');
    assert.match(svg, /^<svg/);
    assert.match(svg, /class="mark-/);
  }
  assert.is(both.files.svg.length, both.figures.length);
  assert.not.match(html, /<script[^>]+src=/);
  assert.ok(both.files.htmlBytes < 1_500_000, `${both.files.htmlBytes} bytes`);
});

test('--settle sets the settling time: 0 times every item first seen after the warm-up', async () => {
  const r = await buildReport({ dirs: [dirA], html: false, settleMs: 0 });
  const a = r.summary.vantages[0]!;
  assert.equal(a.window, { from: T0, to: T0 + 50_000, settleS: 0 });
  assert.is(a.timeTo.tx.items, 4);
  assert.is(a.timeTo.tx.t50.n, 3, 'tx8 never reached 50 %');
  const cli = spawnSync(process.execPath, [BIN, 'report', dirA, '--settle', 'soon'], { encoding: 'utf8', timeout: 20_000 });
  assert.is(cli.status, 2);
  assert.match(cli.stderr, /--settle takes a number of seconds .*"soon"/);
});

test('two directories with one name are two vantages', async () => {
  const d1 = join(root, 'x1', 'run');
  const d2 = join(root, 'x2', 'run');
  await writeRunDir(d1, { ...B, run: null });
  await writeRunDir(d2, { ...B, run: null });
  const r = await buildReport({ dirs: [d1, d2], html: false });
  assert.equal(r.summary.vantages.map((v) => v.vantage), ['run', 'run-2']);
  assert.is(r.summary.all.announcements, 14);
  assert.is(r.files.html, null, '--no-html writes nothing');
  assert.not.ok(existsSync(join(d1, 'report.html')));
});

let sim: SimFixture;

test('accuracy against a simulated ground truth: every announcement matched, errors as the receive delays', async () => {
  const dir = join(root, 'sim');
  const f = (sim = await simFixture(dir, { nodes: 30, seconds: 8, seed: 3, rxDelayMs: [0.2, 0.7] }));
  const r = await buildReport({ dirs: [dir], html: false });
  const a = r.accuracy![0]!;
  const errs = f.pairs.map((p) => p.received - p.sent);
  assert.is(a.matched, f.pairs.length);
  assert.is(a.missing, 0);
  assert.is(a.unmatched, 0);
  // Times are stored as TIMESTAMP in microseconds: each receive time is within half a microsecond.
  const US = 1e-3;
  assert.ok(Math.abs(a.errorMs.p50! - q(errs, 0.5)) < US, `${a.errorMs.p50} vs ${q(errs, 0.5)}`);
  assert.ok(Math.abs(a.errorMs.p99! - q(errs, 0.99)) < US);
  assert.ok(Math.abs(a.errorMs.max! - Math.max(...errs)) < US);
  // Epoch ms near 1.75e12 resolve to 2^-12 ms, hence the tolerance.
  assert.ok(a.errorMs.min! >= 0.2 - 1e-3 && a.errorMs.max! < 0.7 + 1e-3, `${a.errorMs.min}..${a.errorMs.max}`);
  assert.ok(r.figures.some((x) => x.id === 'accuracy-curve' && x.points > 0));
  // Every item some node announced to the observer was seen.
  assert.is(r.summary.all.items.tx + r.summary.all.items.block, new Set(f.pairs.map((p) => p.item)).size);
});

test('announcements missing from the measurement are counted against the truth', async () => {
  const src = join(root, 'sim');
  const dir = join(root, 'sim-missing');
  cpSync(src, dir, { recursive: true });
  // Drop every observation of one peer: its truth announcements become missing.
  const f = sim;
  const victim = f.pairs[0]!.node;
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  // Rows as writeParts takes them: times as epoch ms.
  const rowsOf = (await c.runAndReadAll(`SELECT * REPLACE (epoch_us(time) / 1000.0 AS time) FROM read_parquet('${join(src, 'observations', '*.parquet')}') WHERE peer <> ${victim + 1}`)).getRowObjectsJS();
  c.closeSync();
  db.closeSync();
  rmSync(join(dir, 'observations'), { recursive: true });
  await writeParts(dir, 'observations', rowsOf.map((o) => ({ ...o })) as object[]);
  const r = await buildReport({ dirs: [dir], html: false });
  const a = r.accuracy![0]!;
  const lost = f.pairs.filter((p) => p.node === victim).length;
  assert.ok(lost > 0);
  assert.is(a.matched, f.pairs.length - lost);
  assert.is(a.missing, f.pairs.filter((p) => p.node === victim && p.sent <= f.end - 500).length);
});

// ---- bad input ----

async function run(dirs: string[], extra: Partial<Parameters<typeof reportCommand>[0]> = {}) {
  const out = sink();
  const err = sink();
  const r = await reportCommand({ dirs, stdout: out, stderr: err, html: false, ...extra });
  return { ...r, out: out.text, err: err.text };
}

test('a missing DIR is a usage error (exit 2) naming it', async () => {
  const r = await run([join(root, 'nope')]);
  assert.is(r.code, 2);
  assert.match(r.err, /nope: no such directory \[ERR_REPORT_NO_DIR\]/);
  const f = join(root, 'a-file');
  writeFileSync(f, 'x');
  assert.match((await run([f])).err, /not a directory/);
});

test('a DIR without observation parts exits 1 naming what is missing', async () => {
  const d = join(root, 'empty-dir');
  mkdirSync(join(d, 'observations'), { recursive: true });
  const r = await run([d]);
  assert.is(r.code, 1);
  assert.match(r.err, /no observation parts .*\[ERR_REPORT_NO_PARTS\]/);
});

test('a corrupt Parquet part exits 1 naming the file; --skip-corrupt leaves it out and says so', async () => {
  const d = join(root, 'corrupt');
  await writeRunDir(d, A, 2);
  const part = join(d, 'observations', 'part-001.parquet');
  truncateSync(part, Math.floor(statSync(part).size / 2)); // a crash mid-write: no footer
  const r = await run([d]);
  assert.is(r.code, 1);
  assert.match(r.err, /part-001\.parquet: not a readable Parquet file .*--skip-corrupt.*\[ERR_REPORT_CORRUPT\]/);
  const s = await run([d], { skipCorrupt: true, json: true });
  assert.is(s.code, 0, s.err);
  assert.match(s.err, /note: skipped unreadable part .*part-001\.parquet/);
  const j = JSON.parse(s.out);
  assert.ok(j.summary.vantages[0].observations > 0 && j.summary.vantages[0].observations < 14, 'only the first part was read');
  // Garbage bytes in place of a part.
  const g = join(root, 'garbage');
  await writeRunDir(g, A);
  writeFileSync(join(g, 'peers', 'part-000.parquet'), 'not parquet at all');
  const bad = await run([g]);
  assert.is(bad.code, 1);
  assert.match(bad.err, /peers[/\\]part-000\.parquet: not a readable Parquet file/);
});

test('a part without a needed column exits 1 naming the column', async () => {
  const d = join(root, 'schema');
  await writeRunDir(d, A);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (SELECT 1.5 AS time, 'x' AS hash) TO '${join(d, 'observations', 'part-000.parquet')}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
  const r = await run([d]);
  assert.is(r.code, 1);
  assert.match(r.err, /part-000\.parquet: no column peer .*\[ERR_REPORT_SCHEMA\]/);
});

test('an empty run prints its summary, writes no report.html and exits 1', async () => {
  const d = join(root, 'empty-run');
  await writeRunDir(d, { run: { vantage: 'e' }, observations: [], peers: A.peers, items: [], timeline: [] });
  const r = await run([d], { html: true });
  assert.is(r.code, 1);
  assert.match(r.err, /empty run: no announcement/);
  assert.match(r.out, /peers: connections\s+4/);
  assert.not.ok(existsSync(join(d, 'report.html')));
});

test('a bad run.json or truth.jsonl exits 1 naming the file', async () => {
  const d = join(root, 'bad-json');
  await writeRunDir(d, A);
  writeFileSync(join(d, 'run.json'), '{"vantage": ');
  const r = await run([d]);
  assert.is(r.code, 1);
  assert.match(r.err, /run\.json: not valid JSON .*\[ERR_REPORT_RUN_JSON\]/);
  writeFileSync(join(d, 'run.json'), '[1]');
  assert.match((await run([d])).err, /run\.json: not a JSON object/);
  writeFileSync(join(d, 'run.json'), '{}');
  writeFileSync(join(d, 'truth.jsonl'), '{"e":"node",\nthis is no json\n');
  const t = await run([d]);
  assert.is(t.code, 1);
  assert.match(t.err, /truth\.jsonl: not a simulator ground truth .*\[ERR_REPORT_TRUTH\]/);
});

test('the command line: --json, --no-html, no DIR, --help', () => {
  const r = spawnSync(process.execPath, [BIN, 'report', dirA, dirB, '--json', '--no-html'], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.summary.vantages.map((v: { vantage: string }) => v.vantage), ['alpha', 'beta']);
  assert.is(j.summary.all.items_seen.tx, 5);
  // Every value names its unit and is rounded to its precision.
  const a = j.summary.vantages[0];
  assert.ok('duration_s' in a && 'p50_ms' in a.time_to.tx.to_50_pct, JSON.stringify(a.time_to.tx));
  assert.ok(a.peers.misbehaving_nodes <= a.peers.misbehaving_sessions);
  const decimals = (x: unknown): number => (typeof x === 'number' && !Number.isInteger(x) ? String(x).split('.')[1]!.length : 0);
  const walk = (o: unknown, path: string): void => {
    if (o !== null && typeof o === 'object') for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`);
    else if (typeof o === 'number') assert.ok(decimals(o) <= 3, `${path} = ${o}: more than 3 decimals`);
  };
  walk(j, 'report');
  // Where the time went, by phase, in seconds: every phase of a report with two vantages.
  assert.equal(Object.keys(j.phases_s), ['parts', 'probe', 'windows', 'aggregates', 'settled', 'summary', 'network', 'accuracy', 'figures']);
  assert.ok(Object.values(j.phases_s).every((s) => typeof s === 'number' && s >= 0), JSON.stringify(j.phases_s));
  assert.ok(j.phases_s.aggregates >= j.aggregates.seconds - 0.001, 'the aggregates phase holds their computation');
  for (const key of ['durationS', 'timeTo', 'errorMs']) assert.not.match(r.stdout, new RegExp(`"${key}"`), `${key} has no unit in its name`);
  assert.is(j.files.html, null);
  const t = spawnSync(process.execPath, [BIN, 'report', dirA, '--no-html'], { encoding: 'utf8', timeout: 60_000 });
  assert.is(t.status, 0, t.stderr);
  assert.match(t.stdout, /tx to 50 %: p10 \/ p50\s+19 ms \/ 55 ms/);
  const none = spawnSync(process.execPath, [BIN, 'report'], { encoding: 'utf8', timeout: 20_000 });
  assert.is(none.status, 2);
  assert.match(none.stderr, /at least one DIR/);
  const bad = spawnSync(process.execPath, [BIN, 'report', dirA, '--bogus'], { encoding: 'utf8', timeout: 20_000 });
  assert.is(bad.status, 2);
  const help = spawnSync(process.execPath, [BIN, 'report', '--help'], { encoding: 'utf8', timeout: 20_000 });
  assert.is(help.status, 0);
  assert.match(help.stdout, /exit status/);
});

test.run();
