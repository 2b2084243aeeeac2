/**
 * The pool's one error class: a Coordinator used wrongly (an unknown network, a bad proxy or
 * listen address, start() twice, a send before start(), a second consumer, a handler module that
 * fails to load) throws a PoolError with a stable `code`, so callers can tell them apart without
 * reading messages. Main thread, cold path. Shards never send Error objects: they send codes.
 */

/** The stable codes of PoolError. */
export const PoolErrorCode = {
  /** An unknown network name. */
  NETWORK: 'ERR_POOL_NETWORK',
  /** A proxy or listen option that is not HOST:PORT. */
  ADDRESS: 'ERR_POOL_ADDRESS',
  /** A call in the wrong state: start() after start() or stop(); send, closePeer or crashShard before start(); a second consumer of the observations. */
  STATE: 'ERR_POOL_STATE',
  /** The handler module could not be loaded or set up. */
  HANDLERS: 'ERR_POOL_HANDLERS',
} as const;

export type PoolErrorCode = (typeof PoolErrorCode)[keyof typeof PoolErrorCode];

export class PoolError extends Error {
  override name = 'PoolError';
  constructor(
    readonly code: PoolErrorCode,
    message: string,
  ) {
    super(message);
  }
}
