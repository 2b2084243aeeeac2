/**
 * `invscope observe` options: the defaults, the help text, and the parsing and checking of every
 * option into ObserveSettings before anything starts (a bad value is a UsageError naming it).
 * Each option is one entry of OBSERVE_OPTIONS (node:util parseArgs) and one field set in
 * parseObserveArgs. Main thread; cold.
 */
import { parseArgs } from 'node:util';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../decode.js';
import { parseNetwork } from '../options.js';
import { parseHostPort, isHostPort, POOL_DEFAULTS } from '../../pool/index.js';
import { VANTAGE_RE } from '../../store/index.js';
import type { NetworkParams } from '../../protocol/constants.js';

export const OBSERVE_DEFAULTS = {
  network: 'mainnet',
  maxPeers: 1000,
  rotate: '1h',
  itemWindow: '120s',
  ringCapacity: 1 << 16,
} as const;

export const OBSERVE_HELP = `usage: invscope observe [address sources] [options]

Connects to many peers at once, records every inv / headers / cmpctblock announcement with its
receive time, and writes DIR/observations, peers, items and timeline (Parquet parts in hive
partitions vantage=/date=/hour=), run.json and DIR/log/ (one log per --rotate period). Stops at
--duration, or on Ctrl-C / SIGTERM (a clean stop that keeps everything recorded; a second signal
forces the exit).

address sources (at least one):
  --peer HOST:PORT        a peer to keep connected (repeatable; [v6]:port; a bare host takes the
                          network's default port)
  --peers FILE            one HOST:PORT a line (# comments and blank lines ignored)
  --dns                   the network's DNS seeds (resolved at start and every ${POOL_DEFAULTS.reseedIntervalMs / 60_000} min)
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

/** Log levels, least severe first (DIR/log/). */
export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LEVELS)[number];

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

/** Every option of `invscope observe` (node:util parseArgs); a new option is one entry here. */
export const OBSERVE_OPTIONS = {
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
} as const;

/** The parsed option values, before checking. */
type ObserveValues = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof OBSERVE_OPTIONS }>>['values'];

/** The address sources: --peer, --peers FILE, --dns, --crawl (alone it implies --dns). */
function addressSources(values: ObserveValues, network: NetworkParams): Pick<ObserveSettings, 'peers' | 'peersFile' | 'dns' | 'crawl'> {
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
  return { peers, peersFile, dns, crawl };
}

/** The run directory: new, or a directory without a run.json. */
function outDir(values: ObserveValues): string {
  const out = resolve(values.out ?? `invscope-observe-${timestampName()}`);
  if (existsSync(join(out, 'run.json'))) throw new UsageError(`--out ${out} already holds a run (run.json): choose a new directory`);
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out ${out} is not a directory`);
  return out;
}

/** The vantage's name: --vantage, else this host's name made safe for a partition folder. */
function vantageOf(values: ObserveValues): string {
  const vantage = values.vantage ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  if (!VANTAGE_RE.test(vantage)) throw new UsageError(`--vantage takes 1-64 letters, digits, '.', '_' or '-', not ${JSON.stringify(vantage)}`);
  return vantage;
}

/** The test-only clock shift, ms (0 unless INVSCOPE_TEST_CLOCK_SHIFT_MS is a finite number). */
function testClockShift(): number {
  const shift = Number(process.env.INVSCOPE_TEST_CLOCK_SHIFT_MS ?? 0);
  return Number.isFinite(shift) ? shift : 0;
}

function logLevelOf(s: string): LogLevel {
  if (!(LEVELS as readonly string[]).includes(s)) throw new UsageError(`--log-level takes ${LEVELS.join(', ')}, not ${JSON.stringify(s)}`);
  return s as LogLevel;
}

/** Parses and checks every option; throws UsageError naming the bad value. */
export function parseObserveArgs(args: string[]): ObserveSettings | { help: true } | { recover: string } {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OBSERVE_OPTIONS });
  if (values.help) return { help: true };
  if (positionals.length > 0) throw new UsageError(`observe takes no arguments, got ${JSON.stringify(positionals[0])} (addresses go in --peer HOST:PORT)`);
  if (values.recover !== undefined) return { recover: values.recover };
  const network = parseNetwork(values.network!, values['signet-challenge']);
  const sources = addressSources(values, network);
  const logLevel = logLevelOf(values['log-level']!);
  const out = outDir(values);
  return {
    network,
    ...sources,
    maxPeers: integer('max-peers', values['max-peers']!, 1, 100_000),
    shards: values.shards === undefined ? availableParallelism() : integer('shards', values.shards, 1, 64),
    listen: values.listen === undefined ? null : hostPort('listen', values.listen, true),
    proxy: values.proxy === undefined ? null : hostPort('proxy', values.proxy),
    transport: values.transport === undefined ? null : transportMode(values.transport),
    durationMs: values.duration === undefined ? null : duration('duration', values.duration),
    out,
    vantage: vantageOf(values),
    testClockShiftMs: testClockShift(),
    rotateMs: duration('rotate', values.rotate!, 1000),
    itemWindowMs: duration('item-window', values['item-window']!, 100),
    statusIntervalMs: duration('status-interval', values['status-interval']!, 100),
    logLevel,
    quiet: values.quiet!,
    json: values.json!,
  };
}
