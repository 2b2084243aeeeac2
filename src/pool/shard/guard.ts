/**
 * A shard's per-peer budgets against floods: token buckets on the ring records a peer
 * may write (inv/headers/cmpctblock entries) and on the addresses it may pass on (Bitcoin Core's
 * addr rate limit, net_processing.cpp). Worker thread (the shard); `take` runs once per frame on
 * the tap's hot path: two float operations, no allocation. Imports nothing.
 */

/** Limits, each with why it is that number. */
export const GUARD = {
  /**
   * Ring records one peer may write at once. Core never sends more than INVENTORY_BROADCAST_MAX
   * (1,000) tx entries in one inv; ten trickles' worth covers any honest burst (a block inv after a
   * few reorgs, btcd's larger batches). A legal 50,000-entry inv (MAX_INV_SZ) is over it: a peer
   * sending one is flooding, and one such peer per shard could otherwise fill the shard's
   * 65,536-record ring between two drains and make honest peers' records drop.
   */
  INV_BURST: 10_000,
  /**
   * Records per second refilled: ten times Core's most towards an outbound peer (1,000 per 2 s
   * trickle = 500/s) and far above mainnet's ~7 tx/s, so that a simulator at a high time scale
   * (bench:pool: 400 entries/s per peer) stays well inside it.
   */
  INV_PER_SECOND: 5_000,
  /** Core MAX_ADDR_PROCESSING_TOKEN_BUCKET: addresses a peer may give at most at once (also added per getaddr we send). */
  ADDR_BUCKET: 1_000,
  /** Core MAX_ADDR_RATE_PER_SECOND: addresses refilled per second. */
  ADDR_PER_SECOND: 0.1,
  /** Core starts a peer's addr bucket at 1 (one self-announcement passes without a getaddr). */
  ADDR_INITIAL: 1,
} as const;

/** A token bucket on a caller-supplied clock (epoch ms): `capacity` at most, `perSecond` refill. */
export class TokenBucket {
  tokens: number;
  private last: number;
  private readonly capacity: number;
  private readonly perMs: number;

  constructor(capacity: number, perSecond: number, nowMs: number, initial = capacity) {
    this.capacity = capacity;
    this.perMs = perSecond / 1000;
    this.tokens = Math.min(initial, capacity);
    this.last = nowMs;
  }

  private refill(nowMs: number): void {
    if (nowMs > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (nowMs - this.last) * this.perMs);
      this.last = nowMs;
    }
  }

  /** Takes `n` tokens if there are that many; false (nothing taken) otherwise. */
  take(n: number, nowMs: number): boolean {
    this.refill(nowMs);
    if (n > this.tokens) return false;
    this.tokens -= n;
    return true;
  }

  /** Takes as many of `n` as there are whole tokens; returns how many. */
  takeUpTo(n: number, nowMs: number): number {
    this.refill(nowMs);
    const k = Math.max(0, Math.min(n, Math.floor(this.tokens)));
    this.tokens -= k;
    return k;
  }

  /** Adds tokens beyond the refill, up to `capacity` (Core: +1,000 addr tokens per getaddr sent). */
  add(n: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + n);
  }
}
