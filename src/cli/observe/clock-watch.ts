/**
 * The host clock's synchronisation state over an observation run (chrony, systemd-timesyncd, the
 * kernel's adjtimex state, else "unknown"; src/store/clock.ts): sampled at the start and every
 * CLOCK_SAMPLE_MS, kept in run.json's clockSync and written into every timeline row. Main
 * thread; cold.
 */
import { sampleClock, type ClockSample } from '../../store/index.js';
import type { ObserveLog } from './log.js';

/** Every this often the host clock's sync state is sampled into run.json and the timeline. */
export const CLOCK_SAMPLE_MS = 300_000;
/** run.json keeps the first sample and the latest ones (a day at one per 5 minutes). */
export const MAX_CLOCK_SAMPLES = 289;

export class ClockWatch {
  /** The latest sample (the timeline's clock columns). */
  current: ClockSample;
  /** run.json's clockSync: the sample at the start and the latest MAX_CLOCK_SAMPLES - 1. */
  readonly record: { atStart: ClockSample; samples: ClockSample[] };
  private timer: ReturnType<typeof setInterval> | null = null;

  private constructor(first: ClockSample) {
    this.current = first;
    this.record = { atStart: first, samples: [first] };
  }

  static async start(): Promise<ClockWatch> {
    return new ClockWatch(await sampleClock());
  }

  /** Samples every CLOCK_SAMPLE_MS, logs each sample and calls `changed` (run.json is rewritten). */
  watch(log: ObserveLog, changed: () => void): void {
    this.timer = setInterval(() => {
      void sampleClock().then((c) => {
        if (this.timer === null) return;
        this.current = c;
        this.record.samples.push(c);
        if (this.record.samples.length > MAX_CLOCK_SAMPLES) this.record.samples.splice(1, 1);
        log.write('info', `clock: ${c.source} ${c.state} offset ${c.offsetMs ?? '?'} ms error ${c.errorMs ?? '?'} ms`);
        changed();
      });
    }, CLOCK_SAMPLE_MS);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
