/**
 * `invscope simulate`: the simulated network as its own process (src/sim). Parses and checks every
 * option before anything starts (a bad one is a UsageError naming the value, exit 2), runs until
 * --duration or Ctrl-C/SIGTERM, and stops cleanly (the truth flushed). Main thread, cold path.
 */
import { parseArgs } from 'node:util';
import { UsageError, jsonLine } from './decode.js';
import { parseNetwork } from './options.js';
import { startSimulation, type Simulation } from '../sim/index.js';
import { nodeAddresses } from '../sim/identity.js';
import { ALL_MISBEHAVIOURS, type Misbehaviour } from '../sim/types.js';

/** The most nodes here: each observer connection costs the simulator one fd of 20,000 per process. */
export const MAX_SIM_NODES = 10_000;

/** Defaults, passed to the model explicitly so that the help text is what runs. */
export const SIMULATE_DEFAULTS = {
  nodes: 1000,
  seed: 1,
  timeScale: 1,
  /** Mainnet-like: about 7 transactions a second. */
  txRate: 7,
  /** Seconds: mainnet's 10 minutes. */
  blockInterval: 600,
  misbehaving: 0,
  churn: 0,
  network: 'regtest',
  addressBase: '127.1.0.0',
  /** Seconds between status lines. */
  statusInterval: 5,
} as const;

export const SIMULATE_HELP = `usage: invscope simulate [options]

Runs a simulated Bitcoin network on loopback: every node on its own address (127.x.y.z), all on
one port, speaking the real protocol to whoever connects (point invscope connect or observe at
them), gossiping among themselves in memory, with the ground truth of every propagation.

options (defaults in brackets):
  --nodes N              simulated nodes, 1..${MAX_SIM_NODES} [${SIMULATE_DEFAULTS.nodes}]
  --seed N               seed of topology, identities, items and timing: same seed, same run [${SIMULATE_DEFAULTS.seed}]
  --time-scale X         divides every interval of the model (trickles, latencies, block and tx
                         intervals, churn) for quick runs; 1 is real time [${SIMULATE_DEFAULTS.timeScale}]
  --tx-rate R            transactions originated per second of model time, mainnet-like [${SIMULATE_DEFAULTS.txRate}]
  --block-interval S     mean seconds of model time between blocks [${SIMULATE_DEFAULTS.blockInterval}]
  --misbehaving F        fraction 0..1 of nodes that misbehave (bad checksum, bad magic, oversize,
                         garbage, truncated, slow drip, inv flood, tiny flood, no handshake) [${SIMULATE_DEFAULTS.misbehaving}]
  --misbehaviours LIST   the modes spread over the misbehaving nodes, comma-separated, or 'all'
                         (adds no-verack, checksum-flood, inv-storm, addr-flood, ping-flood,
                         command-flood, never-reads) [the nine above]
  --v2 F                 fraction 0..1 of nodes that speak BIP324 v2 (as responders, v1 peers still
                         served) and advertise service bit 11 [the client mix: Core 27+, about 2/3]
  --churn PER_HOUR       departures per node per hour of model time (each rejoins later) [${SIMULATE_DEFAULTS.churn}]
  --network NAME         mainnet, testnet3, testnet4, signet, regtest: magic and default port [${SIMULATE_DEFAULTS.network}]
  --port N               the one port of every node; 0 picks a free one [the network's default port]
  --address-base IP      first node address inside 127.0.0.0/8 (.0 and .255 are skipped) [${SIMULATE_DEFAULTS.addressBase}]
  --out DIR              write DIR/truth.jsonl (the ground truth), DIR/nodes.txt (one host:port a
                         line) and DIR/nodes.json (identities) [no files]
  --duration S           stop after S seconds [run until Ctrl-C or SIGTERM]
  --status-interval S    seconds between status lines [${SIMULATE_DEFAULTS.statusInterval}]
  --quiet                no status lines (the start and stop lines are still printed)
  --help                 this text

Output: one JSON line when listening, one every --status-interval seconds
({"event":"status", items, announcements, observers, ready, cpu (% of one core), rssMB}),
one when stopped. Exit status: 0 after a clean stop, 1 if it cannot start, 2 for a bad option.
`;

function num(name: string, s: string, opts: { int?: boolean; min?: number; max?: number; minExclusive?: boolean }): number {
  const v = Number(s);
  const bad =
    s.trim() === '' ||
    !Number.isFinite(v) ||
    (opts.int === true && !Number.isInteger(v)) ||
    (opts.min !== undefined && (opts.minExclusive ? v <= opts.min : v < opts.min)) ||
    (opts.max !== undefined && v > opts.max);
  if (bad) {
    const range =
      opts.min !== undefined && opts.max !== undefined
        ? opts.minExclusive
          ? ` above ${opts.min} and at most ${opts.max}`
          : ` from ${opts.min} to ${opts.max}`
        : opts.min !== undefined
          ? opts.minExclusive
            ? ` above ${opts.min}`
            : ` of at least ${opts.min}`
          : '';
    throw new UsageError(`--${name} takes ${opts.int ? 'an integer' : 'a number'}${range}, not ${JSON.stringify(s)}`);
  }
  return v;
}

/** Parses the arguments into startSimulation options; throws UsageError on any bad value. */
export function parseSimulateArgs(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      nodes: { type: 'string', default: String(SIMULATE_DEFAULTS.nodes) },
      seed: { type: 'string', default: String(SIMULATE_DEFAULTS.seed) },
      'time-scale': { type: 'string', default: String(SIMULATE_DEFAULTS.timeScale) },
      'tx-rate': { type: 'string', default: String(SIMULATE_DEFAULTS.txRate) },
      'block-interval': { type: 'string', default: String(SIMULATE_DEFAULTS.blockInterval) },
      misbehaving: { type: 'string', default: String(SIMULATE_DEFAULTS.misbehaving) },
      misbehaviours: { type: 'string' },
      churn: { type: 'string', default: String(SIMULATE_DEFAULTS.churn) },
      v2: { type: 'string' },
      network: { type: 'string', default: SIMULATE_DEFAULTS.network },
      'signet-challenge': { type: 'string' },
      port: { type: 'string' },
      'address-base': { type: 'string', default: SIMULATE_DEFAULTS.addressBase },
      out: { type: 'string' },
      duration: { type: 'string' },
      'status-interval': { type: 'string', default: String(SIMULATE_DEFAULTS.statusInterval) },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length > 0) throw new UsageError(`simulate takes no arguments, got ${JSON.stringify(positionals[0])}`);
  const network = parseNetwork(values.network!, values['signet-challenge']);
  const nodes = num('nodes', values.nodes!, { int: true, min: 1, max: MAX_SIM_NODES });
  const addressBase = values['address-base']!;
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(addressBase) || addressBase.split('.').some((p) => Number(p) > 255)) {
    throw new UsageError(`--address-base takes an IPv4 address inside 127.0.0.0/8, not ${JSON.stringify(addressBase)}`);
  }
  try {
    nodeAddresses(addressBase, nodes);
  } catch (e) {
    throw new UsageError(`--address-base ${addressBase}: ${(e as Error).message}`);
  }
  let misbehaviours: readonly Misbehaviour[] | undefined;
  if (values.misbehaviours !== undefined) {
    const list = values.misbehaviours === 'all' ? ALL_MISBEHAVIOURS : values.misbehaviours.split(',').map((x) => x.trim());
    const bad = list.find((m) => !ALL_MISBEHAVIOURS.includes(m as Misbehaviour));
    if (bad !== undefined || list.length === 0) {
      throw new UsageError(`--misbehaviours takes 'all' or a list of ${ALL_MISBEHAVIOURS.join(', ')}, not ${JSON.stringify(bad ?? values.misbehaviours)}`);
    }
    misbehaviours = list as Misbehaviour[];
  }
  const duration = values.duration === undefined ? undefined : num('duration', values.duration, { min: 0, minExclusive: true });
  return {
    help: values.help!,
    quiet: values.quiet!,
    duration,
    statusInterval: num('status-interval', values['status-interval']!, { min: 0, minExclusive: true }),
    sim: {
      network,
      nodes,
      seed: num('seed', values.seed!, { int: true, min: 0, max: 0xffffffff }),
      timeScale: num('time-scale', values['time-scale']!, { min: 0, minExclusive: true, max: 10_000 }),
      txRate: num('tx-rate', values['tx-rate']!, { min: 0, max: 100_000 }),
      blockIntervalMs: num('block-interval', values['block-interval']!, { min: 0, minExclusive: true }) * 1000,
      misbehaving: num('misbehaving', values.misbehaving!, { min: 0, max: 1 }),
      ...(misbehaviours ? { misbehaviours } : {}),
      churnPerHour: num('churn', values.churn!, { min: 0 }),
      ...(values.v2 !== undefined ? { v2Fraction: num('v2', values.v2, { min: 0, max: 1 }) } : {}),
      port: values.port === undefined ? network.defaultPort : num('port', values.port, { int: true, min: 0, max: 65535 }),
      addressBase,
      ...(values.out !== undefined ? { out: values.out } : {}),
    },
  };
}

/** Runs the simulation until --duration or a signal. Resolves with the exit status. */
export async function simulateCommand(args: string[]): Promise<number> {
  const opts = parseSimulateArgs(args);
  if (opts.help) {
    process.stdout.write(SIMULATE_HELP);
    return 0;
  }
  const print = (o: Record<string, unknown>): void => {
    process.stdout.write(jsonLine(o) + '\n');
  };
  let sim: Simulation;
  try {
    sim = await startSimulation(opts.sim);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`invscope simulate: cannot start: ${err.code ? `${err.code}: ` : ''}${err.message}\n`);
    return 1;
  }
  const first = sim.nodes[0]!;
  const last = sim.nodes[sim.nodes.length - 1]!;
  print({
    event: 'listening',
    t: Date.now(),
    nodes: sim.nodes.length,
    network: sim.network.name,
    port: sim.port,
    first: `${first.host}:${first.port}`,
    last: `${last.host}:${last.port}`,
    misbehaving: sim.nodes.filter((n) => n.misbehaviour !== null).length,
    ...(opts.sim.out !== undefined ? { out: opts.sim.out } : {}),
    pid: process.pid,
  });
  return new Promise<number>((resolve) => {
    const status = opts.quiet ? null : setInterval(() => print({ event: 'status', ...sim.status() }), opts.statusInterval * 1000);
    let timer: ReturnType<typeof setTimeout> | null = null;
    const stop = (why: string): void => {
      if (status) clearInterval(status);
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      const final = sim.status();
      sim.stop().then(
        () => {
          print({ event: 'stopped', why, ...final, truth: sim.truth ? sim.truth.counts : null });
          resolve(0);
        },
        (e: unknown) => {
          process.stderr.write(`invscope simulate: stop failed: ${(e as Error).message}\n`);
          resolve(1);
        },
      );
    };
    const onInt = (): void => stop('interrupted');
    const onTerm = (): void => stop('terminated');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    if (opts.duration !== undefined) timer = setTimeout(() => stop('duration'), opts.duration * 1000);
  });
}
