/**
 * The figures of the report, after Decker and Wattenhofer (2013): each is a Vega-Lite spec with
 * its data inlined, reduced in SQL to at most a few thousand points whatever the run's size
 * (quantile grids, time buckets, log bins, top-N), so report.html stays small. Data in ms and
 * epoch ms (UTC axes, so the output does not depend on the machine's time zone).
 * Main thread, cold path.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { num, rows } from './load.js';
import { histQuantileSql } from './hist.js';
import { timedSql } from './aggregate.js';

/** A Vega-Lite spec (kept loose: vega-lite's own types are checked when it compiles). */
export type VlSpec = Record<string, unknown>;

export interface Figure {
  /** File name stem and HTML id: figures/<id>.svg. */
  id: string;
  title: string;
  /** One paragraph under the plot in report.html: what is drawn and how it was computed. */
  caption: string;
  spec: VlSpec;
  /** Data points drawn (0: the figure is left out). */
  points: number;
}

const WIDTH = 620;
const HEIGHT = 320;
/** CDFs are drawn through 201 quantiles: exact to half a percentile at any run size. */
export const CDF_GRID = Array.from({ length: 201 }, (_, i) => i / 200);
/** Timelines are bucketed to at most this many points per vantage. */
const MAX_TIME_POINTS = 1500;
/** Peers in the "latest peers" bar chart. */
const WORST_PEERS = 20;
/** Announcements a peer needs to enter the "latest peers" chart (fewer: a noisy median). */
const WORST_MIN_ANNOUNCEMENTS = 10;
/** User agents shown; the rest are summed as "(other)". */
const TOP_AGENTS = 15;

function base(title: string, extra: VlSpec = {}): VlSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: WIDTH,
    height: HEIGHT,
    config: { font: 'sans-serif', legend: { orient: 'right' } },
    ...extra,
  };
}

/** Pan and zoom with the mouse on both axes (double-click resets). */
const ZOOM = [{ name: 'zoom', select: 'interval', bind: 'scales' }];

/**
 * A CDF drawn as steps on a log time axis: `values` hold `value` (ms) and `p`, one line per
 * `color` field (and per `dash` field, if given); the tooltip shows those and the point.
 */
export function logCdfSpec(title: string, values: readonly object[], xTitle: string, color: { field: string; title: string }, dash?: { field: string; title: string }, msFormat = '.2f'): VlSpec {
  const series = dash === undefined ? [color] : [dash, color];
  return base(title, {
    data: { values },
    params: ZOOM,
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: xTitle },
      y: { field: 'p', type: 'quantitative', title: 'fraction of announcements', scale: { domain: [0, 1] } },
      color: { ...color, type: 'nominal' },
      ...(dash === undefined ? {} : { strokeDash: { ...dash, type: 'nominal' } }),
      tooltip: [...series.map((f) => ({ field: f.field })), { field: 'value', title: 'ms', format: msFormat }, { field: 'p', format: '.3f' }],
    },
  });
}

/**
 * The layers of a propagation curve over pct (y): the 10th-90th percentile band and the median
 * line, from fields p10, p50, p90; `tooltip` fields come first in the tooltip.
 */
export function curveLayers(xTitle: string, tooltip: readonly object[]): VlSpec[] {
  return [
    { mark: { type: 'area', orient: 'horizontal', opacity: 0.2 }, encoding: { x: { field: 'p10', type: 'quantitative', title: xTitle }, x2: { field: 'p90' } } },
    {
      mark: { type: 'line', point: false },
      encoding: {
        x: { field: 'p50', type: 'quantitative' },
        order: { field: 'pct' },
        tooltip: [...tooltip, { field: 'pct', title: '%' }, { field: 'p50', title: 'median ms', format: '.1f' }, { field: 'p10', format: '.1f' }, { field: 'p90', format: '.1f' }],
      },
    },
  ];
}

/**
 * The CDF of `value` per group through CDF_GRID, exactly quantile_cont's (linear interpolation at
 * h = (n - 1) p), but computed by numbering the sorted values once and joining on the two ranks
 * around each h: DuckDB's quantile_cont with a 201-element list took 8.7 s over 945,000
 * announcements here, this 0.7 s. `source` yields the group columns and `value`.
 * Rows: the group columns, n, k (grid index), v.
 */
export function cdfSql(source: string, groups: readonly string[]): string {
  const g = groups.join(', ');
  return `WITH s AS (SELECT ${g}, value, row_number() OVER (PARTITION BY ${g} ORDER BY value) - 1 AS i FROM (${source})),
     c AS (SELECT ${g}, count(*) AS n FROM s GROUP BY ${g}),
     x AS (SELECT ${g}, n, k, (n - 1) * k / ${CDF_GRID.length - 1} AS h FROM c, (SELECT unnest(range(0, ${CDF_GRID.length})) AS k)),
     ix AS (SELECT ${g}, n, k, CAST(floor(h) AS BIGINT) AS i, 1 - (h - floor(h)) AS w FROM x
            UNION ALL SELECT ${g}, n, k, CAST(floor(h) AS BIGINT) + 1 AS i, h - floor(h) AS w FROM x WHERE h > floor(h))
  SELECT ${g}, any_value(n) AS n, k, sum(value * w) AS v FROM ix JOIN s USING (${g}, i) GROUP BY ${g}, k ORDER BY ${g}, k`;
}

/** cdfSql's rows as plot points: `label(row)` names the series, p the fraction. */
async function cdfPoints(conn: DuckDBConnection, sql: string, label: (row: Record<string, unknown>) => Record<string, unknown>): Promise<Record<string, unknown>[]> {
  return (await rows(conn, sql)).map((row) => ({ ...label(row), value: num(row.v), p: CDF_GRID[num(row.k)] }));
}

export async function delayCdf(conn: DuckDBConnection): Promise<Figure> {
  const q = histQuantileSql(`SELECT a.vantage, a.item_kind AS kind, a.value, a.n FROM agg_delay a WHERE ${timedSql('a')}`, ['vantage', 'kind'], CDF_GRID);
  const values = (await rows(conn, `SELECT * FROM (${q}) ORDER BY vantage, kind, k`)).map((row) => ({
    vantage: row.vantage,
    kind: `${row.kind} (${num(row.m)})`,
    value: num(row.v),
    p: num(row.q),
  }));
  return {
    id: 'delay-cdf',
    title: 'Announcement delay after first-seen (CDF)',
    caption:
      'For every item and every peer that announced it, the time from the first announcement of the item by any peer of the vantage to this peer\'s first announcement; the CDF over all such announcements after the first, per item kind (announcement counts in the legend). Log time axis; drag to pan, wheel to zoom.',
    points: values.length,
    spec: logCdfSpec('Announcement delay after first-seen', values, 'delay after first-seen (ms, log)', { field: 'kind', title: 'kind' }, { field: 'vantage', title: 'vantage' }),
  };
}

/**
 * Quantiles over items where an item that never reached x % counts as never (+infinity): the
 * q-quantile of M items is the linear interpolation at h = (M - 1) q over the sorted times of the
 * items that reached x %, defined only when the item at ceil(h) did reach it (else null). So a
 * curve is monotone in x, and a median exists only where at least half of the items reached x %
 * (taking quantiles over the items that reached it instead would bend the curve back at the top,
 * where only the fastest items arrive). `reach` yields (vantage, kind, pct, delay), one row per
 * item that reached pct; `totals` yields (vantage, kind, m). Rows: vantage, kind, pct, items, q, v.
 */
export function censoredQuantileSql(reach: string, totals: string, qs: readonly number[]): string {
  return `WITH r AS (SELECT vantage, kind, pct, delay, row_number() OVER w - 1 AS i, count(*) OVER (PARTITION BY vantage, kind, pct) AS reached
                     FROM (${reach}) WINDOW w AS (PARTITION BY vantage, kind, pct ORDER BY delay)),
               t AS (${totals}),
               p AS (SELECT vantage, kind, q, (m - 1) * q AS h FROM t, (SELECT unnest([${qs.join(', ')}]) AS q))
          SELECT r.vantage, r.kind, r.pct, any_value(r.reached) AS items, p.q,
                 CASE WHEN count(*) FILTER (r.i = ceil(p.h)) > 0 THEN
                   sum(CASE WHEN r.i = floor(p.h) THEN r.delay * (1 - (p.h - floor(p.h))) WHEN r.i = ceil(p.h) THEN r.delay * (p.h - floor(p.h)) ELSE 0 END) END AS v
          FROM r JOIN p ON p.vantage = r.vantage AND p.kind = r.kind
          WHERE r.i = floor(p.h) OR r.i = ceil(p.h)
          GROUP BY r.vantage, r.kind, r.pct, p.q`;
}

export interface CurvePoint {
  vantage: string;
  kind: string;
  pct: number;
  /** Items that reached pct. */
  items: number;
  p10: number | null;
  p50: number | null;
  p90: number | null;
}

/** censoredQuantileSql's rows at q = 0.1, 0.5, 0.9, one object per (vantage, kind, pct). */
export async function curveRows(conn: DuckDBConnection, reach: string, totals: string): Promise<CurvePoint[]> {
  return curvePoints(await rows(conn, `SELECT * FROM (${censoredQuantileSql(reach, totals, [0.1, 0.5, 0.9])}) ORDER BY vantage, kind, pct, q`), 'items');
}

/** Quantile rows (vantage, kind, pct, q, v and the count column) as one CurvePoint per (vantage, kind, pct). */
function curvePoints(r: Record<string, unknown>[], count: string): CurvePoint[] {
  const out = new Map<string, CurvePoint>();
  for (const row of r) {
    const key = `${row.vantage}\u0000${row.kind}\u0000${row.pct}`;
    const p = out.get(key) ?? out.set(key, { vantage: String(row.vantage), kind: String(row.kind), pct: num(row.pct), items: num(row[count]), p10: null, p50: null, p90: null }).get(key)!;
    const v = row.v === null ? null : num(row.v);
    const q = num(row.q);
    if (q === 0.1) p.p10 = v;
    else if (q === 0.5) p.p50 = v;
    else p.p90 = v;
  }
  return [...out.values()];
}

/** x = 1..100 (%), as SQL. */
export const PCT_GRID = 'SELECT unnest(range(1, 101)) AS pct';

/**
 * Per item, the time until k = ceil(x * N / 100) of its N peers (ready at first-seen) had
 * announced it, for x = 1..100 (aggregate.ts `pct`, per chunk); then the 10th, 50th and 90th
 * percentiles over all settled items (first seen inside the vantage's window, load.ts) of the
 * kind, unreached counting as never (as censoredQuantileSql).
 */
export async function propagationRows(conn: DuckDBConnection): Promise<CurvePoint[]> {
  const q = histQuantileSql(
    `SELECT a.vantage, a.item_kind AS kind, a.pct, a.value, a.n FROM agg_pct a WHERE ${timedSql('a')}`,
    ['vantage', 'kind', 'pct'],
    [0.1, 0.5, 0.9],
    `SELECT t.vantage, t.kind, g.pct, t.m FROM (${PCT_GRID}) g, (SELECT f.vantage, f.item_kind AS kind, count(*) AS m FROM agg_fs f JOIN win w ON w.vantage = f.vantage
     WHERE ${timedSql('f')} AND f.n_ready > 0 AND f.first_seen >= w.lo AND f.first_seen <= w.hi GROUP BY ALL) t`,
  );
  return curvePoints(await rows(conn, `SELECT * FROM (${q}) WHERE reached > 0 ORDER BY vantage, kind, pct, q`), 'reached');
}

export async function propagation(conn: DuckDBConnection): Promise<Figure> {
  const values = await propagationRows(conn);
  return {
    id: 'propagation',
    title: 'Time until x % of peers announced an item',
    caption:
      'The propagation curve: for each item first seen after the warm-up and before the settling time at the end, the time from first-seen until x % of the peers ready at first-seen had announced it; the line is the median over the items of the kind, the band the 10th to 90th percentile, an item that never reached x % counting as never (so the median ends where fewer than half of the items reached x %; the tooltip gives how many did).',
    points: values.length,
    spec: perKindPanels('Time until x % of peers announced an item', values, {
      encoding: {
        y: { field: 'pct', type: 'quantitative', title: 'peers that announced (%)', scale: { domain: [0, 100] } },
        color: { field: 'vantage', type: 'nominal', title: 'vantage' },
      },
      layer: curveLayers('time since first-seen (ms)', [{ field: 'vantage' }, { field: 'kind' }, { field: 'items' }]),
    }),
  };
}

/**
 * One panel per item kind, one above the other, each with its own time axis: blocks reach the
 * peers in about 100 ms and transactions in about 10 s, so on one linear axis the block curve is a
 * vertical line at zero.
 */
export function perKindPanels(title: string, values: readonly object[], inner: VlSpec): VlSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    config: { font: 'sans-serif', legend: { orient: 'right', labelLimit: 320 } },
    facet: { row: { field: 'kind', type: 'nominal', title: null, header: { labelFontWeight: 'bold', labelFontSize: 12 } } },
    resolve: { scale: { x: 'independent' } },
    spec: { width: WIDTH, height: Math.round(HEIGHT * 0.6), ...inner },
  };
}

async function timeline(conn: DuckDBConnection): Promise<Record<string, unknown>[]> {
  const span = await rows(conn, 'SELECT (max(time) - min(time)) / 1000 AS s FROM timeline');
  const bucket = Math.max(1, Math.ceil((num(span[0]?.s) || 0) / MAX_TIME_POINTS));
  return rows(
    conn,
    // Up to the stop request only: after it the observer closes its peers, and the drop to zero
    // that follows is the shutdown, not the network.
    `SELECT t.vantage, floor(t.time / ${bucket * 1000}) * ${bucket * 1000} AS t, max(t.peers_connected) AS connected, max(t.peers_ready) AS ready,
            sum(t.inv_entries) / ${bucket} AS rate, sum(t.drops) AS drops
     FROM timeline t LEFT JOIN win w ON w.vantage = t.vantage WHERE w.stop IS NULL OR t.time < w.stop GROUP BY ALL ORDER BY ALL`,
  );
}

const timeAxis = { field: 't', type: 'temporal', scale: { type: 'utc' }, axis: { format: '%H:%M:%S' }, title: 'time (UTC)' };

export async function peersOverTime(conn: DuckDBConnection): Promise<Figure> {
  const t = await timeline(conn);
  const values = t.flatMap((r) => [
    { vantage: r.vantage, t: num(r.t), series: 'connected', peers: num(r.connected) },
    { vantage: r.vantage, t: num(r.t), series: 'handshaken', peers: num(r.ready) },
  ]);
  return {
    id: 'peers',
    title: 'Peers connected over time',
    caption: 'Connections open (TCP connected) and handshaken (verack exchanged) per second, from the timeline table, up to the stop request (the shutdown is not drawn); the maximum within each bucket when the run is long.',
    points: values.length,
    spec: base('Peers connected over time', {
      data: { values },
      params: ZOOM,
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: timeAxis,
        y: { field: 'peers', type: 'quantitative', title: 'peers' },
        color: { field: 'series', type: 'nominal', title: '' },
        strokeDash: { field: 'vantage', type: 'nominal', title: 'vantage' },
        tooltip: [{ field: 'vantage' }, { field: 'series' }, { field: 't', type: 'temporal', format: '%H:%M:%S', scale: { type: 'utc' } }, { field: 'peers' }],
      },
    }),
  };
}

export async function invRate(conn: DuckDBConnection): Promise<Figure> {
  const values = (await timeline(conn)).map((r) => ({ vantage: r.vantage, t: num(r.t), rate: num(r.rate), drops: num(r.drops) }));
  return {
    id: 'inv-rate',
    title: 'Inventory entries received per second',
    caption: 'Inventory entries (inv entries, headers and compact blocks) recorded per second, per vantage, from the timeline table (the mean over each bucket when the run is long); drops are in the tooltip.',
    points: values.length,
    spec: base('Inventory entries per second', {
      data: { values },
      params: ZOOM,
      mark: { type: 'line' },
      encoding: {
        x: timeAxis,
        y: { field: 'rate', type: 'quantitative', title: 'entries per second' },
        color: { field: 'vantage', type: 'nominal', title: 'vantage' },
        tooltip: [{ field: 'vantage' }, { field: 't', type: 'temporal', format: '%H:%M:%S', scale: { type: 'utc' } }, { field: 'rate', format: '.1f' }, { field: 'drops' }],
      },
    }),
  };
}

/** Per (vantage, peer): announcements and the median and 90th percentile of its delay. */
const PEER_LATENESS = `WITH q AS (${histQuantileSql(`SELECT a.vantage, a.peer, a.value, a.n FROM agg_peer a WHERE ${timedSql('a')}`, ['vantage', 'peer'], [0.5, 0.9])}),
    l AS (SELECT vantage, peer, any_value(m) AS n, max(v) FILTER (k = 0) AS med, max(v) FILTER (k = 1) AS p90 FROM q GROUP BY ALL),
    a AS (SELECT vantage, peer, any_value(address) AS address FROM peers GROUP BY ALL)
  SELECT l.vantage, l.peer, coalesce(a.address, CAST(l.peer AS VARCHAR)) AS address, l.n, l.med, l.p90 FROM l LEFT JOIN a USING (vantage, peer)`;

/** The table of PEER_LATENESS, made once per connection (the lateness and latest-peers figures both read it). */
async function peerLateness(conn: DuckDBConnection): Promise<string> {
  await conn.run(`CREATE TEMP TABLE IF NOT EXISTS peer_lateness AS ${PEER_LATENESS}`);
  return 'peer_lateness';
}

export async function lateness(conn: DuckDBConnection): Promise<Figure> {
  // Five log bins per decade from 0.01 ms; medians below 0.01 ms (peers that were always first)
  // land in the lowest bin.
  const r = await rows(
    conn,
    `WITH l AS (SELECT * FROM ${await peerLateness(conn)}), b AS (SELECT vantage, floor(log10(greatest(med, 0.01)) * 5) AS bin FROM l)
     SELECT vantage, bin, count(*) AS peers FROM b GROUP BY ALL ORDER BY ALL`,
  );
  const values = r.map((row) => ({ vantage: row.vantage, lo: 10 ** (num(row.bin) / 5), hi: 10 ** ((num(row.bin) + 1) / 5), peers: num(row.peers) }));
  return {
    id: 'lateness',
    title: 'Per-peer median lateness',
    caption: 'For every peer, the median over the items it announced of its delay after first-seen; the histogram of these medians over peers (log bins, five per decade). Peers to the right are systematically late: far from the sources, slow links, or slow trickle timers.',
    points: values.length,
    spec: base('Per-peer median lateness', {
      data: { values },
      mark: { type: 'rect', opacity: 0.8 },
      encoding: {
        x: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: 'median delay after first-seen (ms, log)' },
        x2: { field: 'hi' },
        y: { field: 'peers', type: 'quantitative', title: 'peers', stack: true },
        color: { field: 'vantage', type: 'nominal', title: 'vantage' },
        tooltip: [{ field: 'vantage' }, { field: 'lo', title: 'from ms', format: '.2f' }, { field: 'hi', title: 'to ms', format: '.2f' }, { field: 'peers' }],
      },
    }),
  };
}

export async function worstPeers(conn: DuckDBConnection): Promise<Figure> {
  const r = await rows(
    conn,
    `WITH l AS (SELECT * FROM ${await peerLateness(conn)}), m AS (SELECT max(n) AS mx FROM l)
     SELECT l.*, p.user_agent FROM l CROSS JOIN m LEFT JOIN peers p ON p.vantage = l.vantage AND p.peer = l.peer
     WHERE l.n >= least(${WORST_MIN_ANNOUNCEMENTS}, m.mx)
     QUALIFY row_number() OVER (PARTITION BY l.vantage, l.peer) = 1
     ORDER BY l.med DESC, l.vantage, l.peer LIMIT ${WORST_PEERS}`,
  );
  const many = new Set(r.map((x) => x.vantage)).size > 1;
  const values = r.map((row) => ({
    label: many ? `${row.address} (${row.vantage})` : String(row.address),
    vantage: row.vantage,
    address: row.address,
    agent: row.user_agent ?? '',
    n: num(row.n),
    med: num(row.med),
    p90: num(row.p90),
  }));
  return {
    id: 'worst-peers',
    title: `The ${WORST_PEERS} latest peers`,
    caption: `The peers with the largest median delay after first-seen among those that announced at least ${WORST_MIN_ANNOUNCEMENTS} items (or as many as the busiest peer, if fewer); the tick marks each one's 90th percentile.`,
    points: values.length,
    spec: base(`The ${WORST_PEERS} latest peers (median delay after first-seen)`, {
      data: { values },
      height: { step: 16 },
      encoding: {
        // Rows come sorted by median lateness from SQL: keep that order (sort: null).
        y: { field: 'label', type: 'nominal', sort: null, title: null },
        tooltip: [{ field: 'address' }, { field: 'vantage' }, { field: 'agent', title: 'user agent' }, { field: 'n', title: 'announcements' }, { field: 'med', title: 'median ms', format: '.1f' }, { field: 'p90', title: 'p90 ms', format: '.1f' }],
      },
      layer: [
        { mark: { type: 'bar' }, encoding: { x: { field: 'med', type: 'quantitative', title: 'delay after first-seen (ms): bar median, tick 90th percentile' }, color: { field: 'vantage', type: 'nominal', title: 'vantage' } } },
        { mark: { type: 'tick', color: 'black', thickness: 2 }, encoding: { x: { field: 'p90', type: 'quantitative' } } },
      ],
    }),
  };
}

export async function userAgents(conn: DuckDBConnection): Promise<Figure> {
  const r = await rows(
    conn,
    `WITH u AS (SELECT vantage, coalesce(nullif(user_agent, ''), '(none)') AS ua, count(DISTINCT address) AS n FROM peers WHERE ready_at IS NOT NULL GROUP BY ALL),
          top AS (SELECT ua FROM u GROUP BY ua ORDER BY sum(n) DESC, ua LIMIT ${TOP_AGENTS})
     SELECT vantage, CASE WHEN ua IN (SELECT ua FROM top) THEN ua ELSE '(other)' END AS agent, sum(n) AS peers FROM u GROUP BY ALL ORDER BY ALL`,
  );
  const values = r.map((row) => ({ vantage: row.vantage, agent: row.agent, peers: num(row.peers) }));
  return {
    id: 'user-agents',
    title: 'User agents',
    caption: `The user agents of the handshaken peers (distinct addresses per vantage), the ${TOP_AGENTS} most common; the rest are summed as "(other)".`,
    points: values.length,
    spec: base('User agents of handshaken peers', {
      data: { values },
      height: { step: 18 },
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'agent', type: 'nominal', sort: '-x', title: null },
        x: { field: 'peers', type: 'quantitative', title: 'peers', stack: true },
        color: { field: 'vantage', type: 'nominal', title: 'vantage' },
        tooltip: [{ field: 'vantage' }, { field: 'agent' }, { field: 'peers' }],
      },
    }),
  };
}

/** Every figure of the measurement (accuracy figures come from accuracy.ts). */
export async function measurementFigures(conn: DuckDBConnection): Promise<Figure[]> {
  return [await delayCdf(conn), await propagation(conn), await peersOverTime(conn), await invRate(conn), await lateness(conn), await worstPeers(conn), await userAgents(conn)];
}

export { cdfPoints };
