/**
 * The benchmarks' refusal rule: a suite that saw a bad frame, or not as many frames and tx
 * payloads as its corpus holds, has no figure to report (a fast wrong answer is not a result).
 * Bench process only, cold path.
 */

export interface SinkCounts {
  frames: number;
  bad: number;
  txs: number;
}

/** Why the counts are wrong, or null when the suite did all its work and all of it was good. */
export function verifySink(name: string, sink: SinkCounts, expected: { frames: number; txs: number } | null): string | null {
  if (sink.bad > 0) return `${name}: ${sink.bad} of ${sink.frames} frames were bad`;
  if (expected === null) return null;
  if (sink.frames !== expected.frames) return `${name}: ${sink.frames} frames decoded, the corpus has ${expected.frames}`;
  if (sink.txs !== expected.txs) return `${name}: ${sink.txs} tx payloads decoded, the corpus has ${expected.txs}`;
  return null;
}
