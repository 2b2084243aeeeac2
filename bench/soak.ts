/**
 * `npm run soak -- --minutes N` (or `--sim-hours H --time-scale X`: H model hours in H*60/X wall
 * minutes): the sharded pool against `invscope simulate` in a child process, with churn and 10 %
 * misbehaving nodes (every mode, ALL_MISBEHAVIOURS). Prints RSS, heap, open fds, ring and consumer
 * drops, event-loop delay, simulated hours and load average once a minute; at the end checks every
 * announcement of the simulator's ground truth against what was observed.
 * Exit 1 if memory grows without bound (criterion in bench/README.md "Soak") or anything recorded
 * is lost; 0 otherwise. Bench process only (loopback); not imported by anything.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, rmSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Coordinator, type PeerEvent } from '../src/pool/index.js';
import { now } from '../src/observe/clock.js';
import { spawnSimulate } from './sim-child.js';
import { MiB, growth as growthOf, checkTruth, connectionAt, type Conn, type Sample } from './soak-check.js';


const { values } = parseArgs({
  options: {
    /** Wall minutes; default 5, or --sim-hours x 60 / --time-scale when --sim-hours is given. */
    minutes: { type: 'string' },
    /** Model hours to simulate (the simulator's clock runs --time-scale times faster than the wall's). */
    'sim-hours': { type: 'string' },
    nodes: { type: 'string', default: '1000' },
    shards: { type: 'string', default: '2' },
    misbehaving: { type: 'string', default: '0.1' },
    misbehaviours: { type: 'string', default: 'all' },
    // Departures per node per model hour: 1,000 nodes x 4 = one every ~1 s at time scale 1.
    churn: { type: 'string', default: '4' },
    'time-scale': { type: 'string', default: '1' },
    'tx-rate': { type: 'string', default: '7' },
    'block-interval': { type: 'string', default: '600' },
    seed: { type: 'string', default: '1' },
    'address-base': { type: 'string', default: '127.3.0.0' },
    'sample-seconds': { type: 'string', default: '10' },
    'report-seconds': { type: 'string', default: '60' },
    /** Memory growth over the second half above this many MiB (and above 10 % of its mean) fails. */
    'growth-mib': { type: 'string', default: '32' },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const TIME_SCALE = Number(values['time-scale']);
const MINUTES = values.minutes !== undefined ? Number(values.minutes) : values['sim-hours'] !== undefined ? (Number(values['sim-hours']) * 60) / TIME_SCALE : 5;
const NODES = Number(values.nodes);
const SHARDS = Number(values.shards);
const SAMPLE_MS = Number(values['sample-seconds']) * 1000;
const REPORT_MS = Number(values['report-seconds']) * 1000;
const GROWTH_MIB = Number(values['growth-mib']);
/** Announcements this close to the end, or to a close of that node's connection, may be in flight: counted apart. */
const MARGIN_MS = 2_000;
for (const [k, v] of Object.entries({ minutes: MINUTES, nodes: NODES, shards: SHARDS, 'time-scale': TIME_SCALE })) {
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`soak: --${k} takes a positive number, not ${JSON.stringify(values[k as 'minutes'] ?? values['sim-hours'])}\n`);
    process.exit(2);
  }
}

const out = (s: string): void => void process.stdout.write(s + '\n');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
/** Model hours that pass in `ms` of wall time at the simulator's time scale. */
const simHours = (ms: number): number => Math.round(((ms * TIME_SCALE) / 3_600_000) * 100) / 100;

// -------------------------------------------------------------------------------------------------
// The simulator child

interface Sim {
  child: ChildProcess;
  port: number;
  lines: any[];
  exited: Promise<number | null>;
}

async function spawnSim(dir: string): Promise<Sim> {
  const argv = [
    '--nodes', String(NODES), '--port', '0', '--seed', values.seed!,
    '--time-scale', values['time-scale']!, '--tx-rate', values['tx-rate']!, '--block-interval', values['block-interval']!,
    '--misbehaving', values.misbehaving!, '--misbehaviours', values.misbehaviours!, '--churn', values.churn!,
    '--address-base', values['address-base']!, '--out', dir, '--status-interval', String(REPORT_MS / 1000),
  ];
  const { child, lines, listening, exited } = await spawnSimulate(argv, 1000);
  return { child, port: listening.port, lines, exited };
}

// -------------------------------------------------------------------------------------------------
// Observations go to a binary file as they arrive (the soak's own memory must not grow with them):
// 24 bytes each: receive time (f64), node index (u32), kind (u32), first 8 bytes of the display hash.

const REC = 24;
class ObsFile {
  private buf = Buffer.alloc(1 << 20);
  private n = 0;
  readonly fd: number;
  count = 0;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }
  add(time: number, node: number, kind: number, hash: string): void {
    if (this.n + REC > this.buf.length) this.flush();
    const o = this.n;
    this.buf.writeDoubleLE(time, o);
    this.buf.writeUInt32LE(node >>> 0, o + 8);
    this.buf.writeUInt32LE(kind, o + 12);
    this.buf.write(hash.slice(0, 16), o + 16, 8, 'hex');
    this.n += REC;
    this.count++;
  }
  flush(): void {
    if (this.n > 0) writeSync(this.fd, this.buf, 0, this.n);
    this.n = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

// -------------------------------------------------------------------------------------------------
/** Memory growth over the second half of the run (soak-check.ts). */
const growth = (samples: Sample[], key: 'rss' | 'heap'): ReturnType<typeof growthOf> => growthOf(samples, key, GROWTH_MIB);

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

// -------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'invscope-soak-'));
  const started = now();
  const sim = await spawnSim(dir);
  let simDied: number | null | undefined;
  void sim.exited.then((c) => (simDied = c));
  const nodesTxt = readFileSync(join(dir, 'nodes.txt'), 'utf8').trim().split('\n');
  const nodeOf = new Map<string, number>();
  nodesTxt.forEach((a, i) => nodeOf.set(a, i));
  const modes: (string | null)[] = JSON.parse(readFileSync(join(dir, 'nodes.json'), 'utf8')).map((n: any) => n.misbehaviour);

  const pool = new Coordinator({
    network: 'regtest',
    peers: NODES,
    shards: SHARDS,
    addresses: nodesTxt,
    handshakeTimeoutMs: 20_000,
    // Misbehaving and churned-out nodes come back within a minute: more connections, more faults.
    backoffBaseMs: 2_000,
    backoffMaxMs: 60_000,
    retryAfterDropMs: 1_000,
    statsIntervalMs: 5_000,
  });
  const obs = new ObsFile(join(dir, 'observations.bin'));
  const KIND: Record<string, number> = { inv: 1, headers: 2, cmpctblock: 3, notfound: 4 };
  let unknownAddress = 0;
  // Our connections, by the simulator's name for them (node | our host:port as it sees it, its
  // 'observer' in the truth), to tell announcements to a connection we closed for a fault.
  const connOf = new Map<number, Conn>();
  const conns = new Map<string, Conn[]>();
  const reasons: Record<string, number> = {};
  const reasonsByMode: Record<string, Record<string, number>> = {};
  let sendBufferedMax = 0;
  let recvBufferedMax = 0;
  pool.on('peer', (e: PeerEvent) => {
    if (e.type === 'ready') {
      const node = nodeOf.get(e.address);
      const c: Conn = { readyAt: now(), goneAt: Infinity, reason: '' };
      connOf.set(e.peer, c);
      const key = `${node}|${e.remote.addrRecv}`;
      const list = conns.get(key);
      if (list) list.push(c);
      else conns.set(key, [c]);
    }
    if (e.type !== 'gone') return;
    const node = nodeOf.get(e.address);
    const c = connOf.get(e.peer);
    if (c) {
      c.goneAt = now();
      c.reason = e.reason;
      connOf.delete(e.peer);
    }
    reasons[e.reason] = (reasons[e.reason] ?? 0) + 1;
    const m = node === undefined ? '?' : (modes[node] ?? 'honest');
    const r = (reasonsByMode[m] ??= {});
    r[e.reason] = (r[e.reason] ?? 0) + 1;
    const st = e.stats as { sendBufferedMax?: number; recvBufferedMax?: number } | undefined;
    if (st?.sendBufferedMax !== undefined && st.sendBufferedMax > sendBufferedMax) sendBufferedMax = st.sendBufferedMax;
    if (st?.recvBufferedMax !== undefined && st.recvBufferedMax > recvBufferedMax) recvBufferedMax = st.recvBufferedMax;
  });
  let shardLoopMax = 0;
  let shardLoopMaxMinute = 0;
  pool.on('shardStats', (c: { loopDelayMs?: { max: number } }) => {
    const d = c.loopDelayMs?.max ?? 0;
    if (d > shardLoopMaxMinute) shardLoopMaxMinute = d;
    if (d > shardLoopMax) shardLoopMax = d;
  });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let loopMax = 0;

  await pool.start();
  const consuming = (async () => {
    for await (const o of pool.observations()) {
      const node = nodeOf.get(o.address);
      if (node === undefined) unknownAddress++;
      else obs.add(o.time, node, KIND[o.kind] ?? 0, o.hash);
    }
  })();

  const samples: Sample[] = [];
  const minutes: Record<string, unknown>[] = [];
  const loads: number[] = [];
  const poolStarted = now();
  const tEndPlanned = now() + MINUTES * 60_000;
  let nextReport = now() + REPORT_MS;
  let lastObs = 0;
  out(`soak: ${NODES} simulated nodes (${values.misbehaving} misbehaving: ${values.misbehaviours}; churn ${values.churn}/node/model-hour; time scale ${TIME_SCALE}; ${values['tx-rate']} model tx/s) in pid ${sim.child.pid}, pool ${SHARDS} shards in pid ${process.pid}, ${MINUTES} min = ${simHours(MINUTES * 60_000)} simulated hours, dir ${dir}`);
  while (now() < tEndPlanned && simDied === undefined) {
    await sleep(Math.min(SAMPLE_MS, Math.max(0, tEndPlanned - now())));
    gc();
    const mu = process.memoryUsage();
    samples.push({ t: now(), rss: mu.rss, heap: mu.heapUsed });
    if (now() >= nextReport || now() >= tEndPlanned) {
      nextReport += REPORT_MS;
      const s = pool.stats();
      const simStatus = [...sim.lines].reverse().find((l) => l.event === 'status');
      const lm = loop.max / 1e6;
      if (lm > loopMax) loopMax = lm;
      const load1 = Math.round(loadavg()[0]! * 100) / 100;
      loads.push(load1);
      const row = {
        minute: Math.round((now() - started) / 60_000),
        simHours: simHours(now() - poolStarted),
        load1,
        rssMiB: MiB(mu.rss),
        heapMiB: MiB(mu.heapUsed),
        externalMiB: MiB(mu.external + mu.arrayBuffers),
        fds: openFds(),
        ready: s.peers.ready,
        pending: s.peers.pending,
        observations: s.observations,
        perSecond: Math.round(((s.observations - lastObs) * 1000) / REPORT_MS),
        ringDrops: s.shards.reduce((a, x) => a + x.drops, 0),
        consumerDrops: s.consumerDrops,
        loopP99Ms: Math.round((loop.percentile(99) / 1e6) * 10) / 10,
        loopMaxMs: Math.round(lm * 10) / 10,
        shardLoopMaxMs: Math.round(shardLoopMaxMinute * 10) / 10,
        simRssMiB: simStatus?.rssMB ?? null,
        simCpu: simStatus?.cpu ?? null,
        gone: Object.values(reasons).reduce((a, b) => a + b, 0),
      };
      lastObs = s.observations;
      loop.reset();
      shardLoopMaxMinute = 0;
      minutes.push(row);
      out(values.json ? JSON.stringify(row) : Object.entries(row).map(([k, v]) => `${k}=${v}`).join(' '));
    }
  }
  const tEnd = now();
  const finalStats = pool.stats();
  await pool.stop();
  await consuming;
  obs.close();
  loop.disable();
  const simCrashed = simDied !== undefined;
  sim.child.kill('SIGTERM');
  await sim.exited;

  // ---- the check against the truth (soak-check.ts), the observations read back from their file.
  const t = await checkTruth({
    truthPath: join(dir, 'truth.jsonl'),
    nodes: NODES,
    modes,
    tEnd,
    marginMs: MARGIN_MS,
    observations: async (add) => {
      const fd = openSync(join(dir, 'observations.bin'), 'r');
      const chunk = Buffer.alloc(REC * 65_536);
      for (;;) {
        const n = readSync(fd, chunk, 0, chunk.length, null);
        if (n <= 0) break;
        for (let o = 0; o + REC <= n; o += REC) add(chunk.readUInt32LE(o + 8), chunk.toString('hex', o + 16, o + 24));
      }
      closeSync(fd);
    },
    connection: (node, observer, at) => connectionAt(conns.get(`${node}|${observer}`), at),
  });
  const missing = t.missing;

  const rss = growth(samples, 'rss');
  const heap = growth(samples, 'heap');
  const ringDrops = finalStats.shards.reduce((a, x) => a + x.drops, 0);
  const ok = !simCrashed && rss.bounded && heap.bounded && missing === 0 && ringDrops === 0 && finalStats.consumerDrops === 0;
  const summary = {
    ok,
    minutes: MINUTES,
    wallMinutes: Math.round(((tEnd - poolStarted) / 60_000) * 10) / 10,
    timeScale: TIME_SCALE,
    simulatedHours: simHours(tEnd - poolStarted),
    txRate: Number(values['tx-rate']),
    churn: Number(values.churn),
    node: process.version,
    loadAverage: loads.length ? { min: Math.min(...loads), max: Math.max(...loads), mean: Math.round((loads.reduce((a, b) => a + b, 0) / loads.length) * 100) / 100 } : null,
    nodes: NODES,
    shards: SHARDS,
    items: t.items,
    observations: obs.count,
    unmatchedObservations: t.unmatched,
    observationsFromUnknownAddresses: unknownAddress,
    truth: { announces: t.announces, expected: t.expected, observed: t.observed, missing, missingByMode: t.missingByMode, inFlightAtClose: t.inFlightAtClose, toFaultClosed: t.toFaultClosed, toNeverReads: t.toNeverReads, unknownConnection: t.unknownConnection, afterEnd: t.afterEnd },
    ringDrops,
    consumerDrops: finalStats.consumerDrops,
    memory: {
      rssFirstMiB: MiB(samples[0]?.rss ?? 0),
      rssLastMiB: MiB(samples[samples.length - 1]?.rss ?? 0),
      rssMaxMiB: MiB(Math.max(...samples.map((s) => s.rss))),
      rssGrowthSecondHalfMiB: rss.mib,
      heapFirstMiB: MiB(samples[0]?.heap ?? 0),
      heapLastMiB: MiB(samples[samples.length - 1]?.heap ?? 0),
      heapGrowthSecondHalfMiB: heap.mib,
      bounded: rss.bounded && heap.bounded,
      perPeer: { sendBufferedMaxBytes: sendBufferedMax, recvBufferedMaxBytes: recvBufferedMax },
    },
    eventLoop: { mainMaxMs: Math.round(loopMax * 10) / 10, shardMaxMs: Math.round(shardLoopMax * 10) / 10 },
    disconnects: reasons,
    disconnectsByMode: reasonsByMode,
    shardStats: finalStats.shards.map((s) => ({ shard: s.shard, restarts: s.restarts, drained: s.drained, drops: s.drops, last: s.last })),
    simExit: simCrashed ? `died early (${simDied})` : 'stopped',
  };
  out(JSON.stringify(summary, null, values.json ? 0 : 1));
  out(ok ? 'SOAK PASSED' : `SOAK FAILED: ${[simCrashed && 'the simulator died', !rss.bounded && 'RSS grew', !heap.bounded && 'heap grew', missing > 0 && `${missing} announcements missing`, ringDrops > 0 && 'ring drops', finalStats.consumerDrops > 0 && 'consumer drops'].filter(Boolean).join(', ')}`);
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`soak: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
