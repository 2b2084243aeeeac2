/**
 * The piscina entry for a pool shard: one long-lived task per shard (src/pool/shard/shard.ts does the
 * work). Runs in a worker thread; compiled to dist/workers/shard.js, which the coordinator loads.
 * Imports only from src/.
 */
export { runShard as default } from '../src/pool/shard/shard.js';
