/**
 * The simulated chain's miner: the mempool in origination order, the tip and height, and the
 * assembly of the next block from the mempool transactions its miner knows, oldest first, up to
 * the block weight (Core's BlockAssembler in spirit). Simulator process; once per block.
 */
import { sha256d } from '../protocol/hash.js';
import { BASE_HEIGHT } from './identity.js';
import { makeRawBlock, MAX_BLOCK_WEIGHT, type RawTx } from './items.js';
import type { Rng } from './rng.js';
import type { SimItem } from './types.js';

/** Weight kept free in a block for the coinbase (Core's default -blockreservedweight 8000 in spirit). */
const COINBASE_WEIGHT_RESERVE = 8_000;
/** Header time of a block mined at the start of a run (2025-06-15T16:26:40Z), seconds. */
const BLOCK_TIME_BASE = 1_750_004_800;

export class Miner {
  /** Item ids of the blocks mined, in order. */
  readonly blockIds: number[] = [];
  height = BASE_HEIGHT;
  /** Unconfirmed transactions in origination order (the mempool a miner draws from). */
  private mempool: number[] = [];
  private readonly txWeight: number[] = [];
  private tip: Uint8Array;

  /** The block the simulated chain builds on: a stand-in hash derived from the seed. */
  constructor(seed: number) {
    this.tip = sha256d(new TextEncoder().encode(`invscope-sim tip ${seed}`));
  }

  /** A new transaction enters the mempool. */
  addTx(id: number, weight: number): void {
    this.txWeight[id] = weight;
    this.mempool.push(id);
  }

  /**
   * Block `id` mined by `miner` at model offset `modelMs` from the run's start: the mempool txs
   * the miner `knows`, oldest first, up to the block weight.
   */
  mine(id: number, miner: number, t: number, modelMs: number, items: readonly SimItem[], knows: (node: number, item: number) => boolean, rng: Rng): SimItem {
    const txs: RawTx[] = [];
    const keep: number[] = [];
    let weight = COINBASE_WEIGHT_RESERVE;
    for (const tid of this.mempool) {
      const w = this.txWeight[tid]!;
      if (weight + w <= MAX_BLOCK_WEIGHT && knows(miner, tid)) {
        const it = items[tid]!;
        txs.push({ raw: it.raw, txid: it.hash, wtxid: it.wtxid, weight: w });
        weight += w;
      } else keep.push(tid);
    }
    this.mempool = keep;
    const height = this.height + 1;
    // Header time in model seconds from a fixed epoch, not the wall clock: the same seed gives the
    // same block hashes whenever the run starts (nothing in the simulation checks header times).
    const timeSec = BLOCK_TIME_BASE + Math.floor(modelMs / 1000);
    const b = makeRawBlock(this.tip, height, timeSec, txs, rng);
    this.tip = b.hash;
    this.height = height;
    this.blockIds.push(id);
    return { id, kind: 'block', hash: b.hash, wtxid: b.hash, raw: b.raw, header: b.header, origin: miner, createdAt: t, height };
  }
}
