/** Test helper: one SQL query in a fresh in-memory DuckDB (reads Parquet back), rows as JS objects. */
import { DuckDBInstance } from '@duckdb/node-api';

export async function query(sql: string): Promise<Record<string, unknown>[]> {
  const inst = await DuckDBInstance.create(':memory:');
  const c = await inst.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    inst.closeSync();
  }
}
