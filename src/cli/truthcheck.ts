/**
 * Checks a run directory against the simulator's ground truth in it (DIR/truth.jsonl next to the
 * Parquet parts): every announcement a node made to us before the observer began to stop must be
 * in observations, with its send-to-receive delay; the measured time until 50/90 % of the honest
 * nodes announced each item is compared with the truth's; every misbehaving node must show up in
 * peers with the outcome of DESIGN.md's bad-input table. `invscope demo` prints it; the tests use
 * it as their oracle. Main thread, cold path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readTruth, type Truth } from '../sim/truth.js';
import type { Misbehaviour } from '../sim/types.js';

/** Misbehaviours after whose bytes nothing more on that connection can be read (the observer disconnects or the node closes). */
const CONNECTION_ENDING = new Set(['bad-magic', 'garbage', 'oversize', 'truncated']);

/** The peers-table columns an outcome is judged on. */
export interface PeerOutcomeRow {
  close_reason: string | null;
  /** JSON of the fault codes counted for the session (plus unknownCommands). */
  misbehaviour: string;
  ready_at: number | null;
  /** JSON {command: {msgsIn, bytesIn, msgsOut, bytesOut}}. */
  by_command: string;
}

const msgs = (r: PeerOutcomeRow, command: string, dir: 'msgsIn' | 'msgsOut'): number => {
  try {
    return (JSON.parse(r.by_command) as Record<string, Record<string, number>>)[command]?.[dir] ?? 0;
  } catch {
    return 0;
  }
};
/** Kept to the end of the run: closed by us at the stop, not for a fault. */
const kept = (r: PeerOutcomeRow): boolean => r.close_reason === 'local-close';

/**
 * What a correct observer's peers row shows for each misbehaviour (DESIGN.md's bad-input table,
 * src/sim/README.md, docs/hostile.md): every mode the simulator knows, so a new one fails to compile
 * until its outcome is written here.
 */
export const OUTCOME: Record<Misbehaviour, (r: PeerOutcomeRow) => boolean> = {
  'bad-magic': (r) => r.close_reason === 'bad-magic',
  garbage: (r) => r.close_reason === 'bad-magic',
  oversize: (r) => r.close_reason === 'oversize',
  // Its FIN, or the reset of the closed socket when our next write overtakes it.
  truncated: (r) => r.close_reason === 'remote-closed' || r.close_reason === 'socket-error',
  'bad-checksum': (r) => r.misbehaviour.includes('ERR_WIRE_CHECKSUM'),
  'inv-flood': (r) => r.misbehaviour.includes('ERR_WIRE_TOO_MANY_ITEMS'),
  'tiny-flood': (r) => r.misbehaviour.includes('UNKNOWN'),
  'slow-drip': (r) => r.ready_at === null,
  'no-handshake': (r) => r.ready_at === null,
  'no-verack': (r) => r.ready_at === null && r.close_reason === 'handshake-timeout',
  'checksum-flood': (r) => r.misbehaviour.includes('ERR_WIRE_CHECKSUM') && kept(r),
  'inv-storm': (r) => r.close_reason === 'inv-flood',
  'addr-flood': (r) => msgs(r, 'addr', 'msgsIn') > 0 && kept(r),
  'ping-flood': (r) => msgs(r, 'ping', 'msgsIn') > 0 && msgs(r, 'pong', 'msgsOut') === msgs(r, 'ping', 'msgsIn') && kept(r),
  'command-flood': (r) => r.misbehaviour.includes('UNKNOWN') && kept(r),
  'never-reads': (r) => r.close_reason === 'send-stalled',
};

/** Modes whose outcome must hold for every session of the node (they never complete a handshake). */
const EVERY_SESSION = new Set<Misbehaviour>(['slow-drip', 'no-handshake', 'no-verack']);

/** Whether a misbehaving node's sessions show the expected outcome. */
export function outcomeHolds(mode: Misbehaviour, rows: PeerOutcomeRow[]): boolean {
  if (rows.length === 0) return false;
  const check = OUTCOME[mode];
  return EVERY_SESSION.has(mode) ? rows.every(check) : rows.some(check);
}

export interface TruthCheck {
  nodes: number;
  honest: number;
  items: { tx: number; block: number };
  observations: number;
  /** Announcements in the truth made before the observer began to stop (minus a margin). */
  expected: number;
  observed: number;
  missing: number;
  /** Observations (address, hash) that no announcement of the truth explains. */
  notInTruth: number;
  /** Observations beyond the truth's announcements of that item by that node (recorded twice). */
  duplicates: number;
  /** Announcements received before they were sent (more than 1 ms of clock rounding early). */
  negativeDelays: number;
  /** Announcements after a connection-ending misbehaviour on the same connection: unreadable by design. */
  afterMisbehaviour: number;
  sendToReceiveMs: { p50: number; p99: number; max: number };
  timeTo50pctMs: { median: number };
  timeTo50pctErrorMs: { p50: number; p99: number; max: number; items: number };
  timeTo90pctErrorMs: { p50: number; p99: number; max: number; items: number };
  /** Misbehaving nodes by label: how many, and how many show the expected outcome in peers. */
  misbehaving: Record<string, { nodes: number; counted: number }>;
  ok: boolean;
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Time from the first of `times` until `need` of them happened (NaN if fewer). */
function timeTo(times: number[], need: number): number {
  if (need < 1 || times.length < need) return NaN;
  const s = [...times].sort((a, b) => a - b);
  return s[need - 1]! - s[0]!;
}

const dist = (xs: number[]): { p50: number; p99: number; max: number } => {
  xs.sort((a, b) => a - b);
  return { p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: xs.length ? xs[xs.length - 1]! : NaN };
};

export async function checkAgainstTruth(dir: string, marginMs = 300): Promise<TruthCheck> {
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { stopRequested: number };
  const truth = await readTruth(join(dir, 'truth.jsonl'));
  const inst = await DuckDBInstance.create(':memory:');
  const c = await inst.connect();
  let obsRows: unknown[][];
  let peerRows: Record<string, unknown>[];
  try {
    // First receive per (address, hash): what the check needs of the observations.
    obsRows = (await c.runAndReadAll(`SELECT address, hash, min(time), count(*) FROM read_parquet('${join(dir, 'observations', '*.parquet')}') GROUP BY ALL`)).getRows() as unknown[][];
    peerRows = (await c.runAndReadAll(`SELECT address, close_reason, misbehaviour, ready_at, by_command FROM read_parquet('${join(dir, 'peers', '*.parquet')}')`)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    inst.closeSync();
  }
  return judgeRun(truth, obsRows, peerRows as unknown as PeerRow[], run.stopRequested - marginMs);
}

/** A peers row with its address, as read from the run's peers table. */
export type PeerRow = PeerOutcomeRow & { address: string };

/**
 * The verdict on one run: `obsRows` are observations grouped per (address, hash) as
 * [address, hash, first receive ms, rows], `peerRows` the peers table, `until` the time after
 * which announcements need not have been recorded (the stop request less a margin).
 */
export function judgeRun(truth: Truth, obsRows: unknown[][], peerRows: PeerRow[], until: number): TruthCheck {
  const { notInTruth, duplicates } = unexplained(obsRows, truth);
  const m = matchAnnouncements(truth, obsRows, until);
  const honest = truth.nodes.filter((n) => n.misbehaviour === null).length;
  const e50: number[] = [];
  const e90: number[] = [];
  const t50: number[] = [];
  for (const [item, times] of m.truthTimes) {
    const got = m.measured.get(item) ?? [];
    const tt50 = timeTo(times, Math.ceil(0.5 * honest));
    const mt50 = timeTo(got, Math.ceil(0.5 * honest));
    const tt90 = timeTo(times, Math.ceil(0.9 * honest));
    const mt90 = timeTo(got, Math.ceil(0.9 * honest));
    if (Number.isFinite(tt50) && Number.isFinite(mt50)) {
      e50.push(Math.abs(mt50 - tt50));
      t50.push(mt50);
    }
    if (Number.isFinite(tt90) && Number.isFinite(mt90)) e90.push(Math.abs(mt90 - tt90));
  }
  t50.sort((a, b) => a - b);
  const misbehaving = misbehavingCounted(truth, peerRows);
  const allCounted = Object.values(misbehaving).every((x) => x.counted === x.nodes);
  return {
    nodes: truth.nodes.length,
    honest,
    items: { tx: truth.items.filter((i) => i.kind === 'tx').length, block: truth.items.filter((i) => i.kind === 'block').length },
    observations: obsRows.length,
    expected: m.expected,
    observed: m.expected - m.missing,
    missing: m.missing,
    notInTruth,
    duplicates,
    negativeDelays: m.negativeDelays,
    afterMisbehaviour: m.afterMisbehaviour,
    sendToReceiveMs: dist(m.delays),
    timeTo50pctMs: { median: quantile(t50, 0.5) },
    timeTo50pctErrorMs: { ...dist(e50), items: e50.length },
    timeTo90pctErrorMs: { ...dist(e90), items: e90.length },
    misbehaving,
    ok: m.missing === 0 && allCounted && notInTruth === 0 && duplicates === 0 && m.negativeDelays === 0,
  };
}

interface Matched {
  expected: number;
  missing: number;
  afterMisbehaviour: number;
  negativeDelays: number;
  /** Send-to-receive delays (ms) of the announcements found. */
  delays: number[];
  /** Per item: the honest nodes' first receive times as measured, and as sent in the truth. */
  measured: Map<number, number[]>;
  truthTimes: Map<number, number[]>;
}

/** Each announcement of the truth made before `until`, looked up in the observations' first receives. */
function matchAnnouncements(truth: Truth, obsRows: unknown[][], until: number): Matched {
  const firstSeen = new Map<string, number>();
  for (const [a, h, t] of obsRows) firstSeen.set(`${a}/${h}`, Number(t));
  const address = new Map(truth.nodes.map((n) => [n.index, `${n.host}:${n.port}`]));
  const items = new Map(truth.items.map((i) => [i.id, i]));
  const honestNodes = new Set(truth.nodes.filter((n) => n.misbehaviour === null).map((n) => n.index));
  // The first connection-ending emission per (node, observer connection): the first one at or after the connection's first announcement.
  const ending = new Map<number, number[]>();
  for (const x of truth.misbehaves) if (CONNECTION_ENDING.has(x.what)) (ending.get(x.node) ?? ending.set(x.node, []).get(x.node)!).push(x.t);
  const firstOnConn = new Map<string, number>();
  for (const a of truth.announces) {
    const k = `${a.node}/${a.observer}`;
    if (!firstOnConn.has(k)) firstOnConn.set(k, a.t);
  }
  const m: Matched = { expected: 0, missing: 0, afterMisbehaviour: 0, negativeDelays: 0, delays: [], measured: new Map(), truthTimes: new Map() };
  for (const a of truth.announces) {
    if (a.t > until) continue;
    const em = ending.get(a.node);
    if (em) {
      const start = firstOnConn.get(`${a.node}/${a.observer}`)!;
      const cut = em.find((t) => t >= start - 5_000);
      if (cut !== undefined && a.t >= cut) {
        m.afterMisbehaviour++;
        continue;
      }
    }
    m.expected++;
    const it = items.get(a.item)!;
    const at = address.get(a.node)!;
    const got = firstSeen.get(`${at}/${it.hash}`) ?? firstSeen.get(`${at}/${it.wtxid}`);
    if (got === undefined) {
      m.missing++;
      continue;
    }
    m.delays.push(got - a.t);
    if (got - a.t < -1) m.negativeDelays++;
    if (honestNodes.has(a.node)) {
      (m.truthTimes.get(a.item) ?? m.truthTimes.set(a.item, []).get(a.item)!).push(a.t);
      (m.measured.get(a.item) ?? m.measured.set(a.item, []).get(a.item)!).push(got);
    }
  }
  return m;
}

/** Misbehaving nodes by label: how many, and how many show the expected outcome in peers. */
function misbehavingCounted(truth: Truth, peerRows: PeerRow[]): TruthCheck['misbehaving'] {
  const out: TruthCheck['misbehaving'] = {};
  for (const n of truth.nodes) {
    const l = n.misbehaviour;
    if (l === null) continue;
    const rows = peerRows.filter((r) => r.address === `${n.host}:${n.port}`);
    const x = (out[l] ??= { nodes: 0, counted: 0 });
    x.nodes++;
    // A mode this check does not know (a newer simulator's) is never counted: the check fails.
    if (Object.hasOwn(OUTCOME, l) && outcomeHolds(l as Misbehaviour, rows)) x.counted++;
  }
  return out;
}

/**
 * Observations the truth does not explain: an (address, hash) that no node's announcement of an
 * item accounts for, and rows beyond the number of times the node announced that item to us.
 */
export function unexplained(obsRows: unknown[][], truth: { nodes: { index: number; host: string; port: number }[]; items: { id: number; hash: string; wtxid: string }[]; announces: { node: number; item: number }[] }): { notInTruth: number; duplicates: number } {
  const nodeOf = new Map(truth.nodes.map((n) => [`${n.host}:${n.port}`, n.index]));
  const itemOf = new Map<string, number>();
  for (const it of truth.items) {
    itemOf.set(it.hash, it.id);
    itemOf.set(it.wtxid, it.id);
  }
  const announced = new Map<string, number>();
  for (const a of truth.announces) announced.set(`${a.node}/${a.item}`, (announced.get(`${a.node}/${a.item}`) ?? 0) + 1);
  let notInTruth = 0;
  let duplicates = 0;
  for (const [address, hash, , count] of obsRows) {
    const rows = Number(count);
    const times = announced.get(`${nodeOf.get(address as string)}/${itemOf.get(hash as string)}`) ?? 0;
    if (times === 0) notInTruth += rows;
    else if (rows > times) duplicates += rows - times;
  }
  return { notInTruth, duplicates };
}
