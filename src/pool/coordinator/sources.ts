/**
 * Where the pool's addresses come from: the list (and addAddress), DNS seeds (resolve4/resolve6
 * through an injectable resolver) and the crawl (one getaddr per handshaken peer, addr/addrv2
 * answers learned into the book, bounded by the book's maxLearned). Main thread, cold path.
 * Gets the book and callbacks at construction; does not import the Coordinator.
 */
import { promises as dnsPromises } from 'node:dns';
import type { NetworkParams } from '../../protocol/constants.js';
import type { LearnedAddress } from '../messages.js';
import type { AddressBook } from './addressbook.js';

/** What DNS seeding needs of node:dns (its `promises` object fits). */
export interface SeedResolver {
  resolve4(hostname: string): Promise<string[]>;
  resolve6(hostname: string): Promise<string[]>;
}

/** A seed lookup's result: one per seed and family, also emitted as a 'seed' event. */
export interface SeedResult {
  seed: string;
  family: 4 | 6;
  /** Addresses the lookup returned (0 on failure). */
  addresses: number;
  /** Of those, new to the book. */
  added: number;
  /** The resolver's error code (ENOTFOUND, ETIMEOUT, ENODATA...) when it failed. */
  error?: string;
}

/** What the sources tell their owner. */
export interface SourceEvents {
  /** A seed lookup finished (the coordinator's 'seed' event). */
  seed(r: SeedResult): void;
  /** New addresses may be eligible: check the target. */
  changed(): void;
}

/** Networks worth keeping from addr/addrv2 (torv2 is dead, internal and unknown are not addresses). */
const LEARNABLE = new Set(['ipv4', 'ipv6', 'torv3', 'i2p', 'cjdns']);

export class AddressSources {
  readonly seedStats = { lookups: 0, failed: 0, addresses: 0, errors: {} as Record<string, number> };
  readonly crawlStats = { getaddrSent: 0, addrMessages: 0, addressesReceived: 0 };

  constructor(
    private readonly book: AddressBook,
    private readonly network: NetworkParams,
    /** The seeds resolved by default (none when seeding is off). */
    readonly seedNames: readonly string[],
    private readonly resolver: SeedResolver = dnsPromises,
    private readonly events: SourceEvents,
  ) {}

  /** The latest seed resolution (start's, then each reseed's). */
  seeding: Promise<SeedResult[]> = Promise.resolve([]);
  private seedingInFlight = false;
  private reseedTimer: ReturnType<typeof setInterval> | null = null;

  /**
   * Resolves the default seeds now and every `intervalMs` (0 or Infinity: once). A round is
   * skipped while the previous one is in flight: a seed slower than the interval never piles
   * lookups up. Not awaited by the caller: seeds feed the book as they answer.
   */
  startSeeding(intervalMs: number): void {
    if (this.seedNames.length === 0) return;
    this.seedOnce();
    if (intervalMs > 0 && Number.isFinite(intervalMs)) this.reseedTimer = setInterval(() => this.seedOnce(), intervalMs);
  }

  stopSeeding(): void {
    if (this.reseedTimer !== null) clearInterval(this.reseedTimer);
    this.reseedTimer = null;
  }

  private seedOnce(): void {
    if (this.seedingInFlight) return;
    this.seedingInFlight = true;
    this.seeding = this.resolveSeeds().finally(() => {
      this.seedingInFlight = false;
    });
  }

  /** Adds a list address (host:port, or a bare host on the network's default port); false if unparsable. */
  add(address: string, source = 'list'): boolean {
    return this.book.add(address, source, this.network.defaultPort) !== null;
  }

  /**
   * Resolves every seed (A and AAAA, all at once) into the book with source 'dns' and the
   * network's default port. Failures are counted and reported with their code; never thrown.
   */
  async resolveSeeds(seeds: readonly string[] = this.seedNames): Promise<SeedResult[]> {
    const lookups: Promise<SeedResult>[] = [];
    for (const seed of seeds) for (const family of [4, 6] as const) lookups.push(this.lookup(seed, family));
    const results = await Promise.all(lookups);
    const st = this.seedStats;
    for (const r of results) {
      st.lookups++;
      st.addresses += r.addresses;
      if (r.error !== undefined) {
        st.failed++;
        st.errors[r.error] = (st.errors[r.error] ?? 0) + 1;
      }
      this.events.seed(r);
    }
    this.events.changed();
    return results;
  }

  private lookup(seed: string, family: 4 | 6): Promise<SeedResult> {
    const port = this.network.defaultPort;
    return (family === 4 ? this.resolver.resolve4(seed) : this.resolver.resolve6(seed)).then(
      (ips) => {
        let added = 0;
        for (const ip of ips) {
          const before = this.book.size;
          this.book.add(family === 6 ? `[${ip}]:${port}` : `${ip}:${port}`, 'dns');
          if (this.book.size > before) added++;
        }
        return { seed, family, addresses: ips.length, added };
      },
      (e: unknown) => ({ seed, family, addresses: 0, added: 0, error: (e as NodeJS.ErrnoException)?.code ?? String((e as Error)?.message ?? e) }),
    );
  }

  /** A getaddr went to a handshaken peer (the crawl asks each connection once). */
  askedForAddresses(): void {
    this.crawlStats.getaddrSent++;
  }

  /** An addr/addrv2 message's addresses: counted and learned; true if any was new to the book. */
  received(addrs: readonly LearnedAddress[]): boolean {
    this.crawlStats.addrMessages++;
    this.crawlStats.addressesReceived += addrs.length;
    let added = false;
    for (const a of addrs) added = this.learn(a) || added;
    return added;
  }

  /** Adds a learned address (bounded by the book's maxLearned); true if it is new to the book. */
  private learn(a: LearnedAddress): boolean {
    if (!LEARNABLE.has(a.network)) return false;
    const before = this.book.size;
    const rec = this.book.add(a.address, 'addr', undefined, a.network);
    if (!rec || this.book.size === before) return false;
    rec.services = a.services;
    return true;
  }
}
