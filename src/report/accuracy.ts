/**
 * Accuracy against a simulator ground truth (DIR/truth.jsonl, format in src/sim/README.md): every
 * measured first announcement of an item by a peer is matched with the truth's `announce` record
 * of that node and item (the node's loopback host:port is the peer's address; the item by txid,
 * wtxid or block hash), and the error is measured receive time minus the node's send time. Also
 * the propagation curve three ways: measured, from the truth's announcements to the observer,
 * and from the truth's learn times over every simulated node. Main thread, cold path.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ANNOUNCING_KINDS, ReportError, num, rows, sqlString, type VantageDir } from './load.js';
import { CDF_GRID, cdfPoints, cdfSql, curveRows, logCdfSpec, propagationRows, perKindPanels, PCT_GRID, type Figure } from './figures.js';

/**
 * Announcements the truth says were sent within this long before the observer was asked to stop
 * may still have been in flight (or in a ring) when it stopped reading: not counted as missing.
 */
export const IN_FLIGHT_MARGIN_MS = 500;

export interface Accuracy {
  vantage: string;
  truth: string;
  /** Announcements in the truth (to any observer) sent between the run's start and stop request minus the margin. */
  truthAnnouncements: number;
  /** Measured first announcements matched with a truth announcement. */
  matched: number;
  /** Truth announcements of honest nodes in that window without a measured one. */
  missing: number;
  /**
   * The same for nodes the truth labels misbehaving: after a connection-ending misbehaviour the
   * node's announcements are unreadable by design, so these are not an error of the measurement.
   */
  missingMisbehaving: number;
  /** Measured announcements of an address or item the truth does not know. */
  unmatched: number;
  /** Measured receive time minus true send time, ms. */
  errorMs: { min: number | null; p50: number | null; p99: number | null; max: number | null };
}

/** Loads one truth file into t_node / t_item / t_ann / t_learn for its vantage. */
async function loadTruth(conn: DuckDBConnection, v: VantageDir): Promise<void> {
  const cols = `{e: 'VARCHAR', "index": 'INTEGER', host: 'VARCHAR', port: 'INTEGER', id: 'INTEGER', kind: 'VARCHAR', hash: 'VARCHAR', wtxid: 'VARCHAR', node: 'INTEGER', item: 'INTEGER', t: 'DOUBLE', observer: 'VARCHAR', misbehaviour: 'VARCHAR'}`;
  try {
    await conn.run(`CREATE OR REPLACE TEMP TABLE tr AS SELECT * FROM read_json(${sqlString(v.truth!)}, format = 'newline_delimited', columns = ${cols})`);
  } catch (e) {
    throw new ReportError('ERR_REPORT_TRUTH', `${v.truth}: not a simulator ground truth (${((e as Error).message ?? '').split('\n')[0]})`);
  }
  const vt = sqlString(v.vantage);
  await conn.run(`INSERT INTO t_node SELECT ${vt}, "index", host || ':' || port, misbehaviour IS NOT NULL FROM tr WHERE e = 'node'`);
  await conn.run(`INSERT INTO t_item SELECT ${vt}, id, kind, hash, t FROM tr WHERE e = 'item' UNION SELECT ${vt}, id, kind, wtxid, t FROM tr WHERE e = 'item' AND wtxid IS NOT NULL`);
  await conn.run(`INSERT INTO t_ann SELECT ${vt}, node, item, t, observer FROM tr WHERE e = 'announce'`);
  await conn.run(`INSERT INTO t_learn SELECT ${vt}, node, item, t FROM tr WHERE e = 'learn'`);
  await conn.run('DROP TABLE tr');
}

/**
 * Loads every truth file and creates `matched` (vantage, node, item, sent, received, error).
 * A (node, item) announced to several observers (several vantages on one simulation) is matched
 * with the announcement nearest in time.
 */
async function match(conn: DuckDBConnection, vantages: VantageDir[]): Promise<void> {
  await conn.run(`CREATE TABLE t_node (vantage VARCHAR, node INTEGER, address VARCHAR, bad BOOLEAN);
    CREATE TABLE t_item (vantage VARCHAR, item INTEGER, kind VARCHAR, hash VARCHAR, t DOUBLE);
    CREATE TABLE t_ann (vantage VARCHAR, node INTEGER, item INTEGER, t DOUBLE, observer VARCHAR);
    CREATE TABLE t_learn (vantage VARCHAR, node INTEGER, item INTEGER, t DOUBLE);`);
  for (const v of vantages) await loadTruth(conn, v);
  // Every peer's first announcement of every item (a simulation's size: read from the observations).
  await conn.run(`CREATE OR REPLACE TEMP TABLE ann AS
    SELECT vantage, hash, peer, any_value(address) AS address, min(time) AS time FROM observations
    WHERE kind IN (${ANNOUNCING_KINDS.map(sqlString).join(', ')}) AND vantage IN (${vantages.map((v) => sqlString(v.vantage)).join(', ')})
    GROUP BY vantage, hash, peer`);
  await conn.run(`CREATE TABLE measured AS
    SELECT a.vantage, a.hash, a.time, n.node, i.item
    FROM ann a LEFT JOIN t_node n ON n.vantage = a.vantage AND n.address = a.address
               LEFT JOIN t_item i ON i.vantage = a.vantage AND i.hash = a.hash
    WHERE a.vantage IN (SELECT DISTINCT vantage FROM t_node)`);
  await conn.run(`CREATE TABLE matched AS
    SELECT m.vantage, m.node, m.item, arg_min(t.t, abs(m.time - t.t)) AS sent, any_value(m.time) AS received
    FROM measured m JOIN t_ann t ON t.vantage = m.vantage AND t.node = m.node AND t.item = m.item
    GROUP BY m.vantage, m.node, m.item, m.hash`);
}

export interface AccuracyResult {
  accuracy: Accuracy[];
  figures: Figure[];
}

/** From run.json's start to its stop request (else its stop) minus the in-flight margin. */
function runWindow(v: VantageDir): [number, number] {
  const s = v.run?.started;
  const e = typeof v.run?.stopRequested === 'number' ? v.run.stopRequested : v.run?.stopped;
  return [typeof s === 'number' ? s : -Infinity, typeof e === 'number' ? e - IN_FLIGHT_MARGIN_MS : Infinity];
}

/** The accuracy per vantage with a truth.jsonl, and its two figures; null without any truth. */
export async function accuracy(conn: DuckDBConnection, vantages: VantageDir[]): Promise<AccuracyResult | null> {
  const withTruth = vantages.filter((v) => v.truth !== null);
  if (withTruth.length === 0) return null;
  await match(conn, withTruth);
  const out: Accuracy[] = [];
  for (const v of withTruth) {
    const vt = sqlString(v.vantage);
    const [from, to] = runWindow(v);
    const window = `t.t >= ${Number.isFinite(from) ? from : "'-infinity'::DOUBLE"} AND t.t <= ${Number.isFinite(to) ? to : "'infinity'::DOUBLE"}`;
    const [s] = await rows(
      conn,
      `SELECT (SELECT count(*) FROM t_ann t WHERE t.vantage = ${vt} AND ${window}) AS truth,
              (SELECT count(*) FILTER (NOT n.bad) FROM t_ann t ANTI JOIN matched m ON m.vantage = t.vantage AND m.node = t.node AND m.item = t.item
                 JOIN t_node n ON n.vantage = t.vantage AND n.node = t.node WHERE t.vantage = ${vt} AND ${window}) AS missing,
              (SELECT count(*) FILTER (n.bad) FROM t_ann t ANTI JOIN matched m ON m.vantage = t.vantage AND m.node = t.node AND m.item = t.item
                 JOIN t_node n ON n.vantage = t.vantage AND n.node = t.node WHERE t.vantage = ${vt} AND ${window}) AS missing_bad,
              (SELECT count(*) FROM measured WHERE vantage = ${vt} AND (node IS NULL OR item IS NULL)) AS unmatched,
              count(*) AS matched, min(received - sent) AS mn, quantile_cont(received - sent, [0.5, 0.99]) AS q, max(received - sent) AS mx
       FROM matched WHERE vantage = ${vt}`,
    );
    const q = Array.isArray(s!.q) ? (s!.q as unknown[]).map(num) : [];
    const f = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);
    out.push({
      vantage: v.vantage,
      truth: v.truth!,
      truthAnnouncements: num(s!.truth),
      matched: num(s!.matched),
      missing: num(s!.missing),
      missingMisbehaving: num(s!.missing_bad),
      unmatched: num(s!.unmatched),
      errorMs: { min: f(num(s!.mn)), p50: f(q[0]), p99: f(q[1]), max: f(num(s!.mx)) },
    });
  }
  return { accuracy: out, figures: [await errorCdf(conn), await curves(conn)] };
}

async function errorCdf(conn: DuckDBConnection): Promise<Figure> {
  // Log axis: most errors are well under a millisecond and a few reach tens of ms. The CDF is over
  // every matched announcement; the rare ones at or below zero (clock rounding across processes)
  // sit at the axis' left end, 1 µs.
  const values = await cdfPoints(conn, cdfSql('SELECT vantage, greatest(received - sent, 0.001) AS value FROM matched', ['vantage']), (row) => ({ vantage: `${row.vantage} (${num(row.n)})` }));
  return {
    id: 'accuracy-error',
    title: 'Measurement error against the ground truth (CDF)',
    caption: 'For every announcement measured and found in the simulator\'s ground truth: the receive timestamp minus the time the node sent it (loopback transfer, the kernel, the shard\'s read and the clock). The CDF over announcements, per vantage (matched counts in the legend), on a log time axis (errors at or below zero are drawn at 1 µs).',
    points: values.length,
    spec: logCdfSpec('Measured receive time minus true send time', values, 'error (ms, log)', { field: 'vantage', title: 'vantage' }, undefined, '.3f'),
  };
}

/**
 * Median time to x % in three ways, per vantage and kind: measured (as the propagation figure);
 * the truth's announcements to the observer (same items, same N: the peers ready at first-seen,
 * from the truth's first announcement); the truth's learn times over all simulated nodes (from
 * the item's origination). Unreached counts as never in all three (censoredQuantileSql).
 */
async function curves(conn: DuckDBConnection): Promise<Figure> {
  const withTruth = new Set((await rows(conn, 'SELECT DISTINCT vantage FROM t_node')).map((r) => String(r.vantage)));
  const measured = (await propagationRows(conn)).filter((r) => withTruth.has(String(r.vantage))).map((r) => ({ ...r, source: 'measured' }));
  const curve = async (source: string, reach: string, totals: string): Promise<Record<string, unknown>[]> =>
    (await curveRows(conn, reach, totals)).map((r) => ({ ...r, source }));
  // The measured items with their N, by truth item id.
  const itemsN = `SELECT DISTINCT i.vantage, i.item, i.kind, it.peers_at_first_seen AS n FROM t_item i JOIN settled it ON it.vantage = i.vantage AND it.hash = i.hash WHERE it.peers_at_first_seen > 0`;
  const announced = await curve(
    'truth: announced to us',
    // Only what was sent while the observer read (up to its stop request), as the measurement.
    `WITH a AS (SELECT t.vantage, t.node, t.item, min(t.t) AS t FROM t_ann t JOIN win w ON w.vantage = t.vantage WHERE t.t <= w.stop GROUP BY ALL),
          r AS (SELECT vantage, item, t - min(t) OVER (PARTITION BY vantage, item) AS delay, row_number() OVER (PARTITION BY vantage, item ORDER BY t, node) AS rank FROM a),
          n AS (${itemsN})
     SELECT n.vantage, n.kind, g.pct, r.delay
     FROM n CROSS JOIN (${PCT_GRID}) g JOIN r ON r.vantage = n.vantage AND r.item = n.item AND r.rank = (g.pct * n.n + 99) // 100`,
    `SELECT vantage, kind, count(*) AS m FROM (${itemsN}) GROUP BY ALL`,
  );
  const learned = await curve(
    'truth: learned (all nodes)',
    `WITH nn AS (SELECT vantage, count(*) AS n FROM t_node GROUP BY vantage),
          it AS (SELECT DISTINCT vantage, item, kind, t FROM (${itemsN}) JOIN t_item USING (vantage, item, kind)),
          r AS (SELECT l.vantage, l.item, l.t - it.t AS delay, row_number() OVER (PARTITION BY l.vantage, l.item ORDER BY l.t, l.node) AS rank
                FROM t_learn l JOIN it ON it.vantage = l.vantage AND it.item = l.item),
          need AS (SELECT it.vantage, it.item, it.kind, g.pct, (g.pct * nn.n + 99) // 100 AS k FROM it JOIN nn ON nn.vantage = it.vantage, (${PCT_GRID}) g)
     SELECT need.vantage, need.kind, need.pct, r.delay
     FROM need JOIN r ON r.vantage = need.vantage AND r.item = need.item AND r.rank = need.k`,
    `SELECT vantage, kind, count(*) AS m FROM (${itemsN}) GROUP BY ALL`,
  );
  const values = [...measured, ...announced, ...learned].map((r: Record<string, unknown>) => ({ ...r, series: `${r.source} (${r.kind})` }));
  return {
    id: 'accuracy-curve',
    title: 'Measured propagation curve over the true one',
    caption:
      'Median over items of the time until x % of peers announced an item (an item that never reached x % counting as never): measured, from the ground truth\'s announcements to the observer with the same peer count (the measurement\'s own error), and from the truth\'s learn times over all simulated nodes from the item\'s origination (what the network did, which the observer sees only through each node\'s trickle).',
    points: values.length,
    spec: perKindPanels('Propagation: measured vs ground truth', values, {
      mark: { type: 'line' },
      encoding: {
        x: { field: 'p50', type: 'quantitative', title: 'median time (ms)' },
        y: { field: 'pct', type: 'quantitative', title: 'peers / nodes (%)', scale: { domain: [0, 100] } },
        // One colour per way of measuring (a categorical scheme: the three are told apart at once).
        color: { field: 'source', type: 'nominal', title: 'curve', scale: { scheme: 'set1' } },
        strokeDash: { field: 'vantage', type: 'nominal', title: 'vantage' },
        order: { field: 'pct' },
        tooltip: [{ field: 'source' }, { field: 'vantage' }, { field: 'kind' }, { field: 'pct', title: '%' }, { field: 'p50', title: 'median ms', format: '.1f' }, { field: 'items' }],
      },
    }),
  };
}

export { CDF_GRID };
