/**
 * `npm run bench:sim`: the simulator's resource budget (10,000 nodes, one observer
 * connection each, mainnet-like traffic, within 1 CPU core and 2 GiB). Starts `invscope simulate`
 * as a child process, connects one real Peer per node from this process (bounded pending
 * connects), waits for every handshake, then samples the child's CPU (/proc/PID/stat utime+stime)
 * and RSS (/proc/PID/status VmRSS) and the inv entries the observers receive. Bench process only.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectPeer, CoarseTimer, type Peer } from '../src/peer/index.js';
import { NETWORKS } from '../src/protocol/constants.js';
import { spawnSimulate } from './sim-child.js';

const NET = NETWORKS.regtest;

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '60' },
    // The headline figure is at time scale 1 (mainnet-like: 7 tx/s); 10 is the stress run.
    scales: { type: 'string', default: '1,10' },
    'tx-rate': { type: 'string', default: '7' },
    // Pending connects at once: the accept backlog (4096) and SYN handling stay well inside limits.
    concurrency: { type: 'string', default: '500' },
    port: { type: 'string', default: '38555' },
    'handshake-limit': { type: 'string', default: '180' },
    'no-truth': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const NODES = Number(values.nodes);
const SECONDS = Number(values.seconds);
const SCALES = values.scales!.split(',').map(Number);
const CONCURRENCY = Number(values.concurrency);
const HANDSHAKE_LIMIT_S = Number(values['handshake-limit']);

let CLK_TCK = 100;
try {
  CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  /* Linux default */
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function log(s: string): void {
  if (!values.json) process.stderr.write(s + '\n');
}

interface Result {
  nodes: number;
  timeScale: number;
  txRate: number;
  seconds: number;
  connected: number;
  handshakeSec: number;
  cpuPercent: number;
  rssMB: number;
  rssMaxMB: number;
  invEntriesPerSec: number;
  invMsgsPerSec: number;
  itemsPerSec: number;
  observersClosed: number;
}

async function run(scale: number, port: number): Promise<Result> {
  const out = mkdtempSync(join(tmpdir(), 'invscope-bench-sim-'));
  const args = ['--nodes', String(NODES), '--port', String(port), '--time-scale', String(scale), '--tx-rate', values['tx-rate']!, '--status-interval', '5'];
  if (!values['no-truth']) args.push('--out', out);
  const { child, lines, listening, exited } = await spawnSimulate(args);
  const pid = child.pid!;
  const hosts: string[] = readFileSync(join(out, 'nodes.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.slice(0, l.lastIndexOf(':')));
  log(`time scale ${scale}: ${listening.nodes} nodes listening on port ${port}; connecting ${hosts.length} observers, ${CONCURRENCY} at a time`);

  let invEntries = 0;
  let invMsgs = 0;
  let closed = 0;
  const timer = new CoarseTimer(1000);
  const peers: Peer[] = [];
  const hs0 = Date.now();
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < hosts.length) {
      const host = hosts[next++]!;
      try {
        const peer = await connectPeer({
          host,
          port,
          network: NET,
          timer,
          connectTimeoutMs: 30_000,
          localNonces: new Set(),
          setup: (p) => {
            p.on('inv', (m) => {
              invEntries += m.inventory.length;
              invMsgs++;
            });
            p.on('close', () => closed++);
          },
        });
        peers.push(peer);
        await peer.ready.catch(() => {});
      } catch {
        failed++;
      }
    }
  };
  // A simulator over its CPU budget answers handshakes slowly: measure with whoever is connected
  // after HANDSHAKE_LIMIT_S rather than wait without bound (the table shows how many).
  let stopConnecting = false;
  const limit = setTimeout(() => (stopConnecting = true), HANDSHAKE_LIMIT_S * 1000);
  await Promise.race([
    Promise.all(Array.from({ length: CONCURRENCY }, worker)),
    new Promise<void>((r) => {
      const h = setInterval(() => {
        if (stopConnecting) {
          clearInterval(h);
          next = hosts.length;
          r();
        }
      }, 200);
    }),
  ]);
  clearTimeout(limit);
  const ready = peers.filter((p) => p.isReady).length;
  const handshakeSec = (Date.now() - hs0) / 1000;
  log(`  ${ready} handshakes in ${handshakeSec.toFixed(1)} s (${failed} connects failed)`);

  const items0 = lastItems(lines);
  const cpu0 = cpuSeconds(pid);
  const e0 = invEntries;
  const m0 = invMsgs;
  const w0 = performance.now();
  let rssMax = 0;
  for (let s = 0; s < SECONDS; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    rssMax = Math.max(rssMax, rssMB(pid));
    if (s % 10 === 9) log(`  ${s + 1} s: inv entries ${invEntries - e0}, cpu ${(((cpuSeconds(pid) - cpu0) / ((performance.now() - w0) / 1000)) * 100).toFixed(0)} %`);
  }
  const wall = (performance.now() - w0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const rss = rssMB(pid);
  const items1 = lastItems(lines);
  const closedDuring = closed;
  for (const p of peers) p.close();
  child.kill('SIGTERM');
  await exited;
  rmSync(out, { recursive: true, force: true });
  return {
    nodes: NODES,
    timeScale: scale,
    txRate: Number(values['tx-rate']),
    seconds: Math.round(wall),
    connected: ready,
    handshakeSec: round(handshakeSec),
    cpuPercent: round((100 * cpu) / wall),
    rssMB: Math.round(rss),
    rssMaxMB: Math.round(rssMax),
    invEntriesPerSec: Math.round((invEntries - e0) / wall),
    invMsgsPerSec: Math.round((invMsgs - m0) / wall),
    // From the status lines (every 5 s): items originated per real second.
    itemsPerSec: round((items1.items - items0.items) / Math.max(1, (items1.t - items0.t) / 1000)),
    observersClosed: closedDuring,
  };
}

function lastItems(lines: any[]): { items: number; t: number } {
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i].event === 'status') return { items: lines[i].items, t: lines[i].t };
  return { items: 0, t: Date.now() };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

const results: Result[] = [];
for (const [i, scale] of SCALES.entries()) {
  const r = await run(scale, Number(values.port) + i);
  // Each run's figures at once, on stderr: a later run may take long.
  process.stderr.write(JSON.stringify(r) + '\n');
  results.push(r);
}

if (values.json) {
  process.stdout.write(JSON.stringify({ node: process.version, results }, null, 1) + '\n');
} else {
  const cols: [string, keyof Result][] = [
    ['nodes', 'nodes'],
    ['time scale', 'timeScale'],
    ['observers', 'connected'],
    ['handshakes (s)', 'handshakeSec'],
    ['sim CPU %', 'cpuPercent'],
    ['sim RSS MB', 'rssMB'],
    ['max RSS MB', 'rssMaxMB'],
    ['inv entries/s', 'invEntriesPerSec'],
    ['inv msgs/s', 'invMsgsPerSec'],
    ['items/s', 'itemsPerSec'],
    ['measured (s)', 'seconds'],
  ];
  const rows = [cols.map((c) => c[0]), ...results.map((r) => cols.map((c) => String(r[c[1]])))];
  const w = cols.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  for (const r of rows) process.stdout.write(r.map((c, j) => c.padStart(w[j]!)).join('  ') + '\n');
  process.stdout.write(`Node ${process.version}; budget: 100 % CPU (one core), 2048 MB\n`);
}
