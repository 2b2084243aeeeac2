/**
 * What a Peer is made with: its byte pipe (PeerIO), the fields of our version, and every
 * tunable with its default written once (PEER_DEFAULTS; the pool resolves its own options
 * through peerTunables). Any thread; cold.
 */
import type { NetworkParams } from '../protocol/constants.js';
import type { PeerTransport } from '../transport/seam.js';
import type { CoarseTimer } from './timers.js';
import type { Peer } from './peer.js';
/** What a peer needs from the byte pipe under it (a socket, a duplex stream, a test harness). */
export interface PeerIO {
  write(bytes: Uint8Array): void;
  /** Bytes written but not yet flushed to the kernel. */
  bufferedBytes(): number;
  /** Closes the pipe; the peer has already recorded why. */
  close(): void;
  /**
   * Optional: hold writes until `uncork` and then send them in one go (a socket's cork/uncork:
   * one writev). The peer corks around each received chunk, so the answers to a chunk of many
   * frames (a ping flood's pongs) cost one syscall, not one each.
   */
  cork?(): void;
  uncork?(): void;
}

/** Fields of our `version`: every one settable; defaults are for measurement. */
export interface VersionOptions {
  /** @default 70016 (WTXID_RELAY_VERSION) */
  protocolVersion?: number;
  /** @default 0n (NODE_NONE: we serve nothing) */
  services?: bigint;
  /** @default '/invscope:0.1.0/' */
  userAgent?: string;
  /** @default 0 */
  startHeight?: number;
  /** @default true (relay=0 gets no tx inv at all) */
  relay?: boolean;
  /** @default a random 64-bit nonce per connection */
  nonce?: bigint;
}

/**
 * Every PeerOptions default, written once (the pool resolves its options against these too).
 * Times are Bitcoin Core's (net.h, net_processing.cpp), named beside each.
 */
export const PEER_DEFAULTS = {
  blockAnnounce: 'inv',
  /** Core DEFAULT_CONNECT_TIMEOUT (5 s for the TCP connect). */
  connectTimeoutMs: 5_000,
  /** Core DEFAULT_PEER_CONNECT_TIMEOUT (60 s for the version). */
  handshakeTimeoutMs: 60_000,
  /** Core PING_INTERVAL (2 min). */
  pingIntervalMs: 120_000,
  /** Core TIMEOUT_INTERVAL (20 min for a pong). */
  pingTimeoutMs: 1_200_000,
  /** Core TIMEOUT_INTERVAL: no bytes for this long closes the peer. */
  idleTimeoutMs: 1_200_000,
  /** Core -maxsendbuffer (5000 kB). */
  maxSendBuffer: 5_000_000,
  sendStallMs: 60_000,
  answerPing: true,
  answerGetHeaders: true,
} as const;

/** The PeerOptions that PEER_DEFAULTS covers: timings, bounds and duties. */
export type PeerTunables = Pick<PeerOptions, 'blockAnnounce' | 'handshakeTimeoutMs' | 'pingIntervalMs' | 'pingTimeoutMs' | 'idleTimeoutMs' | 'maxSendBuffer' | 'sendStallMs' | 'answerPing' | 'answerGetHeaders'>;

/** The tunables of `o` with PEER_DEFAULTS applied: used by every Peer and by the pool's resolveOptions. */
export function peerTunables(o: PeerTunables): Required<PeerTunables> {
  const D = PEER_DEFAULTS;
  return {
    blockAnnounce: o.blockAnnounce ?? D.blockAnnounce,
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? D.handshakeTimeoutMs,
    pingIntervalMs: o.pingIntervalMs ?? D.pingIntervalMs,
    pingTimeoutMs: o.pingTimeoutMs ?? D.pingTimeoutMs,
    idleTimeoutMs: o.idleTimeoutMs ?? D.idleTimeoutMs,
    maxSendBuffer: o.maxSendBuffer ?? D.maxSendBuffer,
    sendStallMs: o.sendStallMs ?? D.sendStallMs,
    answerPing: o.answerPing ?? D.answerPing,
    answerGetHeaders: o.answerGetHeaders ?? D.answerGetHeaders,
  };
}

export interface PeerOptions {
  network: NetworkParams;
  direction: 'outbound' | 'inbound';
  /** The remote address, recorded in stats and sent in our version's addrRecv. */
  remoteHost?: string;
  remotePort?: number;
  version?: VersionOptions;
  /**
   * How the peer should announce blocks: 'inv' sends neither sendheaders nor sendcmpct (DESIGN.md:
   * measurement wants block inv); 'headers' sends sendheaders; 'cmpct' sends sendcmpct(1, 2).
   * @default 'inv'
   */
  blockAnnounce?: 'inv' | 'headers' | 'cmpct';
  /** The version must arrive within this. @default PEER_DEFAULTS.handshakeTimeoutMs (60_000, Core DEFAULT_PEER_CONNECT_TIMEOUT) */
  handshakeTimeoutMs?: number;
  /** @default PEER_DEFAULTS.pingIntervalMs (120_000, Core PING_INTERVAL) */
  pingIntervalMs?: number;
  /** @default PEER_DEFAULTS.pingTimeoutMs (1_200_000, Core TIMEOUT_INTERVAL) */
  pingTimeoutMs?: number;
  /** No bytes received for this long closes the peer. @default PEER_DEFAULTS.idleTimeoutMs (1_200_000) */
  idleTimeoutMs?: number;
  /** Bytes buffered for sending beyond which sends are refused. @default PEER_DEFAULTS.maxSendBuffer (5_000_000) */
  maxSendBuffer?: number;
  /** A send buffer over its bound for this long closes the peer. @default PEER_DEFAULTS.sendStallMs (60_000) */
  sendStallMs?: number;
  /** Answer ping with pong. @default true */
  answerPing?: boolean;
  /** Answer getheaders with an empty headers. @default true */
  answerGetHeaders?: boolean;
  /** @default the thread's shared coarse timer */
  timer?: CoarseTimer;
  /** @default a v1 transport on the network's magic */
  transport?: (sink: import('../transport/seam.js').FrameSink) => PeerTransport;
  /** A label for logs and stats. @default `${host}:${port}` */
  id?: string;
  /**
   * Sees every checksum-valid frame of a known command before it is decoded, with the read's
   * receive time; returning true consumes the frame (counted in the stats, not decoded, no
   * handlers). The shard uses it to write inv entries to its ring straight from the bytes. The
   * view is valid only during the call. Only called once the handshake is done.
   */
  rawTap?: (command: number, buf: Uint8Array, off: number, len: number, peer: Peer) => boolean;
  /**
   * Nonces of this node's outbound versions, for self-connection detection. Peers that share a
   * set are one node. @default one set per thread
   */
  localNonces?: Set<bigint>;
}


