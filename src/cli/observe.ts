/**
 * `invscope observe`: a propagation measurement from one vantage point. Keeps the sharded pool
 * (src/pool) at its target, stores every announcement, peer session, finalized item and a
 * per-second timeline in DIR (src/store; the file contract in src/store/README.md), shows a live
 * status, and stops cleanly at --duration or on SIGINT/SIGTERM (a second signal forces the exit).
 * Every option is checked before anything starts (a bad one: exit 2). Main thread; the
 * observation loop is warm, the rest cold.
 */
import { parseArgs } from 'node:util';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, renameSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UsageError, jsonLine } from './decode.js';
import { plural, fitWidth } from './text.js';
import { NetworkEvidence } from './network-hint.js';

/** The transport the pool uses when --transport is not given (Coordinator's default). */
const POOL_DEFAULT_TRANSPORT = 'auto';
import { parseNetwork } from './options.js';
import { Coordinator, parseHostPort, isHostPort, type PeerEvent } from '../pool/index.js';
import type { NetworkParams } from '../protocol/constants.js';
import { now } from '../observe/clock.js';
import { Store, StoreError, recoverDir, ItemAggregator, PeerSessions, idTypeOf, makeRunId, sampleClock, SCHEMA_VERSION, VANTAGE_RE, type ClockSample } from '../store/index.js';
import { makeDirs } from '../store/dirs.js';

export const VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
})();

export const OBSERVE_DEFAULTS = {
  network: 'mainnet',
  maxPeers: 1000,
  rotate: '1h',
  itemWindow: '120s',
  ringCapacity: 1 << 16,
} as const;

export const OBSERVE_HELP = `usage: invscope observe [address sources] [options]

Connects to many peers at once, records every inv / headers / cmpctblock announcement with its
receive time, and writes DIR/observations, peers, items and timeline (Parquet parts), run.json
and DIR/log/ (one log per --rotate period). Stops at --duration, or on Ctrl-C / SIGTERM (a clean stop that keeps everything
recorded; a second signal forces the exit).

address sources (at least one):
  --peer HOST:PORT        a peer to keep connected (repeatable; [v6]:port; a bare host takes the
                          network's default port)
  --peers FILE            one HOST:PORT a line (# comments and blank lines ignored)
  --dns                   the network's DNS seeds
  --crawl                 ask every peer for addresses (getaddr) and dial what they tell us;
                          starts from the other sources (alone, it implies --dns)
options (defaults in brackets):
  --network NAME          mainnet, testnet3, testnet4, signet, regtest [${OBSERVE_DEFAULTS.network}]
  --signet-challenge HEX  a custom signet (magic by BIP325)
  --max-peers N           outbound peers kept connected [${OBSERVE_DEFAULTS.maxPeers}]
  --shards N              worker threads holding the sockets [this machine's cores]
  --listen HOST:PORT      accept inbound peers too (port 0: any free port)
  --proxy HOST:PORT       SOCKS5 proxy for Tor v3, I2P and CJDNS addresses
  --transport MODE        v1, v2 (BIP324 only) or auto (v2 to peers advertising it, else v1) [the pool's default]
  --duration T            stop after T (90, 90s, 5m, 2h) [until Ctrl-C or SIGTERM]
  --out DIR               the run directory, new or without a run.json [./invscope-observe-<time>]
  --vantage NAME          the vantage point's name (letters, digits, . _ -) [this host's name]
  --rotate T              a new Parquet part every T [${OBSERVE_DEFAULTS.rotate}]
  --item-window T         an item is finalized (items table) T after its first sighting [${OBSERVE_DEFAULTS.itemWindow}]
  --status-interval T     seconds between plain status lines when not on a terminal [10s]
  --log-level LEVEL       debug, info, warn, error (DIR/log/observe-RUNID-NNNN.log) [info]
  --quiet                 no status display (errors and the final line only)
  --json                  status and the final summary as JSON lines on stdout
  --recover DIR           export the parts a crashed run left in DIR/.store, then exit
  --help                  this text

Exit status: 0 after a clean stop, 1 when DIR cannot be written (or stops being writable: the
run stops, everything written before is kept), 2 for a bad option, 130 for a forced stop.
`;

export interface ObserveSettings {
  network: NetworkParams;
  peers: string[];
  peersFile: string | null;
  dns: boolean;
  crawl: boolean;
  maxPeers: number;
  shards: number;
  listen: string | null;
  proxy: string | null;
  transport: 'v1' | 'v2' | 'auto' | null;
  durationMs: number | null;
  out: string;
  vantage: string;
  /** Test-only clock shift (env INVSCOPE_TEST_CLOCK_SHIFT_MS, src/store/README.md), ms. */
  testClockShiftMs: number;
  rotateMs: number;
  itemWindowMs: number;
  statusIntervalMs: number;
  logLevel: LogLevel;
  quiet: boolean;
  json: boolean;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type LogLevel = (typeof LEVELS)[number];

/** '90', '90s', '1.5m', '2h', '500ms' -> milliseconds; NaN when malformed or not positive. */
export function parseDurationMs(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$/.exec(s);
  if (!m) return NaN;
  const v = Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return v > 0 && Number.isFinite(v) ? v : NaN;
}

function duration(name: string, s: string, minMs = 1): number {
  const v = parseDurationMs(s);
  if (!(v >= minMs)) throw new UsageError(`--${name} takes a duration such as 90, 90s, 5m or 2h${minMs > 1 ? ` of at least ${minMs} ms` : ''}, not ${JSON.stringify(s)}`);
  return v;
}

function integer(name: string, s: string, min: number, max: number): number {
  const v = Number(s);
  if (s.trim() === '' || !Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name} takes an integer from ${min} to ${max}, not ${JSON.stringify(s)}`);
  return v;
}

function hostPort(name: string, s: string, allowPortZero = false): string {
  const ok = isHostPort(parseHostPort(s, undefined, { allowPortZero })) && /:\d+$/.test(s.trim());
  if (!ok) throw new UsageError(`--${name} takes HOST:PORT, not ${JSON.stringify(s)}`);
  return s.trim();
}

function transportMode(s: string): 'v1' | 'v2' | 'auto' {
  if (s !== 'v1' && s !== 'v2' && s !== 'auto') throw new UsageError(`--transport takes v1, v2 or auto, not ${JSON.stringify(s)}`);
  return s;
}

function timestampName(t = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${t.getFullYear()}${p(t.getMonth() + 1)}${p(t.getDate())}-${p(t.getHours())}${p(t.getMinutes())}${p(t.getSeconds())}`;
}

/** Reads a --peers file: one address a line, # comments; a bad line is a UsageError naming it. */
export function readPeersFile(file: string, defaultPort: number): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--peers ${JSON.stringify(file)} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    if (!isHostPort(parseHostPort(line, defaultPort))) throw new UsageError(`--peers ${file} line ${i + 1}: not HOST:PORT: ${JSON.stringify(line)}`);
    out.push(line);
  });
  return out;
}

/** Parses and checks every option; throws UsageError naming the bad value. null: --help. */
export function parseObserveArgs(args: string[]): ObserveSettings | { help: true } | { recover: string } {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      network: { type: 'string', default: OBSERVE_DEFAULTS.network },
      'signet-challenge': { type: 'string' },
      peer: { type: 'string', multiple: true },
      peers: { type: 'string' },
      dns: { type: 'boolean', default: false },
      crawl: { type: 'boolean', default: false },
      'max-peers': { type: 'string', default: String(OBSERVE_DEFAULTS.maxPeers) },
      shards: { type: 'string' },
      listen: { type: 'string' },
      proxy: { type: 'string' },
      transport: { type: 'string' },
      duration: { type: 'string' },
      out: { type: 'string' },
      vantage: { type: 'string' },
      rotate: { type: 'string', default: OBSERVE_DEFAULTS.rotate },
      'item-window': { type: 'string', default: OBSERVE_DEFAULTS.itemWindow },
      'status-interval': { type: 'string', default: '10s' },
      'log-level': { type: 'string', default: 'info' },
      quiet: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      recover: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true };
  if (positionals.length > 0) throw new UsageError(`observe takes no arguments, got ${JSON.stringify(positionals[0])} (addresses go in --peer HOST:PORT)`);
  if (values.recover !== undefined) return { recover: values.recover };
  const network = parseNetwork(values.network!, values['signet-challenge']);
  const peers = (values.peer ?? []).map((p) => {
    if (!isHostPort(parseHostPort(p, network.defaultPort))) throw new UsageError(`--peer takes HOST:PORT, not ${JSON.stringify(p)}`);
    return p.trim();
  });
  const peersFile = values.peers ?? null;
  if (peersFile !== null) peers.push(...readPeersFile(peersFile, network.defaultPort));
  const crawl = values.crawl!;
  const dns = values.dns! || (crawl && peers.length === 0);
  if (peers.length === 0 && !dns) {
    throw new UsageError(peersFile !== null ? `--peers ${peersFile} holds no address` : 'no address source: give --peer HOST:PORT, --peers FILE, --dns or --crawl');
  }
  const logLevel = values['log-level']!;
  if (!(LEVELS as readonly string[]).includes(logLevel)) throw new UsageError(`--log-level takes ${LEVELS.join(', ')}, not ${JSON.stringify(logLevel)}`);
  const out = resolve(values.out ?? `invscope-observe-${timestampName()}`);
  if (existsSync(join(out, 'run.json'))) throw new UsageError(`--out ${out} already holds a run (run.json): choose a new directory`);
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out ${out} is not a directory`);
  const vantage = values.vantage ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  if (!VANTAGE_RE.test(vantage)) throw new UsageError(`--vantage takes 1-64 letters, digits, '.', '_' or '-', not ${JSON.stringify(vantage)}`);
  const shift = Number(process.env.INVSCOPE_TEST_CLOCK_SHIFT_MS ?? 0);
  return {
    network,
    peers,
    peersFile,
    dns,
    crawl,
    maxPeers: integer('max-peers', values['max-peers']!, 1, 100_000),
    shards: values.shards === undefined ? availableParallelism() : integer('shards', values.shards, 1, 64),
    listen: values.listen === undefined ? null : hostPort('listen', values.listen, true),
    proxy: values.proxy === undefined ? null : hostPort('proxy', values.proxy),
    transport: values.transport === undefined ? null : transportMode(values.transport),
    durationMs: values.duration === undefined ? null : duration('duration', values.duration),
    out,
    vantage,
    testClockShiftMs: Number.isFinite(shift) ? shift : 0,
    rotateMs: duration('rotate', values.rotate!, 1000),
    itemWindowMs: duration('item-window', values['item-window']!, 100),
    statusIntervalMs: duration('status-interval', values['status-interval']!, 100),
    logLevel: logLevel as LogLevel,
    quiet: values.quiet!,
    json: values.json!,
  };
}

/**
 * DIR/log/observe-<runid>-NNNN.log: one line per event, ISO time, level, message; a new file every
 * rotation period (`rotate()`, on the parts' --rotate period). Never throws (failures are counted).
 */
class Log {
  private fd: number | null = null;
  private index = 0;
  failures = 0;
  constructor(
    private readonly dir: string,
    private readonly runId: string,
    private readonly min: number,
  ) {
    this.open();
  }
  private open(): void {
    try {
      makeDirs(this.dir);
      this.fd = openSync(join(this.dir, `observe-${this.runId}-${String(this.index).padStart(4, '0')}.log`), 'a');
    } catch {
      this.failures++;
    }
  }
  /** Closes this period's file and opens the next one. */
  rotate(): void {
    this.close();
    this.index++;
    this.open();
  }
  write(level: LogLevel, msg: string): void {
    if (LEVELS.indexOf(level) < this.min || this.fd === null) return;
    try {
      writeSync(this.fd, `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}\n`);
    } catch {
      this.failures++;
    }
  }
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
function fmtClock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}`;
}

/** Every this often the host clock's sync state is sampled into run.json and the timeline. */
const CLOCK_SAMPLE_MS = 300_000;
/** run.json keeps the first sample and the latest ones (a day at one per 5 minutes). */
const MAX_CLOCK_SAMPLES = 289;

/** Writes run.json atomically (tmp + rename) so a crash never leaves half a file. */
function writeRunJson(dir: string, o: unknown): void {
  const f = join(dir, 'run.json');
  try {
    writeFileSync(f + '.tmp', JSON.stringify(o, null, 2) + '\n');
    renameSync(f + '.tmp', f);
  } catch (e) {
    rmSync(f + '.tmp', { force: true });
    throw e;
  }
}

export async function observeCommand(args: string[]): Promise<number> {
  const parsed = parseObserveArgs(args);
  if ('help' in parsed) {
    process.stdout.write(OBSERVE_HELP);
    return 0;
  }
  if ('recover' in parsed) {
    try {
      const done = await recoverDir(resolve(parsed.recover));
      process.stdout.write(jsonLine({ event: 'recovered', dir: resolve(parsed.recover), parts: done }) + '\n');
      return 0;
    } catch (e) {
      process.stderr.write(`invscope observe: cannot recover ${parsed.recover}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  return runObserve(parsed, args);
}

/** Runs one observation until --duration, a signal or a write failure. Resolves with the exit status. */
export async function runObserve(s: ObserveSettings, argv: string[]): Promise<number> {
  const say = (line: string): void => void process.stderr.write(line + '\n');
  const emit = (o: Record<string, unknown>): void => void process.stdout.write(jsonLine(o) + '\n');
  const started = Date.now();
  const runId = makeRunId(started);
  let storeError: StoreError | null = null;
  let stopNow: ((why: string) => void) | null = null;

  let store: Store;
  try {
    store = await Store.open({
      dir: s.out,
      vantage: s.vantage,
      runId,
      network: s.network.name,
      shiftMs: s.testClockShiftMs,
      version: VERSION,
      rotateMs: s.rotateMs,
      onError: (e) => {
        storeError = e;
        stopNow?.('write-failed');
      },
    });
  } catch (e) {
    const msg = e instanceof StoreError ? e.message : (e as Error).message;
    say(`invscope observe: cannot write the run directory: ${msg}`);
    return 1;
  }
  const log = new Log(join(s.out, 'log'), runId, LEVELS.indexOf(s.logLevel));
  let clock = await sampleClock();
  const clockSync = { atStart: clock, samples: [clock] as ClockSample[] };
  const settings = {
    network: s.network.name,
    magic: s.network.magicHex,
    peers: s.peers.length,
    peersFile: s.peersFile,
    dns: s.dns,
    crawl: s.crawl,
    maxPeers: s.maxPeers,
    shards: s.shards,
    listen: s.listen,
    proxy: s.proxy,
    // The mode the pool runs with: the option, else the pool's default.
    transport: s.transport ?? POOL_DEFAULT_TRANSPORT,
    durationMs: s.durationMs,
    rotateMs: s.rotateMs,
    itemWindowMs: s.itemWindowMs,
    ringCapacity: OBSERVE_DEFAULTS.ringCapacity,
    testClockShiftMs: s.testClockShiftMs,
  };
  const runInfo: Record<string, unknown> = {
    invscope: VERSION,
    schemaVersion: SCHEMA_VERSION,
    vantage: s.vantage,
    runId,
    command: ['invscope', 'observe', ...argv],
    settings,
    network: s.network.name,
    started,
    stopped: null,
    clock: { source: 'performance.timeOrigin+performance.now', timeOrigin: performance.timeOrigin },
    host: hostname(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    clockSync,
    parts: [],
    counters: null,
  };
  try {
    writeRunJson(s.out, runInfo);
  } catch (e) {
    say(`invscope observe: cannot write ${join(s.out, 'run.json')}: ${(e as Error).message}`);
    await store.close();
    return 1;
  }
  log.write('info', `invscope ${VERSION} observe: ${JSON.stringify(settings)}`);

  const sessions = new PeerSessions((row) => {
    store.appendPeer(row);
    if (row.close_reason !== 'stop') log.write(row.ready_at === null ? 'debug' : 'info', `peer ${row.peer} ${row.address} gone: ${row.close_reason}${row.close_detail ? ` (${row.close_detail})` : ''} ${row.misbehaviour !== '{}' ? row.misbehaviour : ''}`);
  });
  const items = new ItemAggregator({ windowMs: s.itemWindowMs, onItem: (r) => store.appendItem(r) });
  const pool = new Coordinator({
    network: s.network,
    peers: s.maxPeers,
    shards: s.shards,
    addresses: s.peers,
    dnsSeeds: s.dns,
    crawl: s.crawl,
    ringCapacity: OBSERVE_DEFAULTS.ringCapacity,
    ...(s.listen ? { listen: s.listen } : {}),
    ...(s.proxy ? { proxy: s.proxy } : {}),
    ...(s.transport ? { transport: s.transport } : {}),
  });
  const evidence = new NetworkEvidence();
  pool.on('peer', (e: PeerEvent) => {
    sessions.event(e, now());
    if (e.type === 'gone') evidence.gone(e.reason, e.detail ?? '', e.wasReady);
    if (e.type === 'ready') log.write('debug', `peer ${e.peer} ${e.address} ready: ${e.remote.userAgent} ${e.remote.version}`);
  });
  pool.on('seed', (r: { seed: string; family: number; addresses: number; error?: string }) => log.write(r.error ? 'warn' : 'info', `dns seed ${r.seed} (ipv${r.family}): ${r.error ?? `${r.addresses} addresses`}`));
  pool.on('listenError', (e: unknown) => log.write('error', `listen ${s.listen}: ${JSON.stringify(e)}`));
  pool.on('shardRestart', (e: unknown) => log.write('warn', `shard restarted: ${JSON.stringify(e)}`));

  // Per-second counters (the timeline) and the status display.
  let secEntries = 0;
  let totalEntries = 0;
  let lastDrops = 0;
  let lastStatusAt = 0;
  const tty = process.stderr.isTTY === true && !s.json && !s.quiet;
  const ringFill = (st: ReturnType<Coordinator['stats']>): number => Math.max(0, ...st.shards.map((x) => x.ringAvailable / OBSERVE_DEFAULTS.ringCapacity));
  const dropsOf = (st: ReturnType<Coordinator['stats']>): number => st.shards.reduce((a, x) => a + x.drops, 0) + st.consumerDrops + store.counters.lost + store.counters.shed;
  // Without DNS seeds, a crawl or a listener, a run can reach no more peers than it has addresses.
  const reachableTarget = (target: number): number => (s.dns || s.crawl || s.listen ? target : Math.min(target, s.peers.length));
  const status = (st: ReturnType<Coordinator['stats']>, rate: number, t: number): Record<string, unknown> => ({
    event: 'status',
    t: Date.now(),
    peers: { connected: st.peers.connected, ready: st.peers.ready, target: reachableTarget(st.peers.target), pending: st.peers.pending, inbound: st.peers.inbound },
    handshakes: sessions.handshakes,
    invPerSecond: rate,
    entries: totalEntries,
    ringFill: Math.round(ringFill(st) * 1000) / 1000,
    drops: { ring: st.shards.reduce((a, x) => a + x.drops, 0), consumer: st.consumerDrops, store: store.counters.lost + store.counters.shed },
    disconnects: sessions.reasons,
    items: { open: items.openItems, finalized: items.finalized },
    parts: store.counters.parts,
    elapsedMs: Math.round(t - started),
    remainingMs: s.durationMs === null ? null : Math.max(0, Math.round(started + s.durationMs - t)),
  });
  const statusText = (o: ReturnType<typeof status>): string => {
    const p = o.peers as { connected: number; ready: number; target: number };
    const d = o.drops as { ring: number; consumer: number; store: number };
    const reasons = Object.entries(sessions.reasons)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const rem = o.remainingMs === null ? '' : ` / ${fmtClock(o.remainingMs as number)} left`;
    return (
      `peers ${fmtInt(p.connected)}/${fmtInt(p.target)} (ready ${fmtInt(p.ready)}) handshakes ${fmtInt(sessions.handshakes)}  ` +
      `inv ${fmtInt(o.invPerSecond as number)}/s  ring ${((o.ringFill as number) * 100).toFixed(0)}%  drops ${fmtInt(d.ring + d.consumer + d.store)}  ` +
      `gone: ${reasons || '-'}  ${fmtClock(o.elapsedMs as number)}${rem}`
    );
  };
  const tick = (): void => {
    const t = Date.now();
    const st = pool.stats();
    const drops = dropsOf(st);
    store.appendTimeline({ time: t, peers_connected: st.peers.connected, peers_ready: st.peers.ready, inv_entries: secEntries, drops: drops - lastDrops, clock });
    const rate = secEntries;
    lastDrops = drops;
    secEntries = 0;
    items.evict(now());
    if (s.quiet) return;
    const o = status(st, rate, t);
    if (s.json) {
      if (t - lastStatusAt >= s.statusIntervalMs - 50) {
        emit(o);
        lastStatusAt = t;
      }
    } else if (tty) process.stderr.write(`\r${fitWidth(statusText(o), process.stderr.columns)}\x1b[K`);
    else if (t - lastStatusAt >= s.statusIntervalMs - 50) {
      say(statusText(o));
      lastStatusAt = t;
    }
  };

  // The observation loop: the store and the aggregation, yielding to the event loop every few
  // thousand rows so that the pool's drain timer keeps running however long the backlog.
  const consume = async (): Promise<void> => {
    let n = 0;
    for await (const o of pool.observations()) {
      store.appendObservation(o.time, o.peer, o.address, o.kind, o.invType, o.hash, o.shard);
      items.add(o.time, o.peer, o.hash, idTypeOf(o.kind, o.invType), sessions.ready);
      secEntries++;
      totalEntries++;
      if (++n === 4096) {
        n = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
  };

  let stopReason = 'duration';
  let signals = 0;
  const done = new Promise<string>((resolveStop) => {
    stopNow = (why: string): void => {
      stopNow = null;
      resolveStop(why);
    };
  });
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      log.write('info', `${sig}: stopping (a second signal forces the exit)`);
      if (!s.quiet && !s.json) say(`${tty ? '\n' : ''}invscope observe: ${sig}, stopping cleanly (again to force) ...`);
      stopNow?.(sig === 'SIGINT' ? 'interrupted' : 'terminated');
      return;
    }
    log.write('error', `${sig} again: forced exit; the open part stays in ${join(s.out, '.store')} (invscope observe --recover ${s.out})`);
    say(`invscope observe: forced exit; recover the open part with: invscope observe --recover ${s.out}`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await pool.start();
  } catch (e) {
    say(`invscope observe: cannot start the pool: ${(e as Error).message}`);
    log.write('error', `cannot start the pool: ${(e as Error).message}`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await store.close();
    log.close();
    return 1;
  }
  const consuming = consume();
  const ticker = setInterval(tick, 1000);
  // The log follows the parts' period; the clock state is sampled every CLOCK_SAMPLE_MS.
  const logRotor = setInterval(() => log.rotate(), s.rotateMs);
  const clockTimer = setInterval(() => {
    void sampleClock().then((c) => {
      clock = c;
      clockSync.samples.push(c);
      if (clockSync.samples.length > MAX_CLOCK_SAMPLES) clockSync.samples.splice(1, 1);
      log.write('info', `clock: ${c.source} ${c.state} offset ${c.offsetMs ?? '?'} ms error ${c.errorMs ?? '?'} ms`);
      try {
        writeRunJson(s.out, runInfo);
      } catch {
        log.failures++;
      }
    });
  }, CLOCK_SAMPLE_MS);
  const timer = s.durationMs === null ? null : setTimeout(() => stopNow?.('duration'), s.durationMs);
  if (!s.quiet && !s.json) say(`invscope observe: ${s.network.name}, ${s.peers.length} addresses${s.dns ? ' + DNS seeds' : ''}${s.crawl ? ' + crawl' : ''}, target ${plural(s.maxPeers, 'peer')} over ${plural(s.shards, 'shard')}, writing ${s.out}`);
  if (s.json) emit({ event: 'started', t: started, dir: s.out, network: s.network.name, addresses: s.peers.length, target: s.maxPeers, shards: s.shards, pid: process.pid });

  stopReason = await done;
  const stopRequested = Date.now();
  if (timer) clearTimeout(timer);
  log.write('info', `stopping: ${stopReason}`);
  // Stop order: the pool drains every ring and reports every peer gone (rows for the living),
  // the loop takes the last observations, the aggregation finalizes every open item, the store
  // commits and exports the open part.
  await pool.stop();
  await consuming;
  const tPool = Date.now();
  clearInterval(ticker);
  clearInterval(clockTimer);
  clearInterval(logRotor);
  tick();
  if (tty) process.stderr.write('\n');
  items.finish();
  const st = pool.stats();
  await store.close();
  log.write('info', `stop: pool stopped and drained in ${tPool - stopRequested} ms, store committed and exported in ${Date.now() - tPool} ms`);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  const stopped = Date.now();
  const ringDrops = st.shards.reduce((a, x) => a + x.drops, 0);
  const counters = {
    observations: store.counters.observations,
    drained: st.observations,
    drops: ringDrops,
    consumerDrops: st.consumerDrops,
    storeLost: store.counters.lost,
    storeShed: store.counters.shed,
    peers: { sessions: sessions.sessions, handshakes: sessions.handshakes },
    disconnectReasons: st.disconnectReasons,
    connectFailures: st.connectFailures,
    malformed: st.shards.reduce((a, x) => a + (x.last?.malformed ?? 0), 0),
    faults: sessions.faults,
    items: { finalized: items.finalized, late: items.late, duplicates: items.duplicates, forced: items.forced },
    addresses: st.addresses,
    timeline: store.counters.timeline,
    commits: store.counters.commits,
    logFailures: log.failures,
  };
  const err = storeError as StoreError | null;
  Object.assign(runInfo, { stopRequested, stopped, stopReason, counters, parts: store.parts, ...(err ? { error: err.message, openPart: '.store (invscope observe --recover DIR)' } : {}) });
  try {
    writeRunJson(s.out, runInfo);
  } catch (e) {
    log.write('error', `cannot write run.json: ${(e as Error).message}`);
    if (!err) say(`invscope observe: cannot write ${join(s.out, 'run.json')}: ${(e as Error).message}`);
  }
  log.write('info', `stopped (${stopReason}): ${JSON.stringify(counters)}`);
  log.close();
  const summary = { event: 'stopped', why: stopReason, dir: s.out, seconds: Math.round((stopped - started) / 100) / 10, parts: store.parts.length, ...counters };
  if (err) say(`invscope observe: cannot write the run directory: ${err.message}; stopped, everything written before is kept (parts: ${store.parts.join(', ') || 'none'})`);
  if (s.json) emit(summary);
  else if (!s.quiet || err) {
    say(
      `invscope observe: stopped (${stopReason}) after ${summary.seconds} s: ${fmtInt(counters.observations)} observations, ${fmtInt(sessions.sessions)} peer sessions ` +
        `(${fmtInt(sessions.handshakes)} handshakes), ${fmtInt(items.finalized)} items, drops ${ringDrops + st.consumerDrops + store.counters.lost + store.counters.shed}; ${plural(store.parts.length, 'part')} in ${s.out}`,
    );
  }
  if (err) return 1;
  // A run in which no peer ever spoke the chosen network measured nothing: say why, exit 1.
  if (sessions.handshakes === 0 && !s.listen) {
    const why = evidence.hint(s.network) ?? `no peer completed a ${s.network.name} handshake`;
    log.write('error', why);
    say(`invscope observe: ${why}`);
    return 1;
  }
  return 0;
}
