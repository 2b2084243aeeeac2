/**
 * The pool's coordinator, embeddable: keeps a target number of outbound peers across shard workers
 * (piscina, one long-lived task per shard), drains each shard's observation ring on a short timer
 * into a bounded queue read by `observations()`, and replaces dead shards and dropped peers.
 * Main thread; the drain is warm (one pass per drainIntervalMs), the rest is cold.
 * Must not import the shard or peer socket code: the shards own the sockets (README.md here).
 */
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { NETWORKS, type NetworkName, type NetworkParams } from '../protocol/constants.js';
import { hashToHex } from '../protocol/hex.js';
import { createRing, RingReader, R_TIME, R_PEER, R_KIND, R_ENTRY, R_INV_TYPE, R_HASH, Kind } from '../observe/ring.js';
import type { VersionOptions } from '../peer/peer.js';
import { AddressBook, type AddressRecord } from './addressbook.js';
import { CONNECT_FAILED, SHARD_DIED, type FromShard, type LearnedAddress, type RemoteVersion, type ShardCounters, type ShardOptions, type ToShard } from './messages.js';

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
  /** How often every ring is drained. @default 20 */
  drainIntervalMs?: number;
  /** Connects in flight at once, over all shards. @default 500 */
  maxPendingConnects?: number;
  /** Replace dropped peers (and reconnect a dead shard's). @default true */
  reconnect?: boolean;
  /** Observations buffered for a slow `observations()` consumer; beyond, counted as consumerDrops. @default 1_048_576 */
  maxQueuedObservations?: number;
  /** Address book backoff. @default 1_000 / 600_000 / 1_000 */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  retryAfterDropMs?: number;
  /** How often the target is checked (besides on every event). @default 250 */
  maintainIntervalMs?: number;
  /** Connect to addresses learned from addr/addrv2 too (crawling is a later phase). @default false */
  connectLearned?: boolean;
  /** Per-shard settings passed to every shard. */
  version?: VersionOptions;
  blockAnnounce?: 'inv' | 'headers' | 'cmpct';
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  pingIntervalMs?: number;
  statsIntervalMs?: number;
  /** How long stop() waits for each shard to close its peers. @default 10_000 */
  stopTimeoutMs?: number;
  /** @default the compiled workers/shard.js next to this package's dist */
  workerFilename?: string | URL;
}

export type ObservationKind = 'inv' | 'headers' | 'cmpctblock' | 'notfound';

/** A decoded ring record. */
export interface Observation {
  /** Receive time, epoch ms (taken when the socket read arrived, before parsing). */
  time: number;
  peer: number;
  address: string;
  kind: ObservationKind;
  invType: number;
  /** Entry index within its message. */
  entry: number;
  /** Display-order hex (as RPC and explorers show it). */
  hash: string;
  shard: number;
}

export type PeerEvent =
  | { type: 'connected'; peer: number; address: string; shard: number }
  | { type: 'ready'; peer: number; address: string; shard: number; remote: RemoteVersion }
  | { type: 'gone'; peer: number; address: string; shard: number; reason: string; detail: string; wasReady: boolean; stats?: Record<string, unknown> };

export interface PoolStats {
  peers: { pending: number; connected: number; ready: number; target: number };
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
  }[];
  disconnectReasons: Record<string, number>;
  connectFailures: Record<string, number>;
  addresses: { known: number };
}

interface PeerSlot {
  index: number;
  rec: AddressRecord;
  shard: number;
  state: 'pending' | 'connected' | 'ready';
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
}

const KIND_NAMES: Record<number, ObservationKind> = { [Kind.INV]: 'inv', [Kind.HEADERS]: 'headers', [Kind.CMPCTBLOCK]: 'cmpctblock', [Kind.NOTFOUND]: 'notfound' };
const DEFAULT_WORKER = new URL('../../workers/shard.js', import.meta.url);

export class Coordinator extends EventEmitter {
  readonly network: NetworkParams;
  readonly book: AddressBook;
  private readonly o: Required<Omit<CoordinatorOptions, 'network' | 'addresses' | 'version' | 'blockAnnounce' | 'connectTimeoutMs' | 'handshakeTimeoutMs' | 'pingIntervalMs' | 'statsIntervalMs' | 'workerFilename'>>;
  private readonly shardOptions: ShardOptions;
  private readonly workerFilename: string;
  private pool: Piscina | null = null;
  private readonly shardStates: ShardState[] = [];
  private readonly slots = new Map<number, PeerSlot>();
  private nextPeer = 0;
  private pendingCount = 0;
  private drainTimer: ReturnType<typeof setInterval> | null = null;
  private maintainTimer: ReturnType<typeof setInterval> | null = null;
  private running = false;
  private stopping = false;
  private stopped = false;
  private readonly taps = new Map<string, ((peer: number, msg: any) => void)[]>();
  // The observation queue: an array with a moving head (amortised O(1) shift).
  private queue: Observation[] = [];
  private qHead = 0;
  private queueing = false;
  private waiter: ((r: IteratorResult<Observation>) => void) | null = null;
  private observationCount = 0;
  private consumerDrops = 0;
  private readonly disconnectReasons: Record<string, number> = {};
  private readonly connectFailures: Record<string, number> = {};
  private rr = 0;

  constructor(options: CoordinatorOptions = {}) {
    super();
    const net = options.network ?? 'mainnet';
    this.network = typeof net === 'string' ? NETWORKS[net] : net;
    if (!this.network) throw new TypeError(`Coordinator: unknown network ${String(net)}`);
    this.o = {
      peers: options.peers ?? 8,
      shards: Math.max(1, options.shards ?? availableParallelism()),
      ringCapacity: options.ringCapacity ?? 1 << 16,
      drainIntervalMs: options.drainIntervalMs ?? 20,
      maxPendingConnects: options.maxPendingConnects ?? 500,
      reconnect: options.reconnect ?? true,
      maxQueuedObservations: options.maxQueuedObservations ?? 1 << 20,
      backoffBaseMs: options.backoffBaseMs ?? 1_000,
      backoffMaxMs: options.backoffMaxMs ?? 600_000,
      retryAfterDropMs: options.retryAfterDropMs ?? 1_000,
      maintainIntervalMs: options.maintainIntervalMs ?? 250,
      connectLearned: options.connectLearned ?? false,
      stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
    };
    this.shardOptions = {
      network: { ...this.network, dnsSeeds: [...this.network.dnsSeeds] },
      ...(options.version ? { version: options.version } : {}),
      ...(options.blockAnnounce ? { blockAnnounce: options.blockAnnounce } : {}),
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: options.handshakeTimeoutMs } : {}),
      ...(options.pingIntervalMs !== undefined ? { pingIntervalMs: options.pingIntervalMs } : {}),
      ...(options.statsIntervalMs !== undefined ? { statsIntervalMs: options.statsIntervalMs } : {}),
    };
    const wf = options.workerFilename ?? DEFAULT_WORKER;
    this.workerFilename = typeof wf === 'string' ? wf : wf.href;
    this.book = new AddressBook({ backoffBaseMs: this.o.backoffBaseMs, backoffMaxMs: this.o.backoffMaxMs, retryAfterDropMs: this.o.retryAfterDropMs });
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
    if (this.running || this.stopped) throw new Error('Coordinator.start: already started');
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
    });
    // A worker dying with no task is reported here; with a task it rejects the task (handled there).
    this.pool.on('error', () => {});
    const started: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const ring = createRing(this.o.ringCapacity);
      const s: ShardState = { index: i, ring, reader: new RingReader(ring), port: null, task: null, alive: false, restarts: 0, peers: new Set(), last: null, onStopped: null };
      this.shardStates.push(s);
      started.push(this.runShard(s));
    }
    await Promise.all(started);
    this.drainTimer = setInterval(() => this.drainAll(), this.o.drainIntervalMs);
    this.maintainTimer = setInterval(() => this.maintain(), this.o.maintainIntervalMs);
    this.maintain();
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
        onStarted();
        return;
      }
      this.onShardMessage(s, m);
    });
    const task = this.pool!.run({ port: port2, ring: s.ring, shard: s.index, options: { ...this.shardOptions, forward } }, { transferList: [port2] as any });
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
    if (this.drainTimer) clearInterval(this.drainTimer);
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
    this.endQueue();
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
        this.book.markConnected(slot.rec, Date.now());
        this.emit('peer', { type: 'connected', peer: slot.index, address: slot.rec.address, shard: s.index } satisfies PeerEvent);
        return;
      }
      case 'ready': {
        const slot = this.slots.get(m.peer);
        if (!slot) return;
        slot.state = 'ready';
        this.book.markReady(slot.rec, Date.now());
        this.emit('peer', { type: 'ready', peer: slot.index, address: slot.rec.address, shard: s.index, remote: m.remote } satisfies PeerEvent);
        return;
      }
      case 'failed': {
        const slot = this.slots.get(m.peer);
        if (!slot) return;
        this.connectFailures[m.code] = (this.connectFailures[m.code] ?? 0) + 1;
        this.book.markFailed(slot.rec, m.code, Date.now());
        this.removeSlot(slot);
        this.emit('peer', { type: 'gone', peer: slot.index, address: slot.rec.address, shard: s.index, reason: CONNECT_FAILED, detail: m.code, wasReady: false } satisfies PeerEvent);
        this.maintain();
        return;
      }
      case 'closed': {
        const slot = this.slots.get(m.peer);
        if (!slot) return;
        // The shard published its ring before posting this: drain now so that every record of
        // the peer is decoded while its address is still known.
        this.drain(s);
        this.slotGone(slot, m.reason, m.detail, m.wasReady, m.stats);
        this.maintain();
        return;
      }
      case 'addr': {
        for (const a of m.addrs) this.learn(a);
        this.callTaps('addr', m.peer, m);
        if (m.command === 'addrv2') this.callTaps('addrv2', m.peer, m);
        return;
      }
      case 'message':
        this.callTaps(m.command, m.peer, m.msg);
        return;
      case 'stats':
        s.last = m.counters;
        this.emit('shardStats', m.counters);
        return;
      case 'stopped':
        s.last = m.counters;
        s.onStopped?.();
        return;
    }
  }

  private learn(a: LearnedAddress): void {
    this.book.add(a.address, 'addr');
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

  private slotGone(slot: PeerSlot, reason: string, detail: string, wasReady: boolean, stats?: Record<string, unknown>): void {
    const now = Date.now();
    this.disconnectReasons[reason] = (this.disconnectReasons[reason] ?? 0) + 1;
    if (reason === SHARD_DIED || reason === 'stop') this.book.markDropped(slot.rec, reason, now, 0);
    else if (wasReady) this.book.markDropped(slot.rec, reason, now);
    else this.book.markFailed(slot.rec, reason, now);
    this.removeSlot(slot);
    this.emit('peer', { type: 'gone', peer: slot.index, address: slot.rec.address, shard: slot.shard, reason, detail, wasReady, ...(stats ? { stats } : {}) } satisfies PeerEvent);
  }

  private removeSlot(slot: PeerSlot): void {
    if (slot.state === 'pending') this.pendingCount--;
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
    this.emit('shardRestart', { shard: s.index, reason: why, restarts: s.restarts });
    void this.runShard(s).then(() => this.maintain());
  }

  // -----------------------------------------------------------------------------------------------
  // Keeping the target

  /** Starts connects until the target is held or pending connects reach their bound. */
  private maintain(): void {
    if (!this.running || this.stopping) return;
    const now = Date.now();
    const accept = this.o.connectLearned ? undefined : (r: AddressRecord) => r.source === 'list';
    while (this.slots.size < this.o.peers && this.pendingCount < this.o.maxPendingConnects) {
      const shard = this.pickShard();
      if (!shard) return;
      const rec = this.book.next(now, accept);
      if (!rec) return;
      if (!this.o.reconnect && rec.attempts > 0) {
        rec.nextAttemptAt = Infinity;
        continue;
      }
      const index = this.nextPeer++ >>> 0;
      const slot: PeerSlot = { index, rec, shard: shard.index, state: 'pending' };
      this.slots.set(index, slot);
      shard.peers.add(index);
      this.pendingCount++;
      this.book.markPending(rec, now);
      shard.port!.postMessage({ type: 'connect', peer: index, host: rec.host, port: rec.port } satisfies ToShard);
    }
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

  private drain(s: ShardState): void {
    const n = s.reader.drain((view, off) => this.take(s, view, off));
    this.observationCount += n;
  }

  private take(s: ShardState, view: DataView, off: number): void {
    if (!this.queueing) return;
    if (this.queued >= this.o.maxQueuedObservations) {
      this.consumerDrops++;
      return;
    }
    const peer = view.getUint32(off + R_PEER, true);
    const obs: Observation = {
      time: view.getFloat64(off + R_TIME, true),
      peer,
      address: this.slots.get(peer)?.rec.address ?? '',
      kind: KIND_NAMES[view.getUint8(off + R_KIND)] ?? 'inv',
      invType: view.getUint32(off + R_INV_TYPE, true),
      entry: view.getUint16(off + R_ENTRY, true),
      hash: hashToHex(new Uint8Array(view.buffer, view.byteOffset + off + R_HASH, 32)),
      shard: s.index,
    };
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: obs, done: false });
    } else this.queue.push(obs);
  }

  private get queued(): number {
    return this.queue.length - this.qHead;
  }

  private endQueue(): void {
    if (this.waiter && this.queued === 0) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: undefined, done: true });
    }
  }

  /**
   * The decoded observations, in drain order (per shard in ring order). One consumer: records
   * are queued from the first call on (before it, they are only counted). A consumer slower than
   * the drain lets up to maxQueuedObservations wait; beyond that records are counted as
   * consumerDrops and discarded: the drain never blocks, so the rings never fill because of it.
   * Ends after stop() once the queue is consumed.
   */
  observations(): AsyncIterableIterator<Observation> {
    this.queueing = true;
    const it: AsyncIterableIterator<Observation> = {
      next: (): Promise<IteratorResult<Observation>> => {
        if (this.queued > 0) {
          const v = this.queue[this.qHead++]!;
          if (this.qHead > 4096 && this.qHead * 2 > this.queue.length) {
            this.queue = this.queue.slice(this.qHead);
            this.qHead = 0;
          }
          return Promise.resolve({ value: v, done: false });
        }
        if (this.stopped) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiter = resolve));
      },
      return: (): Promise<IteratorResult<Observation>> => {
        this.queueing = false;
        this.queue = [];
        this.qHead = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
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
      peers: { pending, connected, ready, target: this.o.peers },
      observations: this.observationCount,
      consumerDrops: this.consumerDrops,
      queued: this.queued,
      shards: this.shardStates.map((s) => ({
        shard: s.index,
        alive: s.alive,
        restarts: s.restarts,
        peers: s.peers.size,
        drained: s.reader.taken,
        drops: s.reader.dropped,
        ringAvailable: s.reader.available,
        last: s.last,
      })),
      disconnectReasons: { ...this.disconnectReasons },
      connectFailures: { ...this.connectFailures },
      addresses: { known: this.book.size },
    };
  }
}
