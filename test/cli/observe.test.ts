import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, chmodSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createServer } from 'node:net';
import { query } from '../store/duck.js';
import { ROOT } from '../helpers.js';
import { checkAgainstTruth } from '../../src/cli/truthcheck.js';
import { dropCounts } from '../../src/cli/observe/drops.js';
import type { PoolStats } from '../../src/pool/index.js';

const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'invscope-observe-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


/** Lines of a child's stdout, parsed as JSON where they are. */
function jsonLines(child: ChildProcess): any[] {
  const lines: any[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l));
    } catch {
      lines.push({ text: l });
    }
  });
  return lines;
}

async function waitFor(lines: any[], pred: (l: any) => boolean, child: ChildProcess, ms = 30_000): Promise<any> {
  const t0 = Date.now();
  for (;;) {
    const l = lines.find(pred);
    if (l) return l;
    if (child.exitCode !== null) throw new Error(`child exited with ${child.exitCode}`);
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await sleep(20);
  }
}

/** `invscope simulate` in a child process, writing its truth and nodes.txt into dir. */
async function startSim(dir: string, nodes: number, misbehaving: number): Promise<{ child: ChildProcess; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'simulate', '--nodes', String(nodes), '--port', '0', '--time-scale', '20', '--block-interval', '30', '--misbehaving', String(misbehaving), '--seed', '3', '--address-base', '127.3.0.0', '--out', dir, '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = jsonLines(child);
  await waitFor(lines, (l) => l.event === 'listening', child);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    child,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

test('observe against invscope simulate: every announcement stored, one peers row per session with the misbehaving nodes\' reasons, several parts', async () => {
  const dir = tmp();
  const sim = await startSim(dir, 40, 0.3);
  const r = spawnSync(process.execPath, [BIN, 'observe', '--network', 'regtest', '--peers', join(dir, 'nodes.txt'), '--out', dir, '--duration', '4', '--rotate', '1s', '--shards', '2', '--json', '--vantage', 'eu-1'], { encoding: 'utf8', timeout: 60_000 });
  await sim.stop();
  assert.is(r.status, 0, r.stderr + r.stdout);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.is(lines[0].event, 'started');
  assert.ok(lines.some((l) => l.event === 'status' && l.peers.target === 40), 'status lines for scripts: the target a run of 40 addresses can reach');
  const end = lines[lines.length - 1];
  assert.is(end.event, 'stopped');
  assert.is(end.why, 'duration');
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  assert.ok(run.parts.length >= 3, `rotation every second gives several parts: ${run.parts}`);
  assert.is(run.vantage, 'eu-1');
  assert.match(run.runId, /^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
  assert.is(run.schemaVersion, 2);
  assert.ok(['chrony', 'timesyncd', 'adjtimex', 'unknown'].includes(run.clockSync.atStart.source), JSON.stringify(run.clockSync));
  for (const p of run.parts) assert.ok(p.startsWith(`part-${run.runId}-`), p);
  assert.is(run.network, 'regtest');
  assert.is(run.clock.source, 'performance.timeOrigin+performance.now');
  assert.is(run.counters.drops + run.counters.consumerDrops + run.counters.storeLost, 0);
  const [n] = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT peer)::INTEGER AS peers FROM '${dir}/observations/**/*.parquet'`);
  assert.is(n!.n, run.counters.observations, 'every observation counted is in the files');
  assert.ok((n!.n as number) > 1000, `${n!.n} observations`);

  const t = await checkAgainstTruth(dir);
  assert.ok(t.expected > 500, `${t.expected} announcements in the truth`);
  assert.is(t.missing, 0, `missing ${t.missing} of ${t.expected} in ${dir}`);
  assert.ok(t.afterMisbehaviour < t.expected / 10, `${t.afterMisbehaviour} excluded as sent after a connection-ending misbehaviour`);

  const peers = await query(`SELECT peer FROM '${dir}/peers/**/*.parquet'`);
  assert.is(peers.length, run.counters.peers.sessions, 'one row per session');
  assert.is(new Set(peers.map((p) => p.peer)).size, peers.length, 'no session twice');
  const labels = Object.keys(t.misbehaving);
  assert.ok(labels.length >= 4, `misbehaviours in the run: ${labels}`);
  for (const [label, m] of Object.entries(t.misbehaving)) assert.is(m.counted, m.nodes, `${label}: ${m.counted} of ${m.nodes} nodes show the expected outcome in peers`);
  assert.ok(t.ok);
  const items = await query(`SELECT count(*)::INTEGER AS n, max(announcing_peers) AS most FROM '${dir}/items/**/*.parquet'`);
  assert.is(items[0]!.n, run.counters.items.finalized);
  const tl = await query(`SELECT count(*)::INTEGER AS n FROM '${dir}/timeline/**/*.parquet'`);
  assert.ok((tl[0]!.n as number) >= 4, 'a timeline row per second');
  const [tv] = await query(`SELECT DISTINCT vantage, run_id, clock_source FROM read_parquet('${dir}/timeline/**/*.parquet', hive_partitioning = true)`);
  assert.equal(tv, { vantage: 'eu-1', run_id: run.runId, clock_source: run.clockSync.atStart.source }, 'the vantage folder, the run id and the clock state in the timeline');
  const logs = readdirSync(join(dir, 'log')).sort();
  assert.ok(logs.length >= 3 && logs.every((f) => f.startsWith(`observe-${run.runId}-`)), `one log per rotation: ${logs}`);
  assert.match(readFileSync(join(dir, 'log', logs[logs.length - 1]!), 'utf8'), /INFO  stopped \(duration\)/);
  rmSync(dir, { recursive: true, force: true });
});

test('failed dials to an address that refuses are one peers row for the hour with their attempts counted', async () => {
  const dir = tmp();
  // A port nothing listens on: every dial is refused and retried with backoff (1 s base).
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const dead = `127.0.0.1:${(s.address() as { port: number }).port}`;
  await new Promise<void>((r) => s.close(() => r()));
  const r = spawnSync(process.execPath, [BIN, 'observe', '--network', 'regtest', '--peer', dead, '--out', dir, '--duration', '4', '--shards', '1', '--json'], { encoding: 'utf8', timeout: 60_000 });
  // A run that never completed a handshake says so and exits 1, its files written all the same.
  assert.is(r.status, 1, r.stderr + r.stdout);
  assert.match(r.stderr, /no peer completed a regtest handshake/);
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  const rows = await query(`SELECT address, attempts::INTEGER AS attempts, close_reason, connected_at FROM '${dir}/peers/**/*.parquet'`);
  const sessions = run.counters.peers.sessions as number;
  assert.ok(sessions >= 2, `${sessions} dials in 4 s`);
  if (rows.length === 1) assert.equal(rows[0], { address: dead, attempts: sessions, close_reason: 'connect-failed', connected_at: null }, 'one row standing for every dial');
  else {
    // The run crossed an hour boundary: one row per hour, the attempts adding up.
    assert.is(rows.length, 2);
    assert.is(rows.reduce((a, x) => a + (x.attempts as number), 0), sessions);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('SIGINT stops cleanly: rings drained, files closed, everything recorded kept', async () => {
  const dir = tmp();
  const sim = await startSim(dir, 30, 0);
  const child = spawn(process.execPath, [BIN, 'observe', '--network', 'regtest', '--peers', join(dir, 'nodes.txt'), '--out', dir, '--shards', '1', '--json', '--status-interval', '0.5'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = jsonLines(child);
  let stderr = '';
  child.stderr!.on('data', (b) => (stderr += b));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  await waitFor(lines, (l) => l.event === 'status' && l.entries > 0, child);
  await sleep(1500);
  child.kill('SIGINT');
  const code = await exited;
  await sim.stop();
  assert.is(code, 0, stderr);
  const end = lines.find((l) => l.event === 'stopped');
  assert.is(end.why, 'interrupted');
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  assert.ok(run.stopped >= run.stopRequested && run.stopRequested > run.started);
  assert.is(run.stopReason, 'interrupted');
  const [n] = await query(`SELECT count(*)::INTEGER AS n FROM '${dir}/observations/**/*.parquet'`);
  assert.is(n!.n, run.counters.observations);
  assert.is(run.counters.observations, run.counters.drained, 'every drained record stored');
  assert.not.ok(existsSync(join(dir, '.store')), 'the open part was exported');
  const t = await checkAgainstTruth(dir);
  assert.ok(t.expected > 100 && t.missing === 0, `missing ${t.missing} of ${t.expected}`);
  const peers = await query(`SELECT count(*)::INTEGER AS n FROM '${dir}/peers/**/*.parquet' WHERE closed_at IS NOT NULL`);
  assert.is(peers[0]!.n, 30, 'the living peers get their rows at stop');
  rmSync(dir, { recursive: true, force: true });
});

test('a second signal forces the exit (130); what was committed is recovered with --recover', async () => {
  const dir = tmp();
  const sim = await startSim(dir, 24, 0);
  const child = spawn(process.execPath, [BIN, 'observe', '--network', 'regtest', '--peers', join(dir, 'nodes.txt'), '--out', dir, '--shards', '1', '--json', '--status-interval', '0.5'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = jsonLines(child);
  let stderr = '';
  child.stderr!.on('data', (b) => (stderr += b));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  await waitFor(lines, (l) => l.event === 'status' && l.entries > 0, child);
  await sleep(2500); // at least two commits (every second)
  child.kill('SIGTERM');
  await sleep(30);
  child.kill('SIGTERM');
  const code = await exited;
  await sim.stop();
  assert.is(code, 130, stderr);
  assert.match(stderr, /forced exit; recover the open part with: invscope observe --recover/);
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  assert.is(run.stopped, null, 'run.json tells a forced stop from a clean one');
  const r = spawnSync(process.execPath, [BIN, 'observe', '--recover', dir], { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  const rec = JSON.parse(r.stdout.trim());
  assert.is(rec.event, 'recovered');
  assert.ok(rec.parts.length >= 1 && rec.parts[0].rows.observations > 0, r.stdout);
  const [n] = await query(`SELECT count(*)::INTEGER AS n FROM '${dir}/observations/**/*.parquet'`);
  assert.is(n!.n, rec.parts.reduce((a: number, p: { rows: { observations: number } }) => a + p.rows.observations, 0), 'every recovered row reads back');
  assert.not.ok(existsSync(join(dir, '.store', 'part-000.duckdb')));
  rmSync(dir, { recursive: true, force: true });
});

test('a run directory that cannot be written: a clear error naming it, exit 1, nothing started', () => {
  const base = tmp();
  const ro = join(base, 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  chmodSync(base, 0o755);
  // root ignores permission bits: run the child as nobody then (tmp dirs are world-readable).
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const r = spawnSync(process.execPath, [BIN, 'observe', '--network', 'regtest', '--peer', '127.0.0.1:1', '--out', join(ro, 'run')], { encoding: 'utf8', timeout: 20_000, ...asNobody });
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /cannot write the run directory: cannot create .*ro\/run: EACCES/);
  assert.not.ok(existsSync(join(ro, 'run')));
  rmSync(base, { recursive: true, force: true });
});

test('bad options: a message naming the value, exit 2, before anything starts', () => {
  const dir = tmp();
  const cases: [string[], RegExp][] = [
    [['--network', 'moon', '--peer', '127.0.0.1:1'], /moon/],
    [['--peer', 'nohost:port'], /nohost:port/],
    [[], /no address source/],
    [['--peer', '127.0.0.1:1', '--duration', 'soon'], /--duration .*"soon"/],
    [['--peer', '127.0.0.1:1', '--rotate', '0'], /--rotate .*"0"/],
    [['--peer', '127.0.0.1:1', '--max-peers', '0'], /--max-peers .*"0"/],
    [['--peer', '127.0.0.1:1', '--shards', '100'], /--shards .*"100"/],
    [['--peer', '127.0.0.1:1', '--listen', 'here'], /--listen .*"here"/],
    [['--peer', '127.0.0.1:1', '--proxy', '1.2.3.4'], /--proxy .*"1.2.3.4"/],
    [['--peers', join(dir, 'missing.txt')], /missing\.txt.*ENOENT/],
    [['--peer', '127.0.0.1:1', '--log-level', 'loud'], /loud/],
    [['--peer', '127.0.0.1:1', '--transport', 'v3'], /--transport .*"v3"/],
    [['--peer', '127.0.0.1:1', '--item-window', '1ms'], /--item-window/],
    [['--peer', '127.0.0.1:1', '--frobnicate'], /frobnicate/],
  ];
  for (const [args, re] of cases) {
    const out = join(dir, 'run');
    const r = spawnSync(process.execPath, [BIN, 'observe', ...args, '--out', out], { encoding: 'utf8', timeout: 20_000 });
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.not.ok(existsSync(out), `${args.join(' ')} created nothing`);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('the drop total adds ring drops over every shard, consumer drops and the store\'s lost and shed rows', () => {
  const pool = { shards: [{ drops: 3 }, { drops: 4 }], consumerDrops: 5 } as unknown as PoolStats;
  const d = dropCounts(pool, { lost: 7, shed: 11 });
  assert.equal(d, { ring: 7, consumer: 5, store: 18, storeLost: 7, storeShed: 11, total: 30 });
  assert.is(dropCounts({ shards: [], consumerDrops: 0 } as unknown as PoolStats, { lost: 0, shed: 0 }).total, 0);
});

test.run();
