/**
 * The network-wide propagation curves, from each item's network-wide first-seen (network.ts,
 * table `nfs`): per kind, the time until x % of the nodes that announced the item to any vantage
 * had announced it, for x = 1..100, as the 10th / 50th / 90th percentile over the items; and the
 * CDF of every node's delay after the network-wide first-seen. Every block counts; transactions
 * are a hash sample of one in `sampleEvery` (aggregate.ts nannSampledSql: the coarsest sample of
 * any chunk, so that every vantage's nodes are in for each sampled item), and their medians carry
 * a 95 % confidence interval for the sampling (README "Network-wide first-seen").
 * Main thread, cold path.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows, num } from './load.js';
import { nannSampledSql } from './aggregate.js';
import { medianCiRanks } from './clocks.js';
import { cdfSql, CDF_GRID, curveLayers, logCdfSpec, perKindPanels, type Figure } from './figures.js';

export interface NetworkCurvePoint {
  /** x: the share (%) of the item's announcing nodes. */
  pct: number;
  /** Percentiles over the items of the time from network-wide first-seen to x % (ms). */
  p10Ms: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  /** 95 % confidence interval of p50 for the sampling (order statistics); null when nothing is sampled out or under 6 items. */
  p50CiMs: [number, number] | null;
}

export interface NetworkCurve {
  /** Items in the curve (after sampling). */
  items: number;
  /** One item in this many is in the sample (1: all). */
  sampleEvery: number;
  /** (item, node) announcements after the network-wide first-seen, in the CDF. */
  announcements: number;
  points: NetworkCurvePoint[];
  /** The CDF of the delays after the network-wide first-seen through CDF_GRID: p of them at or below ms. */
  delayCdf: { ms: number; p: number }[];
}

export type NetworkCurves = Record<'tx' | 'block', NetworkCurve>;

/**
 * Table `nann` (hash, item_kind, node, t): per sampled item and node, its earliest announcement
 * to any vantage (`shift`: SQL adding each vantage's clock shift to a time of alias `a`), over the
 * items of `nit`; then the curves.
 */
export async function networkCurves(conn: DuckDBConnection, shift: string): Promise<NetworkCurves> {
  const [c] = await rows(conn, 'SELECT coalesce(max(sample_every), 1) AS w FROM agg_counts');
  const every = Math.max(1, num(c!.w));
  await conn.run(`CREATE OR REPLACE TEMP TABLE nann AS
    SELECT a.hash, any_value(a.item_kind) AS item_kind, a.node, min(a.t + ${shift}) AS t
    FROM agg_nann a SEMI JOIN nit ON nit.vantage = a.vantage AND nit.hash = a.hash
    WHERE ${nannSampledSql('a', every)} GROUP BY a.hash, a.node`);
  // The k-th earliest node of an item, k = ceil(x N / 100) of its N announcing nodes (integer
  // arithmetic: x / 100 in floating point puts ceil one rank off), from each item's sorted times.
  await conn.run(`CREATE OR REPLACE TEMP TABLE npt AS
    SELECT r.item_kind AS kind, g.pct, r.l[CAST((g.pct * len(r.l) + 99) // 100 AS BIGINT)] - f.first_seen AS d
    FROM (SELECT hash, any_value(item_kind) AS item_kind, list_sort(list(t)) AS l FROM nann GROUP BY hash) r
    JOIN nfs f USING (hash), (SELECT unnest(range(1, 101)) AS pct) g`);
  const q = await rows(
    conn,
    `SELECT kind, pct, count(*) AS n, quantile_cont(d, 0.1) AS p10, quantile_cont(d, 0.5) AS p50, quantile_cont(d, 0.9) AS p90 FROM npt GROUP BY ALL ORDER BY ALL`,
  );
  const cdf = await rows(conn, cdfSql(`SELECT n.item_kind AS kind, n.t - f.first_seen AS value FROM nann n JOIN nfs f USING (hash) WHERE n.t > f.first_seen`, ['kind']));
  const curve = async (kind: 'tx' | 'block'): Promise<NetworkCurve> => {
    const qk = q.filter((r) => r.kind === kind);
    const items = qk.length === 0 ? 0 : num(qk[0]!.n);
    const w = kind === 'tx' ? every : 1;
    const ci = w > 1 ? await medianCis(conn, kind, items) : new Map<number, [number, number]>();
    const v = (x: unknown): number | null => (x === null || !Number.isFinite(num(x)) ? null : num(x));
    const ck = cdf.filter((r) => r.kind === kind);
    return {
      items,
      sampleEvery: w,
      announcements: ck.length === 0 ? 0 : num(ck[0]!.n),
      points: qk.map((r) => ({ pct: num(r.pct), p10Ms: v(r.p10), p50Ms: v(r.p50), p90Ms: v(r.p90), p50CiMs: ci.get(num(r.pct)) ?? null })),
      delayCdf: ck.map((r) => ({ ms: num(r.v), p: CDF_GRID[num(r.k)]! })),
    };
  };
  return { tx: await curve('tx'), block: await curve('block') };
}

/** Per x, the 95 % CI of the median over the `n` items of `kind` (clocks.ts medianCiRanks). */
async function medianCis(conn: DuckDBConnection, kind: string, n: number): Promise<Map<number, [number, number]>> {
  const ranks = medianCiRanks(n);
  const out = new Map<number, [number, number]>();
  if (ranks === null) return out;
  const r = await rows(
    conn,
    `SELECT pct, r, d FROM (SELECT pct, d, row_number() OVER (PARTITION BY pct ORDER BY d) AS r FROM npt WHERE kind = '${kind === 'tx' ? 'tx' : 'block'}')
     WHERE r IN (${ranks[0]}, ${ranks[1]}) ORDER BY pct, r`,
  );
  for (const row of r) {
    const pct = num(row.pct);
    const ci = out.get(pct) ?? out.set(pct, [NaN, NaN]).get(pct)!;
    ci[num(row.r) === ranks[0] ? 0 : 1] = num(row.d);
  }
  return out;
}

/** The two figures of the curves (none drawn without points). */
export function networkFigures(c: NetworkCurves): Figure[] {
  const kinds = (['block', 'tx'] as const).filter((k) => c[k].items > 0);
  const label = (k: 'tx' | 'block'): string => (c[k].sampleEvery > 1 ? `${k} (${c[k].items} items, 1 in ${c[k].sampleEvery})` : `${k} (${c[k].items} items)`);
  const curve = kinds.flatMap((k) => c[k].points.map((p) => ({ kind: label(k), pct: p.pct, p10: p.p10Ms, p50: p.p50Ms, p90: p.p90Ms })));
  const cdf = kinds.flatMap((k) => c[k].delayCdf.map((p) => ({ kind: `${k} (${c[k].announcements})`, value: p.ms, p: p.p })));
  return [
    {
      id: 'network-propagation',
      title: 'Time from the network-wide first-seen until x % of the announcing nodes',
      caption:
        'Across all vantages: for each item timed at some vantage, the time from its earliest sighting at any vantage until x % of the nodes that announced it to any vantage had done so (each node at its earliest announcement anywhere); the line is the median over the items, the band the 10th to 90th percentile. Transactions are a uniform sample by hash when the run is large (the label says one in how many); the JSON gives the 95 % confidence interval of each median.',
      points: curve.length,
      spec: perKindPanels('Time from the network-wide first-seen until x % of the announcing nodes', curve, {
        encoding: { y: { field: 'pct', type: 'quantitative', title: 'announcing nodes (%)', scale: { domain: [0, 100] } } },
        layer: curveLayers('time since network-wide first-seen (ms)', [{ field: 'kind' }]),
      }),
    },
    {
      id: 'network-delay-cdf',
      title: 'Announcement delay after the network-wide first-seen (CDF)',
      caption:
        'For every item and every node that announced it to any vantage, the time from the earliest sighting of the item anywhere to the node\'s earliest announcement anywhere; the CDF over these announcements (the first one left out), per kind (counts in the legend). Log time axis; drag to pan, wheel to zoom.',
      points: cdf.length,
      spec: logCdfSpec('Announcement delay after the network-wide first-seen', cdf, 'delay after network-wide first-seen (ms, log)', { field: 'kind', title: 'kind' }),
    },
  ];
}
