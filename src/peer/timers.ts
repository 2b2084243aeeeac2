/**
 * One coarse shared timer per event loop for every peer's deadlines (handshake, ping, idle):
 * a single unref'd interval walks the registered tickables, instead of a timer per peer.
 * Resolution is the tick (default 250 ms): deadlines fire up to one tick late, which is fine for
 * timeouts measured in seconds. Runs on whichever thread owns the peers; not a hot path.
 */

export interface Tickable {
  /** Called once per tick with the current time (epoch ms). */
  tick(nowMs: number): void;
}

const DEFAULT_TICK_MS = 250;

export class CoarseTimer {
  private readonly members = new Set<Tickable>();
  private handle: ReturnType<typeof setInterval> | null = null;
  readonly tickMs: number;

  constructor(tickMs = DEFAULT_TICK_MS) {
    this.tickMs = tickMs;
  }

  add(t: Tickable): void {
    this.members.add(t);
    if (this.handle === null) {
      this.handle = setInterval(() => this.run(), this.tickMs);
      // The timer never keeps a process alive by itself: sockets do.
      this.handle.unref();
    }
  }

  delete(t: Tickable): void {
    this.members.delete(t);
    if (this.members.size === 0 && this.handle !== null) {
      clearInterval(this.handle);
      this.handle = null;
    }
  }

  get size(): number {
    return this.members.size;
  }

  /** Runs one tick now (the interval calls this; tests may too). */
  run(nowMs: number = Date.now()): void {
    for (const t of this.members) {
      try {
        t.tick(nowMs);
      } catch (e) {
        // A faulty member must not stop the others' timeouts.
        process.emitWarning(`CoarseTimer: a tick threw: ${(e as Error).message}`);
      }
    }
  }
}

/** The timer shared by every peer on this thread. */
export const sharedTimer = new CoarseTimer();
