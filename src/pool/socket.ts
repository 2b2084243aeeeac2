/**
 * The shard's outbound socket glue, made for thousands of sockets on one thread (measured in
 * bench/README.md "Pool"): what src/peer/net.ts connectPeer does, minus the per-socket garbage and
 * memory. One receive buffer per thread (`net.connect({ onread })`: no Buffer allocated per read),
 * module-level socket listeners that find their peer through a field on the socket (no closure per
 * socket), a v1 decoder with a small frame batch. Worker thread (a shard); receive is the hot path.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { ConnectError } from '../peer/net.js';
import { CloseReason, Peer, type PeerIO, type PeerOptions } from '../peer/peer.js';
import { V1Transport, transportFactory, type FrameSink, type PeerTransport } from '../peer/transport.js';

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

/** The peer's I/O: one small object per socket, no closures. */
class SocketIO implements PeerIO {
  private readonly socket: Socket;
  constructor(socket: Socket) {
    this.socket = socket;
  }
  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }
  bufferedBytes(): number {
    return this.socket.writableLength;
  }
  close(): void {
    this.socket.destroy();
  }
}

interface PeeredSocket extends Socket {
  shardPeer?: ShardPeer;
}

// Module-level listeners: `this` is the socket (Node calls onread and event listeners on it).
function onRead(this: PeeredSocket, nread: number, buf: Uint8Array): boolean {
  const p = this.shardPeer;
  if (p !== undefined) p.receive(buf.subarray(0, nread));
  return true; // never pause: the peer consumed the bytes
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
    const socket: PeeredSocket = netConnect({ host, port, noDelay: true, onread: { buffer: receiveBuffer, callback: onRead } });
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
      socket.on('end', onEnd);
      socket.on('close', onEnd);
      socket.on('error', onError);
      peer.attach(new SocketIO(socket));
      resolve(peer);
    });
  });
}
