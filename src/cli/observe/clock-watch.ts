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
/** The shortest period the test-only INVSCOPE_TEST_CLOCK_SAMPLE_MS may set. */
export const MIN_TEST_CLOCK_SAMPLE_MS = 50;

/**
 * The sampling period: CLOCK_SAMPLE_MS, or the test-only INVSCOPE_TEST_CLOCK_SAMPLE_MS when it is
 * an integer of at least MIN_TEST_CLOCK_SAMPLE_MS (any other value is ignored; src/store/README.md).
 */
export function clockSamplePeriod(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(env.INVSCOPE_TEST_CLOCK_SAMPLE_MS ?? NaN);
  return Number.isInteger(ms) && ms >= MIN_TEST_CLOCK_SAMPLE_MS ? ms : CLOCK_SAMPLE_MS;
}

export interface ClockWatchOptions {
  /** @default clockSamplePeriod() */
  periodMs?: number;
  /** Takes one sample. @default sampleClock */
  sample?: () => Promise<ClockSample>;
}

/** The log lines ClockWatch writes (ObserveLog's write). */
type ClockLog = Pick<ObserveLog, 'write'>;

export class ClockWatch {
  /** The latest sample (the timeline's clock columns). */
  current: ClockSample;
  /** run.json's clockSync: the sample at the start, the latest MAX_CLOCK_SAMPLES - 1, the period. */
  readonly record: { atStart: ClockSample; samples: ClockSample[]; periodMs: number };
  private timer: ReturnType<typeof setTimeout> | null = null;

  private constructor(
    first: ClockSample,
    private readonly periodMs: number,
    private readonly sample: () => Promise<ClockSample>,
  ) {
    this.current = first;
    this.record = { atStart: first, samples: [first], periodMs };
  }

  static async start(o: ClockWatchOptions = {}): Promise<ClockWatch> {
    const sample = o.sample ?? (() => sampleClock());
    return new ClockWatch(await sample(), o.periodMs ?? clockSamplePeriod(), sample);
  }

  /**
   * Samples every periodMs after the previous sample finished (never two probes at once), logs
   * each sample and calls `changed` (run.json is rewritten).
   */
  watch(log: ClockLog, changed: () => void): void {
    const next = (): void => {
      this.timer = setTimeout(() => {
        void this.sample().then((c) => {
          if (this.timer === null) return;
          this.current = c;
          this.record.samples.push(c);
          if (this.record.samples.length > MAX_CLOCK_SAMPLES) this.record.samples.splice(1, 1);
          log.write('info', `clock: ${c.source} ${c.state} offset ${c.offsetMs ?? '?'} ms error ${c.errorMs ?? '?'} ms`);
          changed();
          next();
        });
      }, this.periodMs);
    };
    next();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
