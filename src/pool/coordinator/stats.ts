/**
 * The pool's stats: the PoolStats shape and the counting that feeds it (close reasons and connect
 * failures by code, the book's address counts). Main thread, cold: read on request.
 */
import type { ShardCounters } from '../messages.js';
import type { AddressBook } from './addressbook.js';

export interface PoolStats {
  /** connected and ready count outbound and inbound; `inbound` is the inbound part of connected. */
  peers: { pending: number; connected: number; ready: number; target: number; inbound: number; maxInbound: number };
  observations: number;
  consumerDrops: number;
  queued: number;
  shards: {
    shard: number;
    alive: boolean;
    restarts: number;
    peers: number;
    drained: number;
    drops: number;
    ringAvailable: number;
    last: ShardCounters | null;
    /** Errors thrown by user handler code in this shard (over its restarts). */
    handlerErrors: number;
  }[];
  disconnectReasons: Record<string, number>;
  connectFailures: Record<string, number>;
  addresses: { known: number; learned: number; learnedDropped: number; byNetwork: Record<string, number>; bySource: Record<string, number> };
  seeds: { lookups: number; failed: number; addresses: number; errors: Record<string, number> };
  crawl: { getaddrSent: number; addrMessages: number; addressesReceived: number };
  /** The listening shard's bound address (null when not listening, or if the listen failed: see listenError). */
  listening: string | null;
  listenError: string | null;
  /** Handshakes completed per transport, and v2 attempts retried with v1. */
  transports: { v1: number; v2: number; v1Retries: number };
}

/** Counts one more of `key`. */
export function tally(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** The book's addresses counted by network and by source. */
export function addressCounts(book: AddressBook): PoolStats['addresses'] {
  const byNetwork: Record<string, number> = {};
  const bySource: Record<string, number> = {};
  for (const r of book.all()) {
    tally(byNetwork, r.network);
    tally(bySource, r.source);
  }
  return { known: book.size, learned: book.learnedCount, learnedDropped: book.learnedDropped, byNetwork, bySource };
}

/** Peers by state: pending, connected (ready included) and ready. */
export function peerCounts(states: Iterable<{ state: 'pending' | 'connected' | 'ready' }>): { pending: number; connected: number; ready: number } {
  let pending = 0;
  let connected = 0;
  let ready = 0;
  for (const s of states) {
    if (s.state === 'pending') pending++;
    else {
      connected++;
      if (s.state === 'ready') ready++;
    }
  }
  return { pending, connected, ready };
}
