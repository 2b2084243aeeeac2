/**
 * The socket glue between a Peer and its stream, one implementation for the single peer
 * (src/peer/net.ts) and the shards (src/pool/shard/socket.ts): a per-turn read budget, corked writes,
 * reading paused while the send queue is over the peer's bound (Bitcoin Core's fPauseSend), and
 * for sockets we dial, `net.connect({ onread })` with one receive buffer per thread. Runs on the
 * thread owning the sockets; the read callbacks are the hot path (no closure or Buffer per read).
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CloseReason, type Peer } from '../peer/peer.js';
import { V1Transport } from './seam.js';

/**
 * Chunks one stream may deliver in one turn of the event loop before it is paused until the next
 * turn. libuv reads a readable socket up to 32 times in a row (64 KB each, 2 MB) within one poll
 * callback, so a flooding peer (100,000 pings, 1,000,000 addresses) would hold its whole thread for
 * that long and every other peer of the thread would wait. One 64 KB chunk keeps one peer's turn
 * to a millisecond or so of parsing; an honest peer rarely sends more than one chunk a turn.
 */
export const MAX_CHUNKS_PER_TURN = 1;

/**
 * Bytes per socket read, shared by every onread socket of the thread: each read is consumed (a
 * decode, a copy into the ring, or a straddling frame's own buffer) before the callback returns.
 * 64 KiB is libuv's suggested read size; a larger read is simply split over more callbacks.
 * A plain Uint8Array, not a Buffer: the Peer hands its handlers `frame.slice(...)`, which copies
 * a Uint8Array but only views a Buffer, and a view into this buffer changes with the next read.
 */
const RECEIVE_BUFFER_BYTES = 64 * 1024;
const receiveBuffer = new Uint8Array(RECEIVE_BUFFER_BYTES);

/** Where a stream keeps its glue: module-level listeners find it through `this`. */
const GLUE = Symbol('invscope.socketIO');
type Glued = Duplex & { [GLUE]?: SocketIO };

/** Streams that delivered data this turn; one setImmediate per thread and turn resets them all. */
const touched: SocketIO[] = [];
let turnScheduled = false;

function endOfTurn(): void {
  turnScheduled = false;
  for (let i = 0; i < touched.length; i++) {
    const io = touched[i]!;
    io.turnChunks = 0;
    if (io.turnPaused) {
      io.turnPaused = false;
      io.resumeIfFree();
    }
  }
  touched.length = 0;
}

/**
 * A peer's PeerIO over a stream: one small object per stream, no closure. Frames written while
 * the peer handles one chunk (cork/uncork) are joined into one write: a ping flood's pongs cost
 * one syscall per read, and a remote that never reads queues one entry per read, not one per pong
 * (a destroyed stream fails every queued entry with an Error of its own).
 */
export class SocketIO {
  readonly stream: Duplex;
  readonly peer: Peer;
  /** The peer's send bound (PeerOptions.maxSendBuffer). */
  private readonly bound: number;
  /** Chunks delivered this turn. */
  turnChunks = 0;
  /** Not read until the next turn (MAX_CHUNKS_PER_TURN reached). */
  turnPaused = false;
  /** Not read while our send queue is over the bound; a write's callback resumes it. */
  blocked = false;
  private held: Uint8Array[] | null = null;
  private heldBytes = 0;
  /** The write callback, made only for a stream whose queue ever goes over the bound (rare). */
  private flushedCb: (() => void) | null = null;

  constructor(peer: Peer, stream: Duplex) {
    this.peer = peer;
    this.stream = stream;
    this.bound = peer.options.maxSendBuffer;
  }

  write(bytes: Uint8Array): void {
    if (this.held !== null) {
      this.held.push(bytes);
      this.heldBytes += bytes.length;
    } else this.send(bytes);
  }

  /**
   * Only a write that takes the queue over the bound carries a callback: while the stream is
   * blocked, the last write queued is such a write, so one callback is always pending, and the
   * first of them to find the queue back under the bound resumes reading.
   */
  private send(bytes: Uint8Array): void {
    const s = this.stream;
    if (s.writableLength + bytes.length > this.bound) s.write(bytes, (this.flushedCb ??= () => this.flushed()));
    else s.write(bytes);
  }

  private flushed(): void {
    if (this.blocked && this.stream.writableLength <= this.bound) {
      this.blocked = false;
      if (!this.turnPaused) this.resumeIfFree();
    }
  }

  bufferedBytes(): number {
    return this.stream.writableLength + this.heldBytes;
  }

  close(): void {
    // What was answered before the close still goes out (best effort).
    const h = this.takeHeld();
    if (h !== null && !this.stream.destroyed) this.stream.write(h);
    this.stream.destroy();
  }

  cork(): void {
    this.held ??= [];
  }

  uncork(): void {
    const h = this.takeHeld();
    if (h !== null && !this.stream.destroyed) this.send(h);
  }

  /** The held frames as one buffer (null when none) and holding stops. */
  private takeHeld(): Uint8Array | null {
    const h = this.held;
    this.held = null;
    this.heldBytes = 0;
    if (h === null || h.length === 0) return null;
    return h.length === 1 ? h[0]! : Buffer.concat(h);
  }

  /** Reading starts again unless something else still holds it. */
  resumeIfFree(): void {
    if (!this.blocked && !this.turnPaused && !this.stream.destroyed) this.stream.resume();
  }

  /**
   * Feeds one received chunk to the peer, then accounts it. Returns false when the stream must
   * not be read any more for now: its turn's budget is spent, or (fPauseSend) its answers pile up
   * over the send bound because it does not read them; what it makes us queue then stays at the
   * bound (sends over it are refused) and its send-stall deadline closes it if they never flush.
   */
  received(chunk: Uint8Array): boolean {
    this.peer.receive(chunk);
    if (this.turnChunks++ === 0) {
      touched.push(this);
      if (!turnScheduled) {
        turnScheduled = true;
        setImmediate(endOfTurn);
      }
    }
    if (this.turnChunks >= MAX_CHUNKS_PER_TURN) this.turnPaused = true;
    if (!this.blocked && this.stream.writableLength > this.bound) this.blocked = true;
    return !this.turnPaused && !this.blocked;
  }
}

// Module-level listeners: `this` is the stream (Node calls onread and event listeners on it).

function onData(this: Glued, chunk: Buffer): void {
  const io = this[GLUE];
  // Paused, a stream reads at most one more chunk into its own buffer and stops reading.
  if (io !== undefined && !io.received(chunk)) this.pause();
}
function onEnd(this: Glued): void {
  this[GLUE]?.peer.transportClosed(CloseReason.REMOTE_CLOSED);
}
function onError(this: Glued, e: NodeJS.ErrnoException): void {
  this[GLUE]?.peer.transportClosed(CloseReason.SOCKET_ERROR, e.code ?? e.message);
}

/** Glues a stream to a peer and attaches the peer (which may then send at once). */
function glue(peer: Peer, stream: Glued): void {
  const io = new SocketIO(peer, stream);
  stream[GLUE] = io;
  stream.on('end', onEnd);
  stream.on('close', onEnd);
  stream.on('error', onError);
  peer.attach(io);
}

/**
 * Attaches any connected Duplex to a peer, reading through 'data' events: accepted sockets (a
 * net.Server in Node 20 takes no onread for them), a SOCKS socket (the socks package reads its
 * handshake and hands over early bytes through 'data'), in-memory pairs in tests.
 */
export function attachStream(peer: Peer, stream: Duplex): void {
  glue(peer, stream);
  stream.on('data', onData);
}

/** The onread socket whose callback just ran: Node asks for its next buffer right after it. */
let reading: Glued | null = null;

/**
 * onread's buffer for the next read: while a large v1 frame (a block) is arriving, the free tail
 * of that frame's own buffer, so the kernel's copy is the only one (V1Decoder.receiveBuffer);
 * otherwise the thread's shared buffer. Node calls this without arguments or `this`, once when
 * the socket's handle is made and then synchronously after each read callback for the same
 * socket (Node 20 stream_base_commons onStreamRead), so `reading` names the socket without a
 * closure per socket; it is cleared here so a new socket's first call gets the shared buffer.
 */
function readTarget(): Uint8Array {
  const s = reading;
  reading = null;
  const t = s?.[GLUE]?.peer.transport;
  if (t instanceof V1Transport) {
    const b = t.decoder.receiveBuffer();
    if (b !== null) return b;
  }
  return receiveBuffer;
}
function onRead(this: Glued, nread: number, buf: Uint8Array): boolean {
  const io = this[GLUE];
  // Returning false stops reading (readStop); resume() starts it again.
  const go = io === undefined || io.received(buf.subarray(0, nread));
  reading = this;
  return go;
}

/** Why an outbound connection did not come up. */
export class ConnectError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ConnectError';
    this.code = code;
  }
}

export interface DialOptions {
  host: string;
  port: number;
  /** @default 5_000 (Bitcoin Core DEFAULT_CONNECT_TIMEOUT, 5 s) */
  connectTimeoutMs?: number;
  /** Local address to bind (to choose a loopback source address). */
  localAddress?: string;
}

/**
 * Dials with onread and the thread's receive buffer, makes the peer once TCP is up and glues
 * it. Resolves with the peer (await `peer.ready` for the handshake); rejects with a ConnectError
 * (`ERR_CONNECT_TIMEOUT`, or the socket's code such as ECONNREFUSED) when the connection fails.
 */
export function dialPeer<P extends Peer>(options: DialOptions, makePeer: () => P): Promise<P> {
  const { host, port, connectTimeoutMs = 5_000, localAddress } = options;
  return new Promise((resolve, reject) => {
    const socket: Socket & Glued = netConnect({
      host,
      port,
      ...(localAddress ? { localAddress } : {}),
      noDelay: true,
      onread: { buffer: readTarget, callback: onRead },
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectError('ERR_CONNECT_TIMEOUT', `connect to ${host}:${port} timed out after ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    const onConnectError = (e: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      reject(new ConnectError(e.code ?? 'ERR_CONNECT', `connect to ${host}:${port} failed: ${e.message}`));
    };
    socket.once('error', onConnectError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onConnectError);
      const peer = makePeer();
      glue(peer, socket);
      resolve(peer);
    });
  });
}
