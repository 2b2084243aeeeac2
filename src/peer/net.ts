/**
 * Socket glue for a Peer: outbound connect with a timeout, inbound accept on a listening socket,
 * and attaching any Duplex (a net.Socket, or an in-memory pair in tests). Listener functions are
 * module-level (no closure per socket for the data path). Runs on the thread owning the sockets.
 */
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Peer, CloseReason, type PeerOptions } from './peer.js';

/**
 * Chunks one stream may deliver in one turn of the event loop before it is paused until the next
 * turn. libuv reads a readable socket up to 32 times in a row (64 KB each, 2 MB) within
 * one poll callback, so a flooding peer (100,000 pings, 1,000,000 addresses) would hold its whole
 * thread for that long and every other peer of the shard would wait. 4 x 64 KB keeps one peer's
 * turn to a few milliseconds of parsing; an honest peer rarely sends more than one chunk a turn.
 */
export const MAX_CHUNKS_PER_TURN = 1;

/** A stream's share of the current turn. */
interface Turn {
  stream: Duplex;
  chunks: number;
  paused: boolean;
  /** Reading stopped because our send buffer is over its bound (resumed on 'drain'). */
  blocked: boolean;
}

/** Streams that delivered data this turn; one setImmediate per thread and turn resets them all. */
const touched: Turn[] = [];
let turnScheduled = false;

function endOfTurn(): void {
  turnScheduled = false;
  for (let i = 0; i < touched.length; i++) {
    const t = touched[i]!;
    t.chunks = 0;
    if (t.paused) {
      t.paused = false;
      if (!t.blocked && !t.stream.destroyed) t.stream.resume();
    }
  }
  touched.length = 0;
}

/** Attaches a connected Duplex to a peer: its data feeds `peer.receive`, its end closes the peer. */
export function attachStream(peer: Peer, stream: Duplex): void {
  const turn: Turn = { stream, chunks: 0, paused: false, blocked: false };
  // Each write's callback: once what is queued is back under the bound, reading resumes.
  const flushed = (): void => {
    if (turn.blocked && !stream.destroyed && stream.writableLength <= peer.options.maxSendBuffer) {
      turn.blocked = false;
      if (!turn.paused) stream.resume();
    }
  };
  // Frames written while corked (the peer's answers to one received chunk) are joined into one
  // write: one syscall, and one entry in the stream's queue instead of thousands when the remote
  // does not read (a destroyed stream fails every queued entry with an Error of its own).
  let held: Uint8Array[] | null = null;
  let heldBytes = 0;
  const io = {
    write(bytes: Uint8Array): void {
      if (held !== null) {
        held.push(bytes);
        heldBytes += bytes.length;
      } else stream.write(bytes, flushed);
    },
    bufferedBytes(): number {
      return stream.writableLength + heldBytes;
    },
    close(): void {
      // What was answered before the close still goes out (best effort), as unheld writes did.
      const h = held;
      held = null;
      heldBytes = 0;
      if (h !== null && h.length > 0 && !stream.destroyed) stream.write(h.length === 1 ? h[0]! : Buffer.concat(h));
      stream.destroy();
    },
    cork(): void {
      held ??= [];
    },
    uncork(): void {
      const h = held;
      held = null;
      if (h === null || h.length === 0 || stream.destroyed) {
        heldBytes = 0;
        return;
      }
      heldBytes = 0;
      stream.write(h.length === 1 ? h[0]! : Buffer.concat(h), flushed);
    },
  };
  stream.on('data', (chunk: Buffer) => {
    if (turn.chunks++ === 0) {
      touched.push(turn);
      if (!turnScheduled) {
        turnScheduled = true;
        setImmediate(endOfTurn);
      }
    }
    peer.receive(chunk);
    // Paused, the stream reads at most one more chunk into its buffer and stops reading.
    if (turn.chunks >= MAX_CHUNKS_PER_TURN && !turn.paused) {
      turn.paused = true;
      stream.pause();
    }
    // Bitcoin Core's fPauseSend: a peer whose answers pile up over the send bound (it does not
    // read: a ping flood it never reads the pongs of) is not read from until they are flushed
    // back under it, so what it makes us queue stays at the bound (sends over it are refused);
    // the peer's send-stall deadline closes it if they never are.
    if (!turn.blocked && stream.writableLength > peer.options.maxSendBuffer) {
      turn.blocked = true;
      stream.pause();
    }
  });
  stream.on('end', () => peer.transportClosed(CloseReason.REMOTE_CLOSED));
  stream.on('close', () => peer.transportClosed(CloseReason.REMOTE_CLOSED));
  stream.on('error', (e: NodeJS.ErrnoException) => peer.transportClosed(CloseReason.SOCKET_ERROR, e.code ?? e.message));
  peer.attach(io);
}

export interface ConnectOptions extends Omit<PeerOptions, 'direction' | 'remoteHost' | 'remotePort'> {
  host: string;
  port: number;
  /** @default 5_000 (Bitcoin Core DEFAULT_CONNECT_TIMEOUT, 5 s) */
  connectTimeoutMs?: number;
  /** Local address to bind (to choose a loopback source address). */
  localAddress?: string;
  /** Called with the peer before it sends anything: register handlers here to see every message. */
  setup?: (peer: Peer) => void;
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

/**
 * Connects outbound and starts the handshake. Resolves with the peer once TCP is up (await
 * `peer.ready` for the handshake); rejects with a ConnectError (`ERR_CONNECT_TIMEOUT`, or the
 * socket's code such as ECONNREFUSED) when the connection fails.
 */
export function connectPeer(options: ConnectOptions): Promise<Peer> {
  const { host, port, connectTimeoutMs = 5_000, localAddress, setup, ...peerOptions } = options;
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, ...(localAddress ? { localAddress } : {}), noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectError('ERR_CONNECT_TIMEOUT', `connect to ${host}:${port} timed out after ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    const onError = (e: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      reject(new ConnectError(e.code ?? 'ERR_CONNECT', `connect to ${host}:${port} failed: ${e.message}`));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      const peer = new Peer({ ...peerOptions, direction: 'outbound', remoteHost: host, remotePort: port });
      setup?.(peer);
      attachStream(peer, socket);
      resolve(peer);
    });
  });
}

export interface ListenOptions extends Omit<PeerOptions, 'direction' | 'remoteHost' | 'remotePort'> {
  host: string;
  port: number;
  /** Inbound peers beyond this are refused (the socket is closed at once). @default Infinity */
  maxPeers?: number;
}

/** Listens for inbound peers; each accepted socket becomes a Peer handed to `onPeer` before it is attached. */
export function listenPeers(options: ListenOptions, onPeer: (peer: Peer) => void): Promise<Server> {
  const { host, port, maxPeers = Infinity, ...peerOptions } = options;
  let open = 0;
  const server = createServer({ noDelay: true }, (socket: Socket) => {
    if (open >= maxPeers) {
      socket.destroy();
      return;
    }
    open++;
    const peer = new Peer({
      ...peerOptions,
      direction: 'inbound',
      remoteHost: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
    });
    peer.closed.then(() => open--);
    // Handlers registered in onPeer see every message: the peer is attached after it.
    onPeer(peer);
    attachStream(peer, socket);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
