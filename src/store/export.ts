/**
 * Export of one closed part to the run directory's hive layout (README.md "Layout"): every table is
 * copied by DuckDB into a private folder under DIR/.store with PARTITION_BY (vantage, date, hour) of
 * the event time, then each file is renamed to DIR/<table>/vantage=/date=/hour=/part-<runid>-NNNN.parquet,
 * so a reader never sees a half-written file under its final name. Runs on DuckDB's threads
 * (awaited from the main thread), cold path.
 */
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { filesUnder, makeDirs } from './dirs.js';
import { TABLES, sqlString, exportSelect, kvMetadataSql, type ExportContext, type TableName } from './schema.js';
import { StoreError } from './errors.js';

export interface PartExport extends ExportContext {
  /** The invscope version, in every file's metadata. */
  version: string;
}


/** The four-digit part number of the file names. */
export const partNumber = (i: number): string => String(i).padStart(4, '0');

/** The exported name of part `index` of a run: part-<runid>-NNNN. */
export const exportedPartName = (runId: string, index: number): string => `part-${runId}-${partNumber(index)}`;

/**
 * Writes every table of `alias` (an attached part) into DIR's partitions; returns the rows per table.
 * Throws StoreError naming the table's folder when a write fails (the scratch folder is removed).
 */
export async function exportPart(conn: DuckDBConnection, dir: string, stagingDir: string, alias: string, index: number, x: PartExport): Promise<Record<TableName, number>> {
  const rows = {} as Record<TableName, number>;
  const base = exportedPartName(x.runId, index);
  for (const t of TABLES) {
    const scratch = join(stagingDir, `export-${partNumber(index)}`, t);
    const dest = join(dir, t);
    try {
      makeDirs(scratch);
      const r = await conn.runAndReadAll(
        `COPY (${exportSelect(t, `${alias}.${t}`, x)}) TO ${sqlString(scratch)} (FORMAT parquet, COMPRESSION zstd, ` +
          `PARTITION_BY (vantage, date, hour), FILENAME_PATTERN '${base}-{i}', OVERWRITE_OR_IGNORE, KV_METADATA ${kvMetadataSql(t, x, x.version)})`,
      );
      rows[t] = Number(r.getRows()[0]?.[0] ?? 0);
      // One file per partition is the rule (NNNN.parquet); more are numbered (NNNN-K.parquet).
      const files = filesUnder(scratch);
      const perFolder = new Map<string, number>();
      for (const f of files) perFolder.set(join(f, '..'), (perFolder.get(join(f, '..')) ?? 0) + 1);
      for (const f of files) {
        const folder = join(f, '..');
        const k = /-(\d+)\.parquet$/.exec(f)?.[1] ?? '0';
        const name = perFolder.get(folder) === 1 ? `${base}.parquet` : `${base}-${k}.parquet`;
        makeDirs(join(dest, folder));
        renameSync(join(scratch, f), join(dest, folder, name));
      }
    } catch (e) {
      throw e instanceof StoreError ? e : new StoreError('cannot write', dest, e);
    } finally {
      rmSync(join(scratch, '..'), { recursive: true, force: true });
    }
  }
  return rows;
}
