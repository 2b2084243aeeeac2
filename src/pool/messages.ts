/**
 * The typed port protocol between the coordinator (main thread) and its shards (piscina workers):
 * the task a shard is started with, the messages each side posts, and nothing else (README.md here
 * documents the order guarantees). Types only plus a few constants: any thread, not a hot path.
 * Must not import anything with side effects (no sockets, no piscina): both threads load it.
 */
import type { MessagePort } from 'node:worker_threads';
import type { NetworkParams } from '../protocol/constants.js';
import type { PeerTunables, VersionOptions } from '../peer/peer.js';
import { CloseReason } from '../peer/faults.js';

/**
 * What every peer of a shard is given (src/peer PeerOptions), resolved by the coordinator
 * (coordinator/options.ts resolveOptions): no default is applied in the shard.
 */
export interface ShardPeerOptions extends Required<PeerTunables> {
  version?: VersionOptions;
}

/**
 * Shard settings, fixed for the life of a task (structured-clone safe: BigInt is fine, functions
 * are not). Every field is resolved by the coordinator (coordinator/options.ts, where the defaults
 * and their `@default`s are written); the shard applies none of its own.
 */
export interface ShardOptions {
  network: NetworkParams;
  peer: ShardPeerOptions;
  connectTimeoutMs: number;
  /** How often the shard posts a 'stats' summary. */
  statsIntervalMs: number;
  /** Decoded commands forwarded as 'message' from the start (more with a 'tap' message). */
  forward: string[];
  /** SOCKS5 proxy for connects that carry `proxy: true` (Tor v3, I2P, CJDNS). */
  proxy?: { host: string; port: number };
  /** Listen for inbound peers here (only in the listening shard's task; port 0 picks one). */
  listen?: { host: string; port: number };
  /** Inbound peers beyond this are refused at accept. */
  maxInbound: number;
  /** A user handler module (URL href) every shard imports and runs (shard/handlers.ts). */
  handlers?: string;
  /** Passed to the handler module's setup as ctx.options. */
  handlerOptions?: unknown;
  /**
   * Inbound: 'v1' accepts v1 only; otherwise a v2 responder that also serves v1 peers (it detects
   * a v1 version header). Outbound connects carry their own transport.
   */
  transport: 'v1' | 'v2' | 'auto';
  /** Per peer: ring records at once and refilled per second before it is closed as inv-flood (shard/guard.ts). */
  invBurst: number;
  invPerSecond: number;
}

/** Inbound peer indices have the top bit set, so they never collide with the coordinator's outbound ones. */
export const INBOUND_PEER_BASE = 0x8000_0000;

/** What piscina hands the shard's task function. The port is transferred (transferList). */
export interface ShardTask {
  port: MessagePort;
  ring: SharedArrayBuffer;
  shard: number;
  options: ShardOptions;
}

// -------------------------------------------------------------------------------------------------
// Coordinator -> shard

export type ToShard =
  /** Connect outbound to host:port as peer `peer` (a coordinator-wide index, written in ring records). */
  | { type: 'connect'; peer: number; host: string; port: number; proxy?: boolean; transport?: 'v1' | 'v2' }
  /** Send one message to a peer once it is ready (e.g. getaddr when crawling); dropped if it is not. */
  | { type: 'send'; peer: number; command: string; payload: unknown }
  /** Close one peer (or cancel its pending connect). */
  | { type: 'close'; peer: number }
  /** Replace the set of forwarded decoded commands. inv/headers/cmpctblock never are: the ring has them. */
  | { type: 'tap'; commands: string[] }
  /** Close every peer, publish the ring, post 'stopped', resolve the task. */
  | { type: 'stop' }
  /** Test-only: kill this shard ('throw': an uncaught exception; 'exit': process.exit in the worker). */
  | { type: 'crash'; how: 'throw' | 'exit' };

// -------------------------------------------------------------------------------------------------
// Shard -> coordinator (plain objects; errors travel as codes)

/** The remote's version, clone-safe (services as a decimal string, addrRecv as host:port). */
export interface RemoteVersion {
  version: number;
  services: string;
  userAgent: string;
  startHeight: number;
  relay: boolean;
  addrRecv: string;
  wtxidRelay: boolean;
  sendAddrV2: boolean;
}

/** An address learned from addr/addrv2. */
export interface LearnedAddress {
  /** host:port, IPv6 in brackets. */
  address: string;
  network: string;
  services: string;
  time: number;
}

/** A shard's counters (since its task started). */
export interface ShardCounters {
  shard: number;
  peers: number;
  ready: number;
  pending: number;
  /** Records pushed into the ring (accepted). */
  records: number;
  /** Records refused because the ring was full. */
  drops: number;
  /** Ring publishes (one per socket read that carried records). */
  publishes: number;
  /** Frames consumed by the tap (inv + headers + cmpctblock messages). */
  frames: number;
  /** Malformed inv/headers/cmpctblock payloads (counted, not disconnected). */
  malformed: number;
  bytesIn: number;
  /** User handler calls, errors thrown (or rejected) by them, and their posts (0 without a handler module). */
  handlerCalls: number;
  handlerErrors: number;
  handlerPosts: number;
  /** Messages from pool.send() that did not encode (dropped). */
  sendErrors: number;
  /** This thread's event-loop delay since the previous stats message (perf_hooks, 2 ms resolution). */
  loopDelayMs: { p50: number; p99: number; max: number };
  /** Peers closed as inv-flood: over their record budget (guard.ts). */
  invFlood: number;
  /** Addresses dropped by Core's addr rate limit (never posted). */
  addrRateLimited: number;
}

export type FromShard =
  /** `listening` is the bound host:port of a listening shard; `listenError` a failed listen's code (not fatal). */
  | { type: 'started'; shard: number; listening?: string; listenError?: string; handlersError?: string }
  /** An inbound peer was accepted (index >= INBOUND_PEER_BASE); then ready/closed as for outbound. */
  | { type: 'inbound'; peer: number; address: string }
  | { type: 'connected'; peer: number }
  | { type: 'failed'; peer: number; code: string }
  | { type: 'ready'; peer: number; remote: RemoteVersion; transport: 'v1' | 'v2' }
  | { type: 'addr'; peer: number; command: 'addr' | 'addrv2'; addrs: LearnedAddress[] }
  | { type: 'message'; peer: number; command: string; msg: unknown }
  /** `reconnectV1`: a v2 attempt dropped before any byte came back (retry with v1, as Core does). */
  | { type: 'closed'; peer: number; reason: string; detail: string; wasReady: boolean; stats: Record<string, unknown>; transport: 'v1' | 'v2'; reconnectV1: boolean }
  | { type: 'stats'; counters: ShardCounters }
  /** A user handler's post (handlers.ts). */
  | { type: 'handler'; value: unknown }
  /** A user handler threw (the first few per shard task; all are counted in `errors`). peer -1: not about one peer. */
  | { type: 'handlerError'; peer: number; command: string; message: string; errors: number }
  | { type: 'stopped'; counters: ShardCounters };

/** The reason given for peers whose shard died (src/peer/faults.ts, with its policy). */
export const SHARD_DIED = CloseReason.SHARD_DIED;
/** The reason given for connects that failed (the code is the detail). */
export const CONNECT_FAILED = CloseReason.CONNECT_FAILED;
