/**
 * The run directory's writer (file contract and durability bounds in README.md here). Rows are
 * appended through DuckDB appenders into the open part, a DuckDB database file under DIR/.store/,
 * committed every flushMs or flushRows; at each rotation (and at close) every table of the closed
 * part is exported with COPY to DIR/<table>/part-NNN.parquet (zstd; written as .tmp, then renamed)
 * and its DuckDB file deleted. Main thread: the append methods are the warm path (a few native
 * calls per row, never a throw: a failure is recorded once and later rows are counted as lost).
 */
import { mkdirSync, readdirSync, renameSync, rmSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { STAGING_DDL, TABLES, KIND_CODES, exportSelect, type TableName } from './schema.js';

export interface StoreOptions {
  /** The run directory (created if missing). */
  dir: string;
  /** A new part every this many ms. @default 3_600_000 (hourly) */
  rotateMs?: number;
  /** Staged rows are committed to the open part's file at least this often. @default 1_000 */
  flushMs?: number;
  /** ... and whenever this many observations are waiting. @default 100_000 */
  flushRows?: number;
  /** DuckDB's memory limit (it spills the open part to its file beyond it). @default '512MB' */
  memoryLimit?: string;
  /** DuckDB worker threads (exports run on them, off the main thread). @default 2 */
  threads?: number;
  /** Called once, at the first write failure (the store stops writing; see `error`). */
  onError?: (err: StoreError) => void;
}

/** A write failure: what was being done, the path, and DuckDB's or the OS's message. */
export class StoreError extends Error {
  readonly code = 'ERR_STORE_WRITE';
  constructor(
    readonly operation: string,
    readonly path: string,
    override readonly cause: unknown,
  ) {
    super(`${operation} ${path}: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

/** One peer session (the peers table). */
export interface PeerRow {
  peer: number;
  address: string;
  network: string;
  port: number;
  inbound: boolean;
  transport: string;
  user_agent: string | null;
  version: number | null;
  services: string | null;
  start_height: number | null;
  connected_at: number | null;
  ready_at: number | null;
  closed_at: number | null;
  close_reason: string | null;
  close_detail: string | null;
  ping_rtt_ms_min: number | null;
  ping_rtt_ms_median: number | null;
  ping_rtt_ms_max: number | null;
  bytes_in: number;
  bytes_out: number;
  msgs_in: number;
  msgs_out: number;
  by_command: string;
  misbehaviour: string;
}

/** One finalized item (the items table). */
export interface ItemRow {
  hash: string;
  item_kind: 'tx' | 'block';
  first_seen: number;
  first_peer: number;
  announcing_peers: number;
  peers_at_first_seen: number;
  t50: number | null;
  t90: number | null;
  t99: number | null;
}

/** One second of the run (the timeline table). */
export interface TimelineRow {
  time: number;
  peers_connected: number;
  peers_ready: number;
  inv_entries: number;
  drops: number;
}

/** What the store counted. */
export interface StoreCounters {
  observations: number;
  peers: number;
  items: number;
  timeline: number;
  /** Rows refused after a write failure (nothing is retried). */
  lost: number;
  /** Commits of the open part (appender flushes). */
  commits: number;
  /** Parts exported to Parquet. */
  parts: number;
}

interface OpenPart {
  index: number;
  alias: string;
  file: string;
  appenders: Record<TableName, DuckDBAppender>;
  rows: Record<TableName, number>;
}

export const STAGING_DIR = '.store';
const partName = (i: number): string => `part-${String(i).padStart(3, '0')}`;
const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

export class Store {
  readonly dir: string;
  readonly counters: StoreCounters = { observations: 0, peers: 0, items: 0, timeline: 0, lost: 0, commits: 0, parts: 0 };
  /** Parts exported so far, by name (part-000 ...). */
  readonly parts: string[] = [];
  /** The first write failure, or null. */
  error: StoreError | null = null;
  private readonly o: Required<Omit<StoreOptions, 'onError' | 'dir'>>;
  private readonly onError: ((err: StoreError) => void) | undefined;
  private instance: DuckDBInstance | null = null;
  private appendConn: DuckDBConnection | null = null;
  private exportConn: DuckDBConnection | null = null;
  private part: OpenPart | null = null;
  /** The next part, opened ahead so that a rotation switches appenders without waiting. */
  private next: Promise<OpenPart> | null = null;
  private exports: Promise<void> = Promise.resolve();
  private unflushed = 0;
  private flushTimer: ReturnType<typeof setInterval> | null = null;
  private rotateTimer: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  private constructor(o: StoreOptions) {
    this.dir = o.dir;
    this.onError = o.onError;
    this.o = {
      rotateMs: o.rotateMs ?? 3_600_000,
      flushMs: o.flushMs ?? 1_000,
      flushRows: o.flushRows ?? 100_000,
      memoryLimit: o.memoryLimit ?? '512MB',
      threads: o.threads ?? 2,
    };
  }

  /**
   * Creates the directory layout and opens part 0. Throws a StoreError when DIR cannot be written
   * (read-only, not a directory, no space): nothing has started yet, so the caller exits.
   */
  static async open(o: StoreOptions): Promise<Store> {
    const s = new Store(o);
    try {
      for (const d of [STAGING_DIR, ...TABLES]) mkdirSync(join(o.dir, d), { recursive: true });
    } catch (e) {
      throw new StoreError('cannot create', o.dir, e);
    }
    const leftovers = stagedParts(o.dir);
    if (leftovers.length) throw new StoreError('unexported parts of an earlier run in', join(o.dir, STAGING_DIR), new Error(`${leftovers.join(', ')} (run invscope observe --recover ${o.dir})`));
    try {
      s.instance = await DuckDBInstance.create(':memory:', { memory_limit: s.o.memoryLimit, threads: String(s.o.threads) });
      s.appendConn = await s.instance.connect();
      s.exportConn = await s.instance.connect();
      s.part = await s.openPart(0);
    } catch (e) {
      s.closeInstance();
      throw e instanceof StoreError ? e : new StoreError('cannot open the first part in', join(o.dir, STAGING_DIR), e);
    }
    s.next = s.openPart(1);
    s.next.catch(() => {});
    s.flushTimer = setInterval(() => s.flush(), s.o.flushMs);
    s.rotateTimer = setInterval(() => void s.rotate(), s.o.rotateMs);
    return s;
  }

  private async openPart(index: number): Promise<OpenPart> {
    const name = partName(index);
    const file = join(this.dir, STAGING_DIR, `${name}.duckdb`);
    const alias = `p${index}`;
    try {
      await this.appendConn!.run(`ATTACH ${sqlString(file)} AS ${alias}`);
      for (const t of TABLES) await this.appendConn!.run(`CREATE TABLE ${alias}.${t} (${STAGING_DDL[t]})`);
      const appenders = {} as Record<TableName, DuckDBAppender>;
      for (const t of TABLES) appenders[t] = await this.appendConn!.createAppender(t, 'main', alias);
      return { index, alias, file, appenders, rows: { observations: 0, peers: 0, items: 0, timeline: 0 } };
    } catch (e) {
      throw new StoreError('cannot create the part', file, e);
    }
  }

  /** Records the first failure; later rows are counted as lost. */
  private fail(err: StoreError): void {
    if (this.error) return;
    this.error = err;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.rotateTimer) clearInterval(this.rotateTimer);
    this.flushTimer = this.rotateTimer = null;
    this.onError?.(err);
  }

  /** True while rows are accepted. */
  get writable(): boolean {
    return this.error === null && !this.closed && this.part !== null;
  }

  // -----------------------------------------------------------------------------------------------
  // Appending (warm)

  /** Appends one observation; false (counted as lost) after a failure. */
  appendObservation(time: number, peer: number, address: string, kind: string, invType: number, hash: string, shard: number): boolean {
    const p = this.part;
    if (!p || this.error || this.closed) {
      this.counters.lost++;
      return false;
    }
    const a = p.appenders.observations;
    try {
      a.appendDouble(time);
      a.appendUInteger(peer);
      a.appendVarchar(address);
      a.appendUTinyInt(KIND_CODES[kind] ?? 0);
      a.appendUInteger(invType >>> 0);
      a.appendVarchar(hash);
      a.appendUTinyInt(shard & 0xff);
      a.endRow();
    } catch (e) {
      this.counters.lost++;
      this.fail(new StoreError('cannot append to', p.file, e));
      return false;
    }
    p.rows.observations++;
    this.counters.observations++;
    if (++this.unflushed >= this.o.flushRows) this.flush();
    return true;
  }

  appendPeer(r: PeerRow): boolean {
    return this.appendRow('peers', (a) => {
      a.appendUInteger(r.peer >>> 0);
      a.appendVarchar(r.address);
      a.appendVarchar(r.network);
      a.appendUInteger(r.port);
      a.appendBoolean(r.inbound);
      a.appendVarchar(r.transport);
      optVarchar(a, r.user_agent);
      optInt(a, r.version);
      optVarchar(a, r.services);
      optInt(a, r.start_height);
      optDouble(a, r.connected_at);
      optDouble(a, r.ready_at);
      optDouble(a, r.closed_at);
      optVarchar(a, r.close_reason);
      optVarchar(a, r.close_detail);
      optDouble(a, r.ping_rtt_ms_min);
      optDouble(a, r.ping_rtt_ms_median);
      optDouble(a, r.ping_rtt_ms_max);
      a.appendUBigInt(BigInt(Math.max(0, Math.trunc(r.bytes_in))));
      a.appendUBigInt(BigInt(Math.max(0, Math.trunc(r.bytes_out))));
      a.appendUBigInt(BigInt(Math.max(0, Math.trunc(r.msgs_in))));
      a.appendUBigInt(BigInt(Math.max(0, Math.trunc(r.msgs_out))));
      a.appendVarchar(r.by_command);
      a.appendVarchar(r.misbehaviour);
    });
  }

  appendItem(r: ItemRow): boolean {
    return this.appendRow('items', (a) => {
      a.appendVarchar(r.hash);
      a.appendVarchar(r.item_kind);
      a.appendDouble(r.first_seen);
      a.appendUInteger(r.first_peer >>> 0);
      a.appendUInteger(r.announcing_peers);
      a.appendUInteger(r.peers_at_first_seen);
      optDouble(a, r.t50);
      optDouble(a, r.t90);
      optDouble(a, r.t99);
    });
  }

  appendTimeline(r: TimelineRow): boolean {
    return this.appendRow('timeline', (a) => {
      a.appendDouble(r.time);
      a.appendUInteger(r.peers_connected);
      a.appendUInteger(r.peers_ready);
      a.appendUBigInt(BigInt(r.inv_entries));
      a.appendUBigInt(BigInt(r.drops));
    });
  }

  private appendRow(t: Exclude<TableName, 'observations'>, fill: (a: DuckDBAppender) => void): boolean {
    const p = this.part;
    if (!p || this.error || this.closed) {
      this.counters.lost++;
      return false;
    }
    try {
      fill(p.appenders[t]);
      p.appenders[t].endRow();
    } catch (e) {
      this.counters.lost++;
      this.fail(new StoreError('cannot append to', p.file, e));
      return false;
    }
    p.rows[t]++;
    this.counters[t]++;
    this.unflushed++;
    return true;
  }

  /** Commits every staged row of the open part to its file (a crash loses only what came after). */
  flush(): void {
    const p = this.part;
    if (!p || this.error || this.unflushed === 0) return;
    try {
      for (const t of TABLES) p.appenders[t].flushSync();
      this.counters.commits++;
      this.unflushed = 0;
    } catch (e) {
      this.fail(new StoreError('cannot commit to', p.file, e));
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Parts

  /** Closes the open part (exported in the background) and continues in the next one. */
  async rotate(): Promise<void> {
    if (!this.part || this.error || this.closed || !this.next) return;
    let next: OpenPart;
    try {
      next = await this.next;
    } catch (e) {
      this.fail(e instanceof StoreError ? e : new StoreError('cannot open the next part in', this.dir, e));
      return;
    }
    if (!this.part || this.error || this.closed) return;
    const old = this.part;
    this.flush();
    if (this.error) return;
    this.closeAppenders(old);
    this.part = next;
    this.next = this.openPart(next.index + 1);
    this.next.catch(() => {});
    this.exports = this.exports.then(() => this.exportPart(old));
    await this.exports;
  }

  private closeAppenders(p: OpenPart): void {
    for (const t of TABLES) {
      try {
        p.appenders[t].closeSync();
      } catch (e) {
        this.fail(new StoreError('cannot commit to', p.file, e));
      }
    }
  }

  /** COPY every table of a closed part to Parquet (.tmp, then renamed), then drop its DuckDB file. */
  private async exportPart(p: OpenPart): Promise<void> {
    if (this.error) return;
    const name = partName(p.index);
    for (const t of TABLES) {
      const out = join(this.dir, t, `${name}.parquet`);
      try {
        await this.exportConn!.run(`COPY (${exportSelect(t, `${p.alias}.${t}`)}) TO ${sqlString(out + '.tmp')} (FORMAT parquet, COMPRESSION zstd)`);
        renameSync(out + '.tmp', out);
      } catch (e) {
        rmSync(out + '.tmp', { force: true });
        this.fail(new StoreError('cannot write', out, e));
        return;
      }
    }
    await this.dropPart(p);
    this.parts.push(name);
    this.counters.parts++;
  }

  private async dropPart(p: OpenPart): Promise<void> {
    try {
      await this.exportConn!.run(`DETACH ${p.alias}`);
    } catch {
      /* already detached */
    }
    rmSync(p.file, { force: true });
    rmSync(p.file + '.wal', { force: true });
  }

  /**
   * Stops writing: commits and exports the open part, removes the spare next part, closes DuckDB.
   * After a failure the open part stays in DIR/.store (everything committed before the failure is
   * in it; `recoverDir` exports it once there is room again). Never throws.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.rotateTimer) clearInterval(this.rotateTimer);
    this.flushTimer = this.rotateTimer = null;
    const p = this.part;
    this.flush();
    this.closed = true;
    try {
      await this.exports;
    } catch {
      /* recorded by fail() */
    }
    if (p) {
      this.closeAppenders(p);
      if (!this.error) await this.exportPart(p);
    }
    this.part = null;
    if (this.next) {
      try {
        const n = await this.next;
        this.closeAppenders(n);
        await this.dropPart(n);
      } catch {
        /* the spare part could not be opened: nothing to remove */
      }
    }
    this.closeInstance();
    // The staging directory is left only when it holds a part to recover.
    if (stagedParts(this.dir).length === 0) rmSync(join(this.dir, STAGING_DIR), { recursive: true, force: true });
  }

  private closeInstance(): void {
    try {
      this.appendConn?.closeSync();
      this.exportConn?.closeSync();
      this.instance?.closeSync();
    } catch {
      /* closing after a failure: nothing more to save */
    }
    this.appendConn = this.exportConn = null;
    this.instance = null;
  }
}

function optVarchar(a: DuckDBAppender, v: string | null): void {
  if (v === null) a.appendNull();
  else a.appendVarchar(v);
}
function optInt(a: DuckDBAppender, v: number | null): void {
  if (v === null || !Number.isFinite(v)) a.appendNull();
  else a.appendInteger(v | 0);
}
function optDouble(a: DuckDBAppender, v: number | null): void {
  if (v === null || !Number.isFinite(v)) a.appendNull();
  else a.appendDouble(v);
}

/** The staged (unexported) parts in a run directory, by name. */
export function stagedParts(dir: string): string[] {
  const d = join(dir, STAGING_DIR);
  if (!existsSync(d) || !statSync(d).isDirectory()) return [];
  return readdirSync(d)
    .filter((f) => /^part-\d{3,}\.duckdb$/.test(f))
    .map((f) => f.slice(0, -'.duckdb'.length))
    .sort();
}

/**
 * Exports the parts a crashed (or full-disk) run left in DIR/.store to Parquet, as a clean stop
 * would have (empty spare parts are removed). Returns the parts exported with their row counts.
 */
export async function recoverDir(dir: string): Promise<{ part: string; rows: Record<TableName, number> }[]> {
  const names = stagedParts(dir);
  const out: { part: string; rows: Record<TableName, number> }[] = [];
  if (names.length === 0) return out;
  for (const t of TABLES) mkdirSync(join(dir, t), { recursive: true });
  const inst = await DuckDBInstance.create(':memory:');
  const c = await inst.connect();
  try {
    for (const name of names) {
      const file = join(dir, STAGING_DIR, `${name}.duckdb`);
      try {
        await c.run(`ATTACH ${sqlString(file)} AS rp`);
      } catch (e) {
        throw new StoreError('cannot open', file, e);
      }
      const rows = {} as Record<TableName, number>;
      let total = 0;
      for (const t of TABLES) {
        const r = await c.runAndReadAll(`SELECT count(*) FROM rp.${t}`).catch(() => null);
        rows[t] = r ? Number(r.getRows()[0]![0]) : 0;
        total += rows[t];
      }
      // An empty part is the spare a crash left behind (opened ahead of a rotation): nothing to keep.
      if (total > 0) {
        for (const t of TABLES) {
          const dest = join(dir, t, `${name}.parquet`);
          try {
            await c.run(`COPY (${exportSelect(t, `rp.${t}`)}) TO ${sqlString(dest + '.tmp')} (FORMAT parquet, COMPRESSION zstd)`);
            renameSync(dest + '.tmp', dest);
          } catch (e) {
            rmSync(dest + '.tmp', { force: true });
            throw new StoreError('cannot write', dest, e);
          }
        }
        out.push({ part: name, rows });
      }
      await c.run('DETACH rp');
      rmSync(file, { force: true });
      rmSync(file + '.wal', { force: true });
    }
  } finally {
    c.closeSync();
    inst.closeSync();
  }
  return out;
}
