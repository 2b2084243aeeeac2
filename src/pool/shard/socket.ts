/**
 * The shard's outbound socket glue, made for thousands of sockets on one thread (measured in
 * bench/README.md "Pool"): what src/peer/net.ts connectPeer does, minus the per-socket garbage and
 * memory. One receive buffer per thread (`net.connect({ onread })`: no Buffer allocated per read),
 * module-level socket listeners that find their peer through a field on the socket (no closure per
 * socket), a v1 decoder with a small frame batch. Worker thread (a shard); receive is the hot path.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { ConnectError, MAX_CHUNKS_PER_TURN } from '../../peer/net.js';
import { CloseReason, Peer, type PeerIO, type PeerOptions } from '../../peer/peer.js';
import { V1Transport, transportFactory, type FrameSink, type PeerTransport } from '../../peer/transport.js';

/**
 * Bytes per socket read, shared by every socket of the thread: each read is consumed (copied into
 * the ring, a decode, or a straddling frame's own buffer) before the callback returns. 64 KiB is
 * libuv's suggested read size; a larger read is simply split over more callbacks.
 */
const RECEIVE_BUFFER_BYTES = 64 * 1024;
const receiveBuffer = Buffer.allocUnsafe(RECEIVE_BUFFER_BYTES);

/**
 * Frames checksummed per batch by the decoder. Its default (256) keeps five 256-entry typed arrays
 * per peer, 5 KiB each; at 10,000 peers that is 50 MB for reads that mostly carry one to three
 * frames. 16 costs 320 bytes per peer and still batches the bursts (a longer read takes several batches).
 */
export const SHARD_DECODER_BATCH = 16;

/** The transport of an outbound shard peer: v1 with the small decoder batch, or v2 (as transportFactory makes it). */
export function shardTransport(kind: 'v1' | 'v2', magic: number): (sink: FrameSink) => PeerTransport {
  if (kind === 'v1') return (sink) => new V1Transport(magic, sink, { batchSize: SHARD_DECODER_BATCH });
  return transportFactory('v2', 'outbound', magic);
}

/** A peer owned by a shard: the coordinator-wide index and the shard's record ride on the peer itself. */
export class ShardPeer extends Peer {
  /** Coordinator-wide peer index (the one written into ring records). */
  index = -1;
  /** The shard's slot for this peer (opaque here). */
  slot: unknown = null;
}

/**
 * The peer's I/O: one small object per socket, no closures. The frames written while the peer
 * handles one read are joined into one write (cork/uncork: a ping flood's pongs cost one
 * syscall per read, and a peer that never reads queues one entry per read, not one per pong).
 */
class SocketIO implements PeerIO {
  private readonly socket: PeeredSocket;
  private held: Uint8Array[] | null = null;
  private heldBytes = 0;
  constructor(socket: PeeredSocket) {
    this.socket = socket;
  }
  write(bytes: Uint8Array): void {
    if (this.held !== null) {
      this.held.push(bytes);
      this.heldBytes += bytes.length;
    } else this.socket.write(bytes);
  }
  bufferedBytes(): number {
    const s = this.socket;
    const n = s.writableLength;
    // Polled by the peer's deadline tick: a socket not read because of its send queue is read
    // again once the queue is back under the bound.
    if (s.blocked && s.shardPeer !== undefined && n <= s.shardPeer.options.maxSendBuffer) {
      s.blocked = false;
      if (!s.turnPaused && !s.destroyed) s.resume();
    }
    return n + this.heldBytes;
  }
  close(): void {
    const h = this.held;
    this.held = null;
    this.heldBytes = 0;
    // What was answered before the close still goes out (best effort).
    if (h !== null && h.length > 0 && !this.socket.destroyed) this.socket.write(h.length === 1 ? h[0]! : Buffer.concat(h));
    this.socket.destroy();
  }
  cork(): void {
    this.held ??= [];
  }
  uncork(): void {
    const h = this.held;
    this.held = null;
    this.heldBytes = 0;
    if (h !== null && h.length > 0 && !this.socket.destroyed) this.socket.write(h.length === 1 ? h[0]! : Buffer.concat(h));
  }
}

interface PeeredSocket extends Socket {
  shardPeer?: ShardPeer;
  /** Reads delivered this event-loop turn (src/peer/net.ts MAX_CHUNKS_PER_TURN). */
  turnChunks: number;
  /** Paused until the next turn. */
  turnPaused: boolean;
  /** Not read while our send queue to it is over the peer's bound (Core's fPauseSend). */
  blocked: boolean;
}

/** Sockets that had a read this turn; one setImmediate per thread and turn resets them all. */
const touched: PeeredSocket[] = [];
let turnScheduled = false;

function endOfTurn(): void {
  turnScheduled = false;
  for (let i = 0; i < touched.length; i++) {
    const s = touched[i]!;
    s.turnChunks = 0;
    if (s.turnPaused) {
      s.turnPaused = false;
      if (!s.blocked && !s.destroyed) s.resume();
    }
  }
  touched.length = 0;
}

// Module-level listeners: `this` is the socket (Node calls onread and event listeners on it).

/**
 * onread's buffer for the next read: while a large v1 frame (a block) is arriving, the free tail
 * of that frame's own buffer, so the kernel's copy is the only one (V1Decoder.receiveBuffer);
 * otherwise the thread's shared buffer. Node calls the buffer function after every read, without
 * the socket as `this`, so each socket has one small closure over its holder (~100 bytes).
 */
function readTarget(holder: { peer: ShardPeer | null }): Uint8Array {
  const t = holder.peer?.transport;
  if (t instanceof V1Transport) {
    const b = t.decoder.receiveBuffer();
    if (b !== null) return b;
  }
  return receiveBuffer;
}
function onRead(this: PeeredSocket, nread: number, buf: Uint8Array): boolean {
  const p = this.shardPeer;
  if (p !== undefined) p.receive(buf.subarray(0, nread));
  if (this.turnChunks++ === 0) {
    touched.push(this);
    if (!turnScheduled) {
      turnScheduled = true;
      setImmediate(endOfTurn);
    }
  }
  // Returning false stops reading (readStop); resume() starts it again. libuv would otherwise read
  // a flooding socket up to 32 times in a row within one poll, holding every other peer.
  let go = true;
  if (this.turnChunks >= MAX_CHUNKS_PER_TURN) {
    this.turnPaused = true;
    go = false;
  }
  if (p !== undefined && !this.blocked && this.writableLength > p.options.maxSendBuffer) {
    this.blocked = true;
    go = false;
  }
  return go;
}
function onEnd(this: PeeredSocket): void {
  this.shardPeer?.transportClosed(CloseReason.REMOTE_CLOSED);
}
function onError(this: PeeredSocket, e: NodeJS.ErrnoException): void {
  this.shardPeer?.transportClosed(CloseReason.SOCKET_ERROR, e.code ?? e.message);
}

export interface ShardConnectOptions extends Omit<PeerOptions, 'direction' | 'remoteHost' | 'remotePort'> {
  host: string;
  port: number;
  /** @default 5_000 (Bitcoin Core DEFAULT_CONNECT_TIMEOUT) */
  connectTimeoutMs?: number;
  /** Called with the peer before it sends anything. */
  setup?: (peer: ShardPeer) => void;
}

/**
 * Connects outbound and starts the handshake, as connectPeer does: resolves with the peer once TCP
 * is up, rejects with a ConnectError (ERR_CONNECT_TIMEOUT or the socket's code) otherwise.
 */
export function connectShardPeer(options: ShardConnectOptions): Promise<ShardPeer> {
  const { host, port, connectTimeoutMs = 5_000, setup, ...peerOptions } = options;
  const network = peerOptions.network;
  return new Promise((resolve, reject) => {
    const holder: { peer: ShardPeer | null } = { peer: null };
    const socket = netConnect({ host, port, noDelay: true, onread: { buffer: () => readTarget(holder), callback: onRead } }) as PeeredSocket;
    socket.turnChunks = 0;
    socket.turnPaused = false;
    socket.blocked = false;
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
      const peer = new ShardPeer({
        ...peerOptions,
        transport: peerOptions.transport ?? shardTransport('v1', network.magic),
        direction: 'outbound',
        remoteHost: host,
        remotePort: port,
      });
      setup?.(peer);
      socket.shardPeer = peer;
      holder.peer = peer;
      socket.on('end', onEnd);
      socket.on('close', onEnd);
      socket.on('error', onError);
      peer.attach(new SocketIO(socket));
      resolve(peer);
    });
  });
}
