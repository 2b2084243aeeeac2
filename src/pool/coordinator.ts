/**
 * The pool's coordinator, embeddable: keeps a target number of outbound peers across shard workers
 * (piscina, one long-lived task per shard), drains each shard's observation ring on a short timer
 * into a bounded queue read by `observations()`, and replaces dead shards and dropped peers.
 * Main thread; the drain is warm (one pass per drainIntervalMs), the rest is cold.
 * Must not import the shard or peer socket code: the shards own the sockets (README.md here).
 */
import { EventEmitter } from 'node:events';
import { promises as dnsPromises } from 'node:dns';
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { NETWORKS, Services, type CommandName, type NetworkName, type NetworkParams } from '../protocol/constants.js';
import type { MessageMap } from '../protocol/registry.js';
import { createRing, RingReader, RECORD_SIZE, R_PEER } from '../observe/ring.js';
import { RecordBatch } from '../observe/batch.js';
import { ObservationQueue, type Observation, type ObservationKind } from './queue.js';
import type { VersionOptions } from '../peer/peer.js';
import { AddressBook, PROXIED_NETWORKS, type AddressRecord } from './addressbook.js';
import { parseHostPort, isHostPort } from './hostport.js';
import { PoolError } from './errors.js';
import { CONNECT_FAILED, INBOUND_PEER_BASE, SHARD_DIED, type FromShard, type LearnedAddress, type RemoteVersion, type ShardCounters, type ShardOptions, type ToShard } from './messages.js';

/** BIP324 v2 transport service bit (11). */
const NODE_P2P_V2 = Services.NODE_P2P_V2;

export interface CoordinatorOptions {
  /** @default 'mainnet' */
  network?: NetworkName | NetworkParams;
  /** Target number of connected peers. @default 8 */
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
  shardResourceLimits?: import('node:worker_threads').ResourceLimits;
  /** Address book backoff. @default 1_000 / 600_000 / 1_000 */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  retryAfterDropMs?: number;
  /** How often the target is checked (besides on every event). @default 250 */
  maintainIntervalMs?: number;
  /** Connect to addresses learned from addr/addrv2 too (implied by `crawl`). @default false */
  connectLearned?: boolean;
  /**
   * Resolve DNS seeds into the book (source 'dns', the network's default port): true for the
   * network's seeds, or a list of names. @default true when no `addresses` are given, else false
   */
  dnsSeeds?: boolean | readonly string[];
  /** The resolver for DNS seeds (tests inject a fake one). @default node:dns promises */
  resolver?: SeedResolver;
  /** Ask every peer that completes its handshake once for addresses (getaddr) and dial what it learns. @default false */
  crawl?: boolean;
  /** Learned (addr/addrv2) addresses kept at most; beyond, refused and counted. @default 100_000 */
  maxLearnedAddresses?: number;
  /** SOCKS5 proxy 'host:port' through which torv3, i2p and cjdns addresses are dialled (never without one). */
  proxy?: string;
  /** Accept inbound peers on 'host:port' in shard 0, the listening shard (port 0: any; see listenAddress). */
  listen?: string;
  /** Inbound peers at most (separate from the outbound target `peers`). @default 117 (Core's 125 minus 8 outbound) */
  maxInbound?: number;
  /** Per-shard settings passed to every shard. */
  version?: VersionOptions;
  blockAnnounce?: 'inv' | 'headers' | 'cmpct';
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  pingIntervalMs?: number;
  statsIntervalMs?: number;
  /** Per peer: send buffer bound (bytes) and how long it may stay over it before the peer is closed send-stalled. @default 5_000_000 / 60_000 */
  maxSendBuffer?: number;
  sendStallMs?: number;
  /** Per peer: ring records at once / refilled per second; beyond, closed as inv-flood (src/pool/guard.ts). @default 10_000 / 5_000 */
  invBurst?: number;
  invPerSecond?: number;
  /** How long stop() waits for each shard to close its peers. @default 10_000 */
  stopTimeoutMs?: number;
  /** @default the compiled workers/shard.js next to this package's dist */
  workerFilename?: string | URL;
  /**
   * A handler module every shard imports (a URL, or a file path resolved against the working
   * directory): its `setup(ctx)` registers per-command handlers that run where the bytes are
   * (src/pool/handlers.ts, README.md here). A module that fails to load or set up makes start() reject.
   */
  handlers?: string | URL;
  /** Structured-clone data handed to the handler module's setup as ctx.options. */
  handlerOptions?: unknown;
  /**
   * Outbound transport: 'v1', 'v2' (BIP324 only), or 'auto': v2 to addresses known to advertise
   * NODE_P2P_V2 (service bit 11, from addr/addrv2 or an earlier version), v1 otherwise, and a v2
   * attempt dropped before any byte came back is retried at once with v1 (Bitcoin Core).
   * Inbound peers (listen) are served in v2 or v1, whichever they speak, unless 'v1'. @default 'auto'
   */
  transport?: 'v1' | 'v2' | 'auto';
}

/** A handler module's post, as the coordinator emits it ('handler' event). */
export interface HandlerEvent {
  shard: number;
  value: unknown;
}

/** A user handler threw ('handlerError' event; the first few per shard, all counted in stats). */
export interface HandlerErrorEvent {
  shard: number;
  /** The peer the handler was called for, -1 for post/stop. */
  peer: number;
  /** The command, event ('ready', 'close', 'stop') or action ('post', 'send inv') that failed. */
  command: string;
  message: string;
  /** Errors in this shard's task so far. */
  errors: number;
}

/** What DNS seeding needs of node:dns (its `promises` object fits). */
export interface SeedResolver {
  resolve4(hostname: string): Promise<string[]>;
  resolve6(hostname: string): Promise<string[]>;
}

/** A seed lookup's result: one per seed and family, also emitted as a 'seed' event. */
export interface SeedResult {
  seed: string;
  family: 4 | 6;
  /** Addresses the lookup returned (0 on failure). */
  addresses: number;
  /** Of those, new to the book. */
  added: number;
  /** The resolver's error code (ENOTFOUND, ETIMEOUT, ENODATA...) when it failed. */
  error?: string;
}

/** One book entry as pool.addresses() returns it (a copy). */
export interface AddressInfo {
  address: string;
  network: string;
  source: string;
  services?: string;
  state: 'idle' | 'pending' | 'connected';
  attempts: number;
  failures: number;
  lastOutcome: string | null;
  lastOutcomeAt: number;
  nextAttemptAt: number;
}

export type { Observation, ObservationKind };
export { RecordBatch };

export type PeerEvent =
  | { type: 'connected'; peer: number; address: string; shard: number; inbound?: boolean }
  /** `transport`: always set by the coordinator (optional in the type for events built elsewhere). */
  | { type: 'ready'; peer: number; address: string; shard: number; remote: RemoteVersion; transport?: 'v1' | 'v2' }
  /** `transport`: what the connection used (absent for a connect that failed or a dead shard's peer). */
  | { type: 'gone'; peer: number; address: string; shard: number; reason: string; detail: string; wasReady: boolean; stats?: Record<string, unknown>; transport?: 'v1' | 'v2' };

export interface PoolStats {
  /** connected and ready count outbound and inbound; `inbound` is the inbound part of connected. */
  peers: { pending: number; connected: number; ready: number; target: number; inbound: number; maxInbound: number };
  observations: number;
  consumerDrops: number;
  queued: number;
  shards: {
    shard: number;
    alive: boolean;
    restarts: number;
    peers: number;
    drained: number;
    drops: number;
    ringAvailable: number;
    last: ShardCounters | null;
    /** Errors thrown by user handler code in this shard (over its restarts). */
    handlerErrors: number;
  }[];
  disconnectReasons: Record<string, number>;
  connectFailures: Record<string, number>;
  addresses: { known: number; learned: number; learnedDropped: number; byNetwork: Record<string, number>; bySource: Record<string, number> };
  seeds: { lookups: number; failed: number; addresses: number; errors: Record<string, number> };
  crawl: { getaddrSent: number; addrMessages: number; addressesReceived: number };
  /** The listening shard's bound address (null when not listening, or if the listen failed: see listenError). */
  listening: string | null;
  listenError: string | null;
  /** Handshakes completed per transport, and v2 attempts retried with v1. */
  transports: { v1: number; v2: number; v1Retries: number };
}

interface PeerSlot {
  index: number;
  /** The book's record; null for an inbound peer (its ephemeral port is not an address to dial). */
  rec: AddressRecord | null;
  address: string;
  inbound: boolean;
  shard: number;
  state: 'pending' | 'connected' | 'ready';
  /** The transport asked for (outbound) or found (inbound, once ready). */
  transport: 'v1' | 'v2';
}

interface ShardState {
  index: number;
  ring: SharedArrayBuffer;
  reader: RingReader;
  port: MessagePort | null;
  task: Promise<unknown> | null;
  alive: boolean;
  restarts: number;
  /** peers (slots) assigned to this shard */
  peers: Set<number>;
  last: ShardCounters | null;
  onStopped: (() => void) | null;
  /** The drain loop's continuations for this ring (bound once), and its pending timer. */
  loop: () => void;
  sleep: () => void;
  timer?: ReturnType<typeof setTimeout>;
  /** handlerErrors of the shard's earlier (dead) tasks, and of the current one as last heard. */
  handlerErrorsBefore: number;
  handlerErrors: number;
}

/** A handler module option as the URL href the shards import. */
function moduleHref(m: string | URL): string {
  if (m instanceof URL) return m.href;
  if (/^(file|data):/.test(m)) return m;
  return pathToFileURL(resolvePath(m)).href;
}

/**
 * Close reasons (src/peer CloseReason, src/pool/guard.ts) that mean the peer misbehaved after its
 * handshake: its address backs off exponentially (AddressBook.markMisbehaved) instead of being
 * redialled after retryAfterDropMs, so a hostile node is not reconnected every second.
 */
const FAULT_CLOSES = new Set(['bad-magic', 'bad-command', 'oversize', 'inv-flood', 'handshake-out-of-order', 'malformed-handshake', 'send-stalled']);

const DEFAULT_WORKER = new URL('../../workers/shard.js', import.meta.url);

export class Coordinator extends EventEmitter {
  readonly network: NetworkParams;
  readonly book: AddressBook;
  private readonly o: Required<
    Omit<
      CoordinatorOptions,
      | 'network' | 'addresses' | 'version' | 'blockAnnounce' | 'connectTimeoutMs' | 'handshakeTimeoutMs' | 'pingIntervalMs' | 'statsIntervalMs' | 'workerFilename'
      | 'dnsSeeds' | 'resolver' | 'proxy' | 'listen' | 'maxLearnedAddresses' | 'handlers' | 'handlerOptions' | 'shardResourceLimits'
      | 'maxSendBuffer' | 'sendStallMs' | 'invBurst' | 'invPerSecond'
    >
  >;
  private readonly seedNames: readonly string[];
  private readonly resolver: SeedResolver;
  private readonly listenAt: { host: string; port: number } | null;
  private inboundCount = 0;
  private listening: string | null = null;
  private listenError: string | null = null;
  private readonly seedStats = { lookups: 0, failed: 0, addresses: 0, errors: {} as Record<string, number> };
  private readonly crawlStats = { getaddrSent: 0, addrMessages: 0, addressesReceived: 0 };
  /** The pending seed resolution started by start() (see resolveSeeds). */
  seeding: Promise<SeedResult[]> = Promise.resolve([]);
  private readonly shardOptions: ShardOptions;
  private readonly workerFilename: string;
  private pool: Piscina | null = null;
  private readonly shardStates: ShardState[] = [];
  private readonly slots = new Map<number, PeerSlot>();
  private nextPeer = 0;
  private pendingCount = 0;
  private readonly shardResourceLimits: import('node:worker_threads').ResourceLimits;
  private maintainTimer: ReturnType<typeof setInterval> | null = null;
  private running = false;
  private stopping = false;
  private stopped = false;
  private readonly taps = new Map<string, ((peer: number, msg: any) => void)[]>();
  private readonly queue: ObservationQueue;
  private observationCount = 0;
  private consumerDrops = 0;
  private readonly disconnectReasons: Record<string, number> = {};
  private readonly connectFailures: Record<string, number> = {};
  private rr = 0;
  /** The first handler module failure reported by a starting shard (start() rejects with it). */
  private handlersFailed: string | null = null;
  /** Addresses whose v2 attempt was dropped early: v1 from now on ('auto'). */
  private readonly v1Only = new WeakSet<AddressRecord>();
  /** Addresses that advertised NODE_P2P_V2 in their own version ('auto'). */
  private readonly v2Capable = new WeakSet<AddressRecord>();
  private readonly transportStats = { v1: 0, v2: 0, v1Retries: 0 };

  constructor(options: CoordinatorOptions = {}) {
    super();
    const net = options.network ?? 'mainnet';
    this.network = typeof net === 'string' ? NETWORKS[net] : net;
    if (!this.network) throw new PoolError('ERR_POOL_NETWORK', `Coordinator: unknown network ${String(net)}`);
    this.o = {
      peers: options.peers ?? 8,
      shards: Math.max(1, options.shards ?? availableParallelism()),
      ringCapacity: options.ringCapacity ?? 1 << 16,
      drainIntervalMs: options.drainIntervalMs ?? 20,
      drainOnPublish: options.drainOnPublish ?? true,
      drainMinIntervalMs: options.drainMinIntervalMs ?? 1,
      maxPendingConnects: options.maxPendingConnects ?? 500,
      reconnect: options.reconnect ?? true,
      maxQueuedObservations: options.maxQueuedObservations ?? 1 << 20,
      backoffBaseMs: options.backoffBaseMs ?? 1_000,
      backoffMaxMs: options.backoffMaxMs ?? 600_000,
      retryAfterDropMs: options.retryAfterDropMs ?? 1_000,
      maintainIntervalMs: options.maintainIntervalMs ?? 250,
      connectLearned: options.connectLearned ?? options.crawl ?? false,
      crawl: options.crawl ?? false,
      maxInbound: options.maxInbound ?? 117,
      stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
      transport: options.transport ?? 'auto',
    };
    this.shardOptions = {
      network: { ...this.network, dnsSeeds: [...this.network.dnsSeeds] },
      ...(options.version ? { version: options.version } : {}),
      ...(options.blockAnnounce ? { blockAnnounce: options.blockAnnounce } : {}),
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: options.handshakeTimeoutMs } : {}),
      ...(options.pingIntervalMs !== undefined ? { pingIntervalMs: options.pingIntervalMs } : {}),
      ...(options.statsIntervalMs !== undefined ? { statsIntervalMs: options.statsIntervalMs } : {}),
      ...(options.handlers !== undefined ? { handlers: moduleHref(options.handlers) } : {}),
      ...(options.transport !== undefined ? { transport: options.transport } : {}),
      ...(options.handlerOptions !== undefined ? { handlerOptions: options.handlerOptions } : {}),
    };
    for (const k of ['maxSendBuffer', 'sendStallMs', 'invBurst', 'invPerSecond'] as const) if (options[k] !== undefined) this.shardOptions[k] = options[k];
    let proxy: { host: string; port: number } | undefined;
    if (options.proxy !== undefined) {
      const hp = parseHostPort(options.proxy);
      if (!isHostPort(hp)) throw new PoolError('ERR_POOL_ADDRESS', `Coordinator: proxy must be host:port: ${hp.error}`);
      proxy = hp;
      this.shardOptions.proxy = hp;
    }
    this.listenAt = null;
    if (options.listen !== undefined) {
      // Port 0: any free port.
      const hp = parseHostPort(options.listen, undefined, { allowPortZero: true });
      if (!isHostPort(hp)) throw new PoolError('ERR_POOL_ADDRESS', `Coordinator: listen must be host:port: ${hp.error}`);
      this.listenAt = hp;
    }
    const seeds = options.dnsSeeds ?? (options.addresses === undefined || options.addresses.length === 0);
    this.seedNames = seeds === true ? this.network.dnsSeeds : seeds === false ? [] : [...seeds];
    this.resolver = options.resolver ?? dnsPromises;
    this.queue = new ObservationQueue(this.o.maxQueuedObservations);
    this.shardResourceLimits = options.shardResourceLimits ?? { maxYoungGenerationSizeMb: 12 };
    const wf = options.workerFilename ?? DEFAULT_WORKER;
    this.workerFilename = typeof wf === 'string' ? wf : wf.href;
    this.book = new AddressBook({
      backoffBaseMs: this.o.backoffBaseMs,
      backoffMaxMs: this.o.backoffMaxMs,
      retryAfterDropMs: this.o.retryAfterDropMs,
      maxLearned: options.maxLearnedAddresses ?? 100_000,
      // Tor, I2P and CJDNS stay in the book either way; they are dialled only through the proxy.
      reachable: proxy ? ['ipv4', 'ipv6', 'name', ...PROXIED_NETWORKS] : ['ipv4', 'ipv6', 'name'],
    });
    for (const a of options.addresses ?? []) this.book.add(a, 'list', this.network.defaultPort);
  }

  /** Adds an address to the book (host:port); returns false if unparsable. */
  addAddress(address: string, source = 'list'): boolean {
    const r = this.book.add(address, source, this.network.defaultPort) !== null;
    if (this.running) this.maintain();
    return r;
  }

  // -----------------------------------------------------------------------------------------------
  // Lifecycle

  async start(): Promise<void> {
    if (this.running || this.stopped) throw new PoolError('ERR_POOL_STATE', this.running ? 'Coordinator.start: already started' : 'Coordinator.start: stopped; a Coordinator runs once');
    this.running = true;
    const n = this.o.shards;
    this.pool = new Piscina({
      filename: this.workerFilename,
      minThreads: n,
      maxThreads: n,
      // Atomics mode parks an idle worker in Atomics.wait, which freezes its sockets.
      atomics: 'disabled',
      idleTimeout: Infinity,
      // Shards never queue behind each other: one task per thread.
      concurrentTasksPerWorker: 1,
      resourceLimits: this.shardResourceLimits,
    });
    // A worker dying with no task is reported here; with a task it rejects the task (handled there).
    this.pool.on('error', () => {});
    const started: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const ring = createRing(this.o.ringCapacity);
      const s: ShardState = { index: i, ring, reader: new RingReader(ring), port: null, task: null, alive: false, restarts: 0, peers: new Set(), last: null, onStopped: null, loop: () => this.drainLoop(s), sleep: () => this.sleepOn(s), handlerErrorsBefore: 0, handlerErrors: 0 };
      this.shardStates.push(s);
      started.push(this.runShard(s));
    }
    await Promise.all(started);
    if (this.handlersFailed !== null) {
      // A user error, before anything connects: a clear message naming the module, nothing left running.
      const why = this.handlersFailed;
      await this.stop();
      throw new PoolError('ERR_POOL_HANDLERS', `Coordinator.start: ${why}`);
    }
    for (const s of this.shardStates) this.drainLoop(s);
    this.maintainTimer = setInterval(() => this.maintain(), this.o.maintainIntervalMs);
    this.maintain();
    // Not awaited: seeds feed the book as they answer; a failing seed is counted, never fatal.
    if (this.seedNames.length > 0) this.seeding = this.resolveSeeds();
  }

  /** The listening shard's bound host:port once start() resolved (null if not listening or failed). */
  get listenAddress(): string | null {
    return this.listening;
  }

  /**
   * Resolves every seed (A and AAAA, all at once) into the book with source 'dns' and the
   * network's default port. Failures are counted in stats().seeds and emitted as 'seed' events
   * with their code; they never throw. Callable again later (e.g. when the book runs dry).
   */
  async resolveSeeds(seeds: readonly string[] = this.seedNames): Promise<SeedResult[]> {
    const lookups: Promise<SeedResult>[] = [];
    for (const seed of seeds) {
      for (const family of [4, 6] as const) {
        lookups.push(
          (family === 4 ? this.resolver.resolve4(seed) : this.resolver.resolve6(seed)).then(
            (ips) => {
              let added = 0;
              for (const ip of ips) {
                const before = this.book.size;
                this.book.add(family === 6 ? `[${ip}]:${this.network.defaultPort}` : `${ip}:${this.network.defaultPort}`, 'dns');
                if (this.book.size > before) added++;
              }
              return { seed, family, addresses: ips.length, added };
            },
            (e: unknown) => ({ seed, family, addresses: 0, added: 0, error: (e as NodeJS.ErrnoException)?.code ?? String((e as Error)?.message ?? e) }),
          ),
        );
      }
    }
    const results = await Promise.all(lookups);
    for (const r of results) {
      this.seedStats.lookups++;
      this.seedStats.addresses += r.addresses;
      if (r.error !== undefined) {
        this.seedStats.failed++;
        this.seedStats.errors[r.error] = (this.seedStats.errors[r.error] ?? 0) + 1;
      }
      this.emit('seed', r);
    }
    if (this.running) this.maintain();
    return results;
  }

  /** Starts (or restarts) a shard's task on the same ring; resolves when the shard says 'started'. */
  private runShard(s: ShardState): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    s.port = port1;
    const forward = [...this.taps.keys()].filter((c) => c !== 'addr' && c !== 'addrv2');
    let onStarted!: () => void;
    const started = new Promise<void>((r) => (onStarted = r));
    port1.on('message', (m: FromShard) => {
      if (m.type === 'started') {
        s.alive = true;
        if (m.listening !== undefined) this.listening = m.listening;
        if (m.listenError !== undefined) {
          this.listenError = m.listenError;
          this.emit('listenError', { shard: s.index, code: m.listenError });
        }
        if (m.handlersError !== undefined) {
          this.handlersFailed ??= m.handlersError;
          // A restarted shard whose module now fails runs on without handlers: reported, not fatal.
          if (this.running && !this.stopping) this.emit('handlerError', { shard: s.index, peer: -1, command: 'setup', message: m.handlersError, errors: 1 } satisfies HandlerErrorEvent);
        }
        onStarted();
        return;
      }
      this.onShardMessage(s, m);
    });
    // Shard 0 is the listening shard: inbound sockets stay on the thread that accepted them.
    const listen = s.index === 0 && this.listenAt ? { listen: this.listenAt, maxInbound: this.o.maxInbound } : {};
    const task = this.pool!.run({ port: port2, ring: s.ring, shard: s.index, options: { ...this.shardOptions, forward, ...listen } }, { transferList: [port2] as any });
    s.task = task;
    task.then(
      () => {},
      (e: unknown) => {
        onStarted(); // never leave start() hanging on a shard that died booting
        if (s.task === task) this.shardDied(s, (e as { message?: string })?.message ?? String(e));
      },
    );
    return started;
  }

  /**
   * Stops: every shard closes its peers and posts 'stopped', every ring is drained a last time,
   * the threads end and `observations()` ends once its queue is consumed.
   */
  async stop(): Promise<void> {
    if (!this.running || this.stopping) return;
    this.stopping = true;
    if (this.maintainTimer) clearInterval(this.maintainTimer);
    const waits = this.shardStates.map((s) => {
      if (!s.alive || !s.port) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.o.stopTimeoutMs);
        s.onStopped = () => {
          clearTimeout(t);
          resolve();
        };
        s.port!.postMessage({ type: 'stop' } satisfies ToShard);
      });
    });
    await Promise.all(waits);
    this.drainAll();
    for (const s of this.shardStates) {
      s.port?.close();
      s.port = null;
      s.alive = false;
    }
    // Peers of a shard that did not answer in time: reported gone.
    for (const slot of [...this.slots.values()]) this.slotGone(slot, 'stop', '', slot.state === 'ready');
    const pool = this.pool;
    this.pool = null;
    this.stopped = true;
    this.running = false;
    if (pool) await pool.destroy();
    // Pending drain waits end now (the loops see !running and stop).
    for (const s of this.shardStates) {
      s.reader.wake();
      clearTimeout(s.timer);
    }
    this.queue.end();
  }

  // -----------------------------------------------------------------------------------------------
  // Shard events

  private onShardMessage(s: ShardState, m: FromShard): void {
    switch (m.type) {
      case 'connected': {
        const slot = this.slots.get(m.peer);
        if (!slot) return;
        slot.state = 'connected';
        this.pendingCount--;
        if (slot.rec) this.book.markConnected(slot.rec, Date.now());
        this.emit('peer', { type: 'connected', peer: slot.index, address: slot.address, shard: s.index } satisfies PeerEvent);
        return;
      }
      case 'inbound': {
        const slot: PeerSlot = { index: m.peer, rec: null, address: m.address, inbound: true, shard: s.index, state: 'connected', transport: 'v1' };
        this.slots.set(m.peer, slot);
        s.peers.add(m.peer);
        this.inboundCount++;
        this.emit('peer', { type: 'connected', peer: m.peer, address: m.address, shard: s.index, inbound: true } satisfies PeerEvent);
        return;
      }
      case 'ready': {
        const slot = this.slots.get(m.peer);
        if (!slot) return;
        slot.state = 'ready';
        slot.transport = m.transport;
        this.transportStats[m.transport]++;
        if (slot.rec) {
          this.book.markReady(slot.rec, Date.now());
          if ((BigInt(m.remote.services) & NODE_P2P_V2) !== 0n) this.v2Capable.add(slot.rec);
        }
        if (this.o.crawl) {
          // Once per connection: Core answers only the first getaddr of a connection anyway.
          s.port?.postMessage({ type: 'send', peer: slot.index, command: 'getaddr', payload: {} } satisfies ToShard);
          this.crawlStats.getaddrSent++;
        }
        this.emit('peer', { type: 'ready', peer: slot.index, address: slot.address, shard: s.index, remote: m.remote, transport: m.transport } satisfies PeerEvent);
        return;
      }
      case 'failed': {
        const slot = this.slots.get(m.peer);
        if (!slot) return;
        this.connectFailures[m.code] = (this.connectFailures[m.code] ?? 0) + 1;
        if (slot.rec) this.book.markFailed(slot.rec, m.code, Date.now());
        this.removeSlot(slot);
        this.emit('peer', { type: 'gone', peer: slot.index, address: slot.address, shard: s.index, reason: CONNECT_FAILED, detail: m.code, wasReady: false } satisfies PeerEvent);
        this.maintain();
        return;
      }
      case 'closed': {
        const slot = this.slots.get(m.peer);
        if (!slot) return;
        // The shard published its ring before posting this: drain now so that every record of
        // the peer is decoded while its address is still known.
        this.drain(s);
        this.slotGone(slot, m.reason, m.detail, m.wasReady, m.stats, m.transport);
        if (m.reconnectV1 && slot.rec && this.o.transport === 'auto') {
          // Core: a v2 attempt the peer dropped before answering at all is retried at once in v1.
          this.v1Only.add(slot.rec);
          slot.rec.nextAttemptAt = Date.now();
          this.transportStats.v1Retries++;
        }
        this.maintain();
        return;
      }
      case 'addr': {
        this.crawlStats.addrMessages++;
        this.crawlStats.addressesReceived += m.addrs.length;
        let added = false;
        for (const a of m.addrs) added = this.learn(a) || added;
        if (added && this.o.connectLearned) this.maintain();
        this.callTaps('addr', m.peer, m);
        if (m.command === 'addrv2') this.callTaps('addrv2', m.peer, m);
        return;
      }
      case 'message':
        this.callTaps(m.command, m.peer, m.msg);
        return;
      case 'stats':
        s.last = m.counters;
        s.handlerErrors = Math.max(s.handlerErrors, m.counters.handlerErrors);
        this.emit('shardStats', m.counters);
        return;
      case 'handler':
        this.emit('handler', { shard: s.index, value: m.value } satisfies HandlerEvent);
        return;
      case 'handlerError':
        s.handlerErrors = Math.max(s.handlerErrors, m.errors);
        this.emit('handlerError', { shard: s.index, peer: m.peer, command: m.command, message: m.message, errors: m.errors } satisfies HandlerErrorEvent);
        return;
      case 'stopped':
        s.last = m.counters;
        s.handlerErrors = Math.max(s.handlerErrors, m.counters.handlerErrors);
        s.onStopped?.();
        return;
    }
  }

  /** Networks worth keeping from addr/addrv2 (torv2 is dead, internal and unknown are not addresses). */
  private static readonly LEARNABLE = new Set(['ipv4', 'ipv6', 'torv3', 'i2p', 'cjdns']);

  /** Adds a learned address (bounded by maxLearnedAddresses); true if it is new to the book. */
  private learn(a: LearnedAddress): boolean {
    if (!Coordinator.LEARNABLE.has(a.network)) return false;
    const before = this.book.size;
    const rec = this.book.add(a.address, 'addr', undefined, a.network);
    if (!rec || this.book.size === before) return false;
    rec.services = a.services;
    return true;
  }

  /** A snapshot of the address book: every address with its network, source, state and last outcome. */
  addresses(): AddressInfo[] {
    return this.book.all().map((r) => ({
      address: r.address,
      network: r.network,
      source: r.source,
      ...(r.services !== undefined ? { services: r.services } : {}),
      state: r.state,
      attempts: r.attempts,
      failures: r.failures,
      lastOutcome: r.lastOutcome,
      lastOutcomeAt: r.lastOutcomeAt,
      nextAttemptAt: r.nextAttemptAt,
    }));
  }

  private callTaps(command: string, peer: number, msg: unknown): void {
    const list = this.taps.get(command);
    if (!list) return;
    for (const fn of list) {
      try {
        fn(peer, msg);
      } catch (e) {
        process.emitWarning(`invscope pool: tap for ${command} threw: ${(e as Error)?.message ?? e}`);
      }
    }
  }

  private slotGone(slot: PeerSlot, reason: string, detail: string, wasReady: boolean, stats?: Record<string, unknown>, transport?: 'v1' | 'v2'): void {
    const now = Date.now();
    this.disconnectReasons[reason] = (this.disconnectReasons[reason] ?? 0) + 1;
    const rec = slot.rec;
    if (!rec) {
      // inbound: nothing to retry
    } else if (reason === SHARD_DIED || reason === 'stop') this.book.markDropped(rec, reason, now, 0);
    // A fault before the handshake too (a peer of another network: bad magic): the same back-off.
    else if (FAULT_CLOSES.has(reason)) this.book.markMisbehaved(rec, reason, now);
    else if (wasReady) this.book.markDropped(rec, reason, now);
    else this.book.markFailed(rec, reason, now);
    this.removeSlot(slot);
    this.emit('peer', { type: 'gone', peer: slot.index, address: slot.address, shard: slot.shard, reason, detail, wasReady, ...(stats ? { stats } : {}), ...(transport ? { transport } : {}) } satisfies PeerEvent);
  }

  private removeSlot(slot: PeerSlot): void {
    if (slot.state === 'pending') this.pendingCount--;
    if (slot.inbound) this.inboundCount--;
    this.slots.delete(slot.index);
    this.shardStates[slot.shard]?.peers.delete(slot.index);
  }

  /**
   * A shard's task rejected (its thread threw or exited). The ring outlives the thread: drain it
   * (nothing published is lost), report its peers gone, restart the shard on the same ring (piscina
   * has already started a replacement thread) and let maintain() reconnect the addresses.
   */
  private shardDied(s: ShardState, why: string): void {
    s.alive = false;
    s.port?.close();
    s.port = null;
    this.drain(s);
    for (const idx of [...s.peers]) {
      const slot = this.slots.get(idx);
      if (slot) this.slotGone(slot, SHARD_DIED, why, slot.state === 'ready');
    }
    if (this.stopping || !this.running) {
      s.onStopped?.();
      return;
    }
    s.restarts++;
    s.handlerErrorsBefore += s.handlerErrors;
    s.handlerErrors = 0;
    this.emit('shardRestart', { shard: s.index, reason: why, restarts: s.restarts });
    void this.runShard(s).then(() => this.maintain());
  }

  // -----------------------------------------------------------------------------------------------
  // Keeping the target

  /** Starts connects until the target is held or pending connects reach their bound. */
  private maintain(): void {
    if (!this.running || this.stopping) return;
    const now = Date.now();
    const accept = this.o.connectLearned ? undefined : (r: AddressRecord) => r.source !== 'addr';
    // The target counts outbound peers only: inbound ones have their own bound (maxInbound).
    while (this.slots.size - this.inboundCount < this.o.peers && this.pendingCount < this.o.maxPendingConnects) {
      const shard = this.pickShard();
      if (!shard) return;
      const rec = this.book.next(now, accept);
      if (!rec) return;
      if (!this.o.reconnect && rec.attempts > 0) {
        rec.nextAttemptAt = Infinity;
        continue;
      }
      // Outbound indices stay below INBOUND_PEER_BASE (the listening shard numbers inbound ones).
      const index = this.nextPeer++ % INBOUND_PEER_BASE;
      const transport = this.transportFor(rec);
      const slot: PeerSlot = { index, rec, address: rec.address, inbound: false, shard: shard.index, state: 'pending', transport };
      this.slots.set(index, slot);
      shard.peers.add(index);
      this.pendingCount++;
      this.book.markPending(rec, now);
      const proxy = !AddressBook.connectable(rec);
      shard.port!.postMessage({ type: 'connect', peer: index, host: rec.host, port: rec.port, ...(proxy ? { proxy } : {}), transport } satisfies ToShard);
    }
  }

  /** The outbound transport for an address under the `transport` option (see CoordinatorOptions). */
  private transportFor(rec: AddressRecord): 'v1' | 'v2' {
    const t = this.o.transport;
    if (t !== 'auto') return t;
    if (this.v1Only.has(rec)) return 'v1';
    if (this.v2Capable.has(rec)) return 'v2';
    return rec.services !== undefined && /^\d+$/.test(rec.services) && (BigInt(rec.services) & NODE_P2P_V2) !== 0n ? 'v2' : 'v1';
  }

  /** The least-loaded live shard (ties broken round robin). */
  private pickShard(): ShardState | undefined {
    let best: ShardState | undefined;
    const n = this.shardStates.length;
    for (let k = 0; k < n; k++) {
      const s = this.shardStates[(this.rr + k) % n]!;
      if (!s.alive || !s.port) continue;
      if (!best || s.peers.size < best.peers.size) best = s;
    }
    this.rr = (this.rr + 1) % Math.max(1, n);
    return best;
  }

  /**
   * Sends one message to a ready peer through its shard (e.g. getdata, or a ping as a barrier:
   * TCP keeps order, so its pong comes after everything the peer sent before it). Returns false
   * when the peer is not ready here; the shard drops it if the peer is gone by then.
   */
  send<K extends CommandName>(peer: number, command: K, msg: MessageMap[K]): boolean {
    const slot = this.slots.get(peer);
    const port = slot ? this.shardStates[slot.shard]?.port : null;
    if (!slot || slot.state !== 'ready' || !port) return false;
    port.postMessage({ type: 'send', peer, command, payload: msg } satisfies ToShard);
    return true;
  }

  /** Closes one peer. */
  closePeer(peer: number): void {
    const slot = this.slots.get(peer);
    if (!slot) return;
    this.shardStates[slot.shard]?.port?.postMessage({ type: 'close', peer } satisfies ToShard);
  }

  /** Test and ops hook: kills a shard's thread ('throw' an uncaught exception, or 'exit'). */
  crashShard(shard: number, how: 'throw' | 'exit' = 'throw'): void {
    this.shardStates[shard]?.port?.postMessage({ type: 'crash', how } satisfies ToShard);
  }

  // -----------------------------------------------------------------------------------------------
  // Observations

  private drainAll(): void {
    for (const s of this.shardStates) this.drain(s);
  }

  /**
   * One ring's drain loop, event-driven: drain, then sleep in Atomics.waitAsync until the shard's
   * next publish wakes it (at most drainIntervalMs). After a drain that took records it first
   * waits drainMinIntervalMs, so a busy ring is drained in batches rather than once per publish;
   * records already waiting when it would sleep are drained on the next turn of the event loop.
   */
  private drainLoop(s: ShardState): void {
    if (!this.running || this.stopped) return;
    const took = this.drain(s);
    const o = this.o;
    if (!o.drainOnPublish || !RingReader.canWait) s.timer = setTimeout(s.loop, o.drainIntervalMs);
    else if (took && o.drainMinIntervalMs > 0) s.timer = setTimeout(s.sleep, o.drainMinIntervalMs);
    else this.sleepOn(s);
  }

  /** Sleeps until the ring's next publish (or drainIntervalMs), then drains. */
  private sleepOn(s: ShardState): void {
    if (!this.running || this.stopped) return;
    const p = s.reader.wait(this.o.drainIntervalMs);
    if (p !== null) void p.then(s.loop);
    else setImmediate(s.loop); // records are waiting: drain on the next turn of the event loop
  }

  /**
   * Takes every published record of a ring as one batch into the queue (one copy, no per-record
   * object), resolving each record's peer address now (the peer may be forgotten before the
   * consumer gets to it). Without a consumer records are only counted; beyond the queue's room
   * they are counted as consumerDrops. Never blocks.
   */
  private drain(s: ShardState): boolean {
    const q = this.queue;
    if (!q.active) {
      const n = s.reader.discard(Infinity);
      this.observationCount += n;
      return n > 0;
    }
    const bytes = s.reader.take(q.room);
    if (bytes !== null) {
      const n = bytes.length / RECORD_SIZE;
      this.observationCount += n;
      const addrs = new Array<string>(n);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let last = -1;
      let address = '';
      for (let i = 0; i < n; i++) {
        const peer = dv.getUint32(i * RECORD_SIZE + R_PEER, true);
        if (peer !== last) {
          last = peer;
          address = this.slots.get(peer)?.address ?? '';
        }
        addrs[i] = address;
      }
      q.push(new RecordBatch(s.index, bytes, addrs));
    }
    if (q.room === 0) {
      const dropped = s.reader.discard(Infinity);
      this.observationCount += dropped;
      this.consumerDrops += dropped;
    }
    return bytes !== null;
  }

  /**
   * The decoded observations, in drain order (per shard in ring order). One consumer: records
   * are queued from the first call on (before it, they are only counted). A consumer slower than
   * the drain lets up to maxQueuedObservations wait; beyond that records are counted as
   * consumerDrops and discarded: the drain never blocks, so the rings never fill because of it.
   * Each Observation (and its hex hash) is made when the consumer asks for it.
   * Ends after stop() once the queue is consumed. Exclusive with records().
   */
  observations(): AsyncIterableIterator<Observation> {
    return this.queue.observations();
  }

  /**
   * The same records as raw batches (RecordBatch: the ring's record bytes per drain and shard,
   * with accessors and the peers' addresses): no object and no hex string per record, for
   * consumers that keep up with hundreds of thousands of entries per second. Same queueing,
   * bound and end as observations(), with which it is exclusive.
   */
  records(): AsyncIterableIterator<RecordBatch> {
    return this.queue.records();
  }

  /**
   * Receives a command's decoded messages from every peer. 'addr' (and 'addrv2') always come,
   * normalised to { command, addrs: [{ address, network, services, time }] }. Others are forwarded
   * as decoded by the shards (structured clone); inv, headers and cmpctblock never are (the ring).
   */
  tap(command: string, fn: (peer: number, msg: any) => void): this {
    const list = this.taps.get(command);
    if (list) list.push(fn);
    else {
      this.taps.set(command, [fn]);
      const forward = [...this.taps.keys()].filter((c) => c !== 'addr' && c !== 'addrv2');
      for (const s of this.shardStates) s.port?.postMessage({ type: 'tap', commands: forward } satisfies ToShard);
    }
    return this;
  }

  // -----------------------------------------------------------------------------------------------
  // Stats

  private addressCounts(): PoolStats['addresses'] {
    const byNetwork: Record<string, number> = {};
    const bySource: Record<string, number> = {};
    for (const r of this.book.all()) {
      byNetwork[r.network] = (byNetwork[r.network] ?? 0) + 1;
      bySource[r.source] = (bySource[r.source] ?? 0) + 1;
    }
    return { known: this.book.size, learned: this.book.learnedCount, learnedDropped: this.book.learnedDropped, byNetwork, bySource };
  }

  stats(): PoolStats {
    let pending = 0;
    let connected = 0;
    let ready = 0;
    for (const s of this.slots.values()) {
      if (s.state === 'pending') pending++;
      else {
        connected++;
        if (s.state === 'ready') ready++;
      }
    }
    return {
      peers: { pending, connected, ready, target: this.o.peers, inbound: this.inboundCount, maxInbound: this.o.maxInbound },
      observations: this.observationCount,
      consumerDrops: this.consumerDrops,
      queued: this.queue.queued,
      shards: this.shardStates.map((s) => ({
        shard: s.index,
        alive: s.alive,
        restarts: s.restarts,
        peers: s.peers.size,
        drained: s.reader.taken,
        drops: s.reader.dropped,
        ringAvailable: s.reader.available,
        last: s.last,
        handlerErrors: s.handlerErrorsBefore + s.handlerErrors,
      })),
      disconnectReasons: { ...this.disconnectReasons },
      connectFailures: { ...this.connectFailures },
      addresses: this.addressCounts(),
      seeds: { ...this.seedStats, errors: { ...this.seedStats.errors } },
      crawl: { ...this.crawlStats },
      listening: this.listening,
      listenError: this.listenError,
      transports: { ...this.transportStats },
    };
  }
}
