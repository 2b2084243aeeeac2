/**
 * One peer, sans-I/O: the measurement-mode handshake (Bitcoin Core net_processing.cpp), keepalive,
 * handler lists per command (pycoin style), an ordered bounded send path, per-peer stats and the
 * bad-input policy of DESIGN.md. Bytes come in through `receive`, go out through a `PeerIO`; the
 * socket glue is in net.ts. Runs on the thread that owns the socket; `receive` is a hot path.
 */
import { randomBytes } from 'node:crypto';
import {
  Command,
  COMMAND_COUNT,
  COMMAND_NAMES,
  MIN_PEER_PROTO_VERSION,
  PROTOCOL_VERSION,
  type CommandName,
  type NetworkParams,
} from '../protocol/constants.js';
import { Reader } from '../protocol/reader.js';
import { Status, statusCode } from '../protocol/errors.js';
import { describeMagic } from '../protocol/network.js';
import { commandString } from '../protocol/commands.js';
import { decodePayload, type MessageMap, type RawMessage } from '../protocol/registry.js';
import type { VersionMessage } from '../protocol/messages/control.js';
import type { NetAddrV1 } from '../protocol/messages/address.js';
import { ipV1FromString } from '../protocol/messages/address.js';
import { V1Transport, type PeerTransport } from '../transport/seam.js';
import { sharedTimer, type Tickable } from './timers.js';
import { now } from '../observe/clock.js';
import { CloseReason, Fault, faultClose } from './faults.js';

/** Close reasons live with their policy in faults.ts; re-exported here, where peers are made. */
export { CloseReason };

export { PEER_DEFAULTS, peerTunables, type PeerIO, type VersionOptions, type PeerTunables, type PeerOptions } from './options.js';
import { peerTunables, type PeerIO, type PeerOptions } from './options.js';
export { PeerStats, type RemoteInfo } from './stats.js';
import { PeerStats, type RemoteInfo } from './stats.js';

type Handler<K extends CommandName> = (msg: MessageMap[K], peer: Peer) => void;
type AnyHandler = (command: string, msg: unknown, peer: Peer) => void;

export interface PeerEvents {
  ready: (peer: Peer) => void;
  close: (reason: string, peer: Peer) => void;
  /** A handler threw; the peer goes on. */
  handlerError: (err: unknown, command: string, peer: Peer) => void;
  /** Every decoded message and every unknown command (as a RawMessage), after the internal handling. */
  message: AnyHandler;
  /** A counted bad-input outcome (code as in PeerStats.faults). */
  fault: (code: string, command: string, peer: Peer) => void;
  /** Bytes handed to the I/O (command name, frame length). */
  sent: (command: string, bytes: number, peer: Peer, msg: unknown) => void;
}

/** Nonces of our own outbound versions, to detect connections to ourselves (Core: CConnman::CheckIncomingNonce). */
const threadNonces = new Set<bigint>();

const EVENT_NAMES = new Set(['ready', 'close', 'handlerError', 'message', 'fault', 'sent']);
const reader = new Reader();
const NO_ADDR: NetAddrV1 = { services: 0n, ip: new Uint8Array(16), port: 0 };

/**
 * A copy of `len` bytes at `off`, always fresh memory: the frame may be a Node Buffer (a frame
 * reassembled across reads), whose own `slice` is a view the decoder's next frame overwrites.
 */
function copyOf(buf: Uint8Array, off: number, len: number): Uint8Array {
  return Uint8Array.prototype.slice.call(buf, off, off + len);
}

function randomNonce(): bigint {
  return randomBytes(8).readBigUInt64LE(0);
}

/** States of the handshake. */
const enum Hs {
  /** Nothing received yet. */
  Start,
  /** Their version received, verack sent, waiting for their verack. */
  GotVersion,
  /** Both veracks exchanged. */
  Ready,
}

export class Peer implements Tickable {
  readonly id: string;
  readonly options: Required<Omit<PeerOptions, 'remoteHost' | 'remotePort' | 'version' | 'transport' | 'id' | 'localNonces' | 'rawTap'>>;
  private readonly rawTap: PeerOptions['rawTap'];
  readonly network: NetworkParams;
  readonly direction: 'outbound' | 'inbound';
  readonly remoteHost: string;
  readonly remotePort: number;
  readonly stats = new PeerStats();
  readonly transport: PeerTransport;
  /** Our version, as sent. */
  readonly localVersion: VersionMessage;
  /** Set once the remote version is received. */
  remote: RemoteInfo | null = null;
  /** Time (epoch ms) the chunk being processed arrived: every frame of one read shares it. */
  rxTime = 0;
  /** Resolves when the handshake completes; rejects with the close reason if it never does. */
  readonly ready: Promise<void>;
  /** Resolves with the close reason. */
  readonly closed: Promise<string>;

  private io: PeerIO | null = null;
  private hs = Hs.Start;
  private verackSent = false;
  private isClosed = false;
  private lastRecvAt = 0;
  private pingNonce = 0n;
  private pingSentAt = 0;
  private nextPingAt = 0;
  private stallSince = 0;
  private readonly localNonces: Set<bigint>;
  private readonly handlers: (Handler<any>[] | undefined)[] = new Array(COMMAND_COUNT);
  private readonly events: { [K in keyof PeerEvents]?: PeerEvents[K][] } = {};
  private readonly unknownHandlers: ((msg: RawMessage, peer: Peer) => void)[] = [];
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;
  private resolveClosed!: (reason: string) => void;

  constructor(options: PeerOptions) {
    this.network = options.network;
    this.direction = options.direction;
    this.remoteHost = options.remoteHost ?? '';
    this.remotePort = options.remotePort ?? 0;
    this.id = options.id ?? `${this.remoteHost}:${this.remotePort}`;
    this.localNonces = options.localNonces ?? threadNonces;
    this.rawTap = options.rawTap;
    this.options = {
      network: options.network,
      direction: options.direction,
      ...peerTunables(options),
      timer: options.timer ?? sharedTimer,
    };
    const v = options.version ?? {};
    this.localVersion = {
      version: v.protocolVersion ?? PROTOCOL_VERSION,
      services: v.services ?? 0n,
      timestamp: BigInt(Math.floor(Date.now() / 1000)),
      addrRecv: { services: 0n, ip: ipV1FromString(this.remoteHost) ?? new Uint8Array(16), port: this.remotePort },
      addrFrom: NO_ADDR,
      nonce: v.nonce ?? randomNonce(),
      userAgent: v.userAgent ?? '/invscope:0.1.0/',
      startHeight: v.startHeight ?? 0,
      relay: v.relay ?? true,
    };
    this.transport = options.transport ? options.transport(this) : new V1Transport(this.network.magic, this);
    this.ready = new Promise<void>((res, rej) => {
      this.resolveReady = res;
      this.rejectReady = rej;
    });
    // Nobody has to await `ready`: a close before the handshake must not be an unhandled rejection.
    this.ready.catch(() => {});
    this.closed = new Promise<string>((res) => (this.resolveClosed = res));
  }

  get isReady(): boolean {
    return this.hs === Hs.Ready;
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Bytes waiting in the I/O's send buffer. */
  get sendBufferedBytes(): number {
    return this.io ? this.io.bufferedBytes() : 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Handlers

  /** Registers a handler for a command (several per command, called in order) or a lifecycle event. */
  on<K extends CommandName>(command: K, fn: Handler<K>): this;
  on<E extends keyof PeerEvents>(event: E, fn: PeerEvents[E]): this;
  on(name: 'unknown', fn: (msg: RawMessage, peer: Peer) => void): this;
  on(name: string, fn: (...args: any[]) => void): this {
    if (name === 'unknown') {
      this.unknownHandlers.push(fn as (msg: RawMessage, peer: Peer) => void);
    } else if (EVENT_NAMES.has(name)) {
      const list = ((this.events as Record<string, unknown[]>)[name] ??= []);
      list.push(fn);
    } else if (Object.hasOwn(Command, name) && name !== 'unknown') {
      const id = Command[name as CommandName];
      (this.handlers[id] ??= []).push(fn as Handler<any>);
    } else {
      throw new TypeError(`Peer.on: no such command or event ${JSON.stringify(name)}`);
    }
    return this;
  }

  /** Removes a handler registered with `on`. */
  off(name: string, fn: (...args: any[]) => void): this {
    const lists: (unknown[] | undefined)[] = [
      name === 'unknown' ? this.unknownHandlers : undefined,
      (this.events as Record<string, unknown[]>)[name],
      Object.hasOwn(Command, name) ? this.handlers[(Command as Record<string, number>)[name]!] : undefined,
    ];
    for (const l of lists) {
      const i = l ? l.indexOf(fn) : -1;
      if (i >= 0) l!.splice(i, 1);
    }
    return this;
  }

  private emit<E extends keyof PeerEvents>(event: E, ...args: Parameters<PeerEvents[E]>): void {
    const list = this.events[event] as ((...a: unknown[]) => void)[] | undefined;
    if (!list) return;
    for (const fn of list) {
      try {
        fn(...args);
      } catch (e) {
        if (event !== 'handlerError') this.reportHandlerError(e, `event:${event}`);
      }
    }
  }

  private reportHandlerError(err: unknown, command: string): void {
    this.stats.handlerErrors++;
    if (this.events.handlerError?.length) this.emit('handlerError', err, command, this);
    else process.emitWarning(`invscope peer ${this.id}: handler for ${command} threw: ${(err as Error)?.message ?? err}`);
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  /** Connects the peer to its byte pipe; an outbound peer sends its version at once. */
  attach(io: PeerIO): void {
    if (this.io) throw new Error('Peer.attach: already attached');
    this.io = io;
    const t = now();
    this.stats.connectedAt = t;
    this.lastRecvAt = t;
    this.options.timer.add(this);
    // v2 writes its own handshake bytes (and, outbound, its key at once); they count as sent.
    this.transport.start?.((bytes) => {
      this.stats.bytesOut += bytes.length;
      this.io?.write(bytes);
    });
    if (this.direction === 'outbound') {
      this.localNonces.add(this.localVersion.nonce);
      this.send('version', this.localVersion);
    }
  }

  /** Closes the peer with a reason (a CloseReason or any string); idempotent. */
  close(reason: string = CloseReason.LOCAL, detail = ''): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.stats.closedAt = now();
    this.stats.closeReason = reason;
    this.stats.closeDetail = detail;
    this.localNonces.delete(this.localVersion.nonce);
    this.options.timer.delete(this);
    const io = this.io;
    this.io = null;
    if (io) {
      try {
        io.close();
      } catch {
        /* the pipe is gone either way */
      }
    }
    if (this.hs !== Hs.Ready) this.rejectReady(new Error(`peer ${this.id} closed before the handshake: ${reason}${detail ? ` (${detail})` : ''}`));
    this.emit('close', reason, this);
    this.resolveClosed(reason);
  }

  /** Coarse-timer callback: handshake, ping, idle and send-stall deadlines. */
  tick(_wall: number): void {
    if (this.isClosed) return;
    const t = now();
    const o = this.options;
    if (this.hs !== Hs.Ready && t - this.stats.connectedAt > o.handshakeTimeoutMs) {
      return this.close(this.hs === Hs.Start ? CloseReason.NO_VERSION : CloseReason.HANDSHAKE_TIMEOUT);
    }
    if (t - this.lastRecvAt > o.idleTimeoutMs) return this.close(CloseReason.IDLE_TIMEOUT);
    if (this.hs === Hs.Ready) {
      if (this.pingNonce !== 0n) {
        if (t - this.pingSentAt > o.pingTimeoutMs) return this.close(CloseReason.PING_TIMEOUT);
      } else if (t >= this.nextPingAt) {
        this.ping();
      }
    }
    if (this.io && this.io.bufferedBytes() > o.maxSendBuffer) {
      if (this.stallSince === 0) this.stallSince = t;
      else if (t - this.stallSince > o.sendStallMs) return this.close(CloseReason.SEND_STALLED);
    } else {
      this.stallSince = 0;
    }
  }

  /** Sends a ping now (if none is outstanding) and times its pong. */
  ping(): boolean {
    if (this.pingNonce !== 0n || !this.isReady) return false;
    let nonce = randomNonce();
    if (nonce === 0n) nonce = 1n; // 0 marks "no ping outstanding"
    // Armed before sending: an in-memory pipe may deliver the pong within the write.
    this.pingNonce = nonce;
    this.pingSentAt = now();
    if (!this.send('ping', { nonce })) {
      this.pingNonce = 0n;
      return false;
    }
    this.stats.pingsSent++;
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  /**
   * Sends a message. Ordered (the I/O is one stream). Returns false, counting a refusal, when the
   * peer is closed or its send buffer is over `maxSendBuffer` (backpressure: the caller may retry).
   */
  send<K extends CommandName>(command: K, msg: MessageMap[K]): boolean {
    if (!this.io || this.isClosed) return false;
    if (this.io.bufferedBytes() > this.options.maxSendBuffer) {
      this.stats.sendRefused++;
      return false;
    }
    return this.write(Command[command], command, this.transport.encode(command, msg), msg);
  }

  /** Sends a raw payload under any command string (unknown ones too). Same backpressure as `send`. */
  sendRaw(command: string, payload: Uint8Array): boolean {
    if (!this.io || this.isClosed) return false;
    if (this.io.bufferedBytes() > this.options.maxSendBuffer) {
      this.stats.sendRefused++;
      return false;
    }
    const id = Object.hasOwn(Command, command) ? (Command as Record<string, number>)[command]! : 0;
    return this.write(id, command, this.transport.encodeRaw(command, payload), { command, payload });
  }

  private write(id: number, command: string, frame: Uint8Array, msg: unknown): boolean {
    this.stats.bytesOut += frame.length;
    this.stats.msgsOutByCommand[id]!++;
    this.stats.bytesOutByCommand[id]! += frame.length;
    const io = this.io!;
    // Empty: a v2 transport queued the message until its handshake is done (it writes it then).
    if (frame.length > 0) io.write(frame);
    const queued = io.bufferedBytes();
    if (queued > this.stats.sendBufferedMax) this.stats.sendBufferedMax = queued;
    this.emit('sent', command, frame.length, this, msg);
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  /** Feeds bytes from the pipe. The receive time is taken here, before any parsing. */
  receive(chunk: Uint8Array): void {
    if (this.isClosed) return;
    this.rxTime = now();
    this.lastRecvAt = this.rxTime;
    this.stats.bytesIn += chunk.length;
    const io = this.io;
    io?.cork?.();
    let status: number;
    try {
      status = this.transport.push(chunk);
    } finally {
      // The same pipe even if the peer closed meanwhile (uncorking a destroyed stream is harmless).
      io?.uncork?.();
    }
    const held = this.transport.bufferedBytes;
    if (held > this.stats.recvBufferedMax) this.stats.recvBufferedMax = held;
    if (status !== 0 && !this.isClosed) {
      const code = statusCode(status);
      this.stats.fault(code);
      this.emit('fault', code, '', this);
      // Another network's magic is the usual cause of BAD_MAGIC: say which, for "use --network X".
      const bad = status === Status.BAD_MAGIC ? this.transport.badMagic : undefined;
      this.close(faultClose(code), bad ? describeMagic(bad) : '');
    }
  }

  /** Writes out what the I/O holds for the current chunk (see PeerIO.cork) and holds again. */
  private flushHeld(): void {
    const io = this.io;
    if (io?.uncork && io.cork) {
      io.uncork();
      io.cork();
    }
  }

  /** The pipe closed under us. */
  transportClosed(reason: string = CloseReason.REMOTE_CLOSED, detail = ''): void {
    this.close(reason, detail);
  }

  private faultOn(code: string, command: string): void {
    this.stats.fault(code);
    this.emit('fault', code, command, this);
  }

  /** V1FrameSink: one frame from the transport. Views are valid only during this call. */
  onFrame(cmd: number, buf: Uint8Array, off: number, len: number, checksumOk: boolean): void {
    if (this.isClosed) return;
    const stats = this.stats;
    stats.msgsInByCommand[cmd]!++;
    stats.bytesInByCommand[cmd]! += len + 24;
    const name = cmd === 0 ? commandString(buf, off - 20) : COMMAND_NAMES[cmd]!;
    if (!checksumOk) return this.faultOn(statusCode(Status.BAD_CHECKSUM), name);

    if (cmd === 0) {
      // Unknown command: counted, kept as a raw value, the peer stays (Core ignores it).
      this.faultOn(statusCode(Status.UNKNOWN_COMMAND), name);
      if (stats.unknownIn.size < 64 || stats.unknownIn.has(name)) stats.unknownIn.set(name, (stats.unknownIn.get(name) ?? 0) + 1);
      else stats.unknownIn.set('<other>', (stats.unknownIn.get('<other>') ?? 0) + 1);
      if (this.hs === Hs.Start) return this.close(CloseReason.HANDSHAKE_OUT_OF_ORDER, name);
      if (this.unknownHandlers.length || this.events.message?.length) {
        const raw: RawMessage = { command: name, payload: copyOf(buf, off, len) };
        for (const fn of this.unknownHandlers) this.callHandler(fn as (m: unknown, p: Peer) => void, raw, name);
        this.emit('message', name, raw, this);
      }
      return;
    }

    // Handshake order (Core net_processing.cpp): version first; verack, wtxidrelay, sendaddrv2 and
    // sendtxrcncl only before the handshake ends; anything else early is ignored and counted.
    if (this.hs === Hs.Start && cmd !== Command.version) {
      this.faultOn(Fault.HANDSHAKE_OUT_OF_ORDER, name);
      return this.close(CloseReason.HANDSHAKE_OUT_OF_ORDER, name);
    }
    if (cmd === Command.version && this.hs !== Hs.Start) {
      this.faultOn(Fault.DUPLICATE_VERSION, name);
      return this.close(CloseReason.HANDSHAKE_OUT_OF_ORDER, 'duplicate version');
    }
    if (this.hs === Hs.Ready && (cmd === Command.verack || cmd === Command.wtxidrelay || cmd === Command.sendaddrv2)) {
      // Core disconnects a peer that sends these after verack.
      this.faultOn(Fault.HANDSHAKE_OUT_OF_ORDER, name);
      return this.close(CloseReason.HANDSHAKE_OUT_OF_ORDER, `${name} after verack`);
    }

    if (this.rawTap !== undefined && this.hs === Hs.Ready && this.rawTap(cmd, buf, off, len, this)) return;
    const userHandlers = this.handlers[cmd];
    const wanted = (userHandlers !== undefined && userHandlers.length > 0) || (this.events.message?.length ?? 0) > 0;
    // Handlers may keep what they get, so they get a decode of a copy; internal handling reads in place.
    let src = buf;
    let o = off;
    if (wanted) {
      src = copyOf(buf, off, len);
      o = 0;
    }
    const msg = decodePayload(cmd, src, o, len, reader);
    if (msg === undefined) {
      const code = statusCode(reader.err);
      this.faultOn(code, name);
      if (this.hs !== Hs.Ready && (cmd === Command.version || cmd === Command.verack || cmd === Command.wtxidrelay || cmd === Command.sendaddrv2)) {
        this.close(CloseReason.MALFORMED_HANDSHAKE, `${name}: ${code}`);
      }
      return;
    }
    if (this.hs !== Hs.Ready && cmd !== Command.version && cmd !== Command.verack && cmd !== Command.wtxidrelay && cmd !== Command.sendaddrv2 && cmd !== Command.sendtxrcncl) {
      this.faultOn(Fault.EARLY_MESSAGE, name);
    }
    // What the peer said is recorded first, handlers see it next, and our replies (verack, pong,
    // the ready event) follow: a transcript reads in causal order.
    if (cmd === Command.version) this.recordVersion(msg as VersionMessage);
    if (userHandlers) for (const fn of userHandlers) this.callHandler(fn, msg, name);
    if (wanted) this.emit('message', name, msg, this);
    if (!this.isClosed) this.handleInternal(cmd, msg);
  }

  private callHandler(fn: (m: any, p: Peer) => void, msg: unknown, command: string): void {
    try {
      fn(msg, this);
    } catch (e) {
      this.reportHandlerError(e, command);
    }
  }

  /** Protocol duties. Returns false when the peer was closed. */
  private handleInternal(cmd: number, msg: unknown): boolean {
    switch (cmd) {
      case Command.version:
        return this.onVersion(msg as VersionMessage);
      case Command.verack:
        if (!this.verackSent) {
          // Their verack before their version cannot happen (version is checked first).
          return true;
        }
        this.hs = Hs.Ready;
        this.stats.handshakeAt = now();
        this.nextPingAt = now() + Math.min(this.options.pingIntervalMs, 2_000);
        if (this.options.blockAnnounce === 'headers') this.send('sendheaders', {});
        else if (this.options.blockAnnounce === 'cmpct') this.send('sendcmpct', { announce: true, version: 2n });
        // Our verack (and what preceded it) goes to the wire before anyone hears we are ready:
        // the remote must be able to be ready by the time our 'ready' handlers act.
        this.flushHeld();
        this.emit('ready', this);
        this.resolveReady();
        return !this.isClosed;
      case Command.ping:
        if (this.options.answerPing && this.isReady) this.send('pong', { nonce: (msg as MessageMap['ping']).nonce });
        return true;
      case Command.pong: {
        const nonce = (msg as MessageMap['pong']).nonce;
        if (this.pingNonce !== 0n && nonce === this.pingNonce) {
          const rtt = now() - this.pingSentAt;
          const s = this.stats;
          s.pongsReceived++;
          s.lastRttMs = rtt;
          if (s.minRttMs < 0 || rtt < s.minRttMs) s.minRttMs = rtt;
          s.rttsMs.push(rtt);
          if (s.rttsMs.length > 16) s.rttsMs.shift();
          this.pingNonce = 0n;
          this.nextPingAt = now() + this.options.pingIntervalMs;
        } else {
          this.faultOn(Fault.UNEXPECTED_PONG, 'pong');
        }
        return true;
      }
      case Command.getheaders:
        if (this.options.answerGetHeaders && this.isReady) this.send('headers', { headers: [] });
        return true;
      case Command.wtxidrelay:
        if (this.remote) this.remote.wtxidRelay = true;
        return true;
      case Command.sendaddrv2:
        if (this.remote) this.remote.sendAddrV2 = true;
        return true;
      case Command.sendheaders:
        if (this.remote) this.remote.sendHeaders = true;
        return true;
      case Command.sendcmpct:
        if (this.remote) this.remote.cmpct = { ...(msg as MessageMap['sendcmpct']) };
        return true;
      case Command.feefilter:
        if (this.remote) this.remote.feeFilter = (msg as MessageMap['feefilter']).feerate;
        return true;
      default:
        return true;
    }
  }

  private recordVersion(v: VersionMessage): void {
    this.stats.versionAt = now();
    this.remote = {
      version: v.version,
      services: v.services,
      userAgent: v.userAgent,
      startHeight: v.startHeight,
      relay: v.relay ?? true,
      nonce: v.nonce,
      addrRecv: { services: v.addrRecv.services, ip: v.addrRecv.ip.slice(), port: v.addrRecv.port },
      wtxidRelay: false,
      sendAddrV2: false,
      sendHeaders: false,
      cmpct: null,
      feeFilter: 0n,
    };
  }

  private onVersion(v: VersionMessage): boolean {
    if (v.version < MIN_PEER_PROTO_VERSION) {
      this.close(CloseReason.OBSOLETE_VERSION, String(v.version));
      return false;
    }
    if (v.nonce === this.localVersion.nonce || (this.direction === 'inbound' && this.localNonces.has(v.nonce))) {
      this.close(CloseReason.SELF_CONNECTION);
      return false;
    }
    if (this.direction === 'inbound') this.send('version', this.localVersion);
    // Core: wtxidrelay and sendaddrv2 go after version and before verack, to peers of 70016+.
    const common = Math.min(v.version, this.localVersion.version);
    if (common >= 70016) {
      this.send('wtxidrelay', {});
      this.send('sendaddrv2', {});
    }
    this.send('verack', {});
    this.verackSent = true;
    this.hs = Hs.GotVersion;
    return !this.isClosed;
  }
}
