/**
 * The pool's coordinator, embeddable: keeps a target number of outbound peers across shard workers
 * (piscina, one long-lived task per shard), hands every shard's observations to `observations()` /
 * `records()`, and replaces dead shards and dropped peers. The parts are collaborators built here:
 * a ShardLink per shard (link.ts: port, task, ring drain), the address sources (sources.ts), the
 * transport policy (transport.ts), the record sink (drain.ts), the taps (taps.ts); stats in stats.ts.
 * Main thread, cold (events and the target); the drain runs in the links.
 * Must not import the shard or peer socket code: the shards own the sockets (README.md here).
 */
import { EventEmitter } from 'node:events';
import { Piscina } from 'piscina';
import type { CommandName, NetworkParams } from '../../protocol/constants.js';
import type { MessageMap } from '../../protocol/registry.js';
import { RecordBatch } from '../../observe/batch.js';
import { closePolicy, CloseReason } from '../../peer/faults.js';
import { ObservationQueue, type Observation, type ObservationKind } from './queue.js';
import { AddressBook, addressInfo, type AddressInfo, type AddressRecord } from './addressbook.js';
import { INBOUND_PEER_BASE, type FromShard, type ShardOptions, type ToShard } from '../messages.js';
import { resolveOptions, type CoordinatorOptions, type PoolSettings } from './options.js';
import { ShardLink, type LinkHost, type StartedMessage } from './link.js';
import { RecordSink } from './drain.js';
import { AddressSources, type SeedResolver, type SeedResult } from './sources.js';
import { TransportPolicy } from './transport.js';
import { Taps, type Tap } from './taps.js';
import { addressCounts, peerCounts, tally, type PoolStats } from './stats.js';
import { PoolError, PoolErrorCode } from './errors.js';
import type { HandlerErrorEvent, HandlerEvent, PeerEvent } from './events.js';

export type { CoordinatorOptions, Observation, ObservationKind, SeedResolver, SeedResult, PoolStats, AddressInfo, HandlerErrorEvent, HandlerEvent, PeerEvent };
export { RecordBatch };

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

type ShardMessage<T extends FromShard['type']> = Extract<FromShard, { type: T }>;

export class Coordinator extends EventEmitter {
  readonly network: NetworkParams;
  readonly book: AddressBook;
  private readonly o: PoolSettings;
  private readonly shardOptions: ShardOptions;
  private readonly sources: AddressSources;
  private readonly transports: TransportPolicy;
  private readonly queue: ObservationQueue;
  private readonly sink: RecordSink;
  private readonly links: ShardLink[] = [];
  private readonly slots = new Map<number, PeerSlot>();
  private readonly taps = new Taps();
  private readonly disconnectReasons: Record<string, number> = {};
  private readonly connectFailures: Record<string, number> = {};
  private pool: Piscina | null = null;
  private maintainTimer: ReturnType<typeof setInterval> | null = null;
  private running = false;
  private stopping = false;
  private stopped = false;
  private nextPeer = 0;
  private pendingCount = 0;
  private inboundCount = 0;
  private rr = 0;
  private listening: string | null = null;
  private listenError: string | null = null;
  /** The first handler module failure reported by a starting shard (start() rejects with it). */
  private handlersFailed: string | null = null;
  /** What every ShardLink calls back (bound once). */
  private readonly linkHost: LinkHost = {
    started: (link, m) => this.onStarted(link, m),
    message: (link, m) => this.onShardMessage(link, m),
    died: (link, why) => this.shardDied(link, why),
    draining: () => this.running && !this.stopped,
  };

  constructor(options: CoordinatorOptions = {}) {
    super();
    const r = resolveOptions(options);
    this.network = r.network;
    this.o = r.pool;
    this.shardOptions = r.shard;
    this.book = new AddressBook(r.book);
    this.sources = new AddressSources(this.book, this.network, this.o.seedNames, r.resolver, {
      seed: (res) => this.emit('seed', res),
      changed: () => {
        if (this.running) this.maintain();
      },
    });
    this.transports = new TransportPolicy(this.o.transport);
    this.queue = new ObservationQueue(this.o.maxQueuedObservations);
    this.sink = new RecordSink(this.queue, (peer) => this.slots.get(peer)?.address ?? '');
    for (const a of options.addresses ?? []) this.sources.add(a);
  }

  /** Adds an address to the book (host:port); returns false if unparsable. */
  addAddress(address: string, source = 'list'): boolean {
    const r = this.sources.add(address, source);
    if (this.running) this.maintain();
    return r;
  }

  // -----------------------------------------------------------------------------------------------
  // Lifecycle

  async start(): Promise<void> {
    if (this.running || this.stopped) throw new PoolError(PoolErrorCode.STATE, this.running ? 'Coordinator.start: already started' : 'Coordinator.start: stopped; a Coordinator runs once');
    this.running = true;
    const n = this.o.shards;
    this.pool = new Piscina({
      filename: this.o.workerFilename,
      minThreads: n,
      maxThreads: n,
      // Atomics mode parks an idle worker in Atomics.wait, which freezes its sockets.
      atomics: 'disabled',
      idleTimeout: Infinity,
      // Shards never queue behind each other: one task per thread.
      concurrentTasksPerWorker: 1,
      resourceLimits: this.o.shardResourceLimits,
    });
    // A worker dying with no task is reported here; with a task it rejects the task (handled there).
    this.pool.on('error', () => {});
    const started: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const link = new ShardLink(i, this.o.ringCapacity, this.linkHost, this.sink, this.o);
      this.links.push(link);
      started.push(this.runShard(link));
    }
    await Promise.all(started);
    if (this.handlersFailed !== null) {
      // A user error, before anything connects: a clear message naming the module, nothing left running.
      const why = this.handlersFailed;
      await this.stop();
      throw new PoolError(PoolErrorCode.HANDLERS, `Coordinator.start: ${why}`);
    }
    for (const link of this.links) link.drainLoop();
    this.maintainTimer = setInterval(() => this.maintain(), this.o.maintainIntervalMs);
    this.maintain();
    // Not awaited: seeds feed the book as they answer; a failing seed is counted, never fatal.
    this.sources.startSeeding(this.o.reseedIntervalMs);
  }

  /** The latest DNS seed resolution (at start, then every reseedIntervalMs). */
  get seeding(): Promise<SeedResult[]> {
    return this.sources.seeding;
  }

  /** The listening shard's bound host:port once start() resolved (null if not listening or failed). */
  get listenAddress(): string | null {
    return this.listening;
  }

  /**
   * Resolves every seed (A and AAAA, all at once) into the book with source 'dns' and the
   * network's default port. Failures are counted in stats().seeds and emitted as 'seed' events
   * with their code; they never throw. start() calls it, and again every reseedIntervalMs;
   * callable at any time too (e.g. when the book runs dry).
   */
  resolveSeeds(seeds: readonly string[] = this.o.seedNames): Promise<SeedResult[]> {
    return this.sources.resolveSeeds(seeds);
  }

  /** Starts (or restarts) a shard's task on its ring; resolves when the shard says 'started'. */
  private runShard(link: ShardLink): Promise<void> {
    // Shard 0 is the listening shard: inbound sockets stay on the thread that accepted them.
    const listen = link.index === 0 && this.o.listen ? { listen: this.o.listen } : {};
    return link.run(this.pool!, { ...this.shardOptions, forward: this.taps.forwarded(), ...listen });
  }

  private onStarted(link: ShardLink, m: StartedMessage): void {
    if (m.listening !== undefined) this.listening = m.listening;
    if (m.listenError !== undefined) {
      this.listenError = m.listenError;
      this.emit('listenError', { shard: link.index, code: m.listenError });
    }
    if (m.handlersError !== undefined) {
      this.handlersFailed ??= m.handlersError;
      // A restarted shard whose module now fails runs on without handlers: reported, not fatal.
      if (this.running && !this.stopping) this.emit('handlerError', { shard: link.index, peer: -1, command: 'setup', message: m.handlersError, errors: 1 } satisfies HandlerErrorEvent);
    }
  }

  /**
   * Stops: every shard closes its peers and posts 'stopped', every ring is drained a last time,
   * the threads end and `observations()` ends once its queue is consumed.
   */
  async stop(): Promise<void> {
    if (!this.running || this.stopping) return;
    this.stopping = true;
    if (this.maintainTimer) clearInterval(this.maintainTimer);
    this.sources.stopSeeding();
    await Promise.all(this.links.map((link) => link.stop(this.o.stopTimeoutMs)));
    for (const link of this.links) link.drain();
    for (const link of this.links) link.detach();
    // Peers of a shard that did not answer in time: reported gone.
    for (const slot of [...this.slots.values()]) this.slotGone(slot, CloseReason.STOP, '', slot.state === 'ready');
    const pool = this.pool;
    this.pool = null;
    this.stopped = true;
    this.running = false;
    if (pool) await pool.destroy();
    // Pending drain waits end now (the loops see the pool stopped and end).
    for (const link of this.links) link.endDrain();
    this.queue.end();
  }

  // -----------------------------------------------------------------------------------------------
  // Shard events

  private onShardMessage(link: ShardLink, m: FromShard): void {
    switch (m.type) {
      case 'connected':
        return this.onConnected(link, m);
      case 'inbound':
        return this.onInbound(link, m);
      case 'ready':
        return this.onReady(link, m);
      case 'failed':
        return this.onFailed(link, m);
      case 'closed':
        return this.onClosed(link, m);
      case 'addr':
        if (this.sources.received(m.addrs) && this.o.connectLearned) this.maintain();
        this.taps.call('addr', m.peer, m);
        if (m.command === 'addrv2') this.taps.call('addrv2', m.peer, m);
        return;
      case 'message':
        return this.taps.call(m.command, m.peer, m.msg);
      case 'stats':
        link.counters(m.counters);
        this.emit('shardStats', m.counters);
        return;
      case 'handler':
        this.emit('handler', { shard: link.index, value: m.value } satisfies HandlerEvent);
        return;
      case 'handlerError':
        link.noteHandlerErrors(m.errors);
        this.emit('handlerError', { shard: link.index, peer: m.peer, command: m.command, message: m.message, errors: m.errors } satisfies HandlerErrorEvent);
        return;
      case 'stopped':
        link.counters(m.counters);
        link.onStopped?.();
        return;
    }
  }

  private onConnected(link: ShardLink, m: ShardMessage<'connected'>): void {
    const slot = this.slots.get(m.peer);
    if (!slot) return;
    slot.state = 'connected';
    this.pendingCount--;
    if (slot.rec) this.book.markConnected(slot.rec, Date.now());
    this.emit('peer', { type: 'connected', peer: slot.index, address: slot.address, shard: link.index } satisfies PeerEvent);
  }

  private onInbound(link: ShardLink, m: ShardMessage<'inbound'>): void {
    const slot: PeerSlot = { index: m.peer, rec: null, address: m.address, inbound: true, shard: link.index, state: 'connected', transport: 'v1' };
    this.slots.set(m.peer, slot);
    link.peers.add(m.peer);
    this.inboundCount++;
    this.emit('peer', { type: 'connected', peer: m.peer, address: m.address, shard: link.index, inbound: true } satisfies PeerEvent);
  }

  private onReady(link: ShardLink, m: ShardMessage<'ready'>): void {
    const slot = this.slots.get(m.peer);
    if (!slot) return;
    slot.state = 'ready';
    slot.transport = m.transport;
    this.transports.ready(slot.rec, m.transport, m.remote.services);
    if (slot.rec) this.book.markReady(slot.rec, Date.now());
    if (this.o.crawl) {
      // Once per connection: Core answers only the first getaddr of a connection anyway.
      link.post({ type: 'send', peer: slot.index, command: 'getaddr', payload: {} });
      this.sources.askedForAddresses();
    }
    this.emit('peer', { type: 'ready', peer: slot.index, address: slot.address, shard: link.index, remote: m.remote, transport: m.transport } satisfies PeerEvent);
  }

  private onFailed(link: ShardLink, m: ShardMessage<'failed'>): void {
    const slot = this.slots.get(m.peer);
    if (!slot) return;
    tally(this.connectFailures, m.code);
    if (slot.rec) this.book.markFailed(slot.rec, m.code, Date.now());
    this.removeSlot(slot);
    this.emit('peer', { type: 'gone', peer: slot.index, address: slot.address, shard: link.index, reason: CloseReason.CONNECT_FAILED, detail: m.code, wasReady: false } satisfies PeerEvent);
    this.maintain();
  }

  private onClosed(link: ShardLink, m: ShardMessage<'closed'>): void {
    const slot = this.slots.get(m.peer);
    if (!slot) return;
    // The shard published its ring before posting this: drain now so that every record of
    // the peer is decoded while its address is still known.
    link.drain();
    this.slotGone(slot, m.reason, m.detail, m.wasReady, m.stats, m.transport);
    // Core: a v2 attempt the peer dropped before answering at all is retried at once in v1.
    this.transports.closed(slot.rec, m.reconnectV1, Date.now());
    this.maintain();
  }

  /** A snapshot of the address book: every address with its network, source, state and last outcome. */
  addresses(): AddressInfo[] {
    return this.book.all().map(addressInfo);
  }

  /** A peer is gone: its address is marked by the close's policy (src/peer/faults.ts), then forgotten. */
  private slotGone(slot: PeerSlot, reason: string, detail: string, wasReady: boolean, stats?: Record<string, unknown>, transport?: 'v1' | 'v2'): void {
    const now = Date.now();
    tally(this.disconnectReasons, reason);
    const rec = slot.rec;
    if (rec) {
      // An inbound peer (no record) has nothing to retry.
      const policy = closePolicy(reason);
      if (policy === 'retry-now') this.book.markDropped(rec, reason, now, 0);
      // A fault before the handshake too (a peer of another network: bad magic): the same back-off.
      else if (policy === 'back-off') this.book.markMisbehaved(rec, reason, now);
      else if (wasReady) this.book.markDropped(rec, reason, now);
      else this.book.markFailed(rec, reason, now);
    }
    this.removeSlot(slot);
    this.emit('peer', { type: 'gone', peer: slot.index, address: slot.address, shard: slot.shard, reason, detail, wasReady, ...(stats ? { stats } : {}), ...(transport ? { transport } : {}) } satisfies PeerEvent);
  }

  private removeSlot(slot: PeerSlot): void {
    if (slot.state === 'pending') this.pendingCount--;
    if (slot.inbound) this.inboundCount--;
    this.slots.delete(slot.index);
    this.links[slot.shard]?.peers.delete(slot.index);
  }

  /**
   * A shard's task rejected (its thread threw or exited). The ring outlives the thread: drain it
   * (nothing published is lost), report its peers gone, restart the shard on the same ring (piscina
   * has already started a replacement thread) and let maintain() reconnect the addresses.
   */
  private shardDied(link: ShardLink, why: string): void {
    link.detach();
    link.drain();
    for (const idx of [...link.peers]) {
      const slot = this.slots.get(idx);
      if (slot) this.slotGone(slot, CloseReason.SHARD_DIED, why, slot.state === 'ready');
    }
    if (this.stopping || !this.running) {
      link.onStopped?.();
      return;
    }
    link.restarted();
    this.emit('shardRestart', { shard: link.index, reason: why, restarts: link.restarts });
    void this.runShard(link).then(() => this.maintain());
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
      const link = this.pickShard();
      if (!link) return;
      const rec = this.book.next(now, accept);
      if (!rec) return;
      if (!this.o.reconnect && rec.attempts > 0) {
        rec.nextAttemptAt = Infinity;
        continue;
      }
      this.dial(link, rec, now);
    }
  }

  /** Sends one connect for an address to a shard. */
  private dial(link: ShardLink, rec: AddressRecord, now: number): void {
    // Outbound indices stay below INBOUND_PEER_BASE (the listening shard numbers inbound ones).
    const index = this.nextPeer++ % INBOUND_PEER_BASE;
    const transport = this.transports.choose(rec);
    this.slots.set(index, { index, rec, address: rec.address, inbound: false, shard: link.index, state: 'pending', transport });
    link.peers.add(index);
    this.pendingCount++;
    this.book.markPending(rec, now);
    const proxy = !AddressBook.connectable(rec);
    link.post({ type: 'connect', peer: index, host: rec.host, port: rec.port, ...(proxy ? { proxy } : {}), transport });
  }

  /** The least-loaded live shard (ties broken round robin). */
  private pickShard(): ShardLink | undefined {
    let best: ShardLink | undefined;
    const n = this.links.length;
    for (let k = 0; k < n; k++) {
      const s = this.links[(this.rr + k) % n]!;
      if (!s.alive || !s.port) continue;
      if (!best || s.peers.size < best.peers.size) best = s;
    }
    this.rr = (this.rr + 1) % Math.max(1, n);
    return best;
  }

  /** Throws PoolError ERR_POOL_STATE for a call that needs start() first. */
  private assertStarted(what: string): void {
    if (!this.running && !this.stopped) throw new PoolError(PoolErrorCode.STATE, `Coordinator.${what}: call start() first`);
  }

  /**
   * Sends one message to a ready peer through its shard (e.g. getdata, or a ping as a barrier:
   * TCP keeps order, so its pong comes after everything the peer sent before it). Returns false
   * when the peer is not ready here (or the pool has stopped); the shard drops it if the peer is
   * gone by then. Throws PoolError (ERR_POOL_STATE) before start().
   */
  send<K extends CommandName>(peer: number, command: K, msg: MessageMap[K]): boolean {
    this.assertStarted('send');
    const slot = this.slots.get(peer);
    if (!slot || slot.state !== 'ready') return false;
    return this.links[slot.shard]?.post({ type: 'send', peer, command, payload: msg } satisfies ToShard) ?? false;
  }

  /** Closes one peer (no-op for a peer not here). Throws PoolError (ERR_POOL_STATE) before start(). */
  closePeer(peer: number): void {
    this.assertStarted('closePeer');
    const slot = this.slots.get(peer);
    if (!slot) return;
    this.links[slot.shard]?.post({ type: 'close', peer });
  }

  /** Test and ops hook: kills a shard's thread ('throw' an uncaught exception, or 'exit'). */
  crashShard(shard: number, how: 'throw' | 'exit' = 'throw'): void {
    this.assertStarted('crashShard');
    this.links[shard]?.post({ type: 'crash', how });
  }

  // -----------------------------------------------------------------------------------------------
  // Observations

  /**
   * The decoded observations, in drain order (per shard in ring order). One consumer: records
   * are queued from the first call on (before it, they are only counted). A consumer slower than
   * the drain lets up to maxQueuedObservations wait; beyond that records are counted as
   * consumerDrops and discarded: the drain never blocks, so the rings never fill because of it.
   * Each Observation (and its hex hash) is made when the consumer asks for it.
   * Ends after stop() once the queue is consumed. Exclusive with records() (PoolError ERR_POOL_STATE).
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
  tap(command: string, fn: Tap): this {
    if (this.taps.add(command, fn)) {
      const commands = this.taps.forwarded();
      for (const link of this.links) link.post({ type: 'tap', commands });
    }
    return this;
  }

  // -----------------------------------------------------------------------------------------------
  // Stats

  stats(): PoolStats {
    return {
      peers: { ...peerCounts(this.slots.values()), target: this.o.peers, inbound: this.inboundCount, maxInbound: this.o.maxInbound },
      observations: this.sink.observations,
      consumerDrops: this.sink.consumerDrops,
      queued: this.queue.queued,
      shards: this.links.map((s) => ({
        shard: s.index,
        alive: s.alive,
        restarts: s.restarts,
        peers: s.peers.size,
        drained: s.reader.taken,
        drops: s.reader.dropped,
        ringAvailable: s.reader.available,
        last: s.last,
        handlerErrors: s.totalHandlerErrors,
      })),
      disconnectReasons: { ...this.disconnectReasons },
      connectFailures: { ...this.connectFailures },
      addresses: addressCounts(this.book),
      seeds: { ...this.sources.seedStats, errors: { ...this.sources.seedStats.errors } },
      crawl: { ...this.sources.crawlStats },
      listening: this.listening,
      listenError: this.listenError,
      transports: { ...this.transports.stats },
    };
  }
}
