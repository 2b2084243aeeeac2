/**
 * Clock offsets between vantages and the network-wide first-seen. Blocks are relayed without
 * trickling, so one peer's announcement of one block reaches two vantages at nearly the same
 * moment: the median of (time at B - time at A) over the (peer, block) pairs both heard is B's
 * clock offset to A, with a distribution-free confidence interval of the median (order
 * statistics of the binomial(n, 1/2)). Main thread, cold path; small tables (blocks only).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows, num, sqlString } from './load.js';

/** Two-sided normal quantile for the 95 % interval of the median. */
const Z95 = 1.959964;

export interface ClockOffset {
  /** Reference vantage A and the other vantage B; offsetMs estimates B's clock minus A's. */
  a: string;
  b: string;
  /** (peer, block) pairs both vantages heard. */
  samples: number;
  offsetMs: number | null;
  /** 95 % confidence interval of the median (order statistics); null under 6 samples. */
  ciMs: [number, number] | null;
}

/** Above this many samples the binomial is replaced by its normal approximation. */
const EXACT_MAX_N = 100_000;

/**
 * 1-based ranks (lo, hi) of the order statistics X(lo) <= median <= X(hi) bounding a 95 % CI of
 * the median of n values: the largest lo with P(lo <= B < n + 1 - lo) >= 0.95 for B ~
 * binomial(n, 1/2) (exact up to EXACT_MAX_N, then n/2 -/+ z sqrt(n)/2); null when even
 * (1, n) covers less (n < 6).
 */
export function medianCiRanks(n: number): [number, number] | null {
  if (n > EXACT_MAX_N) {
    const h = (Z95 * Math.sqrt(n)) / 2;
    return [Math.floor(n / 2 - h), Math.ceil(n / 2 + h) + 1];
  }
  // Tail mass P(B < lo), added one term at a time (log space: no overflow).
  let logC = 0;
  let tail = 0;
  let lo = 0;
  for (let k = 0; k <= n / 2; k++) {
    if (k > 0) logC += Math.log(n - k + 1) - Math.log(k);
    const next = tail + Math.exp(logC - n * Math.LN2);
    if (2 * next > 1 - 0.95) break;
    tail = next;
    lo = k + 1;
  }
  if (lo < 1) return null;
  return [lo, n + 1 - lo];
}

/**
 * Table `blk` (vantage, node, hash, t): each peer's first announcement of each block per
 * vantage, the peer named by its address or node id (the same node in every run and vantage),
 * from the aggregates (aggregate.ts `nann` keeps every block).
 */
async function blockFirsts(conn: DuckDBConnection): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE blk AS
    SELECT vantage, node, hash, min(t) AS t FROM agg_nann WHERE item_kind = 'block' GROUP BY ALL`);
}

/** The offset of every pair of vantages (a before b in the given order). */
export async function clockOffsets(conn: DuckDBConnection, vantages: readonly string[]): Promise<ClockOffset[]> {
  if (vantages.length < 2) return [];
  await blockFirsts(conn);
  const out: ClockOffset[] = [];
  for (let i = 0; i < vantages.length; i++) {
    for (let j = i + 1; j < vantages.length; j++) {
      const a = vantages[i]!;
      const b = vantages[j]!;
      const diffs = `SELECT y.t - x.t AS d FROM blk x JOIN blk y ON x.node = y.node AND x.hash = y.hash
        WHERE x.vantage = ${sqlString(a)} AND y.vantage = ${sqlString(b)}`;
      const [s] = await rows(conn, `SELECT count(*) AS n, quantile_cont(d, 0.5) AS med FROM (${diffs})`);
      const n = num(s!.n);
      const ranks = medianCiRanks(n);
      let ci: [number, number] | null = null;
      if (ranks !== null) {
        const r = await rows(conn, `SELECT r, d FROM (SELECT d, row_number() OVER (ORDER BY d) AS r FROM (${diffs})) WHERE r IN (${ranks[0]}, ${ranks[1]}) ORDER BY r`);
        ci = [num(r[0]!.d), num(r[1]!.d)];
      }
      out.push({ a, b, samples: n, offsetMs: n > 0 ? num(s!.med) : null, ciMs: ci });
    }
  }
  return out;
}

/**
 * Each vantage's shift to the reference (the first vantage): minus its estimated offset to the
 * reference, 0 for the reference and for a vantage with no block pair in common with it.
 */
export function alignmentShifts(vantages: readonly string[], offsets: readonly ClockOffset[]): Map<string, number> {
  const shift = new Map<string, number>();
  const ref = vantages[0];
  for (const v of vantages) {
    const o = offsets.find((x) => x.a === ref && x.b === v);
    shift.set(v, o?.offsetMs != null ? -o.offsetMs : 0);
  }
  return shift;
}
