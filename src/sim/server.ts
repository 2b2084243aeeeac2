/**
 * The simulator's server: every simulated node answers observers on its own loopback address with
 * the real peer module, as Bitcoin Core v28+ answers an inbound peer (net_processing.cpp: version,
 * wtxidrelay, sendaddrv2, verack, then sendcmpct(0, 2), ping, feefilter). One listening socket
 * serves all nodes (see README "Server"); this file is the listener and connection glue, with
 * announcements in announce.ts, answers in answer.ts and misbehaviour in misbehave-driver.ts.
 * Simulator process, main thread; accepting is warm, the announce path (announce.ts) hot.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Peer, CloseReason, CoarseTimer, attachStream, transportFactory } from '../peer/index.js';
import type { NetworkParams } from '../protocol/constants.js';
import { NODE_P2P_V2 } from './identity.js';
import { Rng } from './rng.js';
import { SimChain } from './chain.js';
import { Announcer } from './announce.js';
import { answerGetAddr, answerGetData, answerGetHeaders, type AnswerDeps } from './answer.js';
import { MisbehaveDriver, isRawMode } from './misbehave-driver.js';
import { AFTER_HANDSHAKE, MISBEHAVE } from './misbehave.js';
import { Conn, isLoopback, newServerStats, type SimModelView, type SimServerStats, type SimTruthSink } from './conn.js';
import type { SimNodeInfo } from './types.js';

export { isLoopback, type SimModelView, type SimServerStats, type SimTruthSink } from './conn.js';
export { INVENTORY_BROADCAST_MAX, INVENTORY_BROADCAST_TARGET } from './announce.js';

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

/** Salt of the server's own stream (Rng.stream): getaddr picks, fake addresses, trickle draws, garbage. */
const S_SERVER = 8;

/** What exists only once a model is attached. */
interface Attached {
  model: SimModelView;
  announcer: Announcer;
  answers: AnswerDeps;
  misbehave: MisbehaveDriver;
}

export class SimServer {
  model!: SimModelView;
  truth: SimTruthSink | null = null;
  readonly network: NetworkParams;
  readonly stats: SimServerStats = newServerStats();
  port: number;
  trickleMeanMs = 5000;

  private readonly host: string;
  private readonly feeFilter: bigint;
  private readonly misbehaveAfterMs: number;
  private readonly badChecksumIntervalMs: number;
  private readonly dripIntervalMs: number;
  private readonly timer: CoarseTimer;
  private readonly trickleOption: number | undefined;
  /** Loopback address string -> node index. */
  private readonly byAddress = new Map<string, number>();
  /** Observer connections per node (undefined: none yet). */
  private observers: (Conn[] | undefined)[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly chain = new SimChain();
  /** Nonces of sim nodes' versions: they never dial out, so none; kept apart from the process's own peers. */
  private readonly nonces = new Set<bigint>();
  private parts: Attached | null = null;
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
    for (const info of model.nodes) this.byAddress.set(info.host, info.index);
    this.observers = new Array(model.nodes.length);
    const rng = Rng.stream(model.options.seed, S_SERVER);
    const { network, stats, chain } = this;
    const announcer = new Announcer({ model, truth, stats, chain, rng, trickleMeanMs: this.trickleMeanMs, observersOf: (n) => this.observers[n] });
    const misbehave = new MisbehaveDriver({
      network,
      stats,
      truth,
      rng,
      badChecksumIntervalMs: this.badChecksumIntervalMs,
      dripIntervalMs: this.dripIntervalMs,
      heightOf: (n) => this.heightOf(n, model.nodes[n]!),
    });
    this.parts = { model, announcer, answers: { model, network, stats, chain, rng }, misbehave };
    model.on('learn', (node, item) => announcer.onLearn(node, item));
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
    this.parts?.announcer.stop();
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

  /** The node a socket was dialed at, or undefined (refused: not loopback, no such node, stopped). */
  private nodeOf(socket: Socket): number | undefined {
    const local = socket.localAddress?.startsWith('::ffff:') ? socket.localAddress.slice(7) : socket.localAddress;
    const node = local === undefined ? undefined : this.byAddress.get(local);
    return this.stopped || this.parts === null || !isLoopback(socket.remoteAddress) ? undefined : node;
  }

  private onSocket(socket: Socket): void {
    const node = this.nodeOf(socket);
    if (node === undefined) {
      this.stats.refused++;
      socket.destroy();
      return;
    }
    const parts = this.parts!;
    if (!parts.model.online(node)) {
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
    const info = parts.model.nodes[node]!;
    const mode = info.misbehaviour;
    if (isRawMode(mode)) return parts.misbehave.raw(conn, info, mode);
    this.startPeer(conn, info, parts);
  }

  /** The real peer module on an accepted socket, answering as the node. */
  private startPeer(conn: Conn, info: SimNodeInfo, parts: Attached): void {
    const socket = conn.socket;
    const peer = new Peer({
      network: this.network,
      direction: 'inbound',
      remoteHost: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      version: {
        protocolVersion: info.protocolVersion,
        services: info.services,
        userAgent: info.userAgent,
        startHeight: this.heightOf(conn.node, info),
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
    peer.on('ready', () => this.onReady(conn, parts));
    peer.on('close', () => this.forget(conn));
    peer.on('getaddr', () => answerGetAddr(parts.answers, conn));
    peer.on('getdata', (m) => answerGetData(parts.answers, conn, m));
    peer.on('getheaders', (m) => answerGetHeaders(parts.answers, conn, m));
    attachStream(peer, socket);
  }

  /** The node's height: the model's, else its identity's start height plus the simulated blocks it knows. */
  private heightOf(node: number, info: SimNodeInfo): number {
    if (this.model.nodeHeight) return this.model.nodeHeight(node);
    return this.chain.height(node, info, (n, id) => this.model.knows(n, id));
  }

  private onReady(conn: Conn, parts: Attached): void {
    const peer = conn.peer!;
    conn.ready = true;
    this.stats.ready++;
    // Core v28 after the verack of a 70014+ peer: sendcmpct(0, 2) (low-bandwidth, version 2),
    // then a ping at once, then feefilter (70013+).
    const v = peer.remote?.version ?? 0;
    if (v >= 70014) peer.send('sendcmpct', { announce: false, version: 2n });
    peer.ping();
    if (v >= 70013) peer.send('feefilter', { feerate: this.feeFilter });
    parts.announcer.onReady(conn);
    const mode = parts.model.nodes[conn.node]!.misbehaviour;
    if (mode !== null && AFTER_HANDSHAKE.has(mode)) {
      conn.timers.push(setTimeout(() => parts.misbehave.afterHandshake(conn, mode), this.misbehaveAfterMs));
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
}
