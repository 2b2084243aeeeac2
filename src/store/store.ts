/**
 * The run directory's writer (file contract and durability bounds in README.md here). Rows are
 * appended through DuckDB appenders into the open part, a DuckDB database file under DIR/.store/,
 * staged in memory and committed every flushMs or flushRows by DuckDB's threads; at each rotation
 * (and at close) every table of the closed part is exported to DIR's hive partitions (export.ts)
 * and its DuckDB file deleted. Main thread: the append methods are the warm path (a few native
 * calls per row, never a throw: a failure is recorded once and later rows are counted as lost).
 */
import { rmSync } from 'node:fs';
import { makeDirs } from './dirs.js';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { makeRunId } from './runid.js';
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { STAGING_DDL, TABLES, sqlString, type TableName } from './schema.js';
import { StoreError } from './errors.js';
import { exportPart, exportedPartName, type PartExport } from './export.js';

export { StoreError };
export type { PeerRow, ItemRow, TimelineRow, StoreCounters } from './rows.js';
import type { PeerRow, ItemRow, TimelineRow, StoreCounters } from './rows.js';
import { KIND_CODES, type ObservationKind } from '../observe/kinds.js';

export interface StoreOptions {
  /** The run directory (created if missing). */
  dir: string;
  /** A new part every this many ms. @default 3_600_000 (hourly) */
  rotateMs?: number;
  /** Staged rows are committed to the open part's file at least this often. @default 1_000 */
  flushMs?: number;
  /** ... and whenever this many rows are staged. @default 100_000 */
  flushRows?: number;
  /** Rows staged at most while a commit is slow; beyond, new rows are shed and counted. @default 2_000_000 */
  maxStagedRows?: number;
  /** DuckDB's memory limit (the staging sets live in it; the open part spills to its file). @default '1GB' */
  memoryLimit?: string;
  /** DuckDB worker threads (exports run on them, off the main thread). @default 2 */
  threads?: number;
  /** The vantage point's name (the `vantage=` folder). @default os.hostname() */
  vantage?: string;
  /** The run id (file names, the `run_id` column). @default makeRunId() */
  runId?: string;
  /** The chain (main, testnet...): part of node_id. @default 'main' */
  network?: string;
  /** Added to every stored time: test-only clock shift (README.md). @default 0 */
  shiftMs?: number;
  /** The invscope version, in every file's metadata. @default 'unknown' */
  version?: string;
  /** Called once, at the first write failure (the store stops writing; see `error`). */
  onError?: (err: StoreError) => void;
}

interface OpenPart {
  index: number;
  alias: string;
  file: string;
}

export { STAGING_DIR, stagedParts, recoverDir } from './recover.js';
import { STAGING_DIR, stagedParts } from './recover.js';
const partName = (i: number): string => `part-${String(i).padStart(3, '0')}`;
const stageTable = (k: number, t: TableName): string => `stage${k}_${t}`;
/** Staged rows per appender flush between commits (a power of two). */
const APPENDER_SLICE = 8192;

export class Store {
  readonly dir: string;
  readonly counters: StoreCounters = { observations: 0, peers: 0, items: 0, timeline: 0, lost: 0, shed: 0, commits: 0, parts: 0 };
  /** The vantage and run id every file carries. */
  get vantage(): string {
    return this.x.vantage;
  }
  get runId(): string {
    return this.x.runId;
  }
  /** Parts exported so far, by name (part-<runid>-NNNN). */
  readonly parts: string[] = [];
  /** The first write failure, or null. */
  error: StoreError | null = null;
  private readonly o: Required<Omit<StoreOptions, 'onError' | 'dir' | 'vantage' | 'runId' | 'network' | 'shiftMs' | 'version'>>;
  private readonly x: PartExport;
  private readonly onError: ((err: StoreError) => void) | undefined;
  private instance: DuckDBInstance | null = null;
  /** Appenders only (synchronous calls from the main thread). */
  private appendConn: DuckDBConnection | null = null;
  /** Commits and part files (ATTACH, CREATE, INSERT ... SELECT), one at a time on `chain`. */
  private commitConn: DuckDBConnection | null = null;
  /** Parquet exports and DETACH, one at a time on `exports`. */
  private exportConn: DuckDBConnection | null = null;
  /** Two in-memory staging sets: appends go to `cur` while the other is being committed. */
  private readonly stage: Record<TableName, DuckDBAppender>[] = [];
  private cur = 0;
  /** Rows in the current staging set. */
  private staged = 0;
  private inflight: Promise<void> | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private part: OpenPart | null = null;
  /** The next part, opened ahead so that a rotation never waits for a file to be created. */
  private next: Promise<OpenPart> | null = null;
  private lifecycle: Promise<void> = Promise.resolve();
  private closePromise: Promise<void> | null = null;
  private pendingRotate: Promise<void> | null = null;
  /** close() was called: rows are refused from now on (the staged ones are still committed). */
  private closing = false;
  private flushTimer: ReturnType<typeof setInterval> | null = null;
  private rotateTimer: ReturnType<typeof setInterval> | null = null;

  private constructor(o: StoreOptions) {
    this.dir = o.dir;
    this.onError = o.onError;
    this.x = { vantage: o.vantage ?? hostname(), runId: o.runId ?? makeRunId(), network: o.network ?? 'main', shiftMs: o.shiftMs ?? 0, version: o.version ?? 'unknown' };
    this.o = {
      rotateMs: o.rotateMs ?? 3_600_000,
      flushMs: o.flushMs ?? 1_000,
      flushRows: o.flushRows ?? 100_000,
      maxStagedRows: o.maxStagedRows ?? 2_000_000,
      memoryLimit: o.memoryLimit ?? '1GB',
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
      for (const d of [STAGING_DIR, ...TABLES]) makeDirs(join(o.dir, d));
    } catch (e) {
      throw new StoreError('cannot create', o.dir, e);
    }
    const leftovers = stagedParts(o.dir);
    if (leftovers.length) throw new StoreError('unexported parts of an earlier run in', join(o.dir, STAGING_DIR), new Error(`${leftovers.join(', ')} (run invscope observe --recover ${o.dir})`));
    try {
      s.instance = await DuckDBInstance.create(':memory:', {
        memory_limit: s.o.memoryLimit,
        threads: String(s.o.threads),
        temp_directory: join(o.dir, STAGING_DIR, 'tmp'),
      });
      s.appendConn = await s.instance.connect();
      s.commitConn = await s.instance.connect();
      s.exportConn = await s.instance.connect();
      for (const k of [0, 1]) {
        const set = {} as Record<TableName, DuckDBAppender>;
        for (const t of TABLES) {
          await s.appendConn.run(`CREATE TABLE ${stageTable(k, t)} (${STAGING_DDL[t]})`);
          set[t] = await s.appendConn.createAppender(stageTable(k, t));
        }
        s.stage.push(set);
      }
      s.part = await s.openPart(0);
    } catch (e) {
      s.closeInstance();
      throw e instanceof StoreError ? e : new StoreError('cannot open the first part in', join(o.dir, STAGING_DIR), e);
    }
    s.next = s.openPart(1);
    s.next.catch(() => {});
    s.flushTimer = setInterval(() => void s.commit(), s.o.flushMs);
    s.rotateTimer = setInterval(() => void s.rotate(), s.o.rotateMs);
    return s;
  }

  /** Runs `fn` on the commit connection after everything queued before it. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.chain.then(fn, fn);
    this.chain = r.catch(() => {});
    return r;
  }

  private openPart(index: number): Promise<OpenPart> {
    return this.serial(async () => {
      const name = partName(index);
      const file = join(this.dir, STAGING_DIR, `${name}.duckdb`);
      const alias = `p${index}`;
      try {
        await this.commitConn!.run(`ATTACH ${sqlString(file)} AS ${alias}`);
        for (const t of TABLES) await this.commitConn!.run(`CREATE TABLE ${alias}.${t} (${STAGING_DDL[t]})`);
        return { index, alias, file };
      } catch (e) {
        throw new StoreError('cannot create the part', file, e);
      }
    });
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
    return this.error === null && !this.closing && this.part !== null;
  }

  // -----------------------------------------------------------------------------------------------
  // Appending (warm)

  /** False (and counted) when the row cannot be taken: after a failure (lost) or with a full stage (shed). */
  private admit(): boolean {
    if (this.error || this.closing || !this.part) {
      this.counters.lost++;
      return false;
    }
    if (this.staged >= this.o.maxStagedRows) {
      this.counters.shed++;
      return false;
    }
    return true;
  }

  private appended(): void {
    const n = ++this.staged;
    if (n >= this.o.flushRows && !this.inflight) void this.commit();
    // Hand the appender's buffer to its (in-memory) table in slices: the main thread pays for a
    // flush in proportion to the rows since the last one, so slices keep every pause short.
    else if ((n & (APPENDER_SLICE - 1)) === 0) this.sliceFlush();
  }

  private sliceFlush(): void {
    try {
      this.stage[this.cur]!.observations.flushSync();
    } catch (e) {
      this.fail(new StoreError('cannot append to the staging table of', this.part!.file, e));
    }
  }

  /** Appends one observation; false when it was not taken (counted as lost or shed). */
  appendObservation(time: number, peer: number, address: string, kind: string, invType: number, hash: string, shard: number): boolean {
    if (!this.admit()) return false;
    const a = this.stage[this.cur]!.observations;
    try {
      a.appendDouble(time);
      a.appendUInteger(peer);
      a.appendVarchar(address);
      a.appendUTinyInt(KIND_CODES[kind as ObservationKind] ?? 0);
      a.appendUInteger(invType >>> 0);
      a.appendVarchar(hash);
      a.appendUTinyInt(shard & 0xff);
      a.endRow();
    } catch (e) {
      this.counters.lost++;
      this.fail(new StoreError('cannot append to the staging table of', this.part!.file, e));
      return false;
    }
    this.counters.observations++;
    this.appended();
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
      for (const v of [r.connected_at, r.ready_at, r.closed_at]) optDouble(a, v);
      optVarchar(a, r.close_reason);
      optVarchar(a, r.close_detail);
      for (const v of [r.ping_rtt_ms_min, r.ping_rtt_ms_median, r.ping_rtt_ms_max]) optDouble(a, v);
      for (const v of [r.bytes_in, r.bytes_out, r.msgs_in, r.msgs_out]) a.appendUBigInt(BigInt(Math.max(0, Math.trunc(v))));
      a.appendVarchar(r.by_command);
      a.appendVarchar(r.misbehaviour);
    });
  }

  appendItem(r: ItemRow): boolean {
    return this.appendRow('items', (a) => {
      a.appendVarchar(r.hash);
      a.appendVarchar(r.item_kind);
      a.appendVarchar(r.id_type);
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
      const c = r.clock ?? null;
      a.appendVarchar(c?.source ?? 'unknown');
      a.appendVarchar(c?.state ?? 'unknown');
      optDouble(a, c?.offsetMs ?? null);
      optDouble(a, c?.errorMs ?? null);
    });
  }

  private appendRow(t: Exclude<TableName, 'observations'>, fill: (a: DuckDBAppender) => void): boolean {
    if (!this.admit()) return false;
    const a = this.stage[this.cur]![t];
    try {
      fill(a);
      a.endRow();
    } catch (e) {
      this.counters.lost++;
      this.fail(new StoreError('cannot append to the staging table of', this.part!.file, e));
      return false;
    }
    this.counters[t]++;
    this.appended();
    return true;
  }

  /**
   * Commits the staged rows to the open part's file: the appenders of the current staging set
   * are flushed (in memory: cheap), appends switch to the other set, and DuckDB's threads copy the
   * set into the part file and empty it. The main thread never waits for the disk. One commit at
   * a time; a crash loses what is staged plus the commit in flight.
   */
  commit(): Promise<void> {
    if (this.inflight) return this.inflight;
    const file = this.part?.file ?? this.dir;
    if (!this.part || this.error || this.staged === 0) return Promise.resolve();
    const k = this.cur;
    try {
      for (const t of TABLES) this.stage[k]![t].flushSync();
    } catch (e) {
      this.fail(new StoreError('cannot commit to', file, e));
      return Promise.resolve();
    }
    this.cur = 1 - k;
    const rows = this.staged;
    this.staged = 0;
    const run = this.serial(async () => {
      // The part is read when the commit runs: a rotation switches parts on this same chain, so
      // every commit queued before the switch lands in the old part and every later one in the new.
      const p = this.part;
      const c = this.commitConn!;
      if (p && !this.error) {
        try {
          await c.run('BEGIN TRANSACTION');
          for (const t of TABLES) await c.run(`INSERT INTO ${p.alias}.${t} SELECT * FROM ${stageTable(k, t)}`);
          await c.run('COMMIT');
          this.counters.commits++;
        } catch (e) {
          await c.run('ROLLBACK').catch(() => {});
          this.counters.lost += rows;
          this.fail(new StoreError('cannot commit to', p.file, e));
        }
      } else this.counters.lost += rows; // after a failure: the rows had nowhere to go
      for (const t of TABLES) await c.run(`DELETE FROM ${stageTable(k, t)}`).catch(() => {});
    });
    this.inflight = run.finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** Waits for the commit in flight, then commits what is staged. */
  private async commitAll(): Promise<void> {
    while (this.inflight) await this.inflight;
    await this.commit();
  }

  /** Kept for callers that want everything staged committed now (tests, benches). */
  flush(): Promise<void> {
    return this.commitAll();
  }

  // -----------------------------------------------------------------------------------------------
  // Parts

  /** Rotations and the close, one at a time. */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const r = this.lifecycle.then(fn, fn);
    this.lifecycle = r.catch(() => {});
    return r;
  }

  /**
   * Closes the open part and continues in the next one (opened ahead): the switch runs on the
   * commit chain, after every commit queued before it; then the closed part is exported on
   * DuckDB's threads.
   */
  rotate(): Promise<void> {
    // One rotation waiting at most: timer ticks during a slow export coalesce instead of queueing.
    if (this.pendingRotate) return this.pendingRotate;
    const r = this.exclusive(async () => {
      this.pendingRotate = null;
      if (!this.part || this.error || this.closing || !this.next) return;
      await this.commitAll();
      let old: OpenPart | null;
      try {
        old = await this.serial(async () => {
          const next = await this.next!; // settled: it was queued on this chain before
          const prev = this.part;
          this.part = next;
          this.next = this.openPart(next.index + 1);
          this.next.catch(() => {});
          return prev;
        });
      } catch (e) {
        this.fail(e instanceof StoreError ? e : new StoreError('cannot open the next part in', this.dir, e));
        return;
      }
      if (old) await this.exportPart(old);
    });
    this.pendingRotate = r;
    return r;
  }

  /** Exports every table of a closed part into DIR's partitions, then drops its DuckDB file. */
  private async exportPart(p: OpenPart): Promise<void> {
    if (this.error) return;
    try {
      await exportPart(this.exportConn!, this.dir, join(this.dir, STAGING_DIR), p.alias, p.index, this.x);
    } catch (e) {
      this.fail(e instanceof StoreError ? e : new StoreError('cannot write', this.dir, e));
      return;
    }
    await this.dropPart(p);
    this.parts.push(exportedPartName(this.x.runId, p.index));
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
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.rotateTimer) clearInterval(this.rotateTimer);
    this.flushTimer = this.rotateTimer = null;
    this.closePromise = this.exclusive(async () => {
      await this.commitAll();
      // Rows still staged after a failure are lost, and counted.
      if (this.error) {
        this.counters.lost += this.staged;
        this.staged = 0;
      }
      const p = await this.serial(async () => {
        const last = this.part;
        this.part = null;
        return last;
      });
      if (p && !this.error) await this.exportPart(p);
      if (this.next) {
        try {
          await this.dropPart(await this.next);
        } catch {
          /* the spare part could not be opened: nothing to remove */
        }
      }
      await this.chain;
      this.closeInstance();
      // The staging directory is left only when it holds a part to recover.
      if (stagedParts(this.dir).length === 0) rmSync(join(this.dir, STAGING_DIR), { recursive: true, force: true });
    });
    return this.closePromise;
  }

  private closeInstance(): void {
    try {
      for (const set of this.stage) for (const t of TABLES) set[t].closeSync();
    } catch {
      /* closing after a failure */
    }
    try {
      this.appendConn?.closeSync();
      this.commitConn?.closeSync();
      this.exportConn?.closeSync();
      this.instance?.closeSync();
    } catch {
      /* closing after a failure: nothing more to save */
    }
    this.appendConn = this.commitConn = this.exportConn = null;
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
