/**
 * Socket glue for a Peer: outbound connect with a timeout, inbound accept on a listening socket,
 * and attaching any Duplex (a net.Socket, or an in-memory pair in tests). Listener functions are
 * module-level (no closure per socket for the data path). Runs on the thread owning the sockets.
 */
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Peer, CloseReason, type PeerOptions } from './peer.js';

/** Attaches a connected Duplex to a peer: its data feeds `peer.receive`, its end closes the peer. */
export function attachStream(peer: Peer, stream: Duplex): void {
  const io = {
    write(bytes: Uint8Array): void {
      stream.write(bytes);
    },
    bufferedBytes(): number {
      return stream.writableLength;
    },
    close(): void {
      stream.destroy();
    },
  };
  stream.on('data', (chunk: Buffer) => peer.receive(chunk));
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
