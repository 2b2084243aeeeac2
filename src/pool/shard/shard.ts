/**
 * A shard: the worker-thread side of the pool. Owns its sockets from connect to close, runs a Peer
 * per socket and writes every inv entry, headers header and cmpctblock straight from the frame
 * bytes into its observation ring (the `rawTap`, a hot path: no decode, no allocation per entry).
 * Runs inside a piscina worker (workers/shard.ts); must not import piscina or the coordinator.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Server } from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { SlicedTimer } from './timer.js';
import { listenPeers, type ConnectError } from '../../peer/net.js';
import { connectShardPeer, ShardPeer, shardTransport } from './socket.js';
import { connectPeerViaProxy } from './socks.js';
import { CloseReason, type Peer } from '../../peer/peer.js';
import { transportFactory } from '../../peer/transport.js';
import { Command } from '../../protocol/constants.js';
import type { MessageMap } from '../../protocol/registry.js';
import { statusCode } from '../../protocol/errors.js';
import { scanInv, invEntryOffset, invEntryType } from '../../protocol/messages/inventory.js';
import { scanHeaders, headersHashesInto } from '../../protocol/messages/headers.js';
import { sha256dInto } from '../../protocol/checksum.js';
import { Status } from '../../protocol/errors.js';
import { ipV1ToString, netAddrFromV1, netAddrNetwork, netAddrToString } from '../../protocol/messages/address.js';
import { MAX_HEADERS_RESULTS } from '../../protocol/constants.js';
import { RingWriter } from '../../observe/ring.js';
import { Kind } from '../../observe/kinds.js';
import { GUARD, TokenBucket } from './guard.js';
import { Fault, LocalClose } from '../../peer/faults.js';
import { HandlerHost } from './handlers.js';
import { now } from '../../observe/clock.js';
import { INBOUND_PEER_BASE, type FromShard, type LearnedAddress, type ShardCounters, type ShardTask, type ToShard } from '../messages.js';

/** Block header size: a cmpctblock starts with one (BIP152). */
const BLOCK_HEADER_SIZE = 80;
/** inv type written for block announcements by headers/cmpctblock (MSG_BLOCK). */
const MSG_BLOCK = 2;
/** Hashes of one headers message (at most MAX_HEADERS_RESULTS); one buffer per thread. */
const hashScratch = new Uint8Array(MAX_HEADERS_RESULTS * 32);

/** Never-decoded commands: the ring carries them; forwarding them would defeat the tap. */
const RING_COMMANDS = new Set(['inv', 'headers', 'cmpctblock']);

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

interface Slot {
  index: number;
  peer: Peer | null;
  /** close requested while the connect was pending */
  cancelled: boolean;
  ready: boolean;
  /** Ring records this peer may still write (guard.ts); made at setup. */
  records: TokenBucket | null;
  /** Addresses this peer may still pass on (Core's addr rate limit); made at setup. */
  addrs: TokenBucket | null;
}

export class Shard {
  readonly shard: number;
  private readonly port: MessagePort;
  private readonly writer: RingWriter;
  private readonly options: ShardTask['options'];
  private readonly slots = new Map<number, Slot>();
  private readonly pending = new Set<Promise<unknown>>();
  private forward = new Set<string>();
  private msgSeq = 0;
  private dirty = false;
  private stopping = false;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  private server: Server | null = null;
  /** The user's handler module, when one is configured (handlers.ts). */
  private handlers: HandlerHost | null = null;
  /** The peers' deadlines, walked in slices (timer.ts). */
  private readonly timer = new SlicedTimer();
  /** Event-loop delay of this thread since the last stats post (how long a socket read may wait). */
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 2 });
  private nextInbound = 0;
  /** Slots of peers that are not ShardPeers (inbound and proxied ones); a ShardPeer carries its own. */
  private readonly otherSlots = new Map<Peer, Slot>();
  private resolveDone!: (c: ShardCounters) => void;
  readonly done: Promise<ShardCounters>;
  private readonly c: ShardCounters;
  /** Bound once: queued as a microtask after the first record of a read. */
  private readonly flush = (): void => {
    this.dirty = false;
    this.publish();
  };

  constructor(task: ShardTask) {
    this.shard = task.shard;
    this.port = task.port;
    this.options = task.options;
    this.writer = new RingWriter(task.ring);
    this.c = { shard: task.shard, peers: 0, ready: 0, pending: 0, records: 0, drops: 0, publishes: 0, frames: 0, malformed: 0, bytesIn: 0, handlerCalls: 0, handlerErrors: 0, handlerPosts: 0, sendErrors: 0, loopDelayMs: { p50: 0, p99: 0, max: 0 }, invFlood: 0, addrRateLimited: 0 };
    this.loopDelay.enable();
    for (const cmd of task.options.forward) if (!RING_COMMANDS.has(cmd)) this.forward.add(cmd);
    this.done = new Promise((res) => (this.resolveDone = res));
    this.port.on('message', (m: ToShard) => this.onMessage(m));
    this.statsTimer = setInterval(() => {
      this.post({ type: 'stats', counters: this.counters() });
      this.loopDelay.reset();
    }, task.options.statsIntervalMs);
    void this.begin();
  }

  /** Loads the user's handler module (if any), listens (the listening shard), then says 'started'. */
  private async begin(): Promise<void> {
    const o = this.options;
    let handlersError: string | undefined;
    if (o.handlers !== undefined) {
      const access = { shard: this.shard, peer: (i: number) => this.slots.get(i)?.peer ?? null, post: (m: FromShard) => this.post(m) };
      try {
        this.handlers = await HandlerHost.load(access, o.handlers, o.handlerOptions);
      } catch (e) {
        // Reported with 'started': the coordinator's start() rejects with this message.
        handlersError = (e as Error).message;
      }
    }
    const listened = o.listen ? await this.listen(o.listen) : {};
    this.post({ type: 'started', shard: this.shard, ...listened, ...(handlersError !== undefined ? { handlersError } : {}) });
  }

  /**
   * The listening shard: inbound sockets are accepted on this thread (Node 20 cannot hand a socket
   * to another thread) and run like outbound peers. A failed listen is reported, not fatal.
   */
  private async listen(at: { host: string; port: number }): Promise<{ listening?: string; listenError?: string }> {
    const o = this.options;
    try {
      this.server = await listenPeers(
        {
          network: o.network,
          host: at.host,
          port: at.port,
          maxPeers: o.maxInbound,
          ...o.peer,
          // A v2 responder serves v1 peers too (it recognises a v1 version header).
          transport: transportFactory(o.transport === 'v1' ? 'v1' : 'v2', 'inbound', o.network.magic),
          timer: this.timer,
          rawTap: this.rawTap,
        },
        (peer) => this.accept(peer),
      );
      const a = this.server.address() as { address: string; port: number };
      return { listening: hostPort(a.address, a.port) };
    } catch (e) {
      return { listenError: (e as NodeJS.ErrnoException).code ?? String(e) };
    }
  }

  private accept(peer: Peer): void {
    if (this.stopping) {
      peer.close(CloseReason.LOCAL, LocalClose.STOP);
      return;
    }
    const index = (INBOUND_PEER_BASE + (this.nextInbound++ % INBOUND_PEER_BASE)) >>> 0;
    const slot: Slot = { index, peer: null, cancelled: false, ready: false, records: null, addrs: null };
    this.slots.set(index, slot);
    this.post({ type: 'inbound', peer: index, address: hostPort(peer.remoteHost, peer.remotePort) });
    this.setup(slot, peer, false);
  }

  /**
   * Posts an event, publishing the ring first: a record of a peer is then always visible to the
   * coordinator before any later event of that peer (the port message happens-after the store).
   */
  private post(m: FromShard): void {
    this.publish();
    this.port.postMessage(m);
  }

  private publish(): void {
    this.writer.publish();
    this.c.publishes++;
  }

  counters(): ShardCounters {
    let ready = 0;
    let open = 0;
    let pending = 0;
    for (const s of this.slots.values()) {
      if (s.peer === null) pending++;
      else {
        open++;
        if (s.ready) ready++;
      }
    }
    const h = this.handlers;
    const d = this.loopDelay;
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    const loopDelayMs = d.count > 0 ? { p50: ms(d.percentile(50)), p99: ms(d.percentile(99)), max: ms(d.max) } : { p50: 0, p99: 0, max: 0 };
    return { ...this.c, peers: open, ready, pending, loopDelayMs, ...(h ? { handlerCalls: h.calls, handlerErrors: h.errors, handlerPosts: h.posts } : {}) };
  }

  private onMessage(m: ToShard): void {
    switch (m.type) {
      case 'connect':
        if (!this.stopping) this.connect(m.peer, m.host, m.port, m.proxy === true, m.transport ?? 'v1');
        return;
      case 'send': {
        const s = this.slots.get(m.peer);
        const p = s?.peer;
        try {
          // Core: +1,000 addr tokens for each getaddr we send.
          if (p?.isReady && p.send(m.command as any, m.payload as any) && m.command === 'getaddr') s!.addrs?.add(GUARD.ADDR_BUCKET);
        } catch {
          // A message from pool.send() that does not encode: counted, never fatal to the shard.
          this.c.sendErrors++;
        }
        return;
      }
      case 'close': {
        const s = this.slots.get(m.peer);
        if (!s) return;
        if (s.peer) s.peer.close(CloseReason.LOCAL, LocalClose.COORDINATOR);
        else s.cancelled = true;
        return;
      }
      case 'tap':
        this.forward = new Set(m.commands.filter((c) => !RING_COMMANDS.has(c)));
        return;
      case 'stop':
        void this.stop();
        return;
      case 'crash':
        // Test-only. Published records stay in the shared ring; everything else of this thread dies.
        if (m.how === 'exit') process.exit(70);
        throw new Error(`shard ${this.shard}: crash requested`);
    }
  }

  private connect(index: number, host: string, port: number, viaProxy: boolean, transport: 'v1' | 'v2'): void {
    const slot: Slot = { index, peer: null, cancelled: false, ready: false, records: null, addrs: null };
    this.slots.set(index, slot);
    const o = this.options;
    if (viaProxy && !o.proxy) {
      // The coordinator only asks for this with a proxy configured; answer as a failed connect anyway.
      queueMicrotask(() => {
        this.slots.delete(index);
        this.post({ type: 'failed', peer: index, code: 'ERR_NO_PROXY' });
      });
      return;
    }
    const opts = {
      network: o.network,
      host,
      port,
      ...o.peer,
      connectTimeoutMs: o.connectTimeoutMs,
      transport: shardTransport(transport, o.network.magic),
      timer: this.timer,
      rawTap: this.rawTap,
    };
    const setup = (peer: Peer): void => this.setup(slot, peer);
    const p = (viaProxy ? connectPeerViaProxy({ ...opts, proxy: o.proxy!, setup }) : connectShardPeer({ ...opts, setup })).then(
      (peer) => {
        this.pending.delete(p);
        if (slot.cancelled || this.stopping) peer.close(CloseReason.LOCAL, LocalClose.COORDINATOR);
      },
      (e: ConnectError) => {
        this.pending.delete(p);
        this.slots.delete(index);
        this.post({ type: 'failed', peer: index, code: e.code ?? 'ERR_CONNECT' });
      },
    );
    this.pending.add(p);
  }

  /**
   * Registers the shard's listeners on a peer before it sends anything. They are shared by every
   * peer of the shard (no closure per peer: at 10,000 peers closures are kilobytes each): the
   * peer's slot is found through the peer (a ShardPeer carries it, others are in otherSlots).
   */
  private setup(slot: Slot, peer: Peer, outbound = true): void {
    slot.peer = peer;
    const t0 = now();
    const o = this.options;
    slot.records = new TokenBucket(o.invBurst, o.invPerSecond, t0);
    slot.addrs = new TokenBucket(GUARD.ADDR_BUCKET, GUARD.ADDR_PER_SECOND, t0, GUARD.ADDR_INITIAL);
    if (peer instanceof ShardPeer) {
      peer.index = slot.index;
      peer.slot = slot;
    } else this.otherSlots.set(peer, slot);
    if (outbound) this.post({ type: 'connected', peer: slot.index });
    peer.on('ready', this.onReady);
    peer.on('message', this.onPeerMessage);
    peer.on('close', this.onClose);
  }

  private slotOf(peer: Peer): Slot | undefined {
    return peer instanceof ShardPeer ? (peer.slot as Slot) : this.otherSlots.get(peer);
  }

  private readonly onReady = (peer: Peer): void => {
    const slot = this.slotOf(peer);
    if (!slot) return;
    slot.ready = true;
    const r = peer.remote!;
    const remote = {
      version: r.version,
      services: r.services.toString(),
      userAgent: r.userAgent,
      startHeight: r.startHeight,
      relay: r.relay,
      addrRecv: hostPort(ipV1ToString(r.addrRecv.ip), r.addrRecv.port),
      wtxidRelay: r.wtxidRelay,
      sendAddrV2: r.sendAddrV2,
    };
    this.post({ type: 'ready', peer: slot.index, remote, transport: peer.transport.kind });
    this.handlers?.peerReady(slot.index, remote, peer.rxTime);
  };

  /** Every decoded message (inv, headers and cmpctblock never get here: the raw tap consumes them). */
  private readonly onPeerMessage = (command: string, msg: any, peer: Peer): void => {
    const slot = this.slotOf(peer);
    if (!slot) return;
    const index = slot.index;
    if (command === 'addr' || command === 'addrv2') {
      const all = (msg as MessageMap['addr'] | MessageMap['addrv2']).addrs;
      const allowed = this.addrAllowed(slot, peer, all.length);
      if (allowed < all.length) msg = { ...msg, addrs: all.slice(0, allowed) };
    }
    if (command === 'addr' && msg.addrs.length > 0) {
      const addrs: LearnedAddress[] = (msg as MessageMap['addr']).addrs.map((a) => ({
        address: hostPort(ipV1ToString(a.ip), a.port),
        network: netAddrNetwork(netAddrFromV1(a.ip)),
        services: a.services.toString(),
        time: a.time,
      }));
      this.post({ type: 'addr', peer: index, command: 'addr', addrs });
    } else if (command === 'addrv2' && msg.addrs.length > 0) {
      const addrs: LearnedAddress[] = (msg as MessageMap['addrv2']).addrs.map((a) => ({
        address: hostPort(netAddrToString(a), a.port),
        network: netAddrNetwork(a),
        services: a.services.toString(),
        time: a.time,
      }));
      this.post({ type: 'addr', peer: index, command: 'addrv2', addrs });
    }
    const h = this.handlers;
    if (h !== null && peer.isReady && h.wantsDecoded(command)) h.message(index, command, msg, peer.rxTime);
    // Only what the coordinator asked for; addr/addrv2 already went out above.
    if (this.forward.has(command) && command !== 'addr' && command !== 'addrv2') {
      try {
        this.post({ type: 'message', peer: index, command, msg });
      } catch {
        /* not clonable (should not happen for decoded messages): dropped */
      }
    }
  };

  private readonly onClose = (reason: string, peer: Peer): void => {
    const slot = this.slotOf(peer);
    if (!slot) return;
    const index = slot.index;
    this.slots.delete(index);
    this.otherSlots.delete(peer);
    this.c.bytesIn += peer.stats.bytesIn;
    const t = peer.transport;
    this.post({ type: 'closed', peer: index, reason, detail: peer.stats.closeDetail, wasReady: slot.ready, stats: peer.stats.toJSON(), transport: t.kind, reconnectV1: t.shouldReconnectV1 === true });
    if (slot.ready) this.handlers?.peerClosed(index, reason, now());
  };

  /**
   * Core's addr rate limit (net_processing.cpp ProcessAddrs): a peer's addresses beyond its token
   * bucket are dropped and counted (`addrRateLimited`, fault ADDR_RATE_LIMITED), never posted, so
   * an addr flood costs the coordinator nothing. The peer stays (Core keeps it too).
   */
  private addrAllowed(slot: Slot, peer: Peer, n: number): number {
    const k = slot.addrs ? slot.addrs.takeUpTo(n, peer.rxTime) : n;
    if (k < n) {
      this.c.addrRateLimited += n - k;
      peer.stats.fault(Fault.ADDR_RATE_LIMITED);
    }
    return k;
  }

  /**
   * A peer over its record budget (guard.ts): counted and closed as `inv-flood` before any entry of
   * the message reaches the ring. Consumed (returns true) so the frame is not decoded.
   */
  private flood(peer: Peer, n: number): boolean {
    this.c.invFlood++;
    peer.stats.fault(Fault.INV_FLOOD);
    peer.close(CloseReason.INV_FLOOD, `${n} entries over the budget`);
    return true;
  }

  /** Takes `n` records from the peer's budget. */
  private budget(peer: Peer, n: number): boolean {
    const b = this.slotOf(peer)?.records;
    return b ? b.take(n, peer.rxTime) : true;
  }

  /** The peers' shared raw tap: finds the peer's index, then `tap`. */
  private readonly rawTap = (cmd: number, buf: Uint8Array, off: number, len: number, peer: Peer): boolean => {
    const index = peer instanceof ShardPeer ? peer.index : (this.otherSlots.get(peer)?.index ?? 0);
    return this.tap(index, cmd, buf, off, len, peer);
  };

  /**
   * The raw tap (hot path): inv entries, headers and cmpctblock go to the ring from the frame's
   * bytes, with the read's receive time. Returns true for those three (never decoded).
   */
  private tap(index: number, cmd: number, buf: Uint8Array, off: number, len: number, peer: Peer): boolean {
    const h = this.handlers;
    if (h !== null && h.tapped[cmd] === 1) h.frame(index, cmd, buf, off, len, peer.rxTime);
    const w = this.writer;
    if (cmd === Command.inv) {
      this.c.frames++;
      const n = scanInv(buf, off, len);
      if (n < 0) return this.malformed(peer, -n, 'inv');
      if (!this.budget(peer, n)) return this.flood(peer, n);
      const seq = this.msgSeq++;
      const t = peer.rxTime;
      let accepted = 0;
      for (let i = 0; i < n; i++) {
        const e = invEntryOffset(off, n, i);
        if (w.push(t, index, Kind.INV, i, invEntryType(buf, e), seq, buf, e + 4)) accepted++;
      }
      this.counted(accepted, n);
      return true;
    }
    if (cmd === Command.headers) {
      this.c.frames++;
      const n = scanHeaders(buf, off, len);
      if (n < 0) return this.malformed(peer, -n, 'headers');
      if (n > 0 && !this.budget(peer, n)) return this.flood(peer, n);
      if (n === 0) return true; // an empty headers (an answer to getheaders) announces nothing
      headersHashesInto(buf, off, n, hashScratch, 0);
      const seq = this.msgSeq++;
      const t = peer.rxTime;
      let accepted = 0;
      for (let i = 0; i < n; i++) if (w.push(t, index, Kind.HEADERS, i, MSG_BLOCK, seq, hashScratch, i * 32)) accepted++;
      this.counted(accepted, n);
      return true;
    }
    if (cmd === Command.cmpctblock) {
      this.c.frames++;
      // Only the header is read: the short ids and prefilled txs are not needed to know the block.
      if (len < BLOCK_HEADER_SIZE) return this.malformed(peer, Status.TRUNCATED, 'cmpctblock');
      if (!this.budget(peer, 1)) return this.flood(peer, 1);
      sha256dInto(buf, off, BLOCK_HEADER_SIZE, hashScratch, 0);
      const ok = w.push(peer.rxTime, index, Kind.CMPCTBLOCK, 0, MSG_BLOCK, this.msgSeq++, hashScratch, 0);
      this.counted(ok ? 1 : 0, 1);
      return true;
    }
    return false;
  }

  private counted(accepted: number, n: number): void {
    this.c.records += accepted;
    this.c.drops += n - accepted;
    // One publish per socket read: microtasks run once the read's data callback returns, so every
    // frame of the read is in before the single Atomics.store.
    if (!this.dirty) {
      this.dirty = true;
      queueMicrotask(this.flush);
    }
  }

  private malformed(peer: Peer, status: number, _what: string): boolean {
    // Counted, not disconnected: consumed so the decoder does not count it a second time.
    this.c.malformed++;
    peer.stats.fault(statusCode(status));
    return true;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.loopDelay.disable();
    this.server?.close();
    for (const s of [...this.slots.values()]) {
      if (s.peer) s.peer.close(CloseReason.LOCAL, LocalClose.STOP);
      else s.cancelled = true;
    }
    // Pending connects close their peer as soon as they resolve; loopback ones do at once. Bounded
    // by the connect timeout; the coordinator destroys the thread after the task in any case.
    if (this.pending.size > 0) await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => setTimeout(r, 1_000))]);
    // The handlers' last word (a summary post), bounded like the connects above.
    if (this.handlers) await Promise.race([this.handlers.stop(), new Promise((r) => setTimeout(r, 1_000))]);
    const counters = this.counters();
    this.post({ type: 'stopped', counters });
    this.port.close();
    this.resolveDone(counters);
  }
}

/** The piscina task: runs a shard until it is told to stop. */
export function runShard(task: ShardTask): Promise<ShardCounters> {
  return new Shard(task).done;
}
