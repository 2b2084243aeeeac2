/**
 * The single peer's sockets: outbound connect (what `invscope connect` uses), inbound accept on a
 * listening socket, and attaching any Duplex (a net.Socket, or an in-memory pair in tests), all
 * through the socket glue of src/transport/socket.ts. Runs on the thread owning the sockets.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Peer, type PeerOptions } from './peer.js';
import { attachStream, dialPeer, type DialOptions } from '../transport/socket.js';

export { attachStream, ConnectError, MAX_CHUNKS_PER_TURN } from '../transport/socket.js';

export interface ConnectOptions extends Omit<PeerOptions, 'direction' | 'remoteHost' | 'remotePort'>, DialOptions {
  /** Called with the peer before it sends anything: register handlers here to see every message. */
  setup?: (peer: Peer) => void;
}

/**
 * Connects outbound and starts the handshake. Resolves with the peer once TCP is up (await
 * `peer.ready` for the handshake); rejects with a ConnectError (`ERR_CONNECT_TIMEOUT`, or the
 * socket's code such as ECONNREFUSED) when the connection fails. Reads go through onread into the
 * thread's receive buffer, as a shard's do: the Peer consumes each read before it returns and
 * hands its handlers copies.
 */
export function connectPeer(options: ConnectOptions): Promise<Peer> {
  const { host, port, connectTimeoutMs: _t, localAddress: _l, setup, ...peerOptions } = options;
  return dialPeer(options, () => {
    const peer = new Peer({ ...peerOptions, direction: 'outbound', remoteHost: host, remotePort: port });
    setup?.(peer);
    return peer;
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
    // Handlers registered in onPeer see every message: the peer is attached after it. An accepted
    // socket reads through 'data' events: a net.Server in Node 20 takes no onread for its sockets.
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
