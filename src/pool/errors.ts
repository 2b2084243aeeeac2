/**
 * The pool's one error class: a Coordinator used wrongly (an unknown network, a bad proxy or
 * listen address, start() twice, a handler module that fails to load) throws a PoolError with a
 * stable `code`, so callers can tell them apart without reading messages. Main thread, cold path.
 */

export type PoolErrorCode =
  | 'ERR_POOL_NETWORK' // an unknown network name
  | 'ERR_POOL_ADDRESS' // a proxy or listen option that is not HOST:PORT
  | 'ERR_POOL_STATE' // start() after start() or stop(); a second consumer of the observations
  | 'ERR_POOL_HANDLERS'; // the handler module could not be loaded or set up

export class PoolError extends Error {
  override name = 'PoolError';
  constructor(
    readonly code: PoolErrorCode,
    message: string,
  ) {
    super(message);
  }
}
