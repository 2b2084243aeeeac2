/**
 * The shard's coarse timer for its peers' deadlines (handshake, ping, idle, send stall): the
 * CoarseTimer of src/peer/timers.ts, but a tick visits only a slice of the peers, so the walk over
 * 10,000 peers (a few milliseconds every 250 ms, all at once) becomes sub-millisecond pieces that
 * no socket read waits behind for long. Each peer is still visited once per `tickMs`.
 * Worker thread (a shard); not a hot path, but it runs between socket reads.
 */
import { CoarseTimer, type Tickable } from '../../peer/timers.js';

/** Slices per tick: with the default 250 ms tick, one slice every 25 ms. */
const SLICES = 10;

export class SlicedTimer extends CoarseTimer {
  private readonly all = new Set<Tickable>();
  /** Where the walk stands: a live iterator over the set (deleted members are skipped, new ones visited). */
  private walk: Iterator<Tickable> | null = null;
  private sliceHandle: ReturnType<typeof setInterval> | null = null;

  override add(t: Tickable): void {
    this.all.add(t);
    if (this.sliceHandle === null) {
      this.sliceHandle = setInterval(() => this.run(), Math.max(1, Math.floor(this.tickMs / SLICES)));
      // Like CoarseTimer: never keeps the thread alive by itself (sockets do).
      this.sliceHandle.unref();
    }
  }

  override delete(t: Tickable): void {
    this.all.delete(t);
    if (this.all.size === 0 && this.sliceHandle !== null) {
      clearInterval(this.sliceHandle);
      this.sliceHandle = null;
      this.walk = null;
    }
  }

  override get size(): number {
    return this.all.size;
  }

  /** One slice: the next ceil(size / SLICES) members, wrapping around to the start. */
  override run(nowMs: number = Date.now()): void {
    let k = Math.ceil(this.all.size / SLICES);
    while (k-- > 0) {
      if (this.walk === null) this.walk = this.all.values();
      const r = this.walk.next();
      if (r.done === true) {
        this.walk = null;
        return; // the next slice starts a new round
      }
      try {
        r.value.tick(nowMs);
      } catch (e) {
        process.emitWarning(`SlicedTimer: a tick threw: ${(e as Error).message}`);
      }
    }
  }
}
