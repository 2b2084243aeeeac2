/**
 * The simulator server's announcements to observers, as Core's SendMessages towards an inbound
 * peer (net_processing.cpp): tx inv trickled on one Poisson timer per node shared by all its
 * observers (at most broadcast_max entries a firing), blocks at once as cmpctblock, headers or
 * inv by the observer's choice. The timers are one EventQueue (src/sim/queue.ts) behind one
 * setTimeout. Simulator process, main thread; hot (every learned item of an observed node).
 */
import { InvType } from '../protocol/constants.js';
import type { InvEntry } from '../protocol/messages/inventory.js';
import { now } from '../observe/clock.js';
import { EventQueue } from './queue.js';
import type { Rng } from './rng.js';
import type { SimChain } from './chain.js';
import type { Conn, SimModelView, SimServerStats, SimTruthSink } from './conn.js';
import type { SimItem } from './types.js';

/** Core net_processing.cpp INVENTORY_BROADCAST_PER_SECOND (7) x INBOUND_INVENTORY_BROADCAST_INTERVAL (5 s). */
export const INVENTORY_BROADCAST_TARGET = 35;
/** Core net_processing.cpp INVENTORY_BROADCAST_MAX: the most tx inv entries per trickle. */
export const INVENTORY_BROADCAST_MAX = 1000;
/** Pending entries already sent before the queue is compacted (bounds the array's dead head). */
const COMPACT_AFTER = 4096;
/** The one event kind on the trickle queue: a node's next inbound trickle. */
const EV_TRICKLE = 0;

export interface AnnouncerDeps {
  model: SimModelView;
  truth: SimTruthSink | null;
  stats: SimServerStats;
  chain: SimChain;
  /** The server's seeded stream (trickle draws). */
  rng: Rng;
  /** Mean of the per-node tx trickle, real ms. */
  trickleMeanMs: number;
  /** Observer connections of a node (undefined or empty: none). */
  observersOf(node: number): readonly Conn[] | undefined;
}

export class Announcer {
  private readonly d: AnnouncerDeps;
  private readonly scheduled: Uint8Array;
  private readonly queue = new EventQueue(64);
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = Infinity;
  private stopped = false;

  constructor(deps: AnnouncerDeps) {
    this.d = deps;
    this.scheduled = new Uint8Array(deps.model.nodes.length);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** A node learned an item: queue it (tx) or announce it (block) to each of its observers. */
  onLearn(node: number, item: SimItem): void {
    if (item.kind === 'block') this.d.chain.add(item);
    const list = this.d.observersOf(node);
    if (list === undefined || list.length === 0) return;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      // Core queues for a peer from its version on (RelayTransaction, UpdatedBlockTip) and sends
      // once the handshake is done (SendMessages skips peers that are not fully connected).
      if (!c.versioned) continue;
      if (item.kind === 'tx') {
        // Core: a peer whose version said relay=0 gets no tx inv at all.
        if (c.relay) c.pending.push(item.id);
      } else if (c.ready) {
        this.announceBlock(c, item);
      } else {
        (c.earlyBlocks ??= []).push(item);
      }
    }
  }

  /** The handshake completed: blocks learned during it go out, and the node's trickle runs. */
  onReady(c: Conn): void {
    if (c.earlyBlocks) for (const b of c.earlyBlocks) this.announceBlock(c, b);
    c.earlyBlocks = null;
    this.schedule(c.node);
  }

  /** Puts a node on the trickle queue if it is not there. */
  private schedule(node: number): void {
    if (this.scheduled[node] || this.stopped) return;
    this.scheduled[node] = 1;
    // Core: m_next_inv_to_inbounds = now + rand_exp_duration(INBOUND_INVENTORY_BROADCAST_INTERVAL),
    // one timer per node shared by all its inbound peers.
    this.queue.push(now() + this.d.rng.exp(this.d.trickleMeanMs), EV_TRICKLE, node, 0, 0, 0);
    this.arm();
  }

  private arm(): void {
    const next = this.queue.peekTime();
    if (next === Infinity || next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.stopped) return;
    const t = now();
    const q = this.queue;
    while (q.peekTime() <= t) {
      q.pop();
      const node = q.node;
      this.scheduled[node] = 0;
      const list = this.d.observersOf(node);
      if (list === undefined || list.length === 0) continue; // no observers: the node leaves the queue
      for (let i = 0; i < list.length; i++) this.flush(list[i]!);
      this.scheduled[node] = 1;
      q.push(t + this.d.rng.exp(this.d.trickleMeanMs), EV_TRICKLE, node, 0, 0, 0);
    }
    this.arm();
  }

  /** Sends the pending tx inv of one observer (at most Core's broadcast_max entries). */
  private flush(c: Conn): void {
    const queued = c.pending.length - c.head;
    // writableEnded: a `truncated` node has sent its FIN; what it queued after would never leave.
    if (!c.ready || queued <= 0 || c.socket.writableEnded) return;
    const peer = c.peer!;
    const wtxid = peer.remote?.wtxidRelay === true;
    // Core: broadcast_max = min(INVENTORY_BROADCAST_MAX, TARGET + queue size / 1000 * 5).
    const max = Math.min(INVENTORY_BROADCAST_MAX, INVENTORY_BROADCAST_TARGET + Math.floor(queued / 1000) * 5);
    const n = Math.min(max, queued);
    const inventory: InvEntry[] = new Array(n);
    const ids: number[] = new Array(n);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const id = c.pending[c.head + i]!;
      const item = this.d.model.item(id);
      if (!item) continue;
      ids[k] = id;
      inventory[k++] = wtxid ? { type: InvType.MSG_WTX, hash: item.wtxid } : { type: InvType.MSG_TX, hash: item.hash };
    }
    inventory.length = k;
    ids.length = k;
    const t = now();
    if (k > 0 && !peer.send('inv', { inventory })) return; // backpressure: the entries stay queued
    c.head += n;
    if (c.head === c.pending.length) {
      c.pending.length = 0;
      c.head = 0;
    } else if (c.head > COMPACT_AFTER && c.head * 2 > c.pending.length) {
      c.pending = c.pending.slice(c.head);
      c.head = 0;
    }
    this.d.stats.invTx += k;
    const truth = this.d.truth;
    if (truth) for (let i = 0; i < k; i++) truth.announce(c.node, ids[i]!, peer.id, t, 'inv');
  }

  private announceBlock(c: Conn, item: SimItem): void {
    const blocks = (c.blocks ??= new Set());
    if (blocks.has(item.id) || c.socket.writableEnded) return;
    const peer = c.peer!;
    const r = peer.remote;
    const stats = this.d.stats;
    let how: 'inv' | 'headers' | 'cmpctblock';
    let ok: boolean;
    let t: number;
    // Core: high-bandwidth compact peers (sendcmpct announce=1, version 2) get cmpctblock from
    // NewPoWValidBlock; peers that sent sendheaders get headers; the rest inv.
    if (r?.cmpct && r.cmpct.announce && r.cmpct.version === 2n) {
      how = 'cmpctblock';
      const payload = this.d.chain.cmpctPayload(item);
      t = now();
      ok = peer.sendRaw('cmpctblock', payload);
      if (ok) stats.cmpctblock++;
    } else if (r?.sendHeaders) {
      how = 'headers';
      const payload = this.d.chain.data(item).headersPayload;
      t = now();
      ok = peer.sendRaw('headers', payload);
      if (ok) stats.headers++;
    } else {
      how = 'inv';
      t = now();
      ok = peer.send('inv', { inventory: [{ type: InvType.MSG_BLOCK, hash: item.hash }] });
      if (ok) stats.invBlock++;
    }
    if (!ok) return;
    blocks.add(item.id);
    this.d.truth?.announce(c.node, item.id, peer.id, t, how);
  }
}
