/**
 * Recovery of a crashed run: the parts a run left staged in DIR/.store (DuckDB files not yet
 * exported) are exported to Parquet as a clean stop would have, with the vantage and run id of
 * DIR/run.json (`invscope observe --recover DIR`). Main thread; cold.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { TABLES, sqlString, type TableName } from './schema.js';
import { StoreError } from './errors.js';
import { exportPart, exportedPartName, type PartExport } from './export.js';

/** The folder of DIR where a run's open and unexported parts are staged. */
export const STAGING_DIR = '.store';


/** The staged (unexported) parts in a run directory, by name. */
export function stagedParts(dir: string): string[] {
  const d = join(dir, STAGING_DIR);
  if (!existsSync(d) || !statSync(d).isDirectory()) return [];
  return readdirSync(d)
    .filter((f) => /^part-\d{3,}\.duckdb$/.test(f))
    .map((f) => f.slice(0, -'.duckdb'.length))
    .sort();
}

/** What a run directory's run.json says about how its parts are exported (missing fields: defaults). */
function exportContextOf(dir: string): PartExport {
  let run: Record<string, unknown> = {};
  try {
    run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    /* no run.json: the defaults below */
  }
  const settings = (run.settings ?? {}) as Record<string, unknown>;
  const str = (v: unknown, d: string): string => (typeof v === 'string' && v ? v : d);
  return {
    vantage: str(run.vantage, 'unknown'),
    runId: str(run.runId, `recovered-${Date.now()}`),
    network: str(run.network, 'main'),
    shiftMs: typeof settings.testClockShiftMs === 'number' ? settings.testClockShiftMs : 0,
    version: str(run.invscope, 'unknown'),
  };
}

/**
 * Exports the parts a crashed (or full-disk) run left in DIR/.store to Parquet, as a clean stop
 * would have (empty spare parts are removed), with the vantage and run id of DIR/run.json.
 * Returns the parts exported with their row counts.
 */
export async function recoverDir(dir: string): Promise<{ part: string; rows: Record<TableName, number> }[]> {
  const names = stagedParts(dir);
  const out: { part: string; rows: Record<TableName, number> }[] = [];
  if (names.length === 0) return out;
  const x = exportContextOf(dir);
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
        const index = Number(name.slice('part-'.length));
        await exportPart(c, dir, join(dir, STAGING_DIR), 'rp', index, x);
        out.push({ part: exportedPartName(x.runId, index), rows });
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
