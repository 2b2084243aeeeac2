/**
 * End to end over two vantages: one `invscope simulate` network observed by two `invscope
 * observe` runs at once, the second with its clock 250 ms ahead; `invscope report --json` on both
 * estimates that offset within a few ms from the blocks both heard from the same nodes. Test,
 * child processes over loopback only.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DuckDBInstance } from '@duckdb/node-api';
import { ROOT } from '../helpers.js';

const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const SHIFT_MS = 250;
const root = mkdtempSync(join(tmpdir(), 'invscope-vantages-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

/** Runs the CLI to its end; resolves with its exit code and output. */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    c.stdout!.on('data', (d) => (out += d));
    c.stderr!.on('data', (d) => (err += d));
    c.on('exit', (code) => resolve({ code, out, err }));
  });
}

/** The simulator in a child process; resolves once it listens. */
async function startSim(dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'simulate', '--nodes', '24', '--port', '0', '--time-scale', '20', '--block-interval', '20', '--seed', '5', '--address-base', '127.5.0.0', '--out', dir, '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.includes('"listening"')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`simulate exited with ${code}`)));
  });
  return child;
}

/** Every Parquet part under dir (flat or partitioned). */
function parts(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...parts(p));
    else if (e.name.endsWith('.parquet')) out.push(p);
  }
  return out;
}

/**
 * Adds ms to every recorded time of a run directory, as a host clock that far ahead would
 * (the test-only clock shift of the run-directory contract, applied to the files).
 */
async function shiftTimes(dir: string, ms: number): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    for (const table of ['observations', 'items', 'timeline', 'peers']) {
      for (const file of statSync(join(dir, table), { throwIfNoEntry: false })?.isDirectory() ? parts(join(dir, table)) : []) {
        const cols = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}', hive_partitioning = false)`)).getRowObjectsJS();
        const times = cols.filter((c) => ['time', 'first_seen', 'connected_at', 'ready_at', 'closed_at'].includes(String(c.column_name)));
        if (times.length === 0) continue;
        const add = (c: Record<string, unknown>): string => `${c.column_name} + ${String(c.column_type).startsWith('TIMESTAMP') ? `INTERVAL (${ms * 1000}) MICROSECOND` : ms} AS ${c.column_name}`;
        await conn.run(`COPY (SELECT * REPLACE (${times.map(add).join(', ')}) FROM read_parquet('${file}', hive_partitioning = false)) TO '${file}.tmp' (FORMAT parquet)`);
        renameSync(`${file}.tmp`, file);
      }
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

test('two observe runs of one simulated network, one clock 250 ms ahead: report estimates the offset within a few ms', async () => {
  const sim = await startSim(join(root, 'sim'));
  try {
    const observe = (name: string) => run(['observe', '--network', 'regtest', '--peers', join(root, 'sim', 'nodes.txt'), '--out', join(root, name), '--duration', '8', '--shards', '1', '--quiet']);
    const [a, b] = await Promise.all([observe('east'), observe('west')]);
    assert.is(a.code, 0, a.err);
    assert.is(b.code, 0, b.err);
  } finally {
    sim.kill('SIGTERM');
  }
  await shiftTimes(join(root, 'west'), SHIFT_MS);
  const r = await run(['report', join(root, 'east'), join(root, 'west'), '--json', '--no-html', '--align-clocks']);
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  const [o] = j.network.clock_offsets;
  assert.is(o.a, 'east');
  assert.is(o.b, 'west');
  assert.ok(o.samples >= 20, `only ${o.samples} peer-block pairs`);
  assert.ok(Math.abs(o.offset_ms - SHIFT_MS) < 5, `offset ${o.offset_ms} ms`);
  assert.ok(o.ci95_ms[0] <= o.offset_ms && o.offset_ms <= o.ci95_ms[1], `CI ${o.ci95_ms}`);
  const west = j.network.vantages.find((v: { vantage: string }) => v.vantage === 'west');
  assert.ok(Math.abs(west.shift_ms + SHIFT_MS) < 5, `west shifted ${west.shift_ms}`);
});

test.run();
