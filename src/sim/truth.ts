/**
 * The simulated network's ground truth as JSON lines (format in src/sim/README.md): which node
 * learned which item when and from whom, what it announced to each observer, churn and
 * misbehaviour. Buffered in one string and written with fs.writeSync in ~1 MB pieces (the sim
 * process emits ~70,000 learn records/s at 10,000 nodes). Simulator process; `learn` is the hot
 * path. `readTruth` streams a file back (tests, report).
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { hashToHex } from '../protocol/hex.js';
import type { SimItem, SimNodeInfo } from './types.js';

/** Format version written in the meta record; bump when a field changes meaning. */
export const TRUTH_VERSION = 1;

/** The clock every `t` is on (the observer's receive clock, src/observe/clock.ts). */
export const TRUTH_CLOCK = 'epoch-ms: performance.timeOrigin + performance.now()';

/** Buffered characters (all ASCII, so bytes) before a write: large writes, few syscalls. */
const FLUSH_CHARS = 1 << 20;

export type AnnounceHow = 'inv' | 'headers' | 'cmpctblock';

export interface TruthMeta {
  e: 'meta';
  version: number;
  clock: string;
  [k: string]: unknown;
}
export interface TruthNode {
  e: 'node';
  index: number;
  host: string;
  port: number;
  userAgent: string;
  /** Service bits as a decimal string (a uint64). */
  services: string;
  startHeight: number;
  protocolVersion: number;
  misbehaviour: string | null;
}
export interface TruthItem {
  e: 'item';
  id: number;
  kind: 'tx' | 'block';
  /** txid or block hash, display order hex. */
  hash: string;
  /** wtxid (display hex); the block hash again for blocks. */
  wtxid: string;
  origin: number;
  t: number;
  size: number;
  height?: number;
}
export interface TruthLearn {
  e: 'learn';
  node: number;
  item: number;
  t: number;
  /** The neighbour it came from, -1 at the origin. */
  from: number;
}
export interface TruthAnnounce {
  e: 'announce';
  node: number;
  item: number;
  observer: string;
  t: number;
  how: AnnounceHow;
}
export interface TruthChurn {
  e: 'churn';
  node: number;
  online: boolean;
  t: number;
}
export interface TruthMisbehave {
  e: 'misbehave';
  node: number;
  what: string;
  t: number;
}
export type TruthRecord = TruthMeta | TruthNode | TruthItem | TruthLearn | TruthAnnounce | TruthChurn | TruthMisbehave;

/** A whole truth, by record kind, in file order. */
export interface Truth {
  meta: TruthMeta[];
  nodes: TruthNode[];
  items: TruthItem[];
  learns: TruthLearn[];
  announces: TruthAnnounce[];
  churns: TruthChurn[];
  misbehaves: TruthMisbehave[];
}

export function emptyTruth(): Truth {
  return { meta: [], nodes: [], items: [], learns: [], announces: [], churns: [], misbehaves: [] };
}

function add(t: Truth, r: TruthRecord): void {
  switch (r.e) {
    case 'meta':
      t.meta.push(r);
      break;
    case 'node':
      t.nodes.push(r);
      break;
    case 'item':
      t.items.push(r);
      break;
    case 'learn':
      t.learns.push(r);
      break;
    case 'announce':
      t.announces.push(r);
      break;
    case 'churn':
      t.churns.push(r);
      break;
    case 'misbehave':
      t.misbehaves.push(r);
      break;
  }
}

/**
 * Writes ground-truth records to a JSON-lines file, or keeps them in `records` (path null).
 * Records written after close() are counted in counts.afterClose and dropped.
 */
export class TruthWriter {
  readonly path: string | null;
  /** Records per kind written so far (meta, node, item, learn, announce, churn, misbehave). */
  readonly counts: Record<string, number> = {
    meta: 0,
    node: 0,
    item: 0,
    learn: 0,
    announce: 0,
    churn: 0,
    misbehave: 0,
    afterClose: 0,
  };
  /** In-memory mode: every record, by kind. Empty in file mode. */
  readonly records: Truth = emptyTruth();
  /** Bytes handed to the file so far. */
  bytesWritten = 0;
  private fd: number;
  private buf = '';
  private closed = false;

  constructor(path: string | null) {
    this.path = path;
    this.fd = path === null ? -1 : openSync(path, 'w');
  }

  meta(fields: Record<string, unknown>): void {
    const r: TruthMeta = { e: 'meta', version: TRUTH_VERSION, clock: TRUTH_CLOCK, ...fields };
    this.record(r, JSON.stringify(r));
  }

  node(info: SimNodeInfo): void {
    const r: TruthNode = {
      e: 'node',
      index: info.index,
      host: info.host,
      port: info.port,
      userAgent: info.userAgent,
      services: info.services.toString(),
      startHeight: info.startHeight,
      protocolVersion: info.protocolVersion,
      misbehaviour: info.misbehaviour,
    };
    this.record(r, JSON.stringify(r));
  }

  item(item: SimItem): void {
    const r: TruthItem = {
      e: 'item',
      id: item.id,
      kind: item.kind,
      hash: hashToHex(item.hash),
      wtxid: hashToHex(item.wtxid),
      origin: item.origin,
      t: item.createdAt,
      size: item.raw.length,
    };
    if (item.height !== undefined) r.height = item.height;
    this.record(r, JSON.stringify(r));
  }

  /** Hot path: one call per node per item. `from` is the neighbour it came from (-1: origin). */
  learn(node: number, itemId: number, t: number, from = -1): void {
    this.counts.learn!++;
    if (this.closed) return this.late();
    if (this.fd < 0) {
      this.records.learns.push({ e: 'learn', node, item: itemId, t, from });
      return;
    }
    // Hand-built line: JSON.stringify of an object per record costs several times more.
    this.buf += '{"e":"learn","node":' + node + ',"item":' + itemId + ',"t":' + t + ',"from":' + from + '}\n';
    if (this.buf.length >= FLUSH_CHARS) this.flush();
  }

  announce(node: number, itemId: number, observer: string, t: number, how: AnnounceHow): void {
    this.counts.announce!++;
    if (this.closed) return this.late();
    if (this.fd < 0) {
      this.records.announces.push({ e: 'announce', node, item: itemId, observer, t, how });
      return;
    }
    this.buf += '{"e":"announce","node":' + node + ',"item":' + itemId + ',"observer":' + JSON.stringify(observer) + ',"t":' + t + ',"how":"' + how + '"}\n';
    if (this.buf.length >= FLUSH_CHARS) this.flush();
  }

  churn(node: number, online: boolean, t: number): void {
    const r: TruthChurn = { e: 'churn', node, online, t };
    this.record(r, JSON.stringify(r));
  }

  misbehave(node: number, what: string, t: number): void {
    const r: TruthMisbehave = { e: 'misbehave', node, what, t };
    this.record(r, JSON.stringify(r));
  }

  /** Writes what is buffered (synchronously). */
  flush(): void {
    if (this.fd < 0 || this.buf.length === 0) return;
    const s = this.buf;
    this.buf = '';
    this.bytesWritten += writeSync(this.fd, s);
  }

  /** Flushes and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private record(r: TruthRecord, line: string): void {
    this.counts[r.e] = (this.counts[r.e] ?? 0) + 1;
    if (this.closed) return this.late();
    if (this.fd < 0) {
      add(this.records, r);
      return;
    }
    this.buf += line + '\n';
    if (this.buf.length >= FLUSH_CHARS) this.flush();
  }

  private late(): void {
    this.counts.afterClose!++;
  }
}

/** Streams the records of a truth file, one parsed line at a time (files reach gigabytes). */
export async function* truthRecords(path: string): AsyncGenerator<TruthRecord> {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (line.length === 0) continue;
    let r: TruthRecord;
    try {
      r = JSON.parse(line) as TruthRecord;
    } catch {
      throw new Error(`${path}:${n}: not a JSON line`);
    }
    yield r;
  }
}

/** Reads a whole truth file into arrays by kind. */
export async function readTruth(path: string): Promise<Truth> {
  const t = emptyTruth();
  for await (const r of truthRecords(path)) add(t, r);
  return t;
}
