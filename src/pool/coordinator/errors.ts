/**
 * The pool's error class: a Coordinator misused (started twice, a send before start, records()
 * beside observations()...) or given a bad option throws a PoolError with a stable `code`.
 * Main thread, cold path. Errors never cross threads as objects: shards send codes.
 */

/** Stable codes of PoolError. */
export const PoolErrorCode = {
  /** An option that cannot be used (names the option and the value). */
  BAD_OPTION: 'ERR_POOL_BAD_OPTION',
  /** start() on a coordinator that is running or has stopped (a Coordinator runs once). */
  ALREADY_STARTED: 'ERR_POOL_ALREADY_STARTED',
  /** A call that needs a running coordinator (send, closePeer, crashShard) before start() or after stop(). */
  NOT_RUNNING: 'ERR_POOL_NOT_RUNNING',
  /** observations() and records() are one consumer: the other is already being consumed. */
  CONSUMER_TAKEN: 'ERR_POOL_CONSUMER_TAKEN',
  /** The handler module failed to load or set up in a shard: start() rejects with this. */
  HANDLERS_FAILED: 'ERR_POOL_HANDLERS_FAILED',
} as const;

export type PoolErrorCodeValue = (typeof PoolErrorCode)[keyof typeof PoolErrorCode];

export class PoolError extends Error {
  readonly code: PoolErrorCodeValue;
  constructor(code: PoolErrorCodeValue, message: string) {
    super(message);
    this.name = 'PoolError';
    this.code = code;
  }
}
