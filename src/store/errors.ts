/**
 * The store layer's error: one class with a stable `code` (ERR_STORE_WRITE), the operation, the
 * path and the OS's or DuckDB's message. Any thread, cold path.
 */
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

