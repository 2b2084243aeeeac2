/**
 * `invscope demo` (what `npm start` runs): a whole experiment on the built-in simulated network,
 * as a researcher would run it by hand, from two vantage points. `invscope simulate` and two
 * `invscope observe` (vantages demo-a and demo-b) run as child processes (the simulator's CPU stays
 * off the observers' processes, and each observer is exactly the command a person runs), the
 * simulator writing into a fresh DIR and each observer into DIR/<vantage>; then the truth split per
 * vantage (truth-split.ts), the report over both (with the estimated clock offset between them),
 * and the check of each stored measurement against its truth (truthcheck.ts). Main thread, cold.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { makeDirs } from '../store/dirs.js';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { UsageError, jsonLine } from './decode.js';
import { checkAgainstTruth, type TruthCheck } from './truthcheck.js';
import { connectionsOf, splitTruth } from './truth-split.js';

export interface DemoOptions {
  nodes: number;
  seconds: number;
  timeScale: number;
  /** Mean seconds of model time between blocks. */
  blockInterval: number;
  /** Shard threads of each observer. */
  shards: number;
  seed: number;
  misbehaving: number;
  out: string | null;
  json: boolean;
}

/** The demo's two vantage points: one observer process each, on the one simulated network. */
export const DEMO_VANTAGES = ['demo-a', 'demo-b'] as const;

const BIN = fileURLToPath(new URL('./main.js', import.meta.url));
const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-');

function timestamp(t = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${t.getFullYear()}${p(t.getMonth() + 1)}${p(t.getDate())}-${p(t.getHours())}${p(t.getMinutes())}${p(t.getSeconds())}`;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (child.exitCode !== null) r(child.exitCode);
    else child.on('exit', (code, sig) => r(code ?? (sig ? 128 : null)));
  });
}

interface SimChild {
  listening: { port: number; misbehaving: number };
  stop(): Promise<void>;
}

/** `invscope simulate` writing truth.jsonl and nodes.txt into dir; resolves once it listens. */
async function startSim(o: DemoOptions, dir: string): Promise<SimChild> {
  const simArgs = ['simulate', '--nodes', String(o.nodes), '--port', '0', '--seed', String(o.seed), '--time-scale', String(o.timeScale), '--block-interval', String(o.blockInterval), '--misbehaving', String(o.misbehaving), '--out', dir, '--quiet'];
  const sim = spawn(process.execPath, [BIN, ...simArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  const simExit = exitOf(sim);
  let listening: SimChild['listening'] | null = null;
  createInterface({ input: sim.stdout! }).on('line', (l) => {
    try {
      const m = JSON.parse(l);
      if (m.event === 'listening') listening = m;
    } catch {
      /* not a status line */
    }
  });
  const stop = async (): Promise<void> => {
    if (sim.exitCode === null) sim.kill('SIGTERM');
    await simExit;
  };
  const t0 = Date.now();
  while (!listening) {
    if (sim.exitCode !== null) throw new Error(`invscope simulate exited with status ${sim.exitCode}`);
    if (Date.now() - t0 > 120_000) {
      await stop();
      throw new Error('invscope simulate did not start in 120 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { listening, stop };
}

/**
 * Both observers at once, exactly as a person runs them: the first shows its status lines, the
 * second only its final line. Debug logs: their ready lines name each run's connections, which
 * the truth check needs to tell the two observers apart. Resolves with the exit statuses.
 */
async function observeBoth(o: DemoOptions, dir: string, log: (s: string) => void): Promise<(number | null)[]> {
  const runs = DEMO_VANTAGES.map((vantage, i) => {
    const quiet = o.json || i > 0;
    const args = ['observe', '--network', 'regtest', '--peers', join(dir, 'nodes.txt'), '--out', join(dir, vantage), '--vantage', vantage, '--duration', `${o.seconds}s`, '--shards', String(o.shards), '--log-level', 'debug', '--status-interval', '10s', ...(quiet ? ['--quiet'] : [])];
    log(`$ invscope ${args.join(' ')}${i === 0 ? ' &' : ''}`);
    return exitOf(spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', o.json ? 'ignore' : 'inherit', 'inherit'] }));
  });
  return Promise.all(runs);
}

export async function demoCommand(o: DemoOptions): Promise<number> {
  const log = (s: string): void => {
    if (!o.json) process.stdout.write(s + '\n');
  };
  const dir = resolve(o.out ?? `invscope-demo-${timestamp()}`);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new UsageError(`--out ${dir} is not empty: the demo writes a fresh run directory`);
  makeDirs(dir);

  // 1. The simulated network, in its own process; 2. the two observers for the demo's duration.
  const sim = await startSim(o, dir);
  try {
    const l = sim.listening;
    log(`simulated network: ${o.nodes} nodes on 127.1.x.y:${l.port} (seed ${o.seed}, time scale ${o.timeScale}, ${l.misbehaving} misbehaving), run directory ${dir}, vantages ${DEMO_VANTAGES.join(' and ')}`);
    const codes = await observeBoth(o, dir, log);
    const bad = codes.findIndex((c) => c !== 0);
    if (bad >= 0) {
      process.stderr.write(`invscope demo: invscope observe --vantage ${DEMO_VANTAGES[bad]} exited with status ${codes[bad]}\n`);
      return 1;
    }
  } finally {
    await sim.stop();
  }

  // 3. The ground truth split per vantage: each run's DIR/<vantage>/truth.jsonl holds the
  // announcements to its own connections (and every other record), so that the report's accuracy
  // and the check judge each observer on what was sent to it.
  const runs = DEMO_VANTAGES.map((v) => join(dir, v));
  const split = await splitTruth(join(dir, 'truth.jsonl'), runs.map((r) => ({ path: join(r, 'truth.jsonl'), connections: connectionsOf(r) })));
  log(`ground truth split per vantage: ${DEMO_VANTAGES.map((v, i) => `${v} ${split.announces[i]} announcements`).join(', ')}; to no vantage's connection: ${split.unattributed}`);

  // 4. The report over both vantages (src/cli/report.ts): the summary table with each vantage's
  // accuracy and the clock offset between them (or its JSON line), report.html and figures/ in DIR.
  log(`$ invscope report ${runs.join(' ')} --out ${dir}`);
  // Loaded here, not at the top: main.ts imports this file for every command, and Vega costs start-up.
  const { reportCommand } = await import('./report.js');
  const { formatNetwork, fmtMs } = await import('../report/index.js');
  const { code: reportCode, result } = await reportCommand({ dirs: runs, out: dir, json: o.json });
  const clockLines = result?.network ? formatNetwork(result.network, fmtMs).filter((s) => s.startsWith('clock ')) : [];

  // 5. Each measurement against its ground truth.
  const checks: { vantage: string; check: TruthCheck }[] = [];
  for (const [i, vantage] of DEMO_VANTAGES.entries()) checks.push({ vantage, check: await checkAgainstTruth(runs[i]!) });
  const ok = checks.every((c) => c.check.ok) && split.unattributed === 0 && reportCode === 0 && clockLines.length > 0;
  if (o.json) process.stdout.write(jsonLine({ dir, report: reportCode, ok, unattributed: split.unattributed, clock: result?.network?.offsets ?? [], vantages: checks.map((c) => ({ vantage: c.vantage, ...c.check })) }) + '\n');
  else printChecks(o, dir, checks, clockLines, ok, log);
  return ok ? 0 : 1;
}

/** The demo's closing lines: each vantage's check, the clock offset between the vantages, the verdict. */
function printChecks(o: DemoOptions, dir: string, checks: { vantage: string; check: TruthCheck }[], clockLines: string[], ok: boolean, log: (s: string) => void): void {
  const first = checks[0]!.check;
  log(`items originated: ${first.items.tx} transactions, ${first.items.block} blocks`);
  for (const { vantage: v, check: c } of checks) {
    log(`${v}: distinct (peer, item) announcements stored: ${c.observations}; the nodes sent it (truth): ${c.expected}; observed: ${c.observed}; missing: ${c.missing} (and ${c.afterMisbehaviour} sent after a connection-ending misbehaviour, unreadable by design); not in the truth: ${c.notInTruth}; recorded twice: ${c.duplicates}; received before sent: ${c.negativeDelays}`);
    log(`${v}: send-to-receive delay p50 ${fmt(c.sendToReceiveMs.p50, 2)} ms, p99 ${fmt(c.sendToReceiveMs.p99, 2)} ms, max ${fmt(c.sendToReceiveMs.max, 2)} ms; time until 50 % of the honest nodes announced an item: median ${fmt(c.timeTo50pctMs.median / 1000, 2)} s of real time (the model runs ${o.timeScale}x faster)`);
    log(`${v}: measured vs truth, time to 50 %: error p50 ${fmt(c.timeTo50pctErrorMs.p50, 2)} ms, p99 ${fmt(c.timeTo50pctErrorMs.p99, 2)} ms, max ${fmt(c.timeTo50pctErrorMs.max, 2)} ms over ${c.timeTo50pctErrorMs.items} items; to 90 %: p50 ${fmt(c.timeTo90pctErrorMs.p50, 2)} ms, max ${fmt(c.timeTo90pctErrorMs.max, 2)} ms`);
    log(`${v}: misbehaving nodes (label: counted with the expected outcome / nodes): ${Object.entries(c.misbehaving).map(([k, x]) => `${k} ${x.counted}/${x.nodes}`).join(', ') || 'none'}`);
  }
  log(`estimated clock offset between the vantages (from blocks both heard from the same peers; one host, so near 0): ${clockLines.join('; ') || 'none (no block heard from a peer in common)'}`);
  log(ok ? 'CHECK PASSED: at each vantage every announcement in the ground truth was measured once, nothing else was, and every misbehaving node counted.' : 'CHECK FAILED: see the counts above.');
  log(`the run directory: ${dir} (truth.jsonl, report.html; ${DEMO_VANTAGES.map((v) => `${v}/`).join(' and ')} with the Parquet parts, run.json, log/ and its share of the truth)`);
}
