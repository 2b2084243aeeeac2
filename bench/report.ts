/**
 * `npm run bench:report -- --hours H --peers N [--data DIR] [--jobs J] [--json]`: the report at scale. Writes
 * (or reuses, or extends hour by hour, J hours at once) a synthetic run tree (bench/reportgen.ts, bench/reporttree.ts), runs `invscope report` on it as a child
 * process and measures wall time, rows/s, peak RSS (VmHWM, DuckDB's threads included), the peak
 * size of its spill directory, then adds one more hour and reruns (the incremental case). Refuses
 * to print figures when the report's counts differ from what was generated. Bench process, cold path.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { GenResult } from './reportgen.js';
import { buildTree, extendTree } from './reporttree.js';
import { procStatus } from './proc.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'src', 'cli', 'main.js');

const { values } = parseArgs({
  options: {
    hours: { type: 'string', default: '1' },
    peers: { type: 'string', default: '10000' },
    data: { type: 'string' },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'no-incremental': { type: 'boolean', default: false },
    /** Hours generated at once when the tree is built (each its own DuckDB instance, ~1 GB). */
    jobs: { type: 'string', default: '1' },
    /** Passed to invscope report (its default otherwise). */
    'memory-limit': { type: 'string' },
  },
});

interface Run {
  wallS: number;
  peakRssBytes: number;
  peakSpillBytes: number;
  exit: number | null;
  stdout: string;
  stderr: string;
}

/** Bytes under a directory (0 if missing). */
function treeBytes(dir: string): number {
  let n = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    try {
      n += e.isDirectory() ? treeBytes(p) : statSync(p).size;
    } catch {
      // removed while walking (DuckDB deletes spill files as it goes)
    }
  }
  return n;
}

/** Runs `invscope report DIR --json --no-html` with a private TMPDIR, polling its memory and spill. */
function runReport(dir: string, cache: string): Promise<Run> {
  const spill = mkdtempSync(join(tmpdir(), 'invscope-benchrep-spill-'));
  const out = mkdtempSync(join(tmpdir(), 'invscope-benchrep-out-'));
  const t0 = performance.now();
  const args = [CLI, 'report', dir, '--json', '--no-html', '--out', out, '--cache', cache, ...(values['memory-limit'] ? ['--memory-limit', values['memory-limit']] : [])];
  const child = spawn(process.execPath, args, { env: { ...process.env, TMPDIR: spill } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b));
  child.stderr.on('data', (b: Buffer) => (stderr += b));
  let peakRss = 0;
  let peakSpill = 0;
  const poll = setInterval(() => {
    peakRss = Math.max(peakRss, procStatus(child.pid!, ['VmHWM'])?.VmHWM || 0);
    peakSpill = Math.max(peakSpill, treeBytes(spill));
  }, 250);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearInterval(poll);
      const wallS = (performance.now() - t0) / 1000;
      rmSync(spill, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
      resolve({ wallS, peakRssBytes: peakRss, peakSpillBytes: peakSpill, exit: code, stdout, stderr });
    });
  });
}

/** The report's own account of its aggregates (chunks, computed now, seconds), from its JSON. */
/** The report's own account of a run: its chunks (`aggregates`) and where the time went (`phases_s`). */
function aggregatesOf(run: Run): Record<string, unknown> | null {
  try {
    const j = JSON.parse(run.stdout.trim().split('\n').pop()!) as { aggregates?: Record<string, unknown>; phases_s?: Record<string, number> };
    return j.aggregates === undefined ? null : { ...j.aggregates, phases_s: j.phases_s ?? null };
  } catch {
    return null;
  }
}

/** Why the report's output is not the generated data, or null when its counts agree per vantage. */
function wrongOutput(run: Run, gen: GenResult): string | null {
  if (run.exit !== 0) return `invscope report exited ${run.exit}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`;
  let vantages: Record<string, unknown>[];
  try {
    vantages = (JSON.parse(run.stdout) as { summary: { vantages: Record<string, unknown>[] } }).summary.vantages;
  } catch {
    return 'invscope report --json printed no summary.vantages';
  }
  const got = vantages.map((v) => String(v['vantage'])).sort();
  if (got.join() !== [...gen.vantages].sort().join()) return `report has vantages ${got.join(', ')}, generated ${gen.vantages.join(', ')}`;
  for (const v of vantages) {
    const name = String(v['vantage']);
    if (Number(v['observations']) !== gen.observationsByVantage[name]) return `${name}: report counts ${v['observations']} observations, generated ${gen.observationsByVantage[name]}`;
    const blocks = Number((v['items_seen'] as Record<string, number>).block);
    if (blocks !== gen.blocks) return `${name}: report counts ${blocks} blocks, generated ${gen.blocks}`;
  }
  return null;
}

async function main(): Promise<void> {
  const hours = Number(values.hours);
  const peers = Number(values.peers);
  const dir = values.data ?? mkdtempSync(join(tmpdir(), 'invscope-benchrep-data-'));
  const jobs = Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) {
    console.error(`bench:report: --jobs must be a whole number of at least 1, got ${values.jobs}`);
    process.exitCode = 1;
    return;
  }
  const made = await buildTree(dir, hours, peers, jobs);
  if (typeof made === 'string') {
    console.error(`bench:report: ${made}`);
    process.exitCode = 1;
    return;
  }
  const { gen, wallS: genWallS, hours: treeHours } = made;
  const parquetBytes = treeBytes(join(dir, 'observations'));
  const load = loadavg()[0]!;
  // The aggregate cache lives for the full run and the run after one more hour, not longer.
  const cache = mkdtempSync(join(tmpdir(), 'invscope-benchrep-cache-'));
  const full = await runReport(dir, cache);
  const wrong = wrongOutput(full, gen);
  if (wrong !== null) {
    console.error(`bench:report: no figures, the report's output is wrong: ${wrong}`);
    process.exitCode = 1;
    rmSync(cache, { recursive: true, force: true });
    if (values.data === undefined && !values.keep) rmSync(dir, { recursive: true, force: true });
    return;
  }
  let incremental: { wallS: number; fractionOfFull: number; peakRssBytes: number; aggregates: Record<string, unknown> | null } | null = null;
  if (!values['no-incremental']) {
    const more = await extendTree(dir, treeHours, peers);
    const again = await runReport(dir, cache);
    const wrong2 = wrongOutput(again, more.gen);
    if (wrong2 !== null) {
      console.error(`bench:report: no incremental figures, the report's output is wrong: ${wrong2}`);
      process.exitCode = 1;
    } else {
      incremental = { wallS: again.wallS, fractionOfFull: again.wallS / full.wallS, peakRssBytes: again.peakRssBytes, aggregates: aggregatesOf(again) };
    }
  }
  const result = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg1AtStart: load },
    hours: treeHours,
    peers,
    links: gen.links,
    rows: gen.rows,
    generateWallS: genWallS,
    observationParquetBytes: parquetBytes,
    parquetBytesPerRow: parquetBytes / gen.rows.observations,
    report: { wallS: full.wallS, rowsPerS: gen.rows.observations / full.wallS, peakRssBytes: full.peakRssBytes, peakSpillBytes: full.peakSpillBytes, aggregates: aggregatesOf(full) },
    incremental,
  };
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
    console.log(`${gen.rows.observations.toLocaleString('en')} observations (${treeHours} h, ${peers} peers, ${gen.links} links), ${result.parquetBytesPerRow.toFixed(2)} Parquet bytes/row`);
    console.log(`report: ${full.wallS.toFixed(1)} s, ${(result.report.rowsPerS / 1e6).toFixed(2)} M rows/s, peak RSS ${mb(full.peakRssBytes)}, spilled ${mb(full.peakSpillBytes)}`);
    if (incremental) console.log(`+1 hour: ${incremental.wallS.toFixed(1)} s (${(incremental.fractionOfFull * 100).toFixed(0)} % of the full run)`);
    console.log(`load ${load.toFixed(1)} on ${cpus().length} cores, node ${process.version}`);
  }
  rmSync(cache, { recursive: true, force: true });
  if (values.data === undefined && !values.keep) rmSync(dir, { recursive: true, force: true });
}

await main();
