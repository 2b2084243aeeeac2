/**
 * Delay histograms, the report's one summary of a distribution: (value, n) pairs that merge by
 * adding counts. A small chunk keeps every delay exactly (value = the delay); a large one keeps
 * log bins of ratio BIN_RATIO (value = the bin's geometric middle), so any quantile read from it
 * is within HIST_REL_ERROR of the exact one. Quantiles are read as DuckDB's quantile_cont reads
 * them (linear interpolation at rank h = (m - 1) q), with ASOF joins on the cumulative counts.
 * Main thread, cold path (SQL text only).
 */

/** Ratio of consecutive log bins of the delay and time-to-x % histograms. */
export const BIN_RATIO = 1.02;
/**
 * Ratio of the per-peer histograms' bins: coarser, as there is one histogram per peer session
 * and hour (at 1.02 a day at 10,000 peers would hold ~250 M histogram rows, at 1.1 ~25 M).
 */
export const PEER_BIN_RATIO = 1.1;
/** Delays at or below this (ms) share the lowest bin; zero keeps its own value. */
export const BIN_FLOOR_MS = 0.001;
/** Bound on the relative error of a binned value: half a bin, sqrt(ratio) - 1 (0.995 % at 1.02). */
export const HIST_REL_ERROR = Math.sqrt(BIN_RATIO) - 1;
/** The same for the per-peer histograms (4.88 % at 1.1). */
export const PEER_REL_ERROR = Math.sqrt(PEER_BIN_RATIO) - 1;

/** SQL: the histogram value of the delay expression `d` (ms), exact or binned at `ratio`. */
export function histValueSql(d: string, exact: boolean, ratio = BIN_RATIO): string {
  if (exact) return d;
  const lr = Math.log(ratio);
  return `CASE WHEN ${d} <= 0 THEN ${d} ELSE ${BIN_FLOOR_MS} * exp((floor(ln(greatest(${d}, ${BIN_FLOOR_MS}) / ${BIN_FLOOR_MS}) / ${lr}) + 0.5) * ${lr}) END`;
}

/** The binned value of one delay, as histValueSql computes it (tests compare against it). */
export function binnedValue(d: number, ratio = BIN_RATIO): number {
  if (d <= 0) return d;
  const lr = Math.log(ratio);
  return BIN_FLOOR_MS * Math.exp((Math.floor(Math.log(Math.max(d, BIN_FLOOR_MS) / BIN_FLOOR_MS) / lr) + 0.5) * lr);
}

/**
 * Quantiles of histograms, per group. `source` yields the group columns, `value` and `n`;
 * `totals` (optional) yields the group columns and `m`, the number of members of which the
 * histogram holds only those that reached a value (the rest count as +infinity: a quantile
 * whose upper rank falls among them is null). Without `totals`, m is the histogram's count.
 * Rows: the group columns, k (index into qs), q, m, reached, v (null where undefined).
 */
export function histQuantileSql(source: string, groups: readonly string[], qs: readonly number[], totals?: string): string {
  const g = groups.join(', ');
  const on = (a: string, b: string): string => groups.map((c) => `${a}.${c} = ${b}.${c}`).join(' AND ');
  return `WITH s AS (SELECT ${g}, value, sum(n) AS n FROM (${source}) GROUP BY ALL),
    c AS (SELECT ${g}, value, sum(n) OVER (PARTITION BY ${g} ORDER BY value ROWS UNBOUNDED PRECEDING) AS hi FROM s),
    r AS (SELECT ${g}, sum(n) AS reached FROM s GROUP BY ALL),
    t AS (${totals ?? `SELECT ${g}, reached AS m FROM r`}),
    x AS (SELECT t.*, coalesce(r.reached, 0) AS reached, g.k, g.q, (t.m - 1) * g.q AS h
          FROM t LEFT JOIN r ON ${on('r', 't')}, (SELECT unnest(range(0, ${qs.length})) AS k, unnest([${qs.join(', ')}]::DOUBLE[]) AS q) g
          WHERE t.m > 0),
    lo AS (SELECT x.*, c.value AS vlo FROM x ASOF LEFT JOIN c ON ${on('c', 'x')} AND floor(x.h) < c.hi),
    b AS (SELECT lo.*, c.value AS vhi FROM lo ASOF LEFT JOIN c ON ${on('c', 'lo')} AND ceil(lo.h) < c.hi)
    SELECT ${groups.map((c) => `b.${c}`).join(', ')}, b.k, b.q, b.m, b.reached,
           CASE WHEN ceil(b.h) < b.reached THEN b.vlo + (b.vhi - b.vlo) * (b.h - floor(b.h)) END AS v
    FROM b`;
}
