/**
 * The shard's outbound sockets, made for thousands of sockets on one thread (measured in
 * bench/README.md "Pool"): connectPeer of src/peer/net.ts with a ShardPeer, which carries the
 * shard's index and slot, and a v1 decoder with a small frame batch. The socket glue (onread into
 * one receive buffer per thread, module-level listeners, no closure per socket) is
 * src/transport/socket.ts. Worker thread (a shard); receive is the hot path.
 */
import { Peer, type PeerOptions } from '../../peer/peer.js';
import { V1Transport, transportFactory, type FrameSink, type PeerTransport } from '../../transport/seam.js';
import { dialPeer, type DialOptions } from '../../transport/socket.js';

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

export interface ShardConnectOptions extends Omit<PeerOptions, 'direction' | 'remoteHost' | 'remotePort'>, Omit<DialOptions, 'localAddress'> {
  /** Called with the peer before it sends anything. */
  setup?: (peer: ShardPeer) => void;
}

/**
 * Connects outbound and starts the handshake, as connectPeer does: resolves with the peer once TCP
 * is up, rejects with a ConnectError (ERR_CONNECT_TIMEOUT or the socket's code) otherwise.
 */
export function connectShardPeer(options: ShardConnectOptions): Promise<ShardPeer> {
  const { host, port, connectTimeoutMs: _timeout, setup, ...peerOptions } = options;
  return dialPeer(options, () => {
    const peer = new ShardPeer({
      ...peerOptions,
      transport: peerOptions.transport ?? shardTransport('v1', peerOptions.network.magic),
      direction: 'outbound',
      remoteHost: host,
      remotePort: port,
    });
    setup?.(peer);
    return peer;
  });
}
