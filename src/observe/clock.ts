/**
 * The receive clock: epoch milliseconds as a float64 with sub-microsecond resolution today,
 * from the monotonic high-resolution clock (`performance.now()`) anchored at `timeOrigin`.
 * Every thread uses the same formula over the same system clock, so timestamps from shard
 * workers and the main thread are comparable. Any thread, hot path (no allocation).
 */
import { performance } from 'node:perf_hooks';

const origin = performance.timeOrigin;

/** Milliseconds since the Unix epoch, fractional. */
export function now(): number {
  return origin + performance.now();
}
