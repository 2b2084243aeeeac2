/**
 * The coordinator's options: every field with its `@default` (js-libp2p style), the defaults
 * written once in POOL_DEFAULTS (peer ones in src/peer PEER_DEFAULTS, flood budgets in
 * shard/guard.ts GUARD), and `resolveOptions`, the one place that turns CoordinatorOptions into
 * what the coordinator, a shard and a peer need. Main thread, cold (once per Coordinator).
 */
import { availableParallelism } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { NETWORKS, type NetworkName, type NetworkParams } from '../../protocol/constants.js';
import { PEER_DEFAULTS, peerTunables, type VersionOptions } from '../../peer/peer.js';
import { GUARD } from '../shard/guard.js';
import type { ShardOptions } from '../messages.js';
import { PROXIED_NETWORKS, type AddressBookOptions } from './addressbook.js';
import { isHostPort, parseHostPort, type HostPort } from './hostport.js';
import { PoolError, PoolErrorCode } from './errors.js';
import type { SeedResolver } from './sources.js';

/** Defaults of the pool's own options (peer ones: PEER_DEFAULTS; flood budgets: GUARD). */
export const POOL_DEFAULTS = {
  network: 'mainnet',
  peers: 8,
  /** 2^16 records of 64 bytes: 4 MiB per shard. */
  ringCapacity: 1 << 16,
  drainIntervalMs: 20,
  drainOnPublish: true,
  drainMinIntervalMs: 1,
  maxPendingConnects: 500,
  reconnect: true,
  maxQueuedObservations: 1 << 20,
  /** bench/README.md "Pool": V8's default lets new space grow to 32 MB per thread. */
  shardResourceLimits: { maxYoungGenerationSizeMb: 12 } as ResourceLimits,
  backoffBaseMs: 1_000,
  /** 10 min. */
  backoffMaxMs: 600_000,
  retryAfterDropMs: 1_000,
  maintainIntervalMs: 250,
  /** 30 min: a days-long run keeps finding the nodes the seeds list as the network turns over. */
  reseedIntervalMs: 1_800_000,
  crawl: false,
  maxLearnedAddresses: 100_000,
  /** Bitcoin Core's 125 connection slots minus its 8 outbound ones. */
  maxInbound: 117,
  statsIntervalMs: 5_000,
  stopTimeoutMs: 10_000,
  transport: 'auto',
} as const;

export interface CoordinatorOptions {
  /** @default 'mainnet' */
  network?: NetworkName | NetworkParams;
  /** Target number of connected outbound peers. @default 8 */
  peers?: number;
  /** Worker threads, one shard each. @default os.availableParallelism() */
  shards?: number;
  /** host:port strings to connect to. @default [] */
  addresses?: string[];
  /** Records per shard ring (power of two). @default 65_536 (4 MiB per shard) */
  ringCapacity?: number;
  /**
   * The longest a ring waits to be drained. A ring is drained as soon as its shard publishes (the
   * writer wakes the coordinator through Atomics.waitAsync); this bounds the wait when it does not.
   * @default 20
   */
  drainIntervalMs?: number;
  /**
   * Drain a ring as soon as its shard publishes (true), or only every drainIntervalMs (false: the
   * plain timer; fewer, larger drains, more latency). @default true
   */
  drainOnPublish?: boolean;
  /**
   * With drainOnPublish, the least time between two drains of a ring: publishes that come sooner
   * are gathered into the next drain, which bounds the main thread's wakeups (at 10,000 peers a
   * shard publishes tens of thousands of times a second). 0: wake at every publish. @default 1
   */
  drainMinIntervalMs?: number;
  /** Connects in flight at once, over all shards. @default 500 */
  maxPendingConnects?: number;
  /** Replace dropped peers (and reconnect a dead shard's). @default true */
  reconnect?: boolean;
  /** Observations buffered for a slow `observations()` (or `records()`) consumer; beyond, counted as consumerDrops. @default 1_048_576 */
  maxQueuedObservations?: number;
  /**
   * V8 limits of each shard thread. The young generation is capped: a shard's garbage is small
   * (no Buffer per read, nothing per ring record), and V8's default lets new space grow to 32 MB
   * per thread, 3 KiB per peer at 10,000 peers (bench/README.md "Pool").
   * @default { maxYoungGenerationSizeMb: 12 }
   */
  shardResourceLimits?: ResourceLimits;
  /** First retry delay after a failure; doubles per consecutive failure. @default 1_000 */
  backoffBaseMs?: number;
  /** Cap of the retry delay. @default 600_000 */
  backoffMaxMs?: number;
  /** Delay before redialling an address whose handshaken peer went away. @default 1_000 */
  retryAfterDropMs?: number;
  /** How often the target is checked (besides on every event). @default 250 */
  maintainIntervalMs?: number;
  /** Connect to addresses learned from addr/addrv2 too (implied by `crawl`). @default the value of `crawl` */
  connectLearned?: boolean;
  /**
   * Resolve DNS seeds into the book (source 'dns', the network's default port): true for the
   * network's seeds, or a list of names. @default true when no `addresses` are given, else false
   */
  dnsSeeds?: boolean | readonly string[];
  /**
   * With DNS seeds, resolve them again this often (new answers enter the book; known addresses
   * are not added twice; a lookup still in flight is not started again). 0: only at start.
   * @default 1_800_000 (30 min)
   */
  reseedIntervalMs?: number;
  /** The resolver for DNS seeds (tests inject a fake one). @default node:dns promises */
  resolver?: SeedResolver;
  /** Ask every peer that completes its handshake once for addresses (getaddr) and dial what it learns. @default false */
  crawl?: boolean;
  /** Learned (addr/addrv2) addresses kept at most; beyond, refused and counted. @default 100_000 */
  maxLearnedAddresses?: number;
  /** SOCKS5 proxy 'host:port' through which torv3, i2p and cjdns addresses are dialled (never without one). @default none */
  proxy?: string;
  /** Accept inbound peers on 'host:port' in shard 0, the listening shard (port 0: any; see listenAddress). @default none */
  listen?: string;
  /** Inbound peers at most (separate from the outbound target `peers`). @default 117 (Core's 125 minus 8 outbound) */
  maxInbound?: number;
  /** Our version message (src/peer VersionOptions). @default src/peer's measurement-mode version */
  version?: VersionOptions;
  /** How peers announce blocks (src/peer PeerOptions.blockAnnounce). @default 'inv' */
  blockAnnounce?: 'inv' | 'headers' | 'cmpct';
  /** TCP connect timeout. @default 5_000 (Bitcoin Core DEFAULT_CONNECT_TIMEOUT) */
  connectTimeoutMs?: number;
  /** The version must arrive within this. @default 60_000 (Bitcoin Core DEFAULT_PEER_CONNECT_TIMEOUT) */
  handshakeTimeoutMs?: number;
  /** @default 120_000 (Bitcoin Core PING_INTERVAL) */
  pingIntervalMs?: number;
  /** How often each shard posts its counters. @default 5_000 */
  statsIntervalMs?: number;
  /** Per peer: send buffer bound (bytes). @default 5_000_000 (Core -maxsendbuffer) */
  maxSendBuffer?: number;
  /** Per peer: how long the send buffer may stay over its bound before the peer is closed send-stalled. @default 60_000 */
  sendStallMs?: number;
  /** Per peer: ring records at once; beyond, closed as inv-flood (shard/guard.ts). @default 10_000 */
  invBurst?: number;
  /** Per peer: ring records refilled per second. @default 5_000 */
  invPerSecond?: number;
  /** How long stop() waits for each shard to close its peers. @default 10_000 */
  stopTimeoutMs?: number;
  /** @default the compiled workers/shard.js next to this package's dist */
  workerFilename?: string | URL;
  /**
   * A handler module every shard imports (a URL, or a file path resolved against the working
   * directory): its `setup(ctx)` registers per-command handlers that run where the bytes are
   * (src/pool/shard/handlers.ts, README.md here). A module that fails to load or set up makes start() reject.
   * @default none
   */
  handlers?: string | URL;
  /** Structured-clone data handed to the handler module's setup as ctx.options. @default undefined */
  handlerOptions?: unknown;
  /**
   * Outbound transport: 'v1', 'v2' (BIP324 only), or 'auto': v2 to addresses known to advertise
   * NODE_P2P_V2 (service bit 11, from addr/addrv2 or an earlier version), v1 otherwise, and a v2
   * attempt dropped before any byte came back is retried at once with v1 (Bitcoin Core).
   * Inbound peers (listen) are served in v2 or v1, whichever they speak, unless 'v1'. @default 'auto'
   */
  transport?: 'v1' | 'v2' | 'auto';
}

/** What the coordinator itself keeps of its options, every one resolved. */
export interface PoolSettings {
  peers: number;
  shards: number;
  ringCapacity: number;
  drainIntervalMs: number;
  drainOnPublish: boolean;
  drainMinIntervalMs: number;
  maxPendingConnects: number;
  reconnect: boolean;
  maxQueuedObservations: number;
  maintainIntervalMs: number;
  /** 0 (or anything not a positive finite number): the seeds are resolved at start only. */
  reseedIntervalMs: number;
  connectLearned: boolean;
  crawl: boolean;
  maxInbound: number;
  stopTimeoutMs: number;
  transport: 'v1' | 'v2' | 'auto';
  shardResourceLimits: ResourceLimits;
  workerFilename: string;
  /** Where shard 0 listens (port 0: any), or null. */
  listen: { host: string; port: number } | null;
  /** DNS seed names to resolve at start (none when seeding is off). */
  seedNames: readonly string[];
}

/** CoordinatorOptions, resolved: what the coordinator, its address book and every shard get. */
export interface ResolvedOptions {
  network: NetworkParams;
  pool: PoolSettings;
  /** The task options of every shard (the listening shard adds `listen`). */
  shard: ShardOptions;
  book: AddressBookOptions;
  resolver: SeedResolver | undefined;
}

const DEFAULT_WORKER = new URL('../../../workers/shard.js', import.meta.url);

/** A handler module option as the URL href the shards import. */
function moduleHref(m: string | URL): string {
  if (m instanceof URL) return m.href;
  if (/^(file|data):/.test(m)) return m;
  return pathToFileURL(resolvePath(m)).href;
}

/** A host:port option (port 0 allowed where noted); a PoolError naming what is wrong otherwise. */
function hostPortOption(name: string, s: string, allowPortZero: boolean): HostPort {
  const hp = parseHostPort(s, undefined, { allowPortZero });
  if (!isHostPort(hp)) throw new PoolError(PoolErrorCode.ADDRESS, `Coordinator: ${name} must be host:port: ${hp.error}`);
  return hp;
}

function networkOption(net: NetworkName | NetworkParams): NetworkParams {
  const p = typeof net === 'string' ? NETWORKS[net] : net;
  if (!p) throw new PoolError(PoolErrorCode.NETWORK, `Coordinator: unknown network ${String(net)}`);
  return p;
}

/** The one function that resolves CoordinatorOptions against the defaults. Throws PoolError on a bad value. */
export function resolveOptions(options: CoordinatorOptions): ResolvedOptions {
  const D = POOL_DEFAULTS;
  const network = networkOption(options.network ?? D.network);
  const proxy = options.proxy !== undefined ? hostPortOption('proxy', options.proxy, false) : undefined;
  const listen = options.listen !== undefined ? hostPortOption('listen', options.listen, true) : null;
  const seeds = options.dnsSeeds ?? (options.addresses === undefined || options.addresses.length === 0);
  const wf = options.workerFilename ?? DEFAULT_WORKER;
  const transport = options.transport ?? D.transport;
  const crawl = options.crawl ?? D.crawl;
  const maxInbound = options.maxInbound ?? D.maxInbound;
  const pool: PoolSettings = {
    peers: options.peers ?? D.peers,
    shards: Math.max(1, options.shards ?? availableParallelism()),
    ringCapacity: options.ringCapacity ?? D.ringCapacity,
    drainIntervalMs: options.drainIntervalMs ?? D.drainIntervalMs,
    drainOnPublish: options.drainOnPublish ?? D.drainOnPublish,
    drainMinIntervalMs: options.drainMinIntervalMs ?? D.drainMinIntervalMs,
    maxPendingConnects: options.maxPendingConnects ?? D.maxPendingConnects,
    reconnect: options.reconnect ?? D.reconnect,
    maxQueuedObservations: options.maxQueuedObservations ?? D.maxQueuedObservations,
    maintainIntervalMs: options.maintainIntervalMs ?? D.maintainIntervalMs,
    reseedIntervalMs: options.reseedIntervalMs ?? D.reseedIntervalMs,
    connectLearned: options.connectLearned ?? crawl,
    crawl,
    maxInbound,
    stopTimeoutMs: options.stopTimeoutMs ?? D.stopTimeoutMs,
    transport,
    shardResourceLimits: options.shardResourceLimits ?? D.shardResourceLimits,
    workerFilename: typeof wf === 'string' ? wf : wf.href,
    listen,
    seedNames: seeds === true ? network.dnsSeeds : seeds === false ? [] : [...seeds],
  };
  const shard: ShardOptions = {
    network: { ...network, dnsSeeds: [...network.dnsSeeds] },
    peer: {
      ...(options.version ? { version: options.version } : {}),
      ...peerTunables({
        blockAnnounce: options.blockAnnounce,
        handshakeTimeoutMs: options.handshakeTimeoutMs,
        pingIntervalMs: options.pingIntervalMs,
        maxSendBuffer: options.maxSendBuffer,
        sendStallMs: options.sendStallMs,
      }),
    },
    connectTimeoutMs: options.connectTimeoutMs ?? PEER_DEFAULTS.connectTimeoutMs,
    statsIntervalMs: options.statsIntervalMs ?? D.statsIntervalMs,
    forward: [],
    maxInbound,
    transport,
    invBurst: options.invBurst ?? GUARD.INV_BURST,
    invPerSecond: options.invPerSecond ?? GUARD.INV_PER_SECOND,
    ...(proxy ? { proxy } : {}),
    ...(options.handlers !== undefined ? { handlers: moduleHref(options.handlers) } : {}),
    ...(options.handlerOptions !== undefined ? { handlerOptions: options.handlerOptions } : {}),
  };
  const book: AddressBookOptions = {
    backoffBaseMs: options.backoffBaseMs ?? D.backoffBaseMs,
    backoffMaxMs: options.backoffMaxMs ?? D.backoffMaxMs,
    retryAfterDropMs: options.retryAfterDropMs ?? D.retryAfterDropMs,
    maxLearned: options.maxLearnedAddresses ?? D.maxLearnedAddresses,
    // Tor, I2P and CJDNS stay in the book either way; they are dialled only through the proxy.
    reachable: proxy ? ['ipv4', 'ipv6', 'name', ...PROXIED_NETWORKS] : ['ipv4', 'ipv6', 'name'],
  };
  return { network, pool, shard, book, resolver: options.resolver };
}
