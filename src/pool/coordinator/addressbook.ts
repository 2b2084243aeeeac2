/**
 * The pool's address book: every address known (from the list, DNS seeds and addr/addrv2), its state
 * (idle / pending / connected), its last outcome, and per-address exponential backoff with jitter.
 * Main thread (the coordinator), not a hot path: a few calls per connection attempt.
 * Must not import worker or socket code.
 */
import { netAddrNetwork, parseNetAddr } from '../../protocol/messages/address.js';
import { parseHostPort, isHostPort } from './hostport.js';

export interface AddressBookOptions {
  /** First retry delay after a failure; doubles per consecutive failure. @default 1_000 */
  backoffBaseMs?: number;
  /** Cap of the retry delay. @default 600_000 (10 min) */
  backoffMaxMs?: number;
  /** Delay before reconnecting an address whose handshaken peer went away (not a failure). @default 1_000 */
  retryAfterDropMs?: number;
  /** Jitter fraction: a delay d becomes uniform in [d(1-jitter), d]. @default 0.5 */
  jitter?: number;
  /** @default Math.random */
  random?: () => number;
  /** Networks dialled: the direct ones, plus torv3/i2p/cjdns when a proxy is configured. @default ['ipv4','ipv6','name'] */
  reachable?: readonly string[];
  /** Addresses kept from source 'addr' at most; more are refused and counted (`learnedDropped`). @default 100_000 */
  maxLearned?: number;
}

export type AddressState = 'idle' | 'pending' | 'connected';

export interface AddressRecord {
  /** host:port (IPv6 in brackets). */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** ipv4, ipv6, torv3, i2p, cjdns ..., or 'name' for a DNS name. */
  readonly network: string;
  /** Where it was learned first: 'list', 'dns', 'addr'. */
  readonly source: string;
  /** Services advertised with it in addr/addrv2 (decimal string), if learned there. */
  services?: string;
  state: AddressState;
  attempts: number;
  /** Consecutive failures (reset by a completed handshake). */
  failures: number;
  /**
   * Consecutive connections closed for a protocol fault after the handshake (bad magic, oversize,
   * inv flood, a stalled send...): not reset by a handshake, only by a connection that ends
   * without a fault, so a node that handshakes and then misbehaves backs off like a dead one.
   */
  misbehaved: number;
  /** Not tried again before this time (epoch ms). */
  nextAttemptAt: number;
  lastAttemptAt: number;
  /** 'ready', a connect error code (ECONNREFUSED, ERR_CONNECT_TIMEOUT), or a close reason. */
  lastOutcome: string | null;
  lastOutcomeAt: number;
}

/** Networks reachable without a proxy. */
const DIRECT = new Set(['ipv4', 'ipv6', 'name']);
/** Networks kept in the book but dialled only through a SOCKS5 proxy. */
export const PROXIED_NETWORKS: readonly string[] = ['torv3', 'i2p', 'cjdns'];

/** The book parses addresses with the pool's one host:port parser (hostport.ts). */
export { parseHostPort };

/** One book entry as pool.addresses() returns it (a copy). */
export interface AddressInfo {
  address: string;
  network: string;
  source: string;
  services?: string;
  state: AddressState;
  attempts: number;
  failures: number;
  lastOutcome: string | null;
  lastOutcomeAt: number;
  nextAttemptAt: number;
}

/** A record as an AddressInfo copy (for output). */
export function addressInfo(r: AddressRecord): AddressInfo {
  return {
    address: r.address,
    network: r.network,
    source: r.source,
    ...(r.services !== undefined ? { services: r.services } : {}),
    state: r.state,
    attempts: r.attempts,
    failures: r.failures,
    lastOutcome: r.lastOutcome,
    lastOutcomeAt: r.lastOutcomeAt,
    nextAttemptAt: r.nextAttemptAt,
  };
}

export class AddressBook {
  private readonly list: AddressRecord[] = [];
  private readonly byAddress = new Map<string, AddressRecord>();
  private cursor = 0;
  private readonly base: number;
  private readonly max: number;
  private readonly afterDrop: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly reachable: Set<string>;
  private readonly maxLearned: number;
  private learned = 0;
  /** Learned addresses refused because the book held maxLearned of them already. */
  learnedDropped = 0;

  constructor(options: AddressBookOptions = {}) {
    this.base = options.backoffBaseMs ?? 1_000;
    this.max = options.backoffMaxMs ?? 600_000;
    this.afterDrop = options.retryAfterDropMs ?? 1_000;
    this.jitter = options.jitter ?? 0.5;
    this.random = options.random ?? Math.random;
    this.reachable = new Set(options.reachable ?? DIRECT);
    this.maxLearned = options.maxLearned ?? 100_000;
  }

  /** Addresses kept from source 'addr'. */
  get learnedCount(): number {
    return this.learned;
  }

  /** Whether this book dials the record's network (direct, or through the proxy). */
  isReachable(rec: AddressRecord): boolean {
    return this.reachable.has(rec.network);
  }

  get size(): number {
    return this.list.length;
  }

  /**
   * Adds an address (host:port); returns its record (the existing one if known), or null if
   * unparsable or, for source 'addr', beyond maxLearned. `network` overrides the one parsed from
   * the text (CJDNS is IPv6 text: only addrv2 tells them apart).
   */
  add(address: string, source = 'list', defaultPort?: number, network?: string): AddressRecord | null {
    const hp = parseHostPort(address, defaultPort);
    if (!isHostPort(hp)) return null;
    const key = hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
    const known = this.byAddress.get(key);
    if (known) return known;
    if (source === 'addr' && this.learned >= this.maxLearned) {
      this.learnedDropped++;
      return null;
    }
    if (network === undefined) {
      const net = parseNetAddr(hp.host);
      network = net ? netAddrNetwork(net) : /^[a-z0-9.-]+$/i.test(hp.host) ? 'name' : 'unknown';
    }
    if (source === 'addr') this.learned++;
    const rec: AddressRecord = {
      address: key,
      host: hp.host,
      port: hp.port,
      network,
      source,
      state: 'idle',
      attempts: 0,
      failures: 0,
      misbehaved: 0,
      nextAttemptAt: 0,
      lastAttemptAt: 0,
      lastOutcome: null,
      lastOutcomeAt: 0,
    };
    this.list.push(rec);
    this.byAddress.set(key, rec);
    return rec;
  }

  get(address: string): AddressRecord | undefined {
    return this.byAddress.get(address);
  }

  all(): readonly AddressRecord[] {
    return this.list;
  }

  /** Whether an address can be dialled without a proxy. */
  static connectable(rec: AddressRecord): boolean {
    return DIRECT.has(rec.network);
  }

  /**
   * The next idle, directly reachable address whose backoff has expired, round robin over the
   * book (a cursor, so that one slow address does not starve the rest); undefined if none.
   * `accept` filters (e.g. only listed sources).
   */
  next(now: number, accept?: (r: AddressRecord) => boolean): AddressRecord | undefined {
    const n = this.list.length;
    for (let k = 0; k < n; k++) {
      if (this.cursor >= n) this.cursor = 0;
      const r = this.list[this.cursor++]!;
      if (r.state === 'idle' && r.nextAttemptAt <= now && this.reachable.has(r.network) && (!accept || accept(r))) return r;
    }
    return undefined;
  }

  /** The earliest time an idle address becomes eligible (Infinity if none is waiting). */
  nextEligibleAt(): number {
    let t = Infinity;
    for (const r of this.list) if (r.state === 'idle' && this.reachable.has(r.network) && r.nextAttemptAt < t) t = r.nextAttemptAt;
    return t;
  }

  markPending(r: AddressRecord, now: number): void {
    r.state = 'pending';
    r.attempts++;
    r.lastAttemptAt = now;
  }

  markConnected(r: AddressRecord, now: number): void {
    r.state = 'connected';
    r.lastOutcome = 'connected';
    r.lastOutcomeAt = now;
  }

  /** The handshake completed: the address is good, its failures are forgiven. */
  markReady(r: AddressRecord, now: number): void {
    r.failures = 0;
    r.lastOutcome = 'ready';
    r.lastOutcomeAt = now;
  }

  /** A connect failed or a peer closed before its handshake: back off exponentially, with jitter. */
  markFailed(r: AddressRecord, outcome: string, now: number): void {
    this.backOff(r, ++r.failures, outcome, now);
  }

  /** A handshaken peer went away (remote close, timeout...): retry after a short fixed delay. */
  markDropped(r: AddressRecord, outcome: string, now: number, delayMs = this.afterDrop): void {
    r.state = 'idle';
    r.misbehaved = 0;
    r.lastOutcome = outcome;
    r.lastOutcomeAt = now;
    r.nextAttemptAt = now + delayMs;
  }

  /** A handshaken peer closed for a protocol fault: back off exponentially on consecutive faults. */
  markMisbehaved(r: AddressRecord, outcome: string, now: number): void {
    this.backOff(r, ++r.misbehaved, outcome, now);
  }

  private backOff(r: AddressRecord, times: number, outcome: string, now: number): void {
    r.state = 'idle';
    r.lastOutcome = outcome;
    r.lastOutcomeAt = now;
    r.nextAttemptAt = now + this.backoff(times);
  }

  /** The delay after `failures` consecutive failures: min(max, base * 2^(failures-1)), jittered down. */
  backoff(failures: number): number {
    const d = Math.min(this.max, this.base * 2 ** Math.min(failures - 1, 30));
    return d * (1 - this.jitter * this.random());
  }
}
