/**
 * Wall time per phase of a report (checking the parts, the aggregates, the summary, the figures...),
 * in `report --json` as `phases`: where the time of a run over many parts goes. Main thread, cold path.
 */
import { performance } from 'node:perf_hooks';

export class Phases {
  /** Seconds per phase, in the order the phases first ran (a phase run twice adds up). */
  readonly seconds: Record<string, number> = {};

  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.seconds[name] = (this.seconds[name] ?? 0) + (performance.now() - t) / 1000;
    }
  }
}
