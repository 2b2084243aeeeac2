/**
 * The drops of an observation run, counted in one place: ring drops (the shards' rings were
 * full), consumer drops (the pool's queue to the observation loop) and the store's shed and lost
 * rows. The status line, the timeline, the log and run.json all read them from here. Main
 * thread; called once a second and at the stop.
 */
import type { PoolStats } from '../../pool/index.js';

export interface DropCounts {
  ring: number;
  consumer: number;
  /** lost + shed */
  store: number;
  storeLost: number;
  storeShed: number;
  /** ring + consumer + store */
  total: number;
}

export function dropCounts(pool: PoolStats, store: { readonly lost: number; readonly shed: number }): DropCounts {
  const ring = pool.shards.reduce((a, x) => a + x.drops, 0);
  const consumer = pool.consumerDrops;
  const s = store.lost + store.shed;
  return { ring, consumer, store: s, storeLost: store.lost, storeShed: store.shed, total: ring + consumer + s };
}
