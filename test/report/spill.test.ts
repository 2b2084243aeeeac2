/**
 * `invscope report --memory-limit --temp-dir` end to end: under a cap small enough to make DuckDB
 * spill, a report writes its spill files into the --temp-dir given (seen there during the run),
 * gives the same figures as an uncapped report of the same data, and leaves the directory as it
 * found it; a --temp-dir that is not a writable directory is ERR_REPORT_ENGINE naming it, at the
 * start, whether or not the report would have spilled. Test, child processes, no network.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../../bench/reportgen.js';
import { BIN } from '../cli/children.js';

const root = mkdtempSync(join(tmpdir(), 'invscope-spill-'));
const data = join(root, 'data');
// One vantage, 270 peers, 2 tx/s for an hour: 1.9 M observations, 11 MB of Parquet; the report of
// it needs about 150 MB of DuckDB memory, so a 96 MB cap spills 20-35 MB (measured: 33.6 and 35.3 MB
// in two runs; 64 MB spilled ~65 MB but ran out of memory in 2 of 5 runs here; 128 MB ~20 MB).
const generated = generate({ out: data, hours: 1, peers: 300, vantages: 1, txPerSecond: 2, threads: 1, memoryLimit: '256MB' });
const CAP = '96MB';

test.after(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  code: number | null;
  out: string;
  err: string;
  /** The largest total size of DuckDB's spill files (duckdb_temp*) seen in `watch` during the run. */
  peakSpillBytes: number;
}

/** DuckDB's spill files in a directory and their total size (files come and go while it runs). */
function spillBytes(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith('duckdb_temp'));
  } catch {
    return 0;
  }
  for (const n of names) {
    try {
      total += statSync(join(dir, n)).size;
    } catch {
      // removed in between
    }
  }
  return total;
}

/** A coverage folder any user may write (for a child run as another user under c8). */
function otherCoverage(): string {
  const dir = join(root, 'coverage-other-user');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  return dir;
}

/** `invscope report ARGS` to its end, watching `watch` for spill files every few ms. */
function report(args: string[], watch?: string, asUser: { uid?: number; gid?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    // Another user cannot write the coverage directory of a parent run under c8 (NODE_V8_COVERAGE,
    // root's; node passes it on to every child even when left out of env): that user's child
    // writes its coverage into a folder of its own, removed with the rest.
    const env = asUser.uid === undefined || process.env.NODE_V8_COVERAGE === undefined ? process.env : { ...process.env, NODE_V8_COVERAGE: otherCoverage() };
    const c = spawn(process.execPath, [BIN, 'report', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env, ...asUser });
    let out = '';
    let err = '';
    let peakSpillBytes = 0;
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    const poll = watch === undefined ? undefined : setInterval(() => (peakSpillBytes = Math.max(peakSpillBytes, spillBytes(watch))), 5);
    const guard = setTimeout(() => c.kill('SIGKILL'), 120_000);
    c.on('exit', (code) => {
      clearInterval(poll);
      clearTimeout(guard);
      resolve({ code, out, err, peakSpillBytes });
    });
  });
}

/** The report's JSON without the wall times (the only values that may differ between two runs). */
function figures(json: string): Record<string, unknown> {
  const j = JSON.parse(json);
  delete j.phases_s;
  delete j.aggregates.seconds;
  return j;
}

test('a report under a small cap spills into --temp-dir, gives the uncapped figures, and leaves the directory empty', async () => {
  const gen = await generated;
  const spill = join(root, 'spill');
  mkdirSync(spill);
  writeFileSync(join(spill, 'mine.txt'), 'a file of the user\n');
  const common = [data, '--json', '--no-html', '--no-cache', '--threads', '2'];
  const free = await report(common);
  assert.is(free.code, 0, free.err);
  const capped = await report([...common, '--memory-limit', CAP, '--temp-dir', spill], spill);
  assert.is(capped.code, 0, capped.err);
  assert.ok(capped.peakSpillBytes > 1_000_000, `DuckDB spilled ${capped.peakSpillBytes} bytes into --temp-dir`);
  const want = figures(free.out);
  assert.equal(figures(capped.out), want);
  // The data really went through: every generated observation counted.
  assert.is((want.summary as { all: { observations: number } }).all.observations, gen.rows.observations);
  // The directory is the user's: kept, with their file, without DuckDB's files or the aggregates
  // (with --no-cache they are kept in the spill directory for this run only).
  assert.equal(readdirSync(spill), ['mine.txt']);
  assert.is(readFileSync(join(spill, 'mine.txt'), 'utf8'), 'a file of the user\n');
});

test('a missing --temp-dir is created with its parents for the run and removed at its end', async () => {
  await generated;
  const made = join(root, 'made');
  const spill = join(made, 'a', 'b');
  const r = await report([data, '--json', '--no-html', '--no-cache', '--threads', '2', '--memory-limit', CAP, '--temp-dir', spill], spill);
  assert.is(r.code, 0, r.err);
  assert.ok(r.peakSpillBytes > 1_000_000, `DuckDB spilled ${r.peakSpillBytes} bytes into --temp-dir`);
  assert.not.ok(existsSync(made), 'the folders made for the run are gone');
});

test('a --temp-dir that is a file, under a file, or not writable: ERR_REPORT_ENGINE naming it, even with nothing to spill', async () => {
  await generated;
  const file = join(root, 'a-file');
  writeFileSync(file, 'not a directory\n');
  const locked = join(root, 'locked');
  mkdirSync(locked);
  chmodSync(locked, 0o555);
  // root may write anywhere: the unwritable case runs as nobody, who can read the data.
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  chmodSync(root, 0o755);
  for (const [dir, as, why] of [
    [file, {}, /ENOTDIR/],
    [join(file, 'sub'), {}, /ENOTDIR/],
    [locked, asNobody, /EACCES/],
  ] as const) {
    // No cap: this report never spills, and still the directory is refused before any query.
    const r = await report([data, '--json', '--no-html', '--no-cache', '--temp-dir', dir], undefined, as);
    assert.is(r.code, 1, `${dir}: ${r.err}`);
    assert.is(r.out, '', dir);
    assert.match(r.err, `--temp-dir ${dir}: not a writable directory`, `${dir}: ${r.err}`);
    assert.match(r.err, why, `${dir} why: ${r.err}`);
    assert.match(r.err, /\[ERR_REPORT_ENGINE\]\n$/, `${dir} code: ${r.err}`);
  }
  assert.is(readFileSync(file, 'utf8'), 'not a directory\n', 'the file is left alone');
  assert.equal(readdirSync(locked), []);
});

test.run();
