/**
 * `npm run soak:observe` (default: --sim-hours 24 --time-scale 24, a simulated day in one wall
 * hour; `--minutes N` for a short check): `invscope observe` itself, as a child process exactly as a
 * person runs it, against `invscope simulate --time-scale X` in another child, with churn and a few
 * misbehaving nodes. Parts rotate every simulated hour (--rotate, wall time), observe.log with them.
 * Samples observe's RSS, threads and open fds from /proc every --sample-seconds and prints a line a
 * minute; stops observe with SIGINT, then checks that nothing was lost: (a) every part expected was
 * written under vantage=/date=/hour= and every file is readable, (b) the observation rows in
 * Parquet equal observe's counters (run.json, its final line), (c) every announcement of the
 * simulator's ground truth is in the observations (soak-check.ts), (d) one log per part, none
 * missing, the last one complete. Exit 1 if memory grows without bound (criterion in
 * bench/README.md "Soak of observe") or anything is lost, 2 on a bad argument, else 0.
 * Bench process only (loopback); not imported by anything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { spawnSimulate } from './sim-child.js';
import { procStatus } from './proc.js';
import { filesUnder } from '../src/store/dirs.js';
import { MiB, growth, checkTruth, connectionAt, type Conn, type Sample, type TruthVerdict } from './soak-check.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const TABLES = ['observations', 'peers', 'items', 'timeline'] as const;
const VANTAGE = 'soak';

const OPTIONS = {
  /** Wall minutes; default --sim-hours x 60 / --time-scale. */
  minutes: { type: 'string' },
  /** Model hours to simulate (the simulator's clock runs --time-scale times faster than the wall's). */
  'sim-hours': { type: 'string', default: '24' },
  'time-scale': { type: 'string', default: '24' },
  /** Wall seconds between parts; default one simulated hour (3600 / --time-scale). */
  rotate: { type: 'string' },
  nodes: { type: 'string', default: '300' },
  shards: { type: 'string', default: '2' },
  'tx-rate': { type: 'string', default: '0.5' },
  'block-interval': { type: 'string', default: '600' },
  churn: { type: 'string', default: '0.5' },
  misbehaving: { type: 'string', default: '0.05' },
  seed: { type: 'string', default: '1' },
  'address-base': { type: 'string', default: '127.9.0.0' },
  'sample-seconds': { type: 'string', default: '10' },
  'report-seconds': { type: 'string', default: '60' },
  /** RSS growth over the second half above this many MiB (and above 10 % of its mean) fails. */
  'growth-mib': { type: 'string', default: '32' },
  keep: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

function usage(msg: string): never {
  process.stderr.write(`soak-observe: ${msg}\n`);
  process.exit(2);
}

let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
try {
  parsed = parseArgs({ options: OPTIONS }).values;
} catch (e) {
  usage((e as Error).message);
}
const values = parsed;
const num = (k: keyof typeof OPTIONS, v = values[k] as string | undefined): number => {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n) || n <= 0) usage(`--${k} takes a positive number, not ${JSON.stringify(v)}`);
  return n;
};
const TIME_SCALE = num('time-scale');
const MINUTES = values.minutes !== undefined ? num('minutes') : (num('sim-hours') * 60) / TIME_SCALE;
const ROTATE_MS = values.rotate !== undefined ? num('rotate') * 1000 : 3_600_000 / TIME_SCALE;
const NODES = num('nodes');
const SAMPLE_MS = num('sample-seconds') * 1000;
const REPORT_MS = num('report-seconds') * 1000;
const GROWTH_MIB = num('growth-mib');
for (const k of ['shards', 'tx-rate', 'block-interval'] as const) num(k);
if (!Number.isInteger(NODES) || ROTATE_MS < 1000) usage('--nodes takes an integer and --rotate at least 1 (second)');
/** Announcements this close to the stop, or to a close of that node's connection, may be in flight. */
const MARGIN_MS = 2_000;
/** Whole periods to cover the minutes, and half a period more: the stop never sits on a part boundary. */
const RUN_MS = Math.round((Math.ceil((MINUTES * 60_000) / ROTATE_MS - 1e-9) + 0.5) * ROTATE_MS);

const out = (s: string): void => void process.stdout.write(s + '\n');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const simHours = (ms: number): number => Math.round(((ms * TIME_SCALE) / 3_600_000) * 100) / 100;

/** VmRSS (bytes) and Threads of a process, its open fds (-1 if unreadable); null once it is gone. */
function procStats(pid: number): { rss: number; threads: number; fds: number } | null {
  const st = procStatus(pid, ['VmRSS', 'Threads']);
  if (st === null) return null;
  let fds = -1;
  try {
    fds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    /* not ours to read */
  }
  return { rss: st.VmRSS, threads: st.Threads, fds };
}

// -------------------------------------------------------------------------------------------------
// observe, a child process

interface Observe {
  child: ChildProcess;
  lines: any[];
  exited: Promise<number | null>;
  stderr: () => string;
}

function spawnObserve(simDir: string, runDir: string): Observe {
  const args = [
    BIN, 'observe', '--network', 'regtest', '--peers', join(simDir, 'nodes.txt'), '--max-peers', String(NODES),
    '--shards', values.shards!, '--out', runDir, '--vantage', VANTAGE, '--rotate', `${ROTATE_MS}ms`,
    '--json', '--status-interval', String(Math.max(1, SAMPLE_MS / 1000)),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: any[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l));
      // The first line ('started') and the recent ones.
      if (lines.length > 1000) lines.splice(1, 500);
    } catch {
      /* not a JSON line */
    }
  });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-20_000)));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { child, lines, exited, stderr: () => err };
}

async function waitForLine(o: Observe, event: string, ms: number): Promise<any> {
  const t0 = Date.now();
  for (;;) {
    const l = o.lines.find((x) => x.event === event);
    if (l) return l;
    if (o.child.exitCode !== null) throw new Error(`observe exited with ${o.child.exitCode}: ${o.stderr()}`);
    if (Date.now() - t0 > ms) throw new Error(`observe printed no '${event}' line in ${ms / 1000} s`);
    await sleep(50);
  }
}

// -------------------------------------------------------------------------------------------------
// The checks of the run directory

/** Files under `dir`, recursively, relative to it (none when it is missing). */
const filesIn = (dir: string): string[] => (existsSync(dir) ? filesUnder(dir) : []);

interface PartsCheck {
  expected: number;
  inRunJson: number;
  /** Per table: files, rows, files in a folder not of the hive shape, parts (of run.json) without a file. */
  tables: Record<string, { files: number; rows: number; badPaths: string[]; partsWithoutFile: string[]; unknownParts: string[] }>;
  unreadable: string[];
  stagingLeft: boolean;
  ok: boolean;
}

/** (a) every part expected, in hive folders, every file readable (its rows counted). */
async function checkParts(c: DuckDBConnection, runDir: string, run: any, expected: number): Promise<PartsCheck> {
  const parts = new Set<string>(run.parts);
  const re = new RegExp(`^vantage=${VANTAGE}/date=\\d{4}-\\d{2}-\\d{2}/hour=\\d{1,2}/(part-${run.runId}-\\d{4})(?:-\\d+)?\\.parquet$`);
  const tables: PartsCheck['tables'] = {};
  const unreadable: string[] = [];
  for (const t of TABLES) {
    const files = filesIn(join(runDir, t));
    const x = { files: files.length, rows: 0, badPaths: [] as string[], partsWithoutFile: [] as string[], unknownParts: [] as string[] };
    const seen = new Set<string>();
    for (const f of files) {
      const m = re.exec(f);
      if (!m) {
        x.badPaths.push(f);
        continue;
      }
      seen.add(m[1]!);
      if (!parts.has(m[1]!)) x.unknownParts.push(m[1]!);
      try {
        const r = await c.runAndReadAll(`SELECT count(*)::BIGINT FROM read_parquet('${join(runDir, t, f).replace(/'/g, "''")}')`);
        x.rows += Number(r.getRows()[0]![0]);
      } catch {
        unreadable.push(`${t}/${f}`);
      }
    }
    // Every part holds a timeline row a second and, with traffic, observations: a file of each.
    if (t === 'observations' || t === 'timeline') x.partsWithoutFile = [...parts].filter((p) => !seen.has(p));
    tables[t] = x;
  }
  const stagingLeft = existsSync(join(runDir, '.store'));
  const ok =
    parts.size === expected && run.parts.length === expected && unreadable.length === 0 && !stagingLeft &&
    Object.values(tables).every((x) => x.badPaths.length === 0 && x.partsWithoutFile.length === 0 && x.unknownParts.length === 0);
  return { expected, inRunJson: run.parts.length, tables, unreadable, stagingLeft, ok };
}

interface LogsCheck {
  files: number;
  expected: number;
  /** Indices 0..n-1, none missing. */
  contiguous: boolean;
  lastComplete: boolean;
  lines: number;
  /** Lines of log N written outside part N's period (its rotation times, give or take LOG_SLACK_MS). */
  outsidePeriod: number;
  /** Log N's creation (birth time) less part N's first observation, N >= 1, ms: how closely the log turns with the parts. */
  turnOffsetMs: { min: number; max: number } | null;
  ok: boolean;
}

/** The store's timer starts after run.json's `started` by the store's opening, and drifts by the timers' lateness. */
const LOG_SLACK_MS = 2_000;

/**
 * (d) DIR/log: one observe-<runid>-NNNN.log per part, none missing, the last one ending with the
 * stop, and every line of log N written within part N's period.
 */
function checkLogs(runDir: string, run: any, expected: number, firstRows: Map<number, number>): LogsCheck {
  const files = readdirSync(join(runDir, 'log')).filter((f) => f.startsWith(`observe-${run.runId}-`)).sort();
  const contiguous = files.every((f, i) => f === `observe-${run.runId}-${String(i).padStart(4, '0')}.log`);
  let lines = 0;
  let outsidePeriod = 0;
  let last = '';
  const offsets: number[] = [];
  files.forEach((f, i) => {
    const born = statSync(join(runDir, 'log', f)).birthtimeMs;
    const first = firstRows.get(i);
    if (i > 0 && born > 0 && first !== undefined) offsets.push(Math.round(born - first));
    const text = readFileSync(join(runDir, 'log', f), 'utf8');
    const from = run.started + i * ROTATE_MS - LOG_SLACK_MS;
    const to = i === files.length - 1 ? run.stopped + LOG_SLACK_MS : run.started + (i + 1) * ROTATE_MS + LOG_SLACK_MS;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      lines++;
      const t = Date.parse(line.slice(0, 24));
      if (!(t >= from && t <= to)) outsidePeriod++;
    }
    last = text;
  });
  const lastComplete = last.endsWith('\n') && /INFO {2}stopped \(interrupted\): /.test(last);
  const turnOffsetMs = offsets.length ? { min: Math.min(...offsets), max: Math.max(...offsets) } : null;
  return { files: files.length, expected, contiguous, lastComplete, lines, outsidePeriod, turnOffsetMs, ok: files.length === expected && contiguous && lastComplete && outsidePeriod === 0 };
}

/** The time of each part's first observation (epoch ms), by part number. */
async function firstRowOfParts(c: DuckDBConnection, runDir: string): Promise<Map<number, number>> {
  const r = await c.runAndReadAll(
    `SELECT regexp_extract(filename, 'part-.*-(\\d{4})(-\\d+)?\\.parquet$', 1)::INTEGER, epoch_us(min(time)) / 1000.0 ` +
      `FROM read_parquet('${join(runDir, 'observations', '**', '*.parquet')}', filename = true, hive_partitioning = false) GROUP BY 1`,
  );
  return new Map(r.getRows().map(([n, t]) => [Number(n), Number(t)]));
}

/** Our sessions per node from the peers table (ready ones, in order), for the truth check. */
async function sessionsByNode(c: DuckDBConnection, runDir: string, nodeOf: Map<string, number>): Promise<Map<number, Conn[]>> {
  const r = await c.runAndReadAll(
    `SELECT address, epoch_us(ready_at) / 1000.0, coalesce(epoch_us(closed_at) / 1000.0, 'Infinity'::DOUBLE), coalesce(close_reason, '') ` +
      `FROM read_parquet('${join(runDir, 'peers', '**', '*.parquet')}', hive_partitioning = false) WHERE ready_at IS NOT NULL ORDER BY ready_at`,
  );
  const by = new Map<number, Conn[]>();
  for (const [a, ready, gone, reason] of r.getRows()) {
    const node = nodeOf.get(a as string);
    if (node === undefined) continue;
    const conn: Conn = { readyAt: Number(ready), goneAt: Number(gone), reason: reason as string };
    const list = by.get(node);
    if (list) list.push(conn);
    else by.set(node, [conn]);
  }
  return by;
}

/** (c) every announcement of the truth in the observations, streamed from DuckDB. */
async function checkAgainstTruth(c: DuckDBConnection, simDir: string, runDir: string, tEnd: number): Promise<TruthVerdict> {
  const addresses = readFileSync(join(simDir, 'nodes.txt'), 'utf8').trim().split('\n');
  const nodeOf = new Map(addresses.map((a, i) => [a, i]));
  const modes: (string | null)[] = JSON.parse(readFileSync(join(simDir, 'nodes.json'), 'utf8')).map((n: any) => n.misbehaviour);
  const sessions = await sessionsByNode(c, runDir, nodeOf);
  return checkTruth({
    truthPath: join(simDir, 'truth.jsonl'),
    nodes: addresses.length,
    modes,
    tEnd,
    marginMs: MARGIN_MS,
    observations: async (add) => {
      const res = await c.stream(`SELECT DISTINCT address, substr(hash, 1, 16) FROM read_parquet('${join(runDir, 'observations', '**', '*.parquet')}', hive_partitioning = false)`);
      for (;;) {
        const chunk = await res.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        for (const [a, h] of chunk.getRows()) {
          const node = nodeOf.get(a as string);
          if (node !== undefined) add(node, h as string);
        }
      }
    },
    connection: (node, _observer, t) => connectionAt(sessions.get(node), t),
  });
}

// -------------------------------------------------------------------------------------------------

interface Row {
  minute: number;
  simHours: number;
  load1: number;
  rssMiB: number;
  threads: number;
  fds: number;
  [k: string]: unknown;
}

/** Samples observe until RUN_MS has passed (or it exits); prints a line every REPORT_MS. */
async function sample(obs: Observe, sim: { lines: any[] }, started: number): Promise<{ samples: Sample[]; rows: Row[]; fdsMax: number; threadsMax: number }> {
  const samples: Sample[] = [];
  const rows: Row[] = [];
  let fdsMax = 0;
  let threadsMax = 0;
  let nextReport = started + REPORT_MS;
  const tEnd = started + RUN_MS;
  while (Date.now() < tEnd && obs.child.exitCode === null) {
    await sleep(Math.min(SAMPLE_MS, Math.max(0, tEnd - Date.now())));
    const p = procStats(obs.child.pid!);
    if (!p) break;
    samples.push({ t: Date.now(), rss: p.rss, heap: 0 });
    if (p.fds > fdsMax) fdsMax = p.fds;
    if (p.threads > threadsMax) threadsMax = p.threads;
    if (Date.now() < nextReport && Date.now() < tEnd) continue;
    nextReport += REPORT_MS;
    const st = [...obs.lines].reverse().find((l) => l.event === 'status');
    const ss = [...sim.lines].reverse().find((l) => l.event === 'status');
    const row: Row = {
      minute: Math.round((Date.now() - started) / 60_000),
      simHours: simHours(Date.now() - started),
      load1: Math.round(loadavg()[0]! * 100) / 100,
      rssMiB: MiB(p.rss),
      threads: p.threads,
      fds: p.fds,
      ready: st?.peers?.ready ?? null,
      entries: st?.entries ?? null,
      invPerSecond: st?.invPerSecond ?? null,
      parts: st?.parts ?? null,
      drops: st ? st.drops.ring + st.drops.consumer + st.drops.store : null,
      simRssMiB: ss?.rssMB ?? null,
    };
    rows.push(row);
    out(values.json ? JSON.stringify(row) : Object.entries(row).map(([k, v]) => `${k}=${v}`).join(' '));
  }
  return { samples, rows, fdsMax, threadsMax };
}

/** (a), (c) and (d) on the stopped run's directory (one DuckDB instance for the reading). */
async function checkRunDir(dir: string, runDir: string, run: any, expectedParts: number): Promise<{ parts: PartsCheck; truth: TruthVerdict; logs: LogsCheck }> {
  const inst = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '1GB' });
  const c = await inst.connect();
  try {
    const parts = await checkParts(c, runDir, run, expectedParts);
    const firstRows = await firstRowOfParts(c, runDir);
    const truth = await checkAgainstTruth(c, dir, runDir, run.stopRequested);
    return { parts, truth, logs: checkLogs(runDir, run, expectedParts, firstRows) };
  } finally {
    c.closeSync();
    inst.closeSync();
  }
}

/** (b) the observation rows in Parquet against observe's counters (run.json, its final line), no drop. */
function checkRows(run: any, parts: PartsCheck, stoppedLine: any) {
  const k = run.counters;
  const parquet = parts.tables.observations!.rows;
  const drops = { ring: k.drops, consumer: k.consumerDrops, storeLost: k.storeLost, storeShed: k.storeShed };
  const counted = { runJson: k.observations, finalLine: stoppedLine?.observations ?? null, drained: k.drained, parquet, timelineRunJson: k.timeline, timelineParquet: parts.tables.timeline!.rows };
  const ok = parquet === k.observations && parquet === counted.finalLine && parquet === k.drained && counted.timelineParquet === k.timeline && Object.values(drops).every((d) => d === 0);
  return { ...counted, drops, ok };
}

/** The stop a person makes: Ctrl-C. Observe drains, exports the open part and exits 0; then the simulator goes. */
async function stop(obs: Observe, sim: { child: ChildProcess; exited: Promise<unknown> }): Promise<{ code: number | null; stoppedLine: any }> {
  obs.child.kill('SIGINT');
  const guard = setTimeout(() => obs.child.kill('SIGKILL'), 600_000);
  const code = await obs.exited;
  clearTimeout(guard);
  sim.child.kill('SIGTERM');
  await sim.exited;
  return { code, stoppedLine: [...obs.lines].reverse().find((l) => l.event === 'stopped') ?? null };
}

/** RSS at the start, middle, end and peak, and the second half's growth against the criterion. */
function memoryOf(samples: readonly Sample[], rss: ReturnType<typeof growth>): Record<string, number | boolean> {
  return {
    rssStartMiB: MiB(samples[0]?.rss ?? 0),
    rssMiddleMiB: MiB(samples[Math.floor(samples.length / 2)]?.rss ?? 0),
    rssEndMiB: MiB(samples[samples.length - 1]?.rss ?? 0),
    rssMaxMiB: MiB(Math.max(0, ...samples.map((s) => s.rss))),
    rssGrowthSecondHalfMiB: rss.mib,
    rssMeanSecondHalfMiB: rss.meanMib,
    bounded: rss.bounded,
  };
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'invscope-soak-observe-'));
  const runDir = join(dir, 'run');
  const sim = await spawnSimulate([
    '--nodes', String(NODES), '--port', '0', '--seed', values.seed!, '--time-scale', String(TIME_SCALE),
    '--tx-rate', values['tx-rate']!, '--block-interval', values['block-interval']!, '--churn', values.churn!,
    '--misbehaving', values.misbehaving!, '--address-base', values['address-base']!, '--out', dir,
    '--status-interval', String(REPORT_MS / 1000),
  ], 1000);
  const obs = spawnObserve(dir, runDir);
  const startedLine = await waitForLine(obs, 'started', 120_000);
  // run.json is written before the pool starts; its `started` precedes the store's rotation timer
  // by the store's opening, so the stop half a period past a rotation is never near a boundary.
  const started: number = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).started;
  out(`soak-observe: ${NODES} simulated nodes (${values.misbehaving} misbehaving, churn ${values.churn}/node/model-hour, ${values['tx-rate']} model tx/s, time scale ${TIME_SCALE}) in pid ${sim.child.pid}; observe pid ${startedLine.pid}, ${values.shards} shards, a part every ${ROTATE_MS / 1000} s; ${Math.round(RUN_MS / 600) / 100} min = ${simHours(RUN_MS)} simulated hours; dir ${dir}`);
  const { samples, rows, fdsMax, threadsMax } = await sample(obs, sim, started);
  const diedEarly = obs.child.exitCode !== null;
  const { code, stoppedLine } = await stop(obs, sim);
  if (code !== 0 || !existsSync(join(runDir, 'run.json'))) {
    out(`SOAK FAILED: observe exited with ${code}${diedEarly ? ' before the end' : ''}: ${obs.stderr()}`);
    return 1;
  }
  const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
  // The store's rotation timer starts with the run (run.json started): one part more than rotations.
  const expectedParts = Math.floor((run.stopRequested - run.started) / ROTATE_MS) + 1;

  const tCheck = Date.now();
  const { parts, truth, logs } = await checkRunDir(dir, runDir, run, expectedParts);
  const k = run.counters;
  const rowsCheck = checkRows(run, parts, stoppedLine);
  const rowsOk = rowsCheck.ok;
  const rss = growth(samples, 'rss', GROWTH_MIB);
  const loads = rows.map((r) => r.load1);
  const ok = !diedEarly && rss.bounded && parts.ok && rowsOk && truth.missing === 0 && truth.expected > 0 && logs.ok;
  const summary = {
    ok,
    wallMinutes: Math.round(((run.stopRequested - started) / 60_000) * 10) / 10,
    simulatedHours: simHours(run.stopRequested - started),
    timeScale: TIME_SCALE,
    rotateSeconds: ROTATE_MS / 1000,
    nodes: NODES,
    txRate: Number(values['tx-rate']),
    churn: Number(values.churn),
    misbehaving: Number(values.misbehaving),
    node: process.version,
    loadAverage: loads.length ? { min: Math.min(...loads), max: Math.max(...loads), mean: Math.round((loads.reduce((a, b) => a + b, 0) / loads.length) * 100) / 100 } : null,
    memory: { ...memoryOf(samples, rss), fdsMax, threadsMax },
    stop: { exit: code, seconds: Math.round((run.stopped - run.stopRequested) / 100) / 10, reason: run.stopReason },
    parts,
    rows: rowsCheck,
    truth,
    logs,
    peers: { sessions: k.peers.sessions, handshakes: k.peers.handshakes, rows: parts.tables.peers!.rows },
    checkSeconds: Math.round((Date.now() - tCheck) / 100) / 10,
    dir: values.keep ? dir : null,
  };
  out(JSON.stringify(summary, null, values.json ? 0 : 1));
  const why = [diedEarly && 'observe exited early', !rss.bounded && 'RSS grew', !parts.ok && 'parts missing or unreadable', !rowsOk && 'rows lost or dropped', (truth.missing > 0 || truth.expected === 0) && `${truth.missing} of ${truth.expected} announcements missing`, !logs.ok && 'logs missing or incomplete'].filter(Boolean);
  out(ok ? 'SOAK PASSED' : `SOAK FAILED: ${why.join(', ')}`);
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`soak-observe: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
