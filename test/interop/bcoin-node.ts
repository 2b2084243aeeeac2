/**
 * Interop harness: a bcoin (npm bcoin@1.0.2) regtest full node run in-process, listening on
 * 127.0.0.1 only, with every way it could reach another address switched off or fenced.
 *
 * bcoin's stock launcher (bin/node) is not used: it would parse argv/env/config files, and its
 * pool looks up the machine's external address on connect. Here a `FullNode` is built from an
 * explicit options object (no argv, no env, no config file: bcfg reads those only when asked)
 * and then fenced:
 *
 * - `seeds: []` and `nodes: []`: the host list starts empty (bcoin's regtest "DNS seed" is
 *   127.0.0.1 and its hard-coded seed list for regtest is empty; both checked after start).
 * - `upnp: false`, and `pool.discoverGateway` / `discoverExternal` / `discoverSeeds` / `discover`
 *   replaced by no-ops: `discoverExternal` would otherwise ask the OpenDNS resolvers
 *   (208.67.222.222 ...) for myip.opendns.com, because 127.0.0.1 is not routable and so the
 *   node has no "local" address. Calls are recorded in `guard.discovery`.
 * - the host list's name resolver throws (recorded in `guard.lookups`), and the pool's
 *   `createSocket` refuses any host outside 127.0.0.0/8 and ::1 (recorded in `guard.outbound`):
 *   an `addr` from a peer could otherwise make bcoin dial out.
 * - the HTTP/RPC server is not opened (its open/close are no-ops): no second port.
 * - `workers: false` (no child processes), `memory: true` (no files), log level from
 *   BCOIN_LOG_LEVEL or 'none'.
 *
 * The P2P port: bcoin's host list rejects port 0, so a free port is found by binding a probe
 * socket to 127.0.0.1:0, closing it and handing its number to bcoin; on EADDRINUSE (another
 * process took it in between) the node is closed and started again on a new port.
 */
import { createRequire } from 'node:module';
import { connect as netConnect, createServer, isIPv4, isIPv6, Socket } from 'node:net';

const require = createRequire(import.meta.url);
// bcoin ships no types; the harness exposes it as `any` (see startBcoinNode's `node`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const bcoin: any = require('bcoin');

export const BCOIN_HOST = '127.0.0.1';

/** What the fences caught: anything here means bcoin tried to leave loopback (or to discover). */
export interface BcoinGuard {
  /** Outbound connections to non-loopback hosts that were refused ("host:port"). */
  outbound: string[];
  /** Outbound connections to loopback hosts that were allowed ("host:port"). */
  loopbackOutbound: string[];
  /** Name lookups that were refused. */
  lookups: string[];
  /** Discovery methods bcoin called (and that did nothing): discoverGateway, discoverExternal ... */
  discovery: string[];
}

export interface BcoinNode {
  port: number;
  host: string;
  /** Mines `n` blocks on the tip; resolves with their hashes in display order, oldest first. */
  mine(n: number): Promise<string[]>;
  /** The tip's hash in display order. */
  tipHash(): string;
  /** The tip's height. */
  height(): number;
  /** Display-order hash of the block at `height` on the main chain. */
  hashAt(height: number): Promise<string>;
  /** Disconnects every peer, stops listening and closes the node; idempotent. */
  stop(): Promise<void>;
  guard: BcoinGuard;
  /** bcoin's version string as it puts it in its user agent ('v1.0.2'). */
  version: string;
  /** The bcoin FullNode. */
  node: any;
  /** The bcoin module (for its constants, e.g. lib.packets.types). */
  lib: any;
}

export interface StartOptions {
  /** Attempts at finding a free port. @default 5 */
  attempts?: number;
  /** bcoin's log level ('none', 'error', 'warning', 'info', 'debug', 'spam'). @default env BCOIN_LOG_LEVEL or 'none' */
  logLevel?: string;
  /** Inbound peers bcoin accepts. @default 8 */
  maxInbound?: number;
}

function isLoopback(host: string): boolean {
  if (isIPv4(host)) return host.startsWith('127.');
  if (isIPv6(host)) return host === '::1' || host === '0:0:0:0:0:0:0:1' || /^::ffff:127\./i.test(host);
  return false;
}

/** A free TCP port on 127.0.0.1 (bound and released; the caller retries if it is taken meanwhile). */
function probePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, BCOIN_HOST, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => (port > 0 ? resolve(port) : reject(new Error('probe port: no port'))));
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bcoin harness: ${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function createFencedNode(port: number, guard: BcoinGuard, options: StartOptions): any {
  const node = new bcoin.FullNode({
    network: 'regtest',
    memory: true,
    workers: false,
    listen: true,
    host: BCOIN_HOST,
    publicHost: BCOIN_HOST,
    port,
    seeds: [],
    nodes: [],
    only: [],
    upnp: false,
    maxOutbound: 1,
    maxInbound: options.maxInbound ?? 8,
    logLevel: options.logLevel ?? process.env.BCOIN_LOG_LEVEL ?? 'none',
    logConsole: true,
    createSocket: (p: number, h: string): Socket => {
      if (isLoopback(h)) {
        guard.loopbackOutbound.push(`${h}:${p}`);
        return netConnect({ port: p, host: h });
      }
      guard.outbound.push(`${h}:${p}`);
      // A socket that never connects: bcoin sees an error and drops the peer.
      const s = new Socket();
      process.nextTick(() => s.destroy(Object.assign(new Error(`bcoin harness: refused outbound ${h}:${p}`), { code: 'EACCES' })));
      return s;
    },
  });
  const pool = node.pool;
  for (const name of ['discoverGateway', 'discoverExternal', 'discoverSeeds', 'discover']) {
    pool[name] = async (): Promise<void> => {
      guard.discovery.push(name);
    };
  }
  const refuse = async (name: string): Promise<never> => {
    guard.lookups.push(name);
    throw new Error(`bcoin harness: refused name lookup ${name}`);
  };
  pool.options.resolve = refuse;
  pool.hosts.resolve = refuse;
  node.http.open = async (): Promise<void> => {};
  node.http.close = async (): Promise<void> => {};

  // Preconditions of "nothing leaves loopback": checked, not assumed.
  const problems: string[] = [];
  if (node.network.type !== 'regtest') problems.push(`network ${node.network.type}`);
  if (pool.hosts.network.type !== 'regtest') problems.push(`host list network ${pool.hosts.network.type}`);
  if (pool.hosts.dnsSeeds.length !== 0) problems.push(`${pool.hosts.dnsSeeds.length} DNS seeds`);
  if (pool.hosts.nodes.length !== 0) problems.push(`${pool.hosts.nodes.length} fixed nodes`);
  if (pool.options.upnp !== false) problems.push('upnp on');
  if (pool.options.host !== BCOIN_HOST) problems.push(`listen host ${pool.options.host}`);
  if (pool.options.proxy) problems.push('proxy set');
  if (node.workers.enabled) problems.push('worker processes on');
  if (problems.length) throw new Error(`bcoin harness: unsafe configuration: ${problems.join(', ')}`);
  return node;
}

async function closeQuietly(node: any): Promise<void> {
  try {
    if (node.pool.connected) await node.disconnect();
  } catch {
    /* closing anyway */
  }
  try {
    if (node.opened) await node.close();
  } catch {
    /* nothing more to release */
  }
}

/** Starts a fenced bcoin regtest node on 127.0.0.1 and a free port. */
export async function startBcoinNode(options: StartOptions = {}): Promise<BcoinNode> {
  const attempts = options.attempts ?? 5;
  const guard: BcoinGuard = { outbound: [], loopbackOutbound: [], lookups: [], discovery: [] };
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = await probePort();
    const node = createFencedNode(port, guard, options);
    try {
      await withTimeout(node.open(), 10_000, 'node.open');
      await withTimeout(node.connect(), 10_000, 'node.connect');
    } catch (e) {
      lastError = e;
      await closeQuietly(node);
      if ((e as NodeJS.ErrnoException)?.code === 'EADDRINUSE') continue;
      throw e;
    }
    const hostCount = node.pool.hosts.size();
    if (hostCount !== 0) {
      await closeQuietly(node);
      throw new Error(`bcoin harness: host list not empty after start (${hostCount} hosts)`);
    }
    return wrap(node, port, guard);
  }
  throw new Error(`bcoin harness: no free port after ${attempts} attempts: ${(lastError as Error)?.message}`);
}

function wrap(node: any, port: number, guard: BcoinGuard): BcoinNode {
  let stopping: Promise<void> | null = null;
  return {
    port,
    host: BCOIN_HOST,
    node,
    guard,
    version: bcoin.pkg.version as string,
    lib: bcoin,
    async mine(n: number): Promise<string[]> {
      // RPC generate: miner.mineBlock + chain.add per block, under the RPC lock.
      return (await withTimeout(node.rpc.mineBlocks(n, null), 10_000 + 1_000 * n, `mining ${n} blocks`)) as string[];
    },
    tipHash(): string {
      return node.chain.tip.rhash() as string;
    },
    height(): number {
      return node.chain.height as number;
    },
    async hashAt(height: number): Promise<string> {
      const entry = await node.chain.getEntryByHeight(height);
      if (!entry) throw new Error(`bcoin harness: no block at height ${height}`);
      return entry.rhash() as string;
    },
    stop(): Promise<void> {
      stopping ??= withTimeout(closeQuietly(node), 10_000, 'stop');
      return stopping;
    },
  };
}
