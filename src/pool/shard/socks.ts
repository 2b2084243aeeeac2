/**
 * Outbound peers through a SOCKS5 proxy (Tor, I2P's SOCKS tunnel, a CJDNS-capable proxy): the
 * `socks` package does the CONNECT handshake (the destination name, e.g. an .onion, is resolved by
 * the proxy), then a Peer is attached to the socket exactly as connectPeer attaches a direct one.
 * Shard (worker) side, cold path: once per connection attempt. src/peer stays proxy-agnostic.
 */
import { SocksClient } from 'socks';
import { attachStream, ConnectError } from '../../peer/net.js';
import { Peer, type PeerOptions } from '../../peer/peer.js';

export interface ProxyConnectOptions extends Omit<PeerOptions, 'direction' | 'remoteHost' | 'remotePort'> {
  proxy: { host: string; port: number };
  host: string;
  port: number;
  /** Covers the TCP connect to the proxy and its CONNECT reply. @default 5_000 */
  connectTimeoutMs?: number;
  setup?: (peer: Peer) => void;
}

/** Rejects with a ConnectError: the socket's code when the proxy itself is unreachable, else ERR_SOCKS / ERR_CONNECT_TIMEOUT. */
export async function connectPeerViaProxy(options: ProxyConnectOptions): Promise<Peer> {
  const { proxy, host, port, connectTimeoutMs = 5_000, setup, ...peerOptions } = options;
  let socket;
  try {
    ({ socket } = await SocksClient.createConnection({
      proxy: { host: proxy.host, port: proxy.port, type: 5 },
      command: 'connect',
      destination: { host, port },
      timeout: connectTimeoutMs,
      set_tcp_nodelay: true,
    }));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const code = err.code ?? (/time/i.test(err.message) ? 'ERR_CONNECT_TIMEOUT' : /ECONNREFUSED/.test(err.message) ? 'ECONNREFUSED' : 'ERR_SOCKS');
    throw new ConnectError(code, `connect to ${host}:${port} via socks5 ${proxy.host}:${proxy.port} failed: ${err.message}`);
  }
  const peer = new Peer({ ...peerOptions, direction: 'outbound', remoteHost: host, remotePort: port });
  setup?.(peer);
  attachStream(peer, socket);
  return peer;
}
