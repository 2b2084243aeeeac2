/**
 * The simulated network's options, each default written once (SIM_DEFAULTS) and every value
 * checked with an error naming it (simOptions), and the model's events and counters. Simulator
 * process; cold.
 */
import { ALL_MISBEHAVIOURS, type Misbehaviour, type SimItem, type SimModelEvents } from './types.js';

export interface SimOptions {
  /** Simulated nodes. @default 1000 (tested up to 10,000) */
  nodes: number;
  /** Seed of every random choice (topology, identities, timings, item bytes). @default 1 */
  seed: number;
  /** Every interval of the model is divided by it (10: ten times faster). @default 1 */
  timeScale: number;
  /** Transactions originated per second of model time (Poisson); 0 = none. @default 7 (mainnet-like) */
  txRate: number;
  /** Mean block interval in model ms (Poisson); 0 = no blocks. @default 600_000 */
  blockIntervalMs: number;
  /** Outbound links each node opens. @default 8 (Core MAX_OUTBOUND_FULL_RELAY_CONNECTIONS) */
  outbound: number;
  /** Inbound links a node accepts. @default 117 (Core DEFAULT_MAX_PEER_CONNECTIONS 125 minus 8 outbound) */
  maxInbound: number;
  /** Median one-way link latency, model ms (lognormal, one draw per link). @default 50 */
  latencyMedianMs: number;
  /** Lognormal shape of link latency. @default 0.5 */
  latencySigma: number;
  /** Median per-node validation delay of a tx, model ms (lognormal per node; blocks x10). @default 5 */
  validationMs: number;
  /** Mean of the per-link trickle towards outbound peers, model ms. @default 2000 (Core OUTBOUND_INVENTORY_BROADCAST_INTERVAL) */
  outboundTrickleMs: number;
  /** Mean of the per-node trickle towards inbound peers, model ms. @default 5000 (Core INBOUND_INVENTORY_BROADCAST_INTERVAL) */
  inboundTrickleMs: number;
  /** Fraction of nodes leaving per hour of model time. @default 0 */
  churnPerHour: number;
  /** Mean time a leaving node stays offline, model ms (exponential). @default 600_000 */
  churnDowntimeMs: number;
  /** Fraction of nodes with a Misbehaviour label (towards observers). @default 0 */
  misbehaving: number;
  /**
   * Fraction of nodes that speak BIP324 v2 as responders and advertise NODE_P2P_V2 (bit 11).
   * @default undefined: the client mix's (Core 27+, about two thirds)
   */
  v2Fraction?: number;
  /** The modes spread round robin over the misbehaving nodes. @default MISBEHAVIOURS (types.ts; ALL_MISBEHAVIOURS adds the hostile ones) */
  misbehaviours?: readonly Misbehaviour[];
  /** First loopback address; node i gets the i-th address from it, skipping .0 and .255. @default '127.1.0.0' */
  addressBase: string;
  /** Port every node listens on. @default 18444 (regtest) */
  port: number;
  /**
   * Transactions whose per-node learn times stay in memory (learnedAt exact); older completed
   * ones keep only the nodes that never learned them (knows stays exact). Blocks are kept whole.
   * @default 1024 (80 MB at 10,000 nodes)
   */
  retainItems: number;
  /** The clock, epoch ms. @default now() of src/observe/clock.ts (the observer's receive clock) */
  clock?: () => number;
}

export const SIM_DEFAULTS: Readonly<SimOptions> = Object.freeze({
  nodes: 1000,
  seed: 1,
  timeScale: 1,
  txRate: 7,
  blockIntervalMs: 600_000,
  outbound: 8,
  maxInbound: 117,
  latencyMedianMs: 50,
  latencySigma: 0.5,
  validationMs: 5,
  outboundTrickleMs: 2_000,
  inboundTrickleMs: 5_000,
  churnPerHour: 0,
  churnDowntimeMs: 600_000,
  misbehaving: 0,
  addressBase: '127.1.0.0',
  port: 18444,
  retainItems: 1024,
});

/** Every event the model emits: the contract's two plus two for tests, benches and reports. */
export interface SimModelAllEvents extends SimModelEvents {
  /** An item originated (emitted before its origin's `learn`). */
  item(item: SimItem): void;
  /**
   * `from` (which learned the item at `learnedAt`) will announce it to `to` at `announceAt`,
   * which would learn it at `arriveAt` unless it learns it earlier. Emitted per relay offer, on
   * the hot path: only listen in tests and measurements.
   */
  offer(from: number, to: number, itemId: number, learnedAt: number, announceAt: number, arriveAt: number): void;
}

/** Counters of a run. */
export interface SimStats {
  /** Events popped from the queue. */
  events: number;
  learns: number;
  /** Relay offers computed (one per link per item, towards nodes that had not learned it yet). */
  offers: number;
  /** Offers that did not arrive because an end left the network in between. */
  dropped: number;
  /** Largest delay between an event's time and its processing (real-time mode), ms. */
  maxLagMs: number;
  queued: number;
  items: number;
  compacted: number;
}

function check(ok: boolean, what: string, value: unknown, rule: string): void {
  if (!ok) throw new RangeError(`${what} must be ${rule}, got ${String(value)}`);
}

/** Merges `options` over the defaults and checks every value (a clear error naming it). */
export function simOptions(options: Partial<SimOptions> = {}): SimOptions {
  const o: SimOptions = { ...SIM_DEFAULTS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  const int = (x: number): boolean => Number.isInteger(x);
  check(int(o.nodes) && o.nodes >= 1 && o.nodes <= 100_000, 'nodes', o.nodes, 'an integer in 1..100000');
  check(int(o.seed), 'seed', o.seed, 'an integer');
  check(Number.isFinite(o.timeScale) && o.timeScale > 0, 'timeScale', o.timeScale, 'a positive number');
  check(Number.isFinite(o.txRate) && o.txRate >= 0, 'txRate', o.txRate, 'a number >= 0');
  check(Number.isFinite(o.blockIntervalMs) && o.blockIntervalMs >= 0, 'blockIntervalMs', o.blockIntervalMs, 'a number >= 0');
  check(int(o.outbound) && o.outbound >= 0, 'outbound', o.outbound, 'an integer >= 0');
  check(int(o.maxInbound) && o.maxInbound >= 0, 'maxInbound', o.maxInbound, 'an integer >= 0');
  check(Number.isFinite(o.latencyMedianMs) && o.latencyMedianMs >= 0, 'latencyMedianMs', o.latencyMedianMs, 'a number >= 0');
  check(Number.isFinite(o.latencySigma) && o.latencySigma >= 0, 'latencySigma', o.latencySigma, 'a number >= 0');
  check(Number.isFinite(o.validationMs) && o.validationMs >= 0, 'validationMs', o.validationMs, 'a number >= 0');
  check(Number.isFinite(o.outboundTrickleMs) && o.outboundTrickleMs >= 0, 'outboundTrickleMs', o.outboundTrickleMs, 'a number >= 0');
  check(Number.isFinite(o.inboundTrickleMs) && o.inboundTrickleMs >= 0, 'inboundTrickleMs', o.inboundTrickleMs, 'a number >= 0');
  check(Number.isFinite(o.churnPerHour) && o.churnPerHour >= 0, 'churnPerHour', o.churnPerHour, 'a number >= 0');
  check(Number.isFinite(o.churnDowntimeMs) && o.churnDowntimeMs > 0, 'churnDowntimeMs', o.churnDowntimeMs, 'a positive number');
  check(Number.isFinite(o.misbehaving) && o.misbehaving >= 0 && o.misbehaving <= 1, 'misbehaving', o.misbehaving, 'a fraction in 0..1');
  check(o.v2Fraction === undefined || (Number.isFinite(o.v2Fraction) && o.v2Fraction >= 0 && o.v2Fraction <= 1), 'v2Fraction', o.v2Fraction, 'a fraction in 0..1');
  check(
    o.misbehaviours === undefined || (Array.isArray(o.misbehaviours) && o.misbehaviours.every((m) => ALL_MISBEHAVIOURS.includes(m))),
    'misbehaviours',
    o.misbehaviours,
    `a list of ${ALL_MISBEHAVIOURS.join(', ')}`,
  );
  check(int(o.port) && o.port >= 0 && o.port <= 65535, 'port', o.port, 'an integer in 0..65535');
  check(int(o.retainItems) && o.retainItems >= 0, 'retainItems', o.retainItems, 'an integer >= 0');
  check(o.clock === undefined || typeof o.clock === 'function', 'clock', o.clock, 'a function');
  return o;
}

