/**
 * The simulated network's model: topology, Bitcoin Core-like gossip (per-link outbound and
 * per-node inbound Poisson trickling, blocks at once, inv/getdata/tx round trips, validation
 * delay), tx and block origination, churn; a discrete-event simulation run in real time against
 * the observer's clock. Semantics and the ground truth in src/sim/README.md. Simulator process,
 * hot path (the drain loop): typed arrays per node, link and event, no closure per event.
 */
import { performance } from 'node:perf_hooks';
import { now as epochNow } from '../observe/clock.js';
import { EventQueue } from './queue.js';
import { makeIdentities, BASE_HEIGHT } from './identity.js';
import { makeTx } from './items.js';
import { Rng } from './rng.js';
import { Miner } from './miner.js';
import { LearnTimes } from './learn-times.js';
import { slotLatencies, validationDelays } from './delays.js';
import { buildTopology, peersOf, type Topology } from './topology.js';
import type { TruthWriter } from './truth.js';
import type { ItemKind, SimItem, SimNodeInfo } from './types.js';

export { SIM_DEFAULTS, simOptions, type SimOptions, type SimModelAllEvents, type SimStats } from './options.js';
import { simOptions, type SimOptions, type SimModelAllEvents, type SimStats } from './options.js';

// Event kinds in the queue.
const EV_LEARN = 0;
const EV_TX = 1;
const EV_BLOCK = 2;
const EV_LEAVE = 3;
const EV_REJOIN = 4;

const KIND_TX = 0;
const KIND_BLOCK = 1;

/** inv -> getdata -> tx (or block): three one-way trips between announcement and arrival. */
const RELAY_TRIPS = 3;
/**
 * A rejoining node syncs blocks it missed from one peer: version/verack (2 trips),
 * getheaders/headers (2), getdata/block (2).
 */
const SYNC_TRIPS = 6;
/** The drain loop yields to I/O after this much work (ms) even when behind. */
const DRAIN_SLICE_MS = 20;
/** setTimeout's ceiling (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

// Salts of the independent PRNG streams (Rng.stream).
const S_TOPOLOGY = 1;
const S_IDENTITY = 2;
const S_TRICKLE = 3;
const S_CONTENT = 4;
const S_ORIGIN = 5;
const S_CHURN = 6;
const S_VALIDATION = 7;

function hashKey(h: Uint8Array): string {
  return Buffer.from(h.buffer, h.byteOffset, 32).toString('latin1');
}

export class SimModel {
  readonly options: SimOptions;
  readonly nodes: readonly SimNodeInfo[];
  /** The graph (CSR typed arrays; read only). */
  readonly topology: Topology;
  readonly truth: TruthWriter | null;
  /** When the model's run started (first start(), runUntil() or inject()), epoch ms; NaN before. */
  startedAt = NaN;

  private readonly clock: () => number;
  private readonly n: number;
  // Topology, per adjacency slot (see Topology): neighbour, outbound flag, scaled latency, the
  // slot of the same link seen from the other end, and the per-link outbound trickle's next firing.
  private readonly adjStart: Int32Array;
  private readonly adjNode: Int32Array;
  private readonly adjOut: Uint8Array;
  private readonly latS: Float64Array;
  private readonly revSlot: Int32Array;
  private readonly outNext: Float64Array;
  /** Per node: next firing of its trickle towards inbound peers (one timer per node, as Core). */
  private readonly inNext: Float64Array;
  private readonly outMean: number;
  private readonly inMean: number;
  /** Per node validation delays, real ms (scaled). */
  private readonly valTx: Float64Array;
  private readonly valBlock: Float64Array;
  private readonly onlineArr: Uint8Array;
  /** Per node: time of its last leave or rejoin (-Infinity: never). */
  private readonly lastChurn: Float64Array;
  /** Per node: how many times it left (matches rejoin events to departures). */
  private readonly departures: Int32Array;
  /** Per node: height of the best simulated block it knows (or its start height). */
  private readonly bestHeight: Int32Array;

  private readonly rTrickle: Rng;
  private readonly rContent: Rng;
  private readonly rOrigin: Rng;
  private readonly rChurn: Rng;

  private readonly items: SimItem[] = [];
  private readonly kinds: number[] = [];
  private readonly learned: LearnTimes;
  /** The learned table's rows (learn-times.ts), read on the hot path. */
  private readonly at: (Float64Array | null)[];
  private pending = new Int32Array(1024);
  private readonly byHash = new Map<string, number>();
  private readonly miner: Miner;

  private readonly queue = new EventQueue(4096);
  private readonly learnFns: SimModelAllEvents['learn'][] = [];
  private readonly churnFns: SimModelAllEvents['churn'][] = [];
  private readonly itemFns: SimModelAllEvents['item'][] = [];
  private readonly offerFns: SimModelAllEvents['offer'][] = [];
  private readonly listeners: { [K in keyof SimModelAllEvents]: SimModelAllEvents[K][] } = { learn: this.learnFns, churn: this.churnFns, item: this.itemFns, offer: this.offerFns };

  private running = false;
  /** stop() was called (and no start() since): inject and setOnline leave the backlog alone. */
  private stopped = false;
  private initialized = false;
  private draining = false;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private readonly st: SimStats = { events: 0, learns: 0, offers: 0, dropped: 0, maxLagMs: 0, queued: 0, items: 0, compacted: 0 };

  constructor(options?: Partial<SimOptions>, truth?: TruthWriter) {
    const o = simOptions(options);
    this.options = o;
    this.truth = truth ?? null;
    this.clock = o.clock ?? epochNow;
    const n = (this.n = o.nodes);
    const ts = o.timeScale;
    this.learned = new LearnTimes(n, o.retainItems);
    this.at = this.learned.at;

    this.nodes = makeIdentities(n, o.addressBase, o.port, o.misbehaving, Rng.stream(o.seed, S_IDENTITY), o.v2Fraction, o.misbehaviours);
    const topo = (this.topology = buildTopology(n, o.outbound, o.maxInbound, o.latencyMedianMs, o.latencySigma, Rng.stream(o.seed, S_TOPOLOGY)));
    this.adjStart = topo.adjStart;
    this.adjNode = topo.adjNode;
    this.adjOut = topo.adjOut;
    ({ latS: this.latS, revSlot: this.revSlot } = slotLatencies(topo, ts));
    const slots = topo.adjNode.length;
    // -Infinity: the first query draws a fresh exponential from the query time.
    this.outNext = new Float64Array(slots).fill(-Infinity);
    this.inNext = new Float64Array(n).fill(-Infinity);
    this.outMean = o.outboundTrickleMs / ts;
    this.inMean = o.inboundTrickleMs / ts;
    ({ valTx: this.valTx, valBlock: this.valBlock } = validationDelays(n, o.validationMs, ts, Rng.stream(o.seed, S_VALIDATION)));
    this.onlineArr = new Uint8Array(n).fill(1);
    this.lastChurn = new Float64Array(n).fill(-Infinity);
    this.bestHeight = new Int32Array(n);
    this.departures = new Int32Array(n);
    for (let u = 0; u < n; u++) this.bestHeight[u] = this.nodes[u]!.startHeight;

    this.rTrickle = Rng.stream(o.seed, S_TRICKLE);
    this.rContent = Rng.stream(o.seed, S_CONTENT);
    this.rOrigin = Rng.stream(o.seed, S_ORIGIN);
    this.rChurn = Rng.stream(o.seed, S_CHURN);
    this.miner = new Miner(o.seed);

    if (this.truth) {
      const { clock: _clock, ...recorded } = o;
      this.truth.meta({ seed: o.seed, options: recorded, outbound: topo.outbound, links: topo.linkA.length, repairs: topo.repairs, baseHeight: BASE_HEIGHT });
      for (const info of this.nodes) this.truth.node(info);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Public API

  on<K extends keyof SimModelAllEvents>(event: K, fn: SimModelAllEvents[K]): void {
    if (!Object.hasOwn(this.listeners, event)) throw new TypeError(`SimModel has no event ${String(event)}`);
    (this.listeners[event] as SimModelAllEvents[K][]).push(fn);
  }

  /** Starts originating items and running the event queue in real time. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    this.init();
    this.arm();
  }

  /** Stops every timer (the process can exit afterwards) and flushes the truth. Idempotent; start() resumes. */
  stop(): void {
    if (this.running) this.stopped = true;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.truth?.flush();
  }

  /**
   * Processes every event due at or before `t` synchronously, with no timer: for tests and
   * batch runs on a manual clock. Starts origination (as start() does) on the first call.
   */
  runUntil(t: number): void {
    this.init();
    this.drain(t, Infinity);
  }

  /** Originates an item now at `origin` (a random online node by default). */
  inject(kind: ItemKind, origin?: number): SimItem {
    const t = this.clock();
    if (!(t > 0)) throw new RangeError(`clock must return positive epoch milliseconds, got ${t}`);
    if (Number.isNaN(this.startedAt)) this.startedAt = t;
    // Everything due before now happens first, so trickle timers are queried in time order
    // (not after stop(): a stopped model is paused, its backlog waits for start()).
    if (!this.draining && !this.stopped) this.drain(t, Infinity);
    let o = origin ?? this.randomOnline(this.rOrigin);
    if (o < 0) throw new RangeError('inject: every node is offline');
    if (!Number.isInteger(o) || o < 0 || o >= this.n) throw new RangeError(`inject: origin must be a node index in 0..${this.n - 1}, got ${o}`);
    if (!this.onlineArr[o]) throw new RangeError(`inject: origin node ${o} is offline`);
    const item = this.originate(kind === 'block' ? KIND_BLOCK : KIND_TX, o, t);
    if (this.running) this.arm();
    return item;
  }

  /**
   * Takes `node` offline or back online now, as churn does (for tests, demos and a server that
   * wants a node gone). No-op when it already is.
   */
  setOnline(node: number, online: boolean): void {
    if (!Number.isInteger(node) || node < 0 || node >= this.n) throw new RangeError(`setOnline: node must be in 0..${this.n - 1}, got ${node}`);
    const t = this.clock();
    if (!this.draining && !this.stopped) this.drain(t, Infinity);
    if (online === (this.onlineArr[node] === 1)) return;
    if (online) this.onRejoin(node, t);
    else this.goOffline(node, t);
    if (this.running) this.arm();
  }

  item(id: number): SimItem | undefined {
    return this.items[id];
  }

  /** By txid, wtxid or block hash (wire order). */
  itemByHash(hash: Uint8Array): SimItem | undefined {
    if (hash.length < 32) return undefined;
    const id = this.byHash.get(hashKey(hash));
    return id === undefined ? undefined : this.items[id];
  }

  knows(node: number, itemId: number): boolean {
    return this.learned.knows(node, itemId);
  }

  /** When `node` learned the item (epoch ms), or NaN (not learned, or compacted: see retainItems). */
  learnedAt(node: number, itemId: number): number {
    return this.learned.learnedAt(node, itemId);
  }

  /** Every neighbour (outbound and inbound) of `node`. */
  neighbors(node: number): readonly number[] {
    return peersOf(this.topology, node, 'all');
  }

  /** The peers `node` opened links to. */
  outboundPeers(node: number): number[] {
    return peersOf(this.topology, node, 'out');
  }

  /** The peers that opened links to `node`. */
  inboundPeers(node: number): number[] {
    return peersOf(this.topology, node, 'in');
  }

  /** One-way latency of the u-v link as the model uses it (real ms, scaled), NaN when unlinked. */
  latency(u: number, v: number): number {
    for (let s = this.adjStart[u]!; s < this.adjStart[u + 1]!; s++) if (this.adjNode[s] === v) return this.latS[s]!;
    return NaN;
  }

  /** Validation delay of `node` for an item of `kind` (real ms, scaled). */
  validation(node: number, kind: ItemKind): number {
    return kind === 'block' ? this.valBlock[node]! : this.valTx[node]!;
  }

  online(node: number): boolean {
    return this.onlineArr[node] === 1;
  }

  /** Height of the best simulated block `node` knows, or its start height. */
  nodeHeight(node: number): number {
    return this.bestHeight[node]!;
  }

  /** Height of the newest simulated block (BASE_HEIGHT before the first). */
  get tipHeight(): number {
    return this.miner.height;
  }

  /** Ids of the simulated blocks, in chain order. */
  get blocks(): readonly number[] {
    return this.miner.blockIds;
  }

  get itemCount(): number {
    return this.items.length;
  }

  get stats(): SimStats {
    return { ...this.st, queued: this.queue.size, items: this.items.length, compacted: this.learned.compacted };
  }

  // -------------------------------------------------------------------------------------------
  // Scheduling

  private init(): void {
    if (this.initialized) return;
    this.initialized = true;
    const t0 = this.clock();
    // Learn times double as flags (their sign marks tentatives), so the clock must be positive.
    if (!(t0 > 0)) throw new RangeError(`clock must return positive epoch milliseconds, got ${t0}`);
    if (Number.isNaN(this.startedAt)) this.startedAt = t0;
    const o = this.options;
    if (o.txRate > 0) this.queue.push(t0 + this.rOrigin.exp(1000 / o.txRate / o.timeScale), EV_TX, -1, -1, -1, t0);
    if (o.blockIntervalMs > 0) this.queue.push(t0 + this.rOrigin.exp(o.blockIntervalMs / o.timeScale), EV_BLOCK, -1, -1, -1, t0);
    if (o.churnPerHour > 0) this.queue.push(t0 + this.rChurn.exp(this.leaveMean()), EV_LEAVE, -1, -1, -1, t0);
  }

  /** Mean real ms between two departures: churnPerHour x nodes per model hour. */
  private leaveMean(): number {
    return 3_600_000 / (this.options.churnPerHour * this.n) / this.options.timeScale;
  }

  private arm(): void {
    if (!this.running || this.immediate) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = this.queue.peekTime();
    if (next === Infinity) return;
    const delay = Math.min(Math.max(0, next - this.clock()), MAX_TIMER_MS);
    // Not unref'd: a started model keeps the process alive, as a server would.
    this.timer = setTimeout(this.onTimer, delay);
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.immediate = null;
    if (!this.running) return;
    const t = this.clock();
    const done = this.drain(t, DRAIN_SLICE_MS);
    if (!done && this.running) this.immediate = setImmediate(this.onTimer);
    else this.arm();
  };

  /**
   * Pops and processes events due at or before `until`. Stops early (returning false) after
   * `sliceMs` of work so a backlog does not starve the server's sockets.
   */
  private drain(until: number, sliceMs: number): boolean {
    if (this.draining) return true;
    this.draining = true;
    const q = this.queue;
    const started = sliceMs === Infinity ? 0 : performance.now();
    let k = 0;
    try {
      while (q.size > 0 && q.peekTime() <= until) {
        q.pop();
        this.st.events++;
        if (sliceMs !== Infinity) {
          const lag = until - q.t;
          if (lag > this.st.maxLagMs) this.st.maxLagMs = lag;
        }
        switch (q.kind) {
          case EV_LEARN:
            this.arrive(q.node, q.item, q.t, q.from, q.offer);
            break;
          case EV_TX:
            this.onOriginate(KIND_TX, q.t);
            break;
          case EV_BLOCK:
            this.onOriginate(KIND_BLOCK, q.t);
            break;
          case EV_LEAVE:
            this.onLeave(q.t);
            break;
          case EV_REJOIN:
            if (q.item === this.departures[q.node]) this.onRejoin(q.node, q.t);
            break;
        }
        if ((++k & 1023) === 0 && sliceMs !== Infinity && performance.now() - started > sliceMs) return false;
      }
      return true;
    } finally {
      this.draining = false;
    }
  }

  private onOriginate(kind: number, t: number): void {
    const o = this.options;
    const origin = this.randomOnline(this.rOrigin);
    if (origin >= 0) this.originate(kind, origin, t);
    if (kind === KIND_TX) this.queue.push(t + this.rOrigin.exp(1000 / o.txRate / o.timeScale), EV_TX, -1, -1, -1, t);
    else this.queue.push(t + this.rOrigin.exp(o.blockIntervalMs / o.timeScale), EV_BLOCK, -1, -1, -1, t);
  }

  /** A uniformly random online node, or -1 when none is. */
  private randomOnline(r: Rng): number {
    for (let i = 0; i < 64; i++) {
      const u = r.int(this.n);
      if (this.onlineArr[u]) return u;
    }
    const s = r.int(this.n);
    for (let i = 0; i < this.n; i++) if (this.onlineArr[(s + i) % this.n]) return (s + i) % this.n;
    return -1;
  }

  // -------------------------------------------------------------------------------------------
  // Items

  private originate(kind: number, origin: number, t: number): SimItem {
    const id = this.items.length;
    let item: SimItem;
    if (kind === KIND_TX) {
      const r = makeTx(this.rContent);
      item = { id, kind: 'tx', hash: r.txid, wtxid: r.wtxid, raw: r.raw, origin, createdAt: t };
      this.miner.addTx(id, r.weight);
    } else {
      item = this.miner.mine(id, origin, t, (t - this.startedAt) * this.options.timeScale, this.items, (u, tid) => this.knows(u, tid), this.rContent);
    }
    this.items.push(item);
    this.kinds.push(kind);
    this.byHash.set(hashKey(item.hash), id);
    if (kind === KIND_TX) this.byHash.set(hashKey(item.wtxid), id);
    this.learned.add();
    if (id >= this.pending.length) {
      const p = new Int32Array(this.pending.length * 2);
      p.set(this.pending);
      this.pending = p;
    }
    this.pending[id] = 0;
    this.truth?.item(item);
    for (let i = 0; i < this.itemFns.length; i++) this.itemFns[i]!(item);
    this.learn(origin, id, t, -1);
    if (this.pending[id] === 0) this.complete(id);
    return item;
  }

  /** Node `v` learns item `id` at `t` from `from`: record, emit, offer it to every neighbour. */
  private learn(v: number, id: number, t: number, from: number): void {
    const at = this.at[id]!;
    at[v] = t;
    this.st.learns++;
    const item = this.items[id]!;
    const fns = this.learnFns;
    for (let i = 0; i < fns.length; i++) fns[i]!(v, item, t);
    this.truth?.learn(v, id, t, from);
    const isBlock = this.kinds[id] === KIND_BLOCK;
    if (isBlock && item.height! > this.bestHeight[v]!) this.bestHeight[v] = item.height!;

    const adjNode = this.adjNode;
    const online = this.onlineArr;
    const val = isBlock ? this.valBlock : this.valTx;
    const s1 = this.adjStart[v + 1]!;
    let pushed = 0;
    for (let s = this.adjStart[v]!; s < s1; s++) {
      const w = adjNode[s]!;
      const cur = at[w]!;
      if ((cur > 0 && cur !== Infinity) || online[w] === 0) continue;
      // Core net_processing.cpp SendMessages: blocks go out at once; txs wait for the next firing
      // of the peer's trickle: per outbound peer (m_next_inv_send_time, 2 s mean) or the node's
      // one timer for all inbound peers (m_next_inv_to_inbounds, 5 s mean). Both are advanced as
      // Core does: when the stored firing has passed, the next is now + Exp(mean) (memoryless,
      // so this is the Poisson process sampled lazily); items learned before it leave together.
      let a = t;
      if (!isBlock) {
        if (this.adjOut[s]) {
          a = this.outNext[s]!;
          if (a < t) this.outNext[s] = a = t + this.rTrickle.exp(this.outMean);
        } else {
          a = this.inNext[v]!;
          if (a < t) this.inNext[v] = a = t + this.rTrickle.exp(this.inMean);
        }
      }
      const arrive = a + RELAY_TRIPS * this.latS[s]! + val[w]!;
      this.st.offers++;
      if (this.offerFns.length !== 0) for (const fn of this.offerFns) fn(v, w, id, t, a, arrive);
      if (cur === Infinity || arrive < -cur) {
        at[w] = -arrive;
        this.queue.push(arrive, EV_LEARN, w, id, v, t);
        pushed++;
      }
    }
    this.pending[id]! += pushed;
  }

  /** An offer's arrival: learn, unless either end left or rejoined since it was made. */
  private arrive(v: number, id: number, t: number, from: number, offer: number): void {
    this.pending[id]!--;
    const at = this.at[id]!;
    const cur = at[v]!;
    if (!(cur > 0 && cur !== Infinity)) {
      if (this.onlineArr[v] && this.lastChurn[v]! <= offer && (from < 0 || this.lastChurn[from]! <= offer)) {
        this.learn(v, id, t, from);
      } else {
        this.st.dropped++;
        if (cur === -t) at[v] = Infinity;
        if (this.onlineArr[v]) this.reoffer(v, id, t);
      }
    }
    if (this.pending[id] === 0) this.complete(id);
  }

  /**
   * The offer `v` was waiting for fell through (its sender left): every online neighbour that
   * knows the item announces it again at its next trickle firing from `t`. An approximation (the
   * neighbours' own earlier announcements, slower than the lost one, were not kept); it only
   * happens under churn and never makes a learn time earlier than a real path allows.
   */
  private reoffer(v: number, id: number, t: number): void {
    const at = this.at[id]!;
    const isBlock = this.kinds[id] === KIND_BLOCK;
    const val = isBlock ? this.valBlock[v]! : this.valTx[v]!;
    for (let s = this.adjStart[v]!; s < this.adjStart[v + 1]!; s++) {
      const u = this.adjNode[s]!;
      const lu = at[u]!;
      if (!(lu > 0 && lu !== Infinity) || !this.onlineArr[u] || this.lastChurn[u]! > lu) continue;
      const r = this.revSlot[s]!; // u's slot for v
      let a = t;
      if (isBlock) a = lu;
      else if (this.adjOut[r]) {
        a = this.outNext[r]!;
        if (a < t) this.outNext[r] = a = t + this.rTrickle.exp(this.outMean);
      } else {
        a = this.inNext[u]!;
        if (a < t) this.inNext[u] = a = t + this.rTrickle.exp(this.inMean);
      }
      const arrive = Math.max(t, a + RELAY_TRIPS * this.latS[s]! + val);
      const cur = at[v]!;
      if (cur === Infinity || arrive < -cur) {
        at[v] = -arrive;
        this.queue.push(arrive, EV_LEARN, v, id, u, t);
        this.pending[id]!++;
      }
    }
  }

  /** No offer of item `id` is queued any more: it reached everyone it will reach. */
  private complete(id: number): void {
    this.learned.complete(id, this.kinds[id] === KIND_TX);
  }

  // -------------------------------------------------------------------------------------------
  // Churn

  private onLeave(t: number): void {
    const u = this.randomOnline(this.rChurn);
    if (u >= 0) {
      this.goOffline(u, t);
      // The departure's number rides in the item field: a rejoin for an older departure (the node
      // was brought back by setOnline and left again since) is ignored.
      this.queue.push(t + this.rChurn.exp(this.options.churnDowntimeMs / this.options.timeScale), EV_REJOIN, u, this.departures[u]!, -1, t);
    }
    this.queue.push(t + this.rChurn.exp(this.leaveMean()), EV_LEAVE, -1, -1, -1, t);
  }

  /** Offline: its queued offers (both ways) fall through when they come due (see arrive). */
  private goOffline(u: number, t: number): void {
    this.onlineArr[u] = 0;
    this.lastChurn[u] = t;
    this.departures[u]!++;
    this.truth?.churn(u, false, t);
    for (let i = 0; i < this.churnFns.length; i++) this.churnFns[i]!(u, false, t);
  }

  /**
   * Back online with the same links. Transactions announced while it was away are not announced
   * again (Core announces a tx once, when it enters the mempool), so it never learns them; blocks
   * it missed it syncs at once from an online neighbour that has them (getheaders on connect).
   */
  private onRejoin(u: number, t: number): void {
    if (this.onlineArr[u]) return; // brought back early by setOnline
    this.onlineArr[u] = 1;
    this.lastChurn[u] = t;
    this.truth?.churn(u, true, t);
    for (let i = 0; i < this.churnFns.length; i++) this.churnFns[i]!(u, true, t);
    for (const id of this.miner.blockIds) {
      const at = this.at[id]!;
      const cur = at[u]!;
      if (cur > 0 && cur !== Infinity) continue;
      for (let s = this.adjStart[u]!; s < this.adjStart[u + 1]!; s++) {
        const w = this.adjNode[s]!;
        const lw = at[w]!;
        if (!(lw > 0 && lw !== Infinity && lw <= t) || !this.onlineArr[w]) continue;
        const arrive = t + SYNC_TRIPS * this.latS[s]! + this.valBlock[u]!;
        if (cur === Infinity || arrive < -cur) {
          at[u] = -arrive;
          this.queue.push(arrive, EV_LEARN, u, id, w, t);
          this.pending[id]!++;
        }
        break;
      }
    }
  }
}
