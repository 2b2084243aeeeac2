/**
 * What the soaks (bench/soak.ts: the pool; bench/soak-observe.ts: `invscope observe`) judge a run
 * by: the flat-memory criterion over the samples taken, and the check of every announcement of the
 * simulator's ground truth (truth.jsonl, src/sim/README.md) against what was observed, streamed in
 * two passes so that a simulated day's truth (millions of lines) is never held in memory.
 * Bench processes only; not imported by src/.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { CloseReason } from '../src/peer/faults.js';

export const MiB = (b: number): number => Math.round((b / 1048576) * 10) / 10;

// -------------------------------------------------------------------------------------------------
// Memory criterion: least-squares slope of a quantity (RSS, the live heap after a GC) over the
// second half of the run, times that half's duration: the growth a straight line says happened there.

export interface Sample {
  /** ms */
  t: number;
  rss: number;
  heap: number;
}

function slopePerMs(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 3) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den > 0 ? num / den : 0;
}

/** Growth over the second half; bounded when at most `limitMiB` or 10 % of that half's mean. */
export function growth(samples: Sample[], key: 'rss' | 'heap', limitMiB: number): { mib: number; meanMib: number; bounded: boolean } {
  const half = samples.slice(Math.floor(samples.length / 2));
  if (half.length < 3) return { mib: 0, meanMib: 0, bounded: true };
  const xs = half.map((s) => s.t);
  const ys = half.map((s) => s[key]);
  const g = slopePerMs(xs, ys) * (xs[xs.length - 1]! - xs[0]!);
  const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
  return { mib: MiB(g), meanMib: MiB(mean), bounded: g <= Math.max(limitMiB * 1048576, 0.1 * mean) };
}

// -------------------------------------------------------------------------------------------------
// The truth check

/** Close reasons for which we closed the peer (src/peer CloseReason; inv-flood: src/pool/shard/guard.ts). */
const R = CloseReason;
export const FAULT_CLOSES = new Set<string>([
  R.BAD_MAGIC, R.BAD_COMMAND, R.OVERSIZE, R.INV_FLOOD, R.SEND_STALLED, R.HANDSHAKE_TIMEOUT, R.NO_VERSION,
  R.HANDSHAKE_OUT_OF_ORDER, R.MALFORMED_HANDSHAKE, R.PING_TIMEOUT, R.IDLE_TIMEOUT,
]);

/** One of our connections to a simulated node: when it became ready, when and why it ended. */
export interface Conn {
  readyAt: number;
  /** Infinity while open. */
  goneAt: number;
  reason: string;
}

export interface TruthInput {
  truthPath: string;
  /** Simulated nodes (bitset width). */
  nodes: number;
  /** Each node's misbehaviour label, null when honest (nodes.json). */
  modes: (string | null)[];
  /** Announcements after this (minus marginMs) may be in flight at the stop: counted apart. */
  tEnd: number;
  /** Announcements this close to the end or to a close of their connection are counted apart. */
  marginMs: number;
  /** Calls `add(node, first 16 hex digits of the display hash)` for every observation (or every distinct one). */
  observations(add: (node: number, hash16: string) => void): Promise<void>;
  /** The connection an announcement of `node` at `t` went to (`observer`: us as the node named us). */
  connection(node: number, observer: string, t: number): Conn | undefined;
}

export interface TruthVerdict {
  items: number;
  /** Observations no item of the truth explains. */
  unmatched: number;
  announces: number;
  expected: number;
  observed: number;
  missing: number;
  missingByMode: Record<string, number>;
  inFlightAtClose: number;
  toFaultClosed: number;
  toNeverReads: number;
  unknownConnection: number;
  afterEnd: number;
}

const lines = (path: string): AsyncIterable<string> => createInterface({ input: createReadStream(path), crlfDelay: Infinity });

/**
 * Items first, then the observations into one bitset of nodes per item, then every announcement:
 * each must be observed unless it was sent near the end, near a close of its connection, on a
 * connection we closed for a fault, or by a node that never reads (all counted apart).
 */
export async function checkTruth(o: TruthInput): Promise<TruthVerdict> {
  const itemOf = new Map<string, number>();
  let items = 0;
  for await (const line of lines(o.truthPath)) {
    if (!line.startsWith('{"e":"item"')) continue;
    const r = JSON.parse(line);
    itemOf.set(r.hash.slice(0, 16), r.id);
    itemOf.set(r.wtxid.slice(0, 16), r.id);
    items++;
  }
  const words = Math.ceil(o.nodes / 32);
  const seen = new Map<number, Uint32Array>();
  let unmatched = 0;
  await o.observations((node, hash16) => {
    const item = itemOf.get(hash16);
    if (item === undefined) {
      unmatched++;
      return;
    }
    let bits = seen.get(item);
    if (!bits) seen.set(item, (bits = new Uint32Array(words)));
    bits[node >>> 5]! |= 1 << (node & 31);
  });
  const v: TruthVerdict = { items, unmatched, announces: 0, expected: 0, observed: 0, missing: 0, missingByMode: {}, inFlightAtClose: 0, toFaultClosed: 0, toNeverReads: 0, unknownConnection: 0, afterEnd: 0 };
  for await (const line of lines(o.truthPath)) {
    if (!line.startsWith('{"e":"announce"')) continue;
    const r = JSON.parse(line);
    v.announces++;
    if (r.t > o.tEnd - o.marginMs) {
      v.afterEnd++;
      continue;
    }
    if (o.modes[r.node] === 'never-reads') {
      // A node that never reads: at our send bound we stop reading it (Core's fPauseSend), so
      // what it announces after that waits in its socket until the stall closes it. Apart.
      v.toNeverReads++;
      continue;
    }
    const conn = o.connection(r.node, r.observer, r.t);
    if (conn === undefined) v.unknownConnection++;
    else if (FAULT_CLOSES.has(conn.reason)) {
      // We closed it for misbehaving: what it sent after the fault (or queued behind a flood we
      // stopped reading) never reached the ring. Not recorded, so not lost; counted apart.
      v.toFaultClosed++;
      continue;
    } else if (conn.goneAt >= r.t - o.marginMs && conn.goneAt <= r.t + o.marginMs) {
      // Closed by the node (churn) or by the stop around the announcement: bytes in flight.
      v.inFlightAtClose++;
      continue;
    }
    v.expected++;
    const bits = seen.get(r.item);
    if (!bits || (bits[r.node >>> 5]! & (1 << (r.node & 31))) === 0) {
      v.missing++;
      const m = o.modes[r.node] ?? 'honest';
      v.missingByMode[m] = (v.missingByMode[m] ?? 0) + 1;
    }
  }
  v.observed = v.expected - v.missing;
  return v;
}

/**
 * The last connection ready by `t` in a list ordered by readiness: our ready event can trail the
 * node's first announcement by the port message's latency, hence the second's slack.
 */
export function connectionAt(list: readonly Conn[] | undefined, t: number): Conn | undefined {
  let conn: Conn | undefined;
  if (list) for (const c of list) if (c.readyAt <= t + 1_000) conn = c;
  return conn;
}
