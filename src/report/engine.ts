/**
 * The report's DuckDB engine settings and error classes: a memory cap (DuckDB memory_limit), a
 * spill directory (temp_directory), a bounded thread count, and the mapping of an engine failure
 * to a stable code (out of memory, corrupt input, anything else). Main thread, cold path.
 */
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { makeDirs } from '../store/dirs.js';

/** Default memory cap: fits a laptop beside a browser; raise with --memory-limit. */
export const DEFAULT_MEMORY_LIMIT = '2GB';
/** Default DuckDB threads: this tool shares small machines with the observer. */
export const DEFAULT_THREADS = 2;

export interface EngineOptions {
  /** DuckDB memory_limit, e.g. '2GB', '512MB'. @default DEFAULT_MEMORY_LIMIT */
  memoryLimit?: string | undefined;
  /**
   * Where DuckDB spills what exceeds the cap: a writable directory, created if missing (and then
   * removed on close, as DuckDB does with one it creates), else left in place without DuckDB's
   * files. @default a fresh directory under the OS temp dir, removed on close
   */
  tempDir?: string | undefined;
  /** DuckDB worker threads. @default DEFAULT_THREADS */
  threads?: number | undefined;
}

/** A memory size DuckDB accepts: a number and a unit (KB, MB, GB, TB, KiB, MiB, GiB, TiB, or %). */
export const MEMORY_LIMIT_RE = /^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB|%)\s*$/i;

export interface Engine {
  db: DuckDBInstance;
  /** The spill directory in use. */
  tempDir: string;
  /** Removes the spill directory when it is the engine's own or was created for it (call after closing the DB). */
  cleanup(): void;
}

/**
 * Opens an in-memory DuckDB with the cap, a spill directory and the threads; nothing is ever
 * fetched. Without --temp-dir the spill goes to a private directory under the OS temp dir
 * (DuckDB's own default is `.tmp` in the working directory).
 */
export async function openEngine(o: EngineOptions = {}): Promise<Engine> {
  // What to remove on close: the private directory, or the folders made for a missing --temp-dir.
  const own = o.tempDir === undefined ? mkdtempSync(join(tmpdir(), 'invscope-report-spill-')) : prepareTempDir(o.tempDir);
  const tempDir = o.tempDir ?? own!;
  const config: Record<string, string> = {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    memory_limit: o.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
    threads: String(o.threads ?? DEFAULT_THREADS),
    temp_directory: tempDir,
    // No query of the report needs insertion order; keeping it costs memory in large scans.
    preserve_insertion_order: 'false',
  };
  const cleanup = (): void => {
    if (own !== null) rmSync(own, { recursive: true, force: true });
  };
  try {
    return { db: await DuckDBInstance.create(':memory:', config), tempDir, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/**
 * Checks a given spill directory before DuckDB runs: DuckDB looks at it only when it first spills,
 * so a bad one would fail late, or never on a small input. Creates it if missing and returns the
 * first folder created (removed on close), else null; throws an Error naming it when it is not a
 * writable directory (a file, a path under a file, no permission).
 */
function prepareTempDir(dir: string): string | null {
  let top: string | null = null;
  for (let p = resolve(dir); !existsSync(p) && dirname(p) !== p; p = dirname(p)) top = p;
  try {
    makeDirs(dir);
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    if (top !== null && existsSync(top)) rmSync(top, { recursive: true, force: true });
    throw new Error(`--temp-dir ${dir}: not a writable directory (${(e as Error).message})`);
  }
  return top;
}

export type EngineErrorClass = 'oom' | 'corrupt' | 'engine';

/**
 * What an engine error means for the user. DuckDB's messages start with their exception type:
 * "Out of Memory Error" is the cap (or the spill directory full); an IO or Invalid Input error
 * naming a Parquet file, a magic or a footer is a file that really is unreadable; anything
 * else is an engine error (a bug or an unsupported input), not the data's fault.
 */
export function classifyEngineError(e: unknown): EngineErrorClass {
  const m = String((e as Error)?.message ?? e);
  if (/out of memory|could not allocate|failed to allocate|memory_limit/i.test(m)) return 'oom';
  if (/parquet|magic|footer|corrupt|No magic bytes|truncated|not a parquet/i.test(m) && /^(IO|Invalid Input|Invalid) Error|Error: (IO|Invalid Input)/i.test(m)) return 'corrupt';
  return 'engine';
}
