/**
 * First-seen aggregation (Decker and Wattenhofer 2013): per announced hash, when it was first seen
 * and by which peer, how many distinct peers announced it, and the time until 50/90/99 % of the
 * peers that were ready at first sight had announced it. An item is finalized `windowMs` after its
 * first sight (or at finish) and handed to `onItem`. Main thread, warm path (one Map lookup and
 * one Set insert per observation); memory is bounded by the window and by maxOpenItems.
 */
import type { ItemRow } from './rows.js';
import type { IdType } from './schema.js';

export interface AggregatorOptions {
  /** An item is finalized this long after its first sight. @default 120_000 */
  windowMs?: number;
  /** Open items at most; beyond, the oldest is finalized early (counted in `forced`). @default 200_000 */
  maxOpenItems?: number;
  onItem: (row: ItemRow) => void;
}

interface OpenItem {
  hash: string;
  idType: IdType;
  first: number;
  firstPeer: number;
  denom: number;
  peers: Set<number>;
  /** Receive times, one per distinct announcing peer (arrival order: shards interleave, so unsorted). */
  times: number[];
}

/** The fractions reported per item, as the items table's columns t50, t90, t99. */
const FRACTIONS = [0.5, 0.9, 0.99] as const;

export class ItemAggregator {
  readonly windowMs: number;
  private readonly maxOpen: number;
  private readonly onItem: (row: ItemRow) => void;
  private readonly open = new Map<string, OpenItem>();
  /** Hashes finalized within the last window (hash -> first seen): later announcements are late, not new items. */
  private readonly done = new Map<string, number>();
  /** Announcements of an item already finalized (after its window). */
  late = 0;
  /** Repeated announcements of an item by the same peer (not counted twice). */
  duplicates = 0;
  /** Items finalized before their window ended because maxOpenItems were open. */
  forced = 0;
  finalized = 0;

  constructor(o: AggregatorOptions) {
    this.windowMs = o.windowMs ?? 120_000;
    this.maxOpen = o.maxOpenItems ?? 200_000;
    this.onItem = o.onItem;
  }

  get openItems(): number {
    return this.open.size;
  }

  /** One announcement; `readyPeers` is the number of ready peers now (the denominator if it is new). */
  add(time: number, peer: number, hash: string, idType: IdType, readyPeers: number): void {
    const it = this.open.get(hash);
    if (it) {
      if (it.peers.has(peer)) {
        this.duplicates++;
        return;
      }
      it.peers.add(peer);
      it.times.push(time);
      if (time < it.first) {
        it.first = time;
        it.firstPeer = peer;
      }
      return;
    }
    if (this.done.has(hash)) {
      this.late++;
      return;
    }
    this.open.set(hash, { hash, idType, first: time, firstPeer: peer, denom: readyPeers, peers: new Set([peer]), times: [time] });
    if (this.open.size > this.maxOpen) {
      const oldest = this.open.values().next().value!;
      this.forced++;
      this.finalize(oldest);
    }
  }

  /** Finalizes every item first seen before now - windowMs; forgets done hashes older than two windows. */
  evict(now: number): void {
    const cut = now - this.windowMs;
    // Map order is arrival order, which is first-seen order to within a drain interval.
    for (const it of this.open.values()) {
      if (it.first >= cut) break;
      this.finalize(it);
    }
    const forget = now - 2 * this.windowMs;
    for (const [h, first] of this.done) {
      if (first >= forget) break;
      this.done.delete(h);
    }
  }

  /** Finalizes every open item (at stop). */
  finish(): void {
    for (const it of this.open.values()) this.finalize(it);
  }

  private finalize(it: OpenItem): void {
    this.open.delete(it.hash);
    this.done.set(it.hash, it.first);
    this.finalized++;
    const ts = it.times.sort((a, b) => a - b);
    const at = (q: number): number | null => {
      const need = Math.ceil(q * it.denom);
      if (need < 1 || ts.length < need) return null;
      return ts[need - 1]! - it.first;
    };
    this.onItem({
      hash: it.hash,
      item_kind: it.idType === 'block' ? 'block' : 'tx',
      id_type: it.idType,
      first_seen: it.first,
      first_peer: it.firstPeer,
      announcing_peers: it.peers.size,
      peers_at_first_seen: it.denom,
      t50: at(FRACTIONS[0]),
      t90: at(FRACTIONS[1]),
      t99: at(FRACTIONS[2]),
    });
  }
}
