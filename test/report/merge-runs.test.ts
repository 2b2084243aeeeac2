/**
 * One vantage observed by two runs: `invscope observe --vantage lab` against a simulated network,
 * stopped, then run again into a second directory with the same --vantage. `invscope report A B`
 * treats them as ONE vantage (load.ts mergeRuns): one name, a window from the first run's start
 * to the second run's stop, session ids made distinct per run, observations the sum of both runs',
 * and both directories named (JSON `dirs`, the text summary, report.html's run facts).
 * Test, child processes over loopback only.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startSimulate } from '../cli/children.js';
import { loadRuns, rows } from '../../src/report/load.js';
import { query } from '../store/duck.js';

const root = mkdtempSync(join(tmpdir(), 'invscope-merge-runs-'));
const runs = [join(root, 'run1'), join(root, 'run2')];
test.after(() => rmSync(root, { recursive: true, force: true }));

/** Runs the CLI to its end; resolves with its exit code and output. */
function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    const guard = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, out, err });
    });
  });
}

/** What each run wrote: its run.json, and its observations and sessions counted from its own files. */
const observed = (async () => {
  const sim = await startSimulate(join(root, 'sim'), 12, 11, '127.31.0.0');
  try {
    for (const out of runs) {
      const r = await cli(['observe', '--network', 'regtest', '--peers', join(root, 'sim', 'nodes.txt'), '--out', out, '--vantage', 'lab', '--duration', '4', '--shards', '1', '--quiet']);
      assert.is(r.code, 0, r.err);
    }
  } finally {
    sim.kill('SIGTERM');
  }
  return Promise.all(
    runs.map(async (dir) => {
      const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
      const [o] = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${dir}/observations/**/*.parquet')`);
      const peers = (await query(`SELECT DISTINCT peer FROM read_parquet('${dir}/peers/**/*.parquet')`)).map((p) => Number(p['peer']));
      return { run, observations: o!['n'] as number, peers };
    }),
  );
})();

test('two run directories of one --vantage: the runs were really two, one after the other', async () => {
  const [a, b] = await observed;
  assert.is(a!.run.vantage, 'lab');
  assert.is(b!.run.vantage, 'lab');
  assert.is.not(a!.run.runId, b!.run.runId);
  assert.ok(a!.run.stopped <= b!.run.started, 'the second run started after the first stopped');
  assert.is(a!.observations, a!.run.counters.observations);
  assert.is(b!.observations, b!.run.counters.observations);
  assert.ok(a!.observations > 100 && b!.observations > 100, `${a!.observations} and ${b!.observations} observations`);
  // Each run numbers its sessions from the same start, so the raw ids collide.
  assert.ok(a!.peers.some((p) => b!.peers.includes(p)), 'session ids shared by the two runs');
});

test('report A B: one vantage, from the first start to the last stop, with both runs\' observations', async () => {
  const [a, b] = await observed;
  const r = await cli(['report', ...runs, '--json', '--no-html', '--no-cache']);
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.summary.vantages.map((v: { vantage: string }) => v.vantage), ['lab']);
  const v = j.summary.vantages[0];
  assert.is(v.observations, a!.observations + b!.observations);
  assert.is(j.summary.all.observations, a!.observations + b!.observations);
  assert.equal(v.dirs, runs, 'the merged vantage names both directories, in argument order');
  assert.equal(j.summary.all.dirs, runs);
  // The run lasts from the first run's start to the second's stop (the gap included).
  assert.is(v.duration_s, Math.round(b!.run.stopped - a!.run.started) / 1000);
  // The timed window ends the settling time before the last stop request, and begins after the
  // first run warmed up: inside the first run.
  const w = v.timed_window;
  const to = Date.parse(w.first_seen_to);
  const from = Date.parse(w.first_seen_from);
  assert.ok(Math.abs(to + w.settle_s * 1000 - b!.run.stopRequested) <= 1, `window ends ${w.settle_s} s before ${new Date(b!.run.stopRequested).toISOString()}: ${w.first_seen_to}`);
  assert.ok(from >= a!.run.started && from < a!.run.stopped, `window starts in the first run: ${w.first_seen_from}`);
  assert.ok(to > b!.run.started, 'the window reaches into the second run');
});

test('report A B in text and HTML: the merged vantage\'s two directories are named in the summary and the run facts', async () => {
  await observed;
  const out = join(root, 'out');
  const r = await cli(['report', ...runs, '--out', out, '--no-cache', '--quiet']);
  assert.is(r.code, 0, r.err);
  assert.ok(r.out.split('\n').includes(`lab: one vantage from 2 directories: ${runs.join(', ')}`), r.out);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.ok(html.includes('<th>directories</th>'), 'the run facts have a directories column');
  assert.ok(html.includes(`<td>${runs.join(', ')}</td>`), 'the run facts name both directories');
});

test('the merged vantage\'s sessions are distinct per run: as many as both runs\' sessions together', async () => {
  const [a, b] = await observed;
  const loaded = await loadRuns(runs, { cacheDir: join(root, 'cache') });
  try {
    assert.equal(loaded.vantages.map((v) => v.vantage), ['lab']);
    assert.equal(loaded.vantages[0]!.dirs, runs);
    assert.is(loaded.vantages[0]!.dir, runs[0], 'the first directory stays the primary one');
    const [p] = await rows(loaded.conn, `SELECT count(DISTINCT peer)::INTEGER AS sessions, count(*)::INTEGER AS n FROM peers`);
    assert.is(p!['sessions'], a!.peers.length + b!.peers.length);
    assert.is(p!['n'], a!.peers.length + b!.peers.length);
    const [o] = await rows(loaded.conn, `SELECT count(DISTINCT peer)::INTEGER AS sessions FROM observations`);
    const [raw] = await query(`SELECT count(DISTINCT (run_id, peer))::INTEGER AS sessions FROM read_parquet(['${runs[0]}/observations/**/*.parquet', '${runs[1]}/observations/**/*.parquet'])`);
    assert.is(o!['sessions'], raw!['sessions'], 'announcing sessions: one per (run, session id)');
  } finally {
    loaded.close();
  }
});

test.run();
