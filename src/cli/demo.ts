/**
 * `invscope demo` (what `npm start` runs): a whole experiment on the built-in simulated network,
 * as a researcher would run it by hand. `invscope simulate` and `invscope observe` run as child
 * processes (the simulator's CPU stays off the observer's process, and the observer is exactly
 * the command a person runs), both writing into one fresh DIR; then the report, then the check of
 * the stored measurement against the simulator's ground truth (src/cli/truthcheck.ts).
 * Main thread, cold path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { makeDirs } from '../store/dirs.js';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { UsageError, jsonLine } from './decode.js';
import { checkAgainstTruth } from './truthcheck.js';

export interface DemoOptions {
  nodes: number;
  seconds: number;
  timeScale: number;
  /** Mean seconds of model time between blocks. */
  blockInterval: number;
  shards: number;
  seed: number;
  misbehaving: number;
  out: string | null;
  json: boolean;
}

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

export async function demoCommand(o: DemoOptions): Promise<number> {
  const log = (s: string): void => {
    if (!o.json) process.stdout.write(s + '\n');
  };
  const dir = resolve(o.out ?? `invscope-demo-${timestamp()}`);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new UsageError(`--out ${dir} is not empty: the demo writes a fresh run directory`);
  makeDirs(dir);

  // 1. The simulated network, in its own process, writing truth.jsonl and nodes.txt into DIR.
  const simArgs = ['simulate', '--nodes', String(o.nodes), '--port', '0', '--seed', String(o.seed), '--time-scale', String(o.timeScale), '--block-interval', String(o.blockInterval), '--misbehaving', String(o.misbehaving), '--out', dir, '--quiet'];
  const sim = spawn(process.execPath, [BIN, ...simArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  const simExit = exitOf(sim);
  let listening: { port: number; misbehaving: number } | null = null;
  createInterface({ input: sim.stdout! }).on('line', (l) => {
    try {
      const m = JSON.parse(l);
      if (m.event === 'listening') listening = m;
    } catch {
      /* not a status line */
    }
  });
  const stopSim = async (): Promise<void> => {
    if (sim.exitCode === null) sim.kill('SIGTERM');
    await simExit;
  };
  try {
    const t0 = Date.now();
    while (!listening) {
      if (sim.exitCode !== null) throw new Error(`invscope simulate exited with status ${sim.exitCode}`);
      if (Date.now() - t0 > 120_000) throw new Error('invscope simulate did not start in 120 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const l = listening as { port: number; misbehaving: number };
    log(`simulated network: ${o.nodes} nodes on 127.1.x.y:${l.port} (seed ${o.seed}, time scale ${o.timeScale}, ${l.misbehaving} misbehaving), run directory ${dir}`);

    // 2. The observer, exactly as a person runs it, for the demo's duration.
    const obsArgs = ['observe', '--network', 'regtest', '--peers', join(dir, 'nodes.txt'), '--out', dir, '--duration', `${o.seconds}s`, '--shards', String(o.shards), '--status-interval', '10s', ...(o.json ? ['--quiet'] : [])];
    log(`$ invscope ${obsArgs.join(' ')}`);
    const obs = spawn(process.execPath, [BIN, ...obsArgs], { stdio: ['ignore', o.json ? 'ignore' : 'inherit', 'inherit'] });
    const obsCode = await exitOf(obs);
    await stopSim();
    if (obsCode !== 0) {
      process.stderr.write(`invscope demo: invscope observe exited with status ${obsCode}\n`);
      return 1;
    }
  } finally {
    await stopSim();
  }

  // 3. The report (src/cli/report.ts): the summary table with the accuracy against the truth
  // (or its JSON line), report.html and figures/*.svg in DIR.
  log(`$ invscope report ${dir}`);
  // Loaded here, not at the top: main.ts imports this file for every command, and Vega costs start-up.
  const { reportCommand } = await import('./report.js');
  const { code: reportCode } = await reportCommand({ dirs: [dir], json: o.json });

  // 4. The measurement against the ground truth.
  const c = await checkAgainstTruth(dir);
  if (o.json) {
    process.stdout.write(jsonLine({ dir, report: reportCode, ...c }) + '\n');
  } else {
    log(`items originated: ${c.items.tx} transactions, ${c.items.block} blocks; distinct (peer, item) announcements stored: ${c.observations}`);
    log(`announcements the nodes sent us (truth): ${c.expected}; observed: ${c.observed}; missing: ${c.missing} (and ${c.afterMisbehaviour} sent after a connection-ending misbehaviour, unreadable by design); not in the truth: ${c.notInTruth}; recorded twice: ${c.duplicates}; received before sent: ${c.negativeDelays}`);
    log(`send-to-receive delay: p50 ${fmt(c.sendToReceiveMs.p50, 2)} ms, p99 ${fmt(c.sendToReceiveMs.p99, 2)} ms, max ${fmt(c.sendToReceiveMs.max, 2)} ms`);
    log(`time until 50 % of the honest nodes announced an item: median ${fmt(c.timeTo50pctMs.median / 1000, 2)} s of real time (the model runs ${o.timeScale}x faster)`);
    log(`measured vs truth, time to 50 %: error p50 ${fmt(c.timeTo50pctErrorMs.p50, 2)} ms, p99 ${fmt(c.timeTo50pctErrorMs.p99, 2)} ms, max ${fmt(c.timeTo50pctErrorMs.max, 2)} ms over ${c.timeTo50pctErrorMs.items} items; to 90 %: p50 ${fmt(c.timeTo90pctErrorMs.p50, 2)} ms, max ${fmt(c.timeTo90pctErrorMs.max, 2)} ms`);
    log(`misbehaving nodes (label: counted with the expected outcome / nodes): ${Object.entries(c.misbehaving).map(([k, v]) => `${k} ${v.counted}/${v.nodes}`).join(', ') || 'none'}`);
    log(c.ok ? 'CHECK PASSED: every announcement in the ground truth was measured once, nothing else was, and every misbehaving node counted.' : 'CHECK FAILED: see the counts above.');
    log(`the run directory: ${dir} (Parquet parts, run.json, log/, truth.jsonl)`);
  }
  return c.ok && reportCode === 0 ? 0 : 1;
}
