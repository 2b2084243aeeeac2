/**
 * `npm run bench:store`: the store's ingest rate. Part 1 appends synthetic observations
 * (realistic hashes and addresses: 1,000 peers announcing 20,000 items) through Store on the main
 * thread as fast as it goes: rows/s, the longest commit pause (the appender flush runs on the main
 * thread), the export (rotation) time and the Parquet bytes per row. Part 2 runs the real
 * `invscope observe` against `invscope simulate` (child processes) at rising announcement rates
 * and reads back what it stored and dropped. Bench process only; JSON with --json.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, statSync, readdirSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { Store } from '../src/store/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'src', 'cli', 'main.js');
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '3000000' },
    // time scales of a 1,000-node simulation: ~7 tx/s x scale x 1,000 observers' entries per second
    scales: { type: 'string', default: '5,10,20' },
    seconds: { type: 'string', default: '20' },
    'skip-e2e': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const log = (s: string): void => void process.stderr.write(s + '\n');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function micro(rows: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'invscope-bench-store-'));
  const store = await Store.open({ dir });
  const hashes = Array.from({ length: 20_000 }, () => randomBytes(32).toString('hex'));
  const addrs = Array.from({ length: 1000 }, (_, i) => `127.1.${i >> 8}.${(i & 255) + 1}:8333`);
  // Time the main thread's part of each commit (the appender flush and the switch of staging sets).
  const pauses: number[] = [];
  const commit = store.commit.bind(store);
  store.commit = () => {
    const t = performance.now();
    const r = commit();
    pauses.push(performance.now() - t);
    return r;
  };
  const t0 = performance.now();
  const base = Date.now();
  for (let i = 0; i < rows; i++) {
    store.appendObservation(base + i * 0.01, i % 1000, addrs[i % 1000]!, 'inv', 5, hashes[(i >> 10) % 20_000]!, i & 1);
    // Yield now and then, as observe's loop does, so that the commit timer can run.
    if ((i & 16383) === 16383) await new Promise<void>((r) => setImmediate(r));
  }
  const appendMs = performance.now() - t0;
  const t1 = performance.now();
  await store.close();
  const exportMs = performance.now() - t1;
  // Every observations file of the run (one part, one or two hour partitions).
  const bytes = (readdirSync(join(dir, 'observations'), { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet')).reduce((a, f) => a + statSync(join(dir, 'observations', f)).size, 0);
  pauses.sort((a, b) => a - b);
  rmSync(dir, { recursive: true, force: true });
  return {
    rows,
    rowsPerSecond: Math.round(rows / (appendMs / 1000)),
    commits: pauses.length,
    commitPauseMaxMs: Math.round((pauses[pauses.length - 1] ?? 0) * 10) / 10,
    commitPauseP50Ms: Math.round((pauses[pauses.length >> 1] ?? 0) * 10) / 10,
    commitPauseP90Ms: Math.round((pauses[Math.floor(pauses.length * 0.9)] ?? 0) * 10) / 10,
    exportMs: Math.round(exportMs),
    exportRowsPerSecond: Math.round(rows / (exportMs / 1000)),
    parquetBytesPerRow: Math.round((bytes / rows) * 100) / 100,
    lost: store.counters.lost,
  };
}

async function endToEnd(scale: number, seconds: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'invscope-bench-store-e2e-'));
  const sim: ChildProcess = spawn(process.execPath, [BIN, 'simulate', '--nodes', '1000', '--port', '0', '--time-scale', String(scale), '--block-interval', '600', '--out', dir, '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let listening = false;
  createInterface({ input: sim.stdout! }).on('line', (l) => {
    if (l.includes('"listening"')) listening = true;
  });
  const simExit = new Promise<void>((r) => sim.on('exit', () => r()));
  while (!listening) {
    if (sim.exitCode !== null) throw new Error('simulate exited');
    await sleep(50);
  }
  const r = spawnSync(process.execPath, [BIN, 'observe', '--network', 'regtest', '--peers', join(dir, 'nodes.txt'), '--out', dir, '--duration', String(seconds), '--shards', '2', '--quiet'], { encoding: 'utf8' });
  sim.kill('SIGTERM');
  await simExit;
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  const c = run.counters;
  // The steady rate: the timeline's busiest second and its last 10 s (after the handshakes).
  const inst = await DuckDBInstance.create(':memory:');
  const c0 = await inst.connect();
  const tl = (await c0.runAndReadAll(`SELECT max(inv_entries)::DOUBLE AS peak, (SELECT avg(inv_entries)::DOUBLE FROM (SELECT inv_entries FROM read_parquet('${join(dir, 'timeline', '*.parquet')}') ORDER BY time DESC LIMIT 11 OFFSET 1)) AS last10 FROM read_parquet('${join(dir, 'timeline', '*.parquet')}')`)).getRowObjectsJS()[0] as { peak: number; last10: number };
  c0.closeSync();
  inst.closeSync();
  const obsBytes = readdirSync(join(dir, 'observations')).reduce((a, f) => a + statSync(join(dir, 'observations', f)).size, 0);
  rmSync(dir, { recursive: true, force: true });
  return {
    scale,
    exit: r.status ?? -1,
    seconds: Math.round((run.stopRequested - run.started) / 100) / 10,
    observations: c.observations,
    perSecondMean: Math.round(c.observations / ((run.stopRequested - run.started) / 1000)),
    perSecondPeak: Math.round(tl.peak),
    perSecondLast10s: Math.round(tl.last10),
    ringDrops: c.drops,
    consumerDrops: c.consumerDrops,
    storeLost: c.storeLost,
    stopMs: run.stopped - run.stopRequested,
    parquetBytesPerRow: Math.round((obsBytes / Math.max(1, c.observations)) * 100) / 100,
  };
}

const out: Record<string, unknown> = { node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, loadBefore: loadavg().map((x) => Math.round(x * 100) / 100) };
log('store micro: appending ...');
out.micro = await micro(Number(values.rows));
log(JSON.stringify(out.micro));
if (!values['skip-e2e']) {
  const e2e: Record<string, number>[] = [];
  for (const s of values.scales!.split(',').map(Number)) {
    log(`observe against simulate, 1,000 nodes, time scale ${s} ...`);
    const r = await endToEnd(s, Number(values.seconds));
    log(JSON.stringify(r));
    e2e.push(r);
  }
  out.endToEnd = e2e;
}
out.loadAfter = loadavg().map((x) => Math.round(x * 100) / 100);
process.stdout.write(values.json ? JSON.stringify(out) + '\n' : JSON.stringify(out, null, 2) + '\n');
