/**
 * The simulator server's shared vocabulary: what it needs of the model and the truth, its
 * counters, and one observer connection to one simulated node (`Conn`). Simulator process, main
 * thread; read on the announce path (hot), no logic of its own beyond the observer's name.
 */
import type { Socket } from 'node:net';
import type { Peer } from '../peer/index.js';
import type { SimItem, SimNodeInfo } from './types.js';

/** What the server needs of the model (src/sim/model.ts SimModel satisfies it). */
export interface SimModelView {
  readonly options: { readonly seed: number; readonly timeScale: number; readonly inboundTrickleMs: number };
  readonly nodes: readonly SimNodeInfo[];
  on(event: 'learn', fn: (node: number, item: SimItem, t: number) => void): void;
  on(event: 'churn', fn: (node: number, online: boolean, t: number) => void): void;
  item(id: number): SimItem | undefined;
  itemByHash(hash: Uint8Array): SimItem | undefined;
  knows(node: number, itemId: number): boolean;
  neighbors(node: number): readonly number[];
  online(node: number): boolean;
  /** Height of the best block the node knows (its version's start height), when the model tracks it. */
  nodeHeight?(node: number): number;
}

/** What the server writes to the ground truth (src/sim/truth.ts TruthWriter satisfies it). */
export interface SimTruthSink {
  announce(node: number, itemId: number, observer: string, t: number, how: 'inv' | 'headers' | 'cmpctblock'): void;
  misbehave(node: number, what: string, t: number): void;
}

export interface SimServerStats {
  accepted: number;
  /** Sockets dropped at once: remote not loopback, or dialed at an address that is no node. */
  refused: number;
  /** Sockets to a node that is offline (churned out): reset at once. */
  offline: number;
  /** Observers connected now (after the TCP accept, handshake or not). */
  connected: number;
  /** Observers whose handshake completed, now. */
  ready: number;
  /** Announcements (one per item per observer) by how. */
  invTx: number;
  invBlock: number;
  headers: number;
  cmpctblock: number;
  /** Messages answering getdata (tx, block, notfound), getaddr and getheaders. */
  served: number;
  misbehaviours: number;
}

export function newServerStats(): SimServerStats {
  return { accepted: 0, refused: 0, offline: 0, connected: 0, ready: 0, invTx: 0, invBlock: 0, headers: 0, cmpctblock: 0, served: 0, misbehaviours: 0 };
}

/** One observer connection to one simulated node. */
export class Conn {
  readonly node: number;
  readonly socket: Socket;
  peer: Peer | null = null;
  /** Their version arrived: from here on items are queued for them (Core sets up tx relay at version). */
  versioned = false;
  ready = false;
  /** Blocks learned between their version and the end of the handshake, announced at its end. */
  earlyBlocks: SimItem[] | null = null;
  /** Relay flag and feature choices, copied from the remote's version at ready. */
  relay = true;
  /** Tx item ids learned since the last trickle, FIFO from `head`. */
  pending: number[] = [];
  head = 0;
  /** Blocks already announced (few per run, so a Set is cheap). */
  blocks: Set<number> | null = null;
  getaddrDone = false;
  timers: ReturnType<typeof setTimeout>[] = [];
  closed = false;

  constructor(node: number, socket: Socket) {
    this.node = node;
    this.socket = socket;
  }

  get observer(): string {
    return this.peer ? this.peer.id : `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }
}

/** 127.0.0.0/8, plain or IPv4-mapped. */
export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  if (addr.startsWith('::ffff:')) addr = addr.slice(7);
  return addr.startsWith('127.') || addr === '::1';
}
