/**
 * Who the simulated nodes are: loopback addresses (one per node) and the identity each shows in
 * `version` (user agent, services, protocol version, start height), drawn from a mix shaped like
 * the reachable mainnet nodes of 2024-2025 (bitnodes-style counts, rounded). Misbehaviour labels
 * are spread over a seeded choice of nodes. Simulator process, cold path (runs at construction).
 */
import { MISBEHAVIOURS, type Misbehaviour, type SimNodeInfo } from './types.js';
import type { Rng } from './rng.js';

// Service bits (Bitcoin Core protocol.h ServiceFlags).
export const NODE_NETWORK = 1n;
export const NODE_BLOOM = 4n;
export const NODE_WITNESS = 8n;
export const NODE_COMPACT_FILTERS = 64n;
export const NODE_NETWORK_LIMITED = 1024n;
export const NODE_P2P_V2 = 2048n;

/** The tip height the simulated chain starts from (mainnet-like; the model mines on top of it). */
export const BASE_HEIGHT = 900_000;

interface Client {
  userAgent: string;
  protocolVersion: number;
  /** BIP324 v2 transport on by default (Core 27.0+). */
  v2: boolean;
  /** Serves NODE_BLOOM / NODE_COMPACT_FILTERS sometimes (Core options, off by default). */
  core: boolean;
}

const core = (v: string, v2: boolean): Client => ({ userAgent: `/Satoshi:${v}/`, protocolVersion: 70016, v2, core: true });

/** Weighted client mix (percent). Core 0.21+ speaks 70016 (wtxidrelay, BIP339); 0.20 and bcoin 70015. */
const CLIENTS: readonly (readonly [number, Client])[] = [
  [18, core('28.1.0', true)],
  [14, core('28.0.0', true)],
  [9, core('27.2.0', true)],
  [7, core('27.1.0', true)],
  [9, core('27.0.0', true)],
  [6, core('26.2.0', false)],
  [5, core('26.0.0', false)],
  [7, core('25.0.0', false)],
  [4, core('25.1.0', false)],
  [4, core('24.0.1', false)],
  [3, core('23.0.0', false)],
  [2, core('22.0.0', false)],
  [1, core('0.21.1', false)],
  [1, { userAgent: '/Satoshi:0.20.1/', protocolVersion: 70015, v2: false, core: true }],
  [6, { userAgent: '/Satoshi:27.1.0/Knots:20240801/', protocolVersion: 70016, v2: true, core: true }],
  [2, { userAgent: '/btcd:0.24.2/', protocolVersion: 70016, v2: false, core: false }],
  [1, { userAgent: '/bcoin:2.2.0/', protocolVersion: 70015, v2: false, core: false }],
  [1, { userAgent: '/Satoshi:29.0.0/', protocolVersion: 70016, v2: true, core: true }],
];

/** IPv4 dotted quad to a uint32. Throws a clear error on anything else. */
export function parseIPv4(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) throw new RangeError(`addressBase ${JSON.stringify(s)} is not an IPv4 address`);
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) throw new RangeError(`addressBase ${JSON.stringify(s)} has an octet above 255`);
    v = v * 256 + o;
  }
  return v;
}

export function formatIPv4(v: number): string {
  return `${Math.floor(v / 16777216) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/**
 * Loopback addresses for `n` nodes counting up from `base`, skipping every address whose last
 * octet is 0 or 255 (valid on loopback, but they read as network and broadcast addresses and some
 * tools refuse them): from 127.1.0.0, node 0 is 127.1.0.1 and node 254 is 127.1.1.1. All must
 * stay inside 127.0.0.0/8 (the only addresses the machines here reach).
 */
export function nodeAddresses(base: string, n: number): string[] {
  let v = parseIPv4(base);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    while ((v & 255) === 0 || (v & 255) === 255) v++;
    if (Math.floor(v / 16777216) !== 127) {
      throw new RangeError(`addressBase ${base} with ${n} nodes leaves 127.0.0.0/8 (node ${i} would be ${formatIPv4(v)})`);
    }
    out.push(formatIPv4(v));
    v++;
  }
  return out;
}

function services(c: Client, rng: Rng): bigint {
  if (!c.core) return NODE_NETWORK | NODE_WITNESS; // btcd, bcoin: full nodes, no limited bit
  // About one reachable Core node in ten is pruned (NETWORK_LIMITED without NETWORK).
  let s = rng.chance(0.1) ? NODE_WITNESS | NODE_NETWORK_LIMITED : NODE_NETWORK | NODE_WITNESS | NODE_NETWORK_LIMITED;
  if (c.v2) s |= NODE_P2P_V2;
  if (rng.chance(0.05)) s |= NODE_BLOOM; // -peerbloomfilters
  if (rng.chance(0.08)) s |= NODE_COMPACT_FILTERS; // -blockfilterindex -peerblockfilters
  return s;
}

/** Start height: most nodes at the tip, some a block or two behind, a few still syncing. */
function startHeight(rng: Rng): number {
  const x = rng.float();
  if (x < 0.85) return BASE_HEIGHT;
  if (x < 0.98) return BASE_HEIGHT - 1 - rng.int(3);
  return BASE_HEIGHT - 100 - rng.int(50_000);
}

/**
 * The identities of `n` nodes. `misbehaving` (0..1) of them, chosen by a seeded shuffle, carry a
 * misbehaviour label: round(n * misbehaving) nodes, `modes` (default MISBEHAVIOURS) assigned
 * round-robin so each mode is present once there are at least as many such nodes as modes.
 * NODE_P2P_V2 (the node speaks BIP324 v2 as responder) follows the client mix (Core 27+), or,
 * with `v2Fraction`, a seeded draw per node; misbehaving nodes never have it (their faults are v1
 * framing faults).
 */
export function makeIdentities(
  n: number,
  base: string,
  port: number,
  misbehaving: number,
  rng: Rng,
  v2Fraction?: number,
  modes: readonly Misbehaviour[] = MISBEHAVIOURS,
): SimNodeInfo[] {
  const hosts = nodeAddresses(base, n);
  const out: SimNodeInfo[] = [];
  for (let i = 0; i < n; i++) {
    const c = rng.weighted(CLIENTS);
    out.push({
      index: i,
      host: hosts[i]!,
      port,
      userAgent: c.userAgent,
      services: services(c, rng),
      startHeight: startHeight(rng),
      protocolVersion: c.protocolVersion,
      misbehaviour: null,
    });
  }
  const k = Math.round(n * misbehaving);
  if (k > 0 && modes.length > 0) {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    rng.shuffle(order);
    for (let j = 0; j < k; j++) out[order[j]!]!.misbehaviour = modes[j % modes.length] as Misbehaviour;
  }
  // Drawn after everything else, so the other fields of a seed's nodes do not depend on it.
  for (const node of out) {
    const v2 = v2Fraction === undefined ? (node.services & NODE_P2P_V2) !== 0n : rng.chance(v2Fraction);
    node.services = v2 && node.misbehaviour === null ? node.services | NODE_P2P_V2 : node.services & ~NODE_P2P_V2;
  }
  return out;
}
