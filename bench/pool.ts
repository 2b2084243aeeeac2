/**
 * `npm run bench:pool`: the sharded pool against `invscope simulate` in a child process
 * on loopback. Per shard count: time to connect and handshake N peers, send-to-coordinator latency
 * against the simulator's ground truth (truth.jsonl 'announce' times), RSS and heap per peer of this
 * process (which hosts the coordinator and its shard threads), and a stepwise rate ramp until ring
 * drops, consumer drops or lag appear. Bench process only; JSON with --json, else a table.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync, createReadStream } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Coordinator, HashIndex, type PeerEvent } from '../src/pool/index.js';
import { hexToHash } from '../src/protocol/hex.js';
import { NETWORKS } from '../src/protocol/constants.js';
import { now } from '../src/observe/clock.js';
import { nodeAddresses } from '../src/sim/identity.js';

const here = dirname(fileURLToPath(import.meta.url));
const DEFAULT_BIN = join(here, '..', 'src', 'cli', 'main.js');
const NET = NETWORKS.regtest;
const ADDRESS_BASE = '127.1.0.0';

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '1000,10000' },
    shards: { type: 'string', default: '1,2' },
    // Entries/s asked of the simulator, step by step (1,000 nodes at a high time scale).
    steps: { type: 'string', default: '50000,100000,200000,300000,400000' },
    'step-seconds': { type: 'string', default: '10' },
    'ramp-nodes': { type: 'string', default: '1000' },
    'ramp-scale': { type: 'string', default: '100' },
    'latency-seconds': { type: 'string', default: '20' },
    'drain-ms': { type: 'string', default: '20' },
    // Drain when a shard publishes (the default) or only on the drain-ms timer.
    'drain-timer': { type: 'boolean', default: false },
    // How the bench consumes: raw record batches (records(), the default) or observations().
    api: { type: 'string', default: 'records' },
    'handshake-limit': { type: 'string', default: '90' },
    // Another build's invscope CLI as the simulator (to compare pools against one fixed simulator).
    'sim-bin': { type: 'string' },
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const QUICK = values.quick!;
const BIN = values['sim-bin'] ?? DEFAULT_BIN;
const PEERS = QUICK ? [1000] : values.peers!.split(',').map(Number);
const SHARDS = values.shards!.split(',').map(Number);
const STEPS = (QUICK ? '50000,200000' : values.steps!).split(',').map(Number).filter((x) => x > 0);
const STEP_S = Number(values['step-seconds']);
const RAMP_NODES = Number(values['ramp-nodes']);
const RAMP_SCALE = Number(values['ramp-scale']);
const LAT_S = QUICK ? 8 : Number(values['latency-seconds']);
const DRAIN_MS = Number(values['drain-ms']);
const DRAIN_TIMER = values['drain-timer']!;
const API = values.api === 'observations' ? 'observations' : 'records';
const HS_LIMIT_MS = Number(values['handshake-limit']) * 1000;

let CLK_TCK = 100;
try {
  CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  /* Linux default */
}
function cpuSeconds(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
const log = (s: string): void => void process.stderr.write(s + '\n');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const r1 = (x: number): number => Math.round(x * 10) / 10;
const r2 = (x: number): number => Math.round(x * 100) / 100;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

// -------------------------------------------------------------------------------------------------
// The simulator child

interface Sim {
  child: ChildProcess;
  pid: number;
  port: number;
  out: string | null;
  lines: any[];
  exited: Promise<number | null>;
}

async function spawnSim(args: { nodes: number; scale: number; txRate: number; truth: boolean }): Promise<Sim> {
  const out = args.truth ? mkdtempSync(join(tmpdir(), 'invscope-bench-pool-')) : null;
  const argv = [BIN, 'simulate', '--nodes', String(args.nodes), '--port', '0', '--time-scale', String(args.scale), '--tx-rate', String(args.txRate), '--status-interval', '1', '--address-base', ADDRESS_BASE];
  if (out) argv.push('--out', out);
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: any[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l));
    } catch {
      /* not ours */
    }
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const t0 = Date.now();
  while (!lines.some((l) => l.event === 'listening')) {
    if (child.exitCode !== null) throw new Error(`simulate exited with ${child.exitCode}`);
    if (Date.now() - t0 > 120_000) throw new Error('simulate did not start');
    await sleep(20);
  }
  const listening = lines.find((l) => l.event === 'listening');
  return { child, pid: child.pid!, port: listening.port, out, lines, exited };
}

async function stopSim(sim: Sim): Promise<void> {
  sim.child.kill('SIGTERM');
  await sim.exited;
}

/** The simulator's announcement counter (entries sent to observers) at a time, interpolated from its status lines. */
function simAnnouncements(sim: Sim, from: number, to: number): { entries: number; items: number; seconds: number; cpu: number } {
  const st = sim.lines.filter((l) => l.event === 'status' && l.t >= from - 500 && l.t <= to + 1500);
  if (st.length < 2) return { entries: NaN, items: NaN, seconds: 0, cpu: NaN };
  const a = st[0];
  const b = st[st.length - 1];
  const cpu = st.slice(1).reduce((s: number, l: any) => s + l.cpu, 0) / (st.length - 1);
  return { entries: b.announcements - a.announcements, items: b.items - a.items, seconds: (b.t - a.t) / 1000, cpu };
}

// -------------------------------------------------------------------------------------------------
// The pool in this process

function makePool(addresses: string[], shards: number): Coordinator {
  return new Coordinator({
    network: NET,
    peers: addresses.length,
    shards,
    addresses,
    drainIntervalMs: DRAIN_MS,
    drainOnPublish: !DRAIN_TIMER,
    connectTimeoutMs: 30_000,
    handshakeTimeoutMs: 30_000,
    maxPendingConnects: 500,
  });
}

async function waitReady(pool: Coordinator, n: number, limitMs: number): Promise<{ ms: number; ready: number }> {
  const t0 = now();
  for (;;) {
    const ready = pool.stats().peers.ready;
    if (ready >= n || now() - t0 > limitMs) return { ms: now() - t0, ready };
    await sleep(10);
  }
}

function memory(): { rss: number; heap: number } {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

function drops(pool: Coordinator): { ring: number; consumer: number; queued: number } {
  const s = pool.stats();
  return { ring: s.shards.reduce((a, x) => a + x.drops + (x.last?.drops ?? 0), 0), consumer: s.consumerDrops, queued: s.queued };
}

// -------------------------------------------------------------------------------------------------
// Run 1: N peers at mainnet-like load (time scale 1, 7 tx/s), truth on: handshake, memory, latency

interface PeersResult {
  shards: number;
  peers: number;
  ready: number;
  handshakeSec: number;
  rssMB: number;
  rssKiBPerPeer: number;
  rssDeltaKiBPerPeer: number;
  heapKiBPerPeer: number;
  entriesPerSec: number;
  matched: number;
  missing: number;
  sendToReceiveMs: { p50: number; p99: number; max: number };
  sendToCoordinatorMs: { p50: number; p99: number; max: number };
  ringDrops: number;
  consumerDrops: number;
  /** Event-loop delay p99 / max (ms): the bench's main thread over the window, the worst shard over its last stats interval. */
  mainLoopDelayMs: { p99: number; max: number };
  shardLoopDelayMs: { p99: number; max: number };
}

/** The main thread's event-loop delay (the coordinator drains there). */
const mainLoop = monitorEventLoopDelay({ resolution: 2 });
mainLoop.enable();
const loopMs = (ns: number): number => r2(ns / 1e6);
function shardLoop(pool: Coordinator): { p99: number; max: number } {
  const ls = pool.stats().shards.map((s) => s.last?.loopDelayMs ?? { p99: NaN, max: NaN });
  return { p99: Math.max(...ls.map((l) => l.p99)), max: Math.max(...ls.map((l) => l.max)) };
}

async function runPeers(peers: number, shards: number): Promise<PeersResult> {
  const sim = await spawnSim({ nodes: peers, scale: 1, txRate: 7, truth: true });
  const addresses = nodeAddresses(ADDRESS_BASE, peers).map((h) => `${h}:${sim.port}`);
  const nodeOf = new Map<string, number>(addresses.map((a, i) => [a, i]));
  log(`[${shards} shard(s), ${peers} peers] simulator up on port ${sim.port}; connecting`);
  const m0 = memory();
  const pool = makePool(addresses, shards);
  // Observations, compactly, so that the consumer costs little next to the pool: items by hash
  // (HashIndex on the raw bytes, or a Map of hex strings with observations()), the first record of
  // each (item, node) in a typed array per item, receive and coordinator times in flat arrays.
  const nodeOfPeer = new Map<number, number>();
  pool.on('peer', (e: PeerEvent) => {
    if (e.type === 'connected') nodeOfPeer.set(e.peer, nodeOf.get(e.address) ?? -1);
  });
  const hashIdx = new HashIndex(4096);
  const hexIdx = new Map<string, number>();
  const firstOf: Int32Array[] = [];
  let recvT = new Float64Array(1 << 22);
  let coordT = new Float64Array(1 << 22);
  let n = 0;
  let count = 0;
  let measuring = false;
  const record = (h: number, node: number, time: number, tc: number): void => {
    const first = (firstOf[h] ??= new Int32Array(peers));
    if (first[node] !== 0) return;
    if (n === recvT.length) {
      const a = new Float64Array(n * 2);
      a.set(recvT);
      recvT = a;
      const b = new Float64Array(n * 2);
      b.set(coordT);
      coordT = b;
    }
    recvT[n] = time;
    coordT[n] = tc;
    first[node] = ++n;
  };
  const t0 = now();
  await pool.start();
  const reading =
    API === 'records'
      ? (async () => {
          for await (const b of pool.records()) {
            const tc = now();
            count += b.length;
            if (!measuring) continue;
            for (let i = 0; i < b.length; i++) {
              const node = nodeOfPeer.get(b.peer(i)) ?? -1;
              if (node >= 0) record(hashIdx.intern(b.bytes, b.hashOffset(i)), node, b.time(i), tc);
            }
          }
        })()
      : (async () => {
          for await (const o of pool.observations()) {
            const tc = now();
            count++;
            if (!measuring) continue;
            let h = hexIdx.get(o.hash);
            if (h === undefined) hexIdx.set(o.hash, (h = hexIdx.size));
            const node = nodeOfPeer.get(o.peer) ?? -1;
            if (node >= 0) record(h, node, o.time, tc);
          }
        })();
  const indexOfHex = (hex: string): number | undefined => {
    if (API === 'observations') return hexIdx.get(hex);
    const i = hashIdx.get(hexToHash(hex), 0);
    return i < 0 ? undefined : i;
  };
  const hs = await waitReady(pool, peers, HS_LIMIT_MS);
  const hsMs = now() - t0;
  log(`  ${hs.ready} of ${peers} handshaken in ${(hsMs / 1000).toFixed(2)} s`);
  await sleep(1000);
  const m1 = memory();
  // Latency window: announcements sent in [tA, tB - margin] (the margin covers bytes in flight at the end).
  measuring = true;
  const tA = now();
  const c0 = count;
  mainLoop.reset();
  await sleep(LAT_S * 1000);
  const tB = now();
  const c1 = count;
  const mainLoopDelayMs = { p99: loopMs(mainLoop.percentile(99)), max: loopMs(mainLoop.max) };
  const shardLoopDelayMs = shardLoop(pool);
  const d = drops(pool);
  const ready = pool.stats().peers.ready;
  await pool.stop();
  await reading;
  await stopSim(sim);

  // The truth: per item id, our hash indices (txid and wtxid); then the announcements in the window.
  const hashesOf = new Map<number, number[]>();
  const s2r: number[] = [];
  const s2c: number[] = [];
  let missing = 0;
  const rl = createInterface({ input: createReadStream(join(sim.out!, 'truth.jsonl')), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.startsWith('{"e":"item"')) {
      const r = JSON.parse(line);
      const hs: number[] = [];
      for (const x of [r.hash, r.wtxid]) {
        const h = indexOfHex(x);
        if (h !== undefined && !hs.includes(h)) hs.push(h);
      }
      hashesOf.set(r.id, hs);
    } else if (line.startsWith('{"e":"announce"')) {
      const r = JSON.parse(line);
      if (r.t < tA || r.t > tB - 500) continue;
      let idx: number | undefined;
      for (const h of hashesOf.get(r.item) ?? []) {
        const k = firstOf[h]?.[r.node] ?? 0;
        if (k !== 0) {
          idx = k - 1;
          break;
        }
      }
      if (idx === undefined) missing++;
      else {
        s2r.push(recvT[idx]! - r.t);
        s2c.push(coordT[idx]! - r.t);
      }
    }
  }
  rmSync(sim.out!, { recursive: true, force: true });
  const st = (a: number[]) => {
    const s = Float64Array.from(a).sort();
    return { p50: r2(quantile(s, 0.5)), p99: r2(quantile(s, 0.99)), max: r2(s.length ? s[s.length - 1]! : NaN) };
  };
  return {
    shards,
    peers,
    ready: hs.ready,
    handshakeSec: r2(hsMs / 1000),
    rssMB: Math.round(m1.rss / 1048576),
    rssKiBPerPeer: r1(m1.rss / 1024 / Math.max(1, ready)),
    rssDeltaKiBPerPeer: r1((m1.rss - m0.rss) / 1024 / Math.max(1, ready)),
    heapKiBPerPeer: r1((m1.heap - m0.heap) / 1024 / Math.max(1, ready)),
    entriesPerSec: Math.round((c1 - c0) / ((tB - tA) / 1000)),
    matched: s2r.length,
    missing,
    sendToReceiveMs: st(s2r),
    sendToCoordinatorMs: st(s2c),
    ringDrops: d.ring,
    consumerDrops: d.consumer,
    mainLoopDelayMs,
    shardLoopDelayMs,
  };
}

// -------------------------------------------------------------------------------------------------
// Run 2: the rate ramp (RAMP_NODES peers, time scale RAMP_SCALE, no truth file)

interface StepResult {
  shards: number;
  askedPerSec: number;
  simSentPerSec: number;
  observedPerSec: number;
  receiveToCoordinatorMs: { p50: number; p99: number; max: number };
  ringDrops: number;
  consumerDrops: number;
  simCpu: number;
  benchCpu: number;
  ok: boolean;
  why: string;
}

async function runStep(asked: number, shards: number): Promise<StepResult> {
  const txRate = asked / (RAMP_NODES * RAMP_SCALE);
  const sim = await spawnSim({ nodes: RAMP_NODES, scale: RAMP_SCALE, txRate, truth: false });
  const addresses = nodeAddresses(ADDRESS_BASE, RAMP_NODES).map((h) => `${h}:${sim.port}`);
  const pool = makePool(addresses, shards);
  await pool.start();
  let count = 0;
  let measuring = false;
  let lags = new Float64Array(1 << 23);
  let nl = 0;
  const addLag = (t: number): void => {
    if (nl === lags.length) {
      const a = new Float64Array(nl * 2);
      a.set(lags);
      lags = a;
    }
    lags[nl++] = t;
  };
  const reading =
    API === 'records'
      ? (async () => {
          for await (const b of pool.records()) {
            count += b.length;
            if (!measuring) continue;
            const tc = now();
            for (let i = 0; i < b.length; i++) addLag(tc - b.time(i));
          }
        })()
      : (async () => {
          for await (const o of pool.observations()) {
            count++;
            if (measuring) addLag(now() - o.time);
          }
        })();
  const hs = await waitReady(pool, RAMP_NODES, 30_000);
  await sleep(2000);
  const d0 = drops(pool);
  const c0 = count;
  const cpu0 = process.cpuUsage();
  const sc0 = cpuSeconds(sim.pid);
  measuring = true;
  const tA = Date.now();
  await sleep(STEP_S * 1000);
  const tB = Date.now();
  measuring = false;
  const c1 = count;
  const d1 = drops(pool);
  const cpu1 = process.cpuUsage(cpu0);
  const simCpu = (cpuSeconds(sim.pid) - sc0) / ((tB - tA) / 1000);
  await sleep(1200); // one more status line from the simulator
  const sent = simAnnouncements(sim, tA, tB);
  await pool.stop();
  await reading;
  await stopSim(sim);
  const sl = lags.subarray(0, nl).sort();
  const observedPerSec = Math.round((c1 - c0) / ((tB - tA) / 1000));
  const simSentPerSec = Math.round(sent.entries / Math.max(0.001, sent.seconds));
  const lag = { p50: r2(quantile(sl, 0.5)), p99: r2(quantile(sl, 0.99)), max: r2(nl ? sl[nl - 1]! : NaN) };
  const ringDrops = d1.ring - d0.ring;
  const consumerDrops = d1.consumer - d0.consumer;
  let why = '';
  if (hs.ready < RAMP_NODES) why = `only ${hs.ready} peers handshaken`;
  else if (ringDrops > 0) why = 'ring drops';
  else if (consumerDrops > 0) why = 'consumer drops';
  else if (lag.p99 > 100) why = 'lag (receive-to-coordinator p99 > 100 ms)';
  else if (observedPerSec < 0.95 * simSentPerSec) why = 'lag (observed < 95 % of sent)';
  else if (simSentPerSec < 0.8 * asked) why = 'simulator below the asked rate';
  const ok = why === '' || why === 'simulator below the asked rate';
  const r: StepResult = {
    shards,
    askedPerSec: asked,
    simSentPerSec,
    observedPerSec,
    receiveToCoordinatorMs: lag,
    ringDrops,
    consumerDrops,
    simCpu: Math.round(simCpu * 100),
    benchCpu: Math.round(((cpu1.user + cpu1.system) / 1000 / (tB - tA)) * 100),
    ok,
    why,
  };
  return r;
}

// -------------------------------------------------------------------------------------------------

const started = Date.now();
const peersResults: PeersResult[] = [];
const rampResults: StepResult[] = [];
const sustained: Record<number, { zeroDropPerSec: number; limit: string }> = {};
for (const shards of SHARDS) {
  for (const peers of PEERS) {
    const r = await runPeers(peers, shards);
    log('  ' + JSON.stringify(r));
    peersResults.push(r);
  }
  let best = 0;
  let limit = STEPS.length === 0 ? 'ramp not run (--steps empty)' : `no limit reached up to ${STEPS[STEPS.length - 1]} entries/s asked`;
  for (const asked of STEPS) {
    log(`[${shards} shard(s)] ramp: ${asked} entries/s asked (${RAMP_NODES} nodes x time scale ${RAMP_SCALE})`);
    const r = await runStep(asked, shards);
    log('  ' + JSON.stringify(r));
    rampResults.push(r);
    if (!r.ok) {
      limit = `${r.why} at ${asked} asked (${r.simSentPerSec} sent)`;
      break;
    }
    best = Math.max(best, r.observedPerSec);
    if (r.why) {
      limit = `${r.why}: ${r.simSentPerSec} sent of ${asked} asked`;
      break;
    }
  }
  sustained[shards] = { zeroDropPerSec: best, limit };
}

// Marginal memory per peer: between the smallest and the largest peer count of one shard count.
const marginal: Record<number, { rssKiBPerPeer: number; from: number; to: number }> = {};
for (const shards of SHARDS) {
  const rs = peersResults.filter((r) => r.shards === shards).sort((a, b) => a.ready - b.ready);
  const a = rs[0];
  const b = rs[rs.length - 1];
  if (a && b && b.ready > a.ready) marginal[shards] = { rssKiBPerPeer: r1(((b.rssMB - a.rssMB) * 1024) / (b.ready - a.ready)), from: a.ready, to: b.ready };
}
const env = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', drainIntervalMs: DRAIN_MS, drainOnPublish: !DRAIN_TIMER, api: API, quick: QUICK, seconds: Math.round((Date.now() - started) / 1000) };
if (values.json) {
  process.stdout.write(JSON.stringify({ env, peers: peersResults, ramp: rampResults, sustained, marginal }, null, 1) + '\n');
} else {
  const table = (cols: [string, (x: any) => string][], rows: any[]): void => {
    const all = [cols.map((c) => c[0]), ...rows.map((r) => cols.map((c) => c[1](r)))];
    const w = cols.map((_, j) => Math.max(...all.map((r) => r[j]!.length)));
    for (const r of all) process.stdout.write(r.map((c, j) => c.padStart(w[j]!)).join('  ') + '\n');
    process.stdout.write('\n');
  };
  table(
    [
      ['shards', (r) => String(r.shards)],
      ['peers', (r) => String(r.peers)],
      ['ready', (r) => String(r.ready)],
      ['handshake s', (r) => String(r.handshakeSec)],
      ['RSS MB', (r) => String(r.rssMB)],
      ['KiB RSS/peer', (r) => String(r.rssKiBPerPeer)],
      ['delta', (r) => String(r.rssDeltaKiBPerPeer)],
      ['heap KiB/peer', (r) => String(r.heapKiBPerPeer)],
      ['entries/s', (r) => String(r.entriesPerSec)],
      ['matched', (r) => String(r.matched)],
      ['missing', (r) => String(r.missing)],
      ['send->recv p50/p99/max ms', (r) => `${r.sendToReceiveMs.p50}/${r.sendToReceiveMs.p99}/${r.sendToReceiveMs.max}`],
      ['send->coord p50/p99/max ms', (r) => `${r.sendToCoordinatorMs.p50}/${r.sendToCoordinatorMs.p99}/${r.sendToCoordinatorMs.max}`],
      ['drops ring/consumer', (r) => `${r.ringDrops}/${r.consumerDrops}`],
      ['loop delay main/shard p99 ms', (r) => `${r.mainLoopDelayMs.p99}/${r.shardLoopDelayMs.p99}`],
    ],
    peersResults,
  );
  table(
    [
      ['shards', (r) => String(r.shards)],
      ['asked/s', (r) => String(r.askedPerSec)],
      ['sim sent/s', (r) => String(r.simSentPerSec)],
      ['observed/s', (r) => String(r.observedPerSec)],
      ['recv->coord p50/p99/max ms', (r) => `${r.receiveToCoordinatorMs.p50}/${r.receiveToCoordinatorMs.p99}/${r.receiveToCoordinatorMs.max}`],
      ['drops ring/consumer', (r) => `${r.ringDrops}/${r.consumerDrops}`],
      ['sim CPU %', (r) => String(r.simCpu)],
      ['bench CPU %', (r) => String(r.benchCpu)],
      ['verdict', (r) => (r.ok ? (r.why ? 'ok (' + r.why + ')' : 'ok') : r.why)],
    ],
    rampResults,
  );
  for (const [s, v] of Object.entries(sustained)) process.stdout.write(`${s} shard(s): sustained with zero drops ${v.zeroDropPerSec} entries/s; ${v.limit}\n`);
  for (const [s, v] of Object.entries(marginal)) process.stdout.write(`${s} shard(s): marginal RSS ${v.rssKiBPerPeer} KiB per peer (${v.from} -> ${v.to} peers)\n`);
  process.stdout.write(`Node ${env.node}, ${env.cpus} x ${env.cpu}; drain ${DRAIN_TIMER ? `every ${DRAIN_MS} ms` : `on publish (at most ${DRAIN_MS} ms apart)`}; consumer ${API}(); ${env.seconds} s\n`);
}
process.exit(0);
