/**
 * The simulator's server: every simulated node answers observers on its own loopback address with
 * the real peer module, as Bitcoin Core v28+ answers an inbound peer (net_processing.cpp: version,
 * wtxidrelay, sendaddrv2, verack, then sendcmpct(0, 2), ping, feefilter; getaddr, getdata,
 * getheaders; tx inv trickled on one Poisson timer per node, blocks at once). One listening socket
 * serves all nodes (see README "Server"). Simulator process, main thread; the announce path is hot.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { Peer, CloseReason, CoarseTimer, attachStream, transportFactory } from '../peer/index.js';
import { NODE_P2P_V2 } from './identity.js';
import { InvType, MAX_ADDR_TO_SEND, MAX_HEADERS_RESULTS, type NetworkParams } from '../protocol/constants.js';
import { encodeMessage, type MessageMap } from '../protocol/registry.js';
import { Reader } from '../protocol/reader.js';
import { decodeBlock, decodeHeader, type BlockHeader } from '../protocol/messages/block.js';
import { shortIdKey, shortIds, type CmpctBlockMessage } from '../protocol/messages/compact.js';
import { NetworkId, type AddrEntry, type AddrV2Entry } from '../protocol/messages/address.js';
import type { InvEntry } from '../protocol/messages/inventory.js';
import { toHex } from '../protocol/hex.js';
import { encodeFrame } from '../transport/v1.js';
import { now } from '../observe/clock.js';
import type { Misbehaviour, SimItem, SimNodeInfo } from './types.js';
import {
  AFTER_HANDSHAKE,
  MISBEHAVE,
  badChecksumFrame,
  badMagicFrame,
  floodChunks,
  garbageBytes,
  invFloodFrame,
  oversizeHeader,
  pump,
  tinyFlood,
  truncatedFrame,
} from './misbehave.js';

/** What the server needs of the model (src/sim/model.ts SimModel satisfies it). */
export interface SimModelView {
  readonly options: { readonly seed: number; readonly timeScale: number; readonly inboundTrickleMs: number };
  readonly nodes: readonly SimNodeInfo[];
  on(event: 'learn', fn: (node: number, item: SimItem, t: number) => void): void;
  on(event: 'churn', fn: (node: number, online: boolean, t: number) => void): void;
  item(id: number): SimItem | undefined;
  itemByHash(hash: Uint8Array): SimItem | undefined;
  knows(node: number, itemId: number): boolean;
  neighbors(node: number): readonly number[];
  online(node: number): boolean;
  /** Height of the best block the node knows (its version's start height), when the model tracks it. */
  nodeHeight?(node: number): number;
}

/** What the server writes to the ground truth (src/sim/truth.ts TruthWriter satisfies it). */
export interface SimTruthSink {
  announce(node: number, itemId: number, observer: string, t: number, how: 'inv' | 'headers' | 'cmpctblock'): void;
  misbehave(node: number, what: string, t: number): void;
}

export interface SimServerOptions {
  network: NetworkParams;
  /** @default network.defaultPort; 0 picks a free port (read `port` after listen) */
  port?: number;
  /** Where the one listening socket binds. @default '0.0.0.0' (every 127.x.y.z; non-loopback peers are dropped) */
  host?: string;
  /** Mean of the per-node tx trickle (real ms). @default model.options.inboundTrickleMs / timeScale (Core: 5 s) */
  trickleMeanMs?: number;
  /** The feefilter sent after the handshake, sat/kvB. @default 1000n (Core DEFAULT_MIN_RELAY_TX_FEE) */
  feeFilter?: bigint;
  /** Delay between a misbehaving node's handshake and its bad bytes (real ms). @default 1000 */
  misbehaveAfterMs?: number;
  /** @default MISBEHAVE.BAD_CHECKSUM_INTERVAL_MS */
  badChecksumIntervalMs?: number;
  /** @default MISBEHAVE.DRIP_INTERVAL_MS */
  dripIntervalMs?: number;
  /** Coarse timer for the peers' handshake/ping/idle deadlines. @default a 1 s timer of its own */
  timer?: CoarseTimer;
}

/** Core net_processing.cpp INVENTORY_BROADCAST_PER_SECOND (7) x INBOUND_INVENTORY_BROADCAST_INTERVAL (5 s). */
export const INVENTORY_BROADCAST_TARGET = 35;
/** Core net_processing.cpp INVENTORY_BROADCAST_MAX: the most tx inv entries per trickle. */
export const INVENTORY_BROADCAST_MAX = 1000;
/** Core net_processing.cpp MAX_PCT_ADDR_TO_SEND: a getaddr answer holds 23 % of the address table. */
const MAX_PCT_ADDR_TO_SEND = 23;
/** Share of a getaddr answer (addrv2 only) that is Tor v3 / I2P addresses leading nowhere. */
const FAKE_ADDR_SHARE = 0.1;
/** BIP155 Tor v3 addresses carry the node's port; I2P has no ports (Core I2P_SAM31_PORT = 0). */
const I2P_PORT = 0;

export interface SimServerStats {
  accepted: number;
  /** Sockets dropped at once: remote not loopback, or dialed at an address that is no node. */
  refused: number;
  /** Sockets to a node that is offline (churned out): reset at once. */
  offline: number;
  /** Observers connected now (after the TCP accept, handshake or not). */
  connected: number;
  /** Observers whose handshake completed, now. */
  ready: number;
  /** Announcements (one per item per observer) by how. */
  invTx: number;
  invBlock: number;
  headers: number;
  cmpctblock: number;
  /** Messages answering getdata (tx, block, notfound), getaddr and getheaders. */
  served: number;
  misbehaviours: number;
}

/** One observer connection to one simulated node. */
class Conn {
  readonly node: number;
  readonly socket: Socket;
  peer: Peer | null = null;
  /** Their version arrived: from here on items are queued for them (Core sets up tx relay at version). */
  versioned = false;
  ready = false;
  /** Blocks learned between their version and the end of the handshake, announced at its end. */
  earlyBlocks: SimItem[] | null = null;
  /** Relay flag and feature choices, copied from the remote's version at ready. */
  relay = true;
  /** Tx item ids learned since the last trickle, FIFO from `head`. */
  pending: number[] = [];
  head = 0;
  /** Blocks already announced (few per run, so a Set is cheap). */
  blocks: Set<number> | null = null;
  getaddrDone = false;
  timers: ReturnType<typeof setTimeout>[] = [];
  closed = false;

  constructor(node: number, socket: Socket) {
    this.node = node;
    this.socket = socket;
  }

  get observer(): string {
    return this.peer ? this.peer.id : `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }
}

/** A min-heap of (fire time, node): the next trickle of every node that has observers. */
class TrickleHeap {
  private t: Float64Array;
  private n: Int32Array;
  size = 0;
  constructor(cap: number) {
    this.t = new Float64Array(Math.max(cap, 1));
    this.n = new Int32Array(Math.max(cap, 1));
  }
  push(time: number, node: number): void {
    if (this.size === this.t.length) {
      const t = new Float64Array(this.size * 2);
      t.set(this.t);
      const n = new Int32Array(this.size * 2);
      n.set(this.n);
      this.t = t;
      this.n = n;
    }
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.t[p]! <= time) break;
      this.t[i] = this.t[p]!;
      this.n[i] = this.n[p]!;
      i = p;
    }
    this.t[i] = time;
    this.n[i] = node;
  }
  peekTime(): number {
    return this.size > 0 ? this.t[0]! : Infinity;
  }
  /** Removes the head; returns its node. */
  pop(): number {
    const top = this.n[0]!;
    const last = --this.size;
    if (last > 0) {
      const time = this.t[last]!;
      const node = this.n[last]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= last) break;
        const r = l + 1;
        const c = r < last && this.t[r]! < this.t[l]! ? r : l;
        if (this.t[c]! >= time) break;
        this.t[i] = this.t[c]!;
        this.n[i] = this.n[c]!;
        i = c;
      }
      this.t[i] = time;
      this.n[i] = node;
    }
    return top;
  }
}

/** mulberry32: the server's own seeded stream (getaddr picks, fake addresses, trickle draws). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 127.0.0.0/8, plain or IPv4-mapped. */
export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  if (addr.startsWith('::ffff:')) addr = addr.slice(7);
  return addr.startsWith('127.') || addr === '::1';
}

function ipv4Bytes(host: string): Uint8Array {
  const p = host.split('.').map(Number);
  return Uint8Array.of(p[0]!, p[1]!, p[2]!, p[3]!);
}

function v4Mapped(host: string): Uint8Array {
  const ip = new Uint8Array(16);
  ip[10] = 0xff;
  ip[11] = 0xff;
  ip.set(ipv4Bytes(host), 12);
  return ip;
}

interface BlockCache {
  header: BlockHeader;
  headersPayload: Uint8Array;
  cmpctPayload: Uint8Array | null;
}

export class SimServer {
  model!: SimModelView;
  truth: SimTruthSink | null = null;
  readonly network: NetworkParams;
  readonly stats: SimServerStats = {
    accepted: 0,
    refused: 0,
    offline: 0,
    connected: 0,
    ready: 0,
    invTx: 0,
    invBlock: 0,
    headers: 0,
    cmpctblock: 0,
    served: 0,
    misbehaviours: 0,
  };
  port: number;
  trickleMeanMs = 5000;

  private readonly host: string;
  private readonly feeFilter: bigint;
  private readonly misbehaveAfterMs: number;
  private readonly badChecksumIntervalMs: number;
  private readonly dripIntervalMs: number;
  private readonly timer: CoarseTimer;
  /** Loopback address string -> node index. */
  private readonly byAddress = new Map<string, number>();
  /** Observer connections per node (undefined: none yet). */
  private observers: (Conn[] | undefined)[] = [];
  private scheduled = new Uint8Array(0);
  private readonly heap = new TrickleHeap(64);
  private heapTimer: ReturnType<typeof setTimeout> | null = null;
  private heapTimerAt = Infinity;
  private readonly sockets = new Set<Socket>();
  /** Blocks in the order the server first saw them learned (the chain, oldest first). */
  private readonly chain: SimItem[] = [];
  private readonly chainIndex = new Map<string, number>();
  private readonly blockCache = new Map<number, BlockCache>();
  /** Nonces of sim nodes' versions: they never dial out, so none; kept apart from the process's own peers. */
  private readonly nonces = new Set<bigint>();
  private rand: () => number = prng(0x5e17e5);
  private readonly trickleOption: number | undefined;
  private server: Server | null = null;
  private stopped = false;

  /** Listen first (`listen`), then `attach` the model: the model's nodes need the bound port. */
  constructor(options: SimServerOptions) {
    this.network = options.network;
    this.port = options.port ?? options.network.defaultPort;
    this.host = options.host ?? '0.0.0.0';
    this.trickleOption = options.trickleMeanMs;
    this.feeFilter = options.feeFilter ?? 1000n;
    this.misbehaveAfterMs = options.misbehaveAfterMs ?? 1000;
    this.badChecksumIntervalMs = options.badChecksumIntervalMs ?? MISBEHAVE.BAD_CHECKSUM_INTERVAL_MS;
    this.dripIntervalMs = options.dripIntervalMs ?? MISBEHAVE.DRIP_INTERVAL_MS;
    // Deadlines of seconds to minutes: a 1 s tick keeps 10,000 peers at 10,000 ticks/s.
    this.timer = options.timer ?? new CoarseTimer(1000);
  }

  /** Serves `model`'s nodes from now on (sockets accepted before this are dropped). Once. */
  attach(model: SimModelView, truth: SimTruthSink | null): void {
    if (this.model) throw new Error('SimServer.attach: already attached');
    this.model = model;
    this.truth = truth;
    const scale = model.options.timeScale > 0 ? model.options.timeScale : 1;
    this.trickleMeanMs = this.trickleOption ?? model.options.inboundTrickleMs / scale;
    const n = model.nodes.length;
    for (const info of model.nodes) this.byAddress.set(info.host, info.index);
    this.observers = new Array(n);
    this.scheduled = new Uint8Array(n);
    this.rand = prng((model.options.seed ^ 0x5e17e5) >>> 0);
    model.on('learn', (node, item, t) => this.onLearn(node, item, t));
    model.on('churn', (node, online) => {
      if (!online) this.dropNode(node);
    });
  }

  /** Binds the one listening socket; resolves with the port. */
  listen(): Promise<number> {
    const server = createServer({ noDelay: true }, (s) => this.onSocket(s));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      // backlog: observers connect hundreds at a time; the kernel caps it at net.core.somaxconn.
      server.listen({ port: this.port, host: this.host, backlog: 4096 }, () => {
        server.off('error', reject);
        this.port = (server.address() as { port: number }).port;
        resolve(this.port);
      });
    });
  }

  /** Closes the listener and every connection. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.heapTimer) clearTimeout(this.heapTimer);
    this.heapTimer = null;
    for (const list of this.observers) if (list) for (const c of [...list]) this.closeConn(c, CloseReason.LOCAL);
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** Observer connections of a node (tests, status). */
  connections(node: number): readonly Peer[] {
    return (this.observers[node] ?? []).map((c) => c.peer).filter((p): p is Peer => p !== null);
  }

  // ---------------------------------------------------------------------------------------------
  // Accepting

  private onSocket(socket: Socket): void {
    const local = socket.localAddress?.startsWith('::ffff:') ? socket.localAddress.slice(7) : socket.localAddress;
    const node = local === undefined ? undefined : this.byAddress.get(local);
    if (this.stopped || !isLoopback(socket.remoteAddress) || node === undefined) {
      this.stats.refused++;
      socket.destroy();
      return;
    }
    if (!this.model.online(node)) {
      // A node that is down: the closest a shared listener gets to a refused connection is a reset.
      this.stats.offline++;
      socket.on('error', () => {});
      socket.resetAndDestroy();
      return;
    }
    this.stats.accepted++;
    this.stats.connected++;
    this.sockets.add(socket);
    const conn = new Conn(node, socket);
    (this.observers[node] ??= []).push(conn);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.forget(conn);
    });
    const info = this.model.nodes[node]!;
    const mode = info.misbehaviour;
    if (mode === 'slow-drip' || mode === 'no-handshake' || mode === 'no-verack') return this.rawMode(conn, info, mode);

    const peer = new Peer({
      network: this.network,
      direction: 'inbound',
      remoteHost: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      version: {
        protocolVersion: info.protocolVersion,
        services: info.services,
        userAgent: info.userAgent,
        startHeight: this.heightOf(node, info),
        relay: true,
      },
      answerGetHeaders: false,
      timer: this.timer,
      localNonces: this.nonces,
      // A node advertising NODE_P2P_V2 answers as a BIP324 responder (serving v1 peers too, as Core).
      ...((info.services & NODE_P2P_V2) !== 0n ? { transport: transportFactory('v2', 'inbound', this.network.magic) } : {}),
    });
    conn.peer = peer;
    peer.on('version', (v) => {
      conn.versioned = true;
      conn.relay = v.relay ?? true;
    });
    peer.on('ready', () => this.onReady(conn));
    peer.on('close', () => this.forget(conn));
    peer.on('getaddr', () => this.onGetAddr(conn));
    peer.on('getdata', (m) => this.onGetData(conn, m));
    peer.on('getheaders', (m) => this.onGetHeaders(conn, m));
    attachStream(peer, socket);
  }

  /** The node's height: the model's, else its identity's start height plus the simulated blocks it knows. */
  private heightOf(node: number, info: SimNodeInfo): number {
    if (this.model.nodeHeight) return this.model.nodeHeight(node);
    let h = info.startHeight;
    for (const b of this.chain) if (this.model.knows(node, b.id)) h++;
    return h;
  }

  private onReady(conn: Conn): void {
    const peer = conn.peer!;
    conn.ready = true;
    this.stats.ready++;
    // Core v28 after the verack of a 70014+ peer: sendcmpct(0, 2) (low-bandwidth, version 2),
    // then a ping at once, then feefilter (70013+).
    const v = peer.remote?.version ?? 0;
    if (v >= 70014) peer.send('sendcmpct', { announce: false, version: 2n });
    peer.ping();
    if (v >= 70013) peer.send('feefilter', { feerate: this.feeFilter });
    if (conn.earlyBlocks) for (const b of conn.earlyBlocks) this.announceBlock(conn, b);
    conn.earlyBlocks = null;
    this.schedule(conn.node);
    const mode = this.model.nodes[conn.node]!.misbehaviour;
    if (mode !== null && AFTER_HANDSHAKE.has(mode)) {
      conn.timers.push(setTimeout(() => this.misbehaveAfter(conn, mode), this.misbehaveAfterMs));
    }
  }

  private forget(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    for (const t of conn.timers) clearTimeout(t);
    conn.timers.length = 0;
    this.stats.connected--;
    if (conn.ready) this.stats.ready--;
    const list = this.observers[conn.node];
    if (list) {
      const i = list.indexOf(conn);
      if (i >= 0) list.splice(i, 1);
    }
    conn.pending = [];
    if (conn.peer) conn.peer.close(CloseReason.REMOTE_CLOSED);
    conn.socket.destroy();
  }

  private closeConn(conn: Conn, reason: string): void {
    if (conn.peer) conn.peer.close(reason);
    this.forget(conn);
  }

  /** A node went offline: its observers lose their connections, as with a node shutting down. */
  private dropNode(node: number): void {
    const list = this.observers[node];
    if (!list) return;
    for (const c of [...list]) this.closeConn(c, 'churn');
  }

  // ---------------------------------------------------------------------------------------------
  // Announcing

  private onLearn(node: number, item: SimItem, _t: number): void {
    if (item.kind === 'block' && !this.chainIndex.has(toHex(item.hash))) {
      this.chainIndex.set(toHex(item.hash), this.chain.length);
      this.chain.push(item);
    }
    const list = this.observers[node];
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

  /** Puts a node on the trickle heap if it is not there. */
  private schedule(node: number): void {
    if (this.scheduled[node] || this.stopped) return;
    this.scheduled[node] = 1;
    // Core: m_next_inv_to_inbounds = now + rand_exp_duration(INBOUND_INVENTORY_BROADCAST_INTERVAL),
    // one timer per node shared by all its inbound peers.
    const at = now() + this.exp();
    this.heap.push(at, node);
    this.arm();
  }

  private exp(): number {
    return -Math.log(1 - this.rand()) * this.trickleMeanMs;
  }

  private arm(): void {
    const next = this.heap.peekTime();
    if (next === Infinity || next >= this.heapTimerAt) return;
    if (this.heapTimer) clearTimeout(this.heapTimer);
    this.heapTimerAt = next;
    this.heapTimer = setTimeout(() => this.fire(), Math.max(0, next - now()));
    this.heapTimer.unref();
  }

  private fire(): void {
    this.heapTimer = null;
    this.heapTimerAt = Infinity;
    if (this.stopped) return;
    const t = now();
    while (this.heap.size > 0 && this.heap.peekTime() <= t) {
      const node = this.heap.pop();
      this.scheduled[node] = 0;
      const list = this.observers[node];
      if (list === undefined || list.length === 0) continue; // no observers: the node leaves the heap
      for (let i = 0; i < list.length; i++) this.flush(list[i]!);
      this.scheduled[node] = 1;
      this.heap.push(t + this.exp(), node);
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
      const item = this.model.item(id);
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
    } else if (c.head > 4096 && c.head * 2 > c.pending.length) {
      c.pending = c.pending.slice(c.head);
      c.head = 0;
    }
    this.stats.invTx += k;
    const truth = this.truth;
    if (truth) for (let i = 0; i < k; i++) truth.announce(c.node, ids[i]!, peer.id, t, 'inv');
  }

  private blockData(item: SimItem): BlockCache {
    let b = this.blockCache.get(item.id);
    if (b) return b;
    const headerBytes = item.header ?? item.raw.subarray(0, 80);
    const header = decodeHeader(new Reader(headerBytes, 0, 80));
    b = { header, headersPayload: encodeMessage('headers', { headers: [header] }), cmpctPayload: null };
    this.blockCache.set(item.id, b);
    return b;
  }

  /**
   * The block's BIP152 cmpctblock, built once per block (Core caches one per block too): the
   * coinbase prefilled, short ids of the other transactions' wtxids (version 2).
   */
  private cmpctPayload(item: SimItem): Uint8Array {
    const b = this.blockData(item);
    if (b.cmpctPayload) return b.cmpctPayload;
    const block = decodeBlock(new Reader(item.raw, 0, item.raw.length));
    const nonce = cryptoRandomBytes(8).readBigUInt64LE(0);
    const key = shortIdKey(block.header, nonce);
    const wtxids = block.wtxids();
    const msg: CmpctBlockMessage = {
      header: block.header,
      nonce,
      shortIds: shortIds(key, wtxids.subarray(32), block.txCount - 1),
      prefilled: [{ index: 0, tx: block.tx(0) }],
    };
    b.cmpctPayload = encodeMessage('cmpctblock', msg);
    return b.cmpctPayload;
  }

  private announceBlock(c: Conn, item: SimItem): void {
    const blocks = (c.blocks ??= new Set());
    if (blocks.has(item.id) || c.socket.writableEnded) return;
    const peer = c.peer!;
    const r = peer.remote;
    let how: 'inv' | 'headers' | 'cmpctblock';
    let ok: boolean;
    let t: number;
    // Core: high-bandwidth compact peers (sendcmpct announce=1, version 2) get cmpctblock from
    // NewPoWValidBlock; peers that sent sendheaders get headers; the rest inv.
    if (r?.cmpct && r.cmpct.announce && r.cmpct.version === 2n) {
      how = 'cmpctblock';
      const payload = this.cmpctPayload(item);
      t = now();
      ok = peer.sendRaw('cmpctblock', payload);
      if (ok) this.stats.cmpctblock++;
    } else if (r?.sendHeaders) {
      how = 'headers';
      const payload = this.blockData(item).headersPayload;
      t = now();
      ok = peer.sendRaw('headers', payload);
      if (ok) this.stats.headers++;
    } else {
      how = 'inv';
      t = now();
      ok = peer.send('inv', { inventory: [{ type: InvType.MSG_BLOCK, hash: item.hash }] });
      if (ok) this.stats.invBlock++;
    }
    if (!ok) return;
    blocks.add(item.id);
    this.truth?.announce(c.node, item.id, peer.id, t, how);
  }

  // ---------------------------------------------------------------------------------------------
  // Answering

  /** Core answers one getaddr per connection, from inbound peers (the observer is one). */
  private onGetAddr(c: Conn): void {
    if (c.getaddrDone || !c.ready) return;
    c.getaddrDone = true;
    const peer = c.peer!;
    const nodes = this.model.nodes;
    const total = nodes.length;
    const want = Math.min(MAX_ADDR_TO_SEND, Math.max(1, Math.ceil((total * MAX_PCT_ADDR_TO_SEND) / 100)));
    const picked = new Set<number>();
    for (const n of this.model.neighbors(c.node)) if (picked.size < want && n !== c.node) picked.add(n);
    for (let tries = 0; picked.size < Math.min(want, total - 1) && tries < want * 4; tries++) {
      const n = Math.floor(this.rand() * total);
      if (n !== c.node) picked.add(n);
    }
    const nowSec = Math.floor(Date.now() / 1000);
    // Core's addrman timestamps are up to days old; a few hours is enough to look real.
    const time = (): number => nowSec - Math.floor(this.rand() * 3 * 3600);
    if (peer.remote?.sendAddrV2) {
      const addrs: AddrV2Entry[] = [];
      for (const n of picked) {
        const info = nodes[n]!;
        addrs.push({ time: time(), services: info.services, networkId: NetworkId.IPV4, addr: ipv4Bytes(info.host), port: info.port });
      }
      const fakes = Math.max(2, Math.round(addrs.length * FAKE_ADDR_SHARE));
      for (let i = 0; i < fakes && addrs.length < MAX_ADDR_TO_SEND; i++) {
        const key = new Uint8Array(32);
        for (let j = 0; j < 32; j++) key[j] = (this.rand() * 256) | 0;
        const tor = i % 2 === 0;
        addrs.push({
          time: time(),
          services: 1n | (1n << 3n) | (1n << 10n),
          networkId: tor ? NetworkId.TORV3 : NetworkId.I2P,
          addr: key,
          port: tor ? this.network.defaultPort : I2P_PORT,
        });
      }
      // Shuffle so the fakes are not all at the end (Core's answer comes from a shuffled addrman).
      for (let i = addrs.length - 1; i > 0; i--) {
        const j = Math.floor(this.rand() * (i + 1));
        [addrs[i], addrs[j]] = [addrs[j]!, addrs[i]!];
      }
      peer.send('addrv2', { addrs });
    } else {
      const addrs: AddrEntry[] = [];
      for (const n of picked) {
        const info = nodes[n]!;
        addrs.push({ time: time(), services: info.services, ip: v4Mapped(info.host), port: info.port });
      }
      peer.send('addr', { addrs });
    }
    this.stats.served++;
  }

  private onGetData(c: Conn, m: MessageMap['getdata']): void {
    const peer = c.peer!;
    const notfound: InvEntry[] = [];
    for (const e of m.inventory) {
      const type = e.type >>> 0;
      const isTx = type === InvType.MSG_TX || type === InvType.MSG_WITNESS_TX || type === InvType.MSG_WTX;
      const isBlock = type === InvType.MSG_BLOCK || type === InvType.MSG_WITNESS_BLOCK || type === InvType.MSG_CMPCT_BLOCK;
      const item = isTx || isBlock ? this.model.itemByHash(e.hash) : undefined;
      const matches =
        item !== undefined &&
        this.model.knows(c.node, item.id) &&
        (isTx ? item.kind === 'tx' : item.kind === 'block') &&
        // MSG_WTX asks by wtxid, MSG_TX/MSG_WITNESS_TX by txid (BIP339).
        (type === InvType.MSG_WTX ? sameBytes(item.wtxid, e.hash) : isBlock || sameBytes(item.hash, e.hash));
      if (!matches) {
        notfound.push({ type: e.type, hash: e.hash });
        continue;
      }
      // Core sends the witness serialization to every peer that asks for a witness type or by
      // wtxid; sim items are stored with witnesses, and legacy ones serialize the same either way.
      if (isTx) peer.sendRaw('tx', item.raw);
      else if (type === InvType.MSG_CMPCT_BLOCK) peer.sendRaw('cmpctblock', this.cmpctPayload(item));
      else peer.sendRaw('block', item.raw);
      this.stats.served++;
    }
    // Core: one notfound for every tx it cannot serve (blocks it does not have are ignored).
    const txMissing = notfound.filter((e) => e.type >>> 0 !== InvType.MSG_BLOCK && e.type >>> 0 !== InvType.MSG_WITNESS_BLOCK);
    if (txMissing.length > 0) {
      peer.send('notfound', { inventory: txMissing });
      this.stats.served++;
    }
  }

  private onGetHeaders(c: Conn, m: MessageMap['getheaders']): void {
    const peer = c.peer!;
    let start = 0;
    for (const h of m.locator) {
      const i = this.chainIndex.get(toHex(h));
      if (i !== undefined && this.model.knows(c.node, this.chain[i]!.id)) {
        start = i + 1;
        break;
      }
    }
    const stop = toHex(m.hashStop);
    const headers: BlockHeader[] = [];
    for (let i = start; i < this.chain.length && headers.length < MAX_HEADERS_RESULTS; i++) {
      const b = this.chain[i]!;
      if (!this.model.knows(c.node, b.id)) break;
      headers.push(this.blockData(b).header);
      if (toHex(b.hash) === stop) break;
    }
    peer.send('headers', { headers });
    this.stats.served++;
  }

  // ---------------------------------------------------------------------------------------------
  // Misbehaving

  private record(node: number, what: Misbehaviour): void {
    this.stats.misbehaviours++;
    this.truth?.misbehave(node, what, now());
  }

  /** Writes bad bytes straight to the socket, behind whatever the peer has queued (one stream). */
  private writeRaw(c: Conn, bytes: Uint8Array): void {
    if (!c.closed && !c.socket.destroyed) c.socket.write(bytes);
  }

  private misbehaveAfter(c: Conn, mode: Misbehaviour): void {
    if (c.closed) return;
    const magic = this.network.magic;
    switch (mode) {
      case 'bad-checksum': {
        let nonce = 1;
        const once = (): void => {
          if (c.closed) return;
          this.record(c.node, mode);
          this.writeRaw(c, badChecksumFrame(magic, nonce++));
        };
        once();
        const h = setInterval(once, this.badChecksumIntervalMs);
        h.unref();
        c.timers.push(h as unknown as ReturnType<typeof setTimeout>);
        return;
      }
      case 'bad-magic':
        this.record(c.node, mode);
        return this.writeRaw(c, badMagicFrame(magic));
      case 'oversize':
        this.record(c.node, mode);
        return this.writeRaw(c, oversizeHeader(magic));
      case 'garbage':
        this.record(c.node, mode);
        return this.writeRaw(c, garbageBytes(magic, MISBEHAVE.GARBAGE_BYTES, this.rand));
      case 'truncated':
        this.record(c.node, mode);
        c.socket.end(truncatedFrame(magic));
        return;
      case 'inv-flood': {
        this.record(c.node, mode);
        const f = invFloodFrame(magic);
        for (let i = 0; i < MISBEHAVE.INV_FLOOD_FRAMES; i++) this.writeRaw(c, f);
        return;
      }
      case 'tiny-flood':
        this.record(c.node, mode);
        return this.writeRaw(c, tinyFlood(magic));
      case 'never-reads':
      case 'checksum-flood':
      case 'inv-storm':
      case 'addr-flood':
      case 'ping-flood':
      case 'command-flood':
        this.record(c.node, mode);
        // never-reads stops reading first: the observer's pongs pile up in its send buffer.
        if (mode === 'never-reads') c.socket.pause();
        void pump(c.socket, floodChunks(mode, this.network), () => c.closed);
        return;
      default:
        return;
    }
  }

  /** Nodes that never complete a handshake: no Peer, only the raw socket. */
  private rawMode(c: Conn, info: SimNodeInfo, mode: 'slow-drip' | 'no-handshake' | 'no-verack'): void {
    const socket = c.socket;
    socket.on('error', () => {});
    socket.on('data', () => {}); // read and ignore what the observer sends
    this.record(c.node, mode);
    if (mode === 'no-handshake') return;
    const version = encodeFrame(this.network.magic, 'version', {
      version: info.protocolVersion,
      services: info.services,
      timestamp: BigInt(Math.floor(Date.now() / 1000)),
      addrRecv: { services: 0n, ip: v4Mapped(isLoopback(socket.remoteAddress) ? socket.remoteAddress!.replace('::ffff:', '') : '127.0.0.1'), port: socket.remotePort ?? 0 },
      addrFrom: { services: 0n, ip: new Uint8Array(16), port: 0 },
      nonce: cryptoRandomBytes(8).readBigUInt64LE(0),
      userAgent: info.userAgent,
      startHeight: this.heightOf(c.node, info),
      relay: true,
    });
    if (mode === 'no-verack') {
      // The whole version at once, then nothing: the handshake never completes.
      socket.write(version);
      return;
    }
    let i = 0;
    const drip = (): void => {
      if (c.closed || i >= version.length) {
        clearInterval(h);
        return;
      }
      socket.write(version.subarray(i, i + 1));
      i++;
    };
    const h = setInterval(drip, this.dripIntervalMs);
    h.unref();
    c.timers.push(h as unknown as ReturnType<typeof setTimeout>);
    drip();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
