/**
 * When each simulated node learned each item: a row of learn times per item (a tentative arrival
 * stored negated while an offer is queued), compacted once a transaction has settled to the sorted
 * nodes that never learned it, keeping the newest `retain` transactions whole (blocks stay whole:
 * few, and rejoining nodes sync them). Rows are recycled. Simulator process; the rows are read
 * and written on the model's hot path.
 */

export class LearnTimes {
  /**
   * Per item and node: the learn time (> 0), a tentative arrival stored negated (< 0) while an
   * offer is queued, or +Infinity. Epoch ms are > 0, so the sign is free to mark tentatives.
   * null once compacted.
   */
  readonly at: (Float64Array | null)[] = [];
  /** Items compacted so far. */
  compacted = 0;
  /** Compacted items: the sorted nodes that never learned it. */
  private readonly missing: (Int32Array | null)[] = [];
  private readonly completedTx: number[] = [];
  private completedHead = 0;
  private readonly pool: Float64Array[] = [];

  constructor(
    private readonly n: number,
    private readonly retain: number,
  ) {}

  /** The row of a new item (the next id), every node at +Infinity. */
  add(): Float64Array {
    const at = this.pool.pop() ?? new Float64Array(this.n);
    at.fill(Infinity);
    this.at.push(at);
    this.missing.push(null);
    return at;
  }

  /** No offer of item `id` is pending any more: clears stale tentatives, compacts old transactions. */
  complete(id: number, isTx: boolean): void {
    const at = this.at[id]!;
    for (let i = 0; i < at.length; i++) if (at[i]! < 0) at[i] = Infinity; // defensive: no stale tentatives
    if (!isTx) return;
    this.completedTx.push(id);
    while (this.completedTx.length - this.completedHead > this.retain) {
      this.compact(this.completedTx[this.completedHead++]!);
    }
    if (this.completedHead > 4096) {
      this.completedTx.splice(0, this.completedHead);
      this.completedHead = 0;
    }
  }

  knows(node: number, itemId: number): boolean {
    const at = this.at[itemId];
    if (at) {
      const v = at[node];
      return v !== undefined && v > 0 && v !== Infinity;
    }
    const m = this.missing[itemId];
    if (!m || node < 0 || node >= this.n) return false;
    let lo = 0;
    let hi = m.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (m[mid]! < node) lo = mid + 1;
      else hi = mid;
    }
    return lo >= m.length || m[lo] !== node;
  }

  /** When `node` learned the item (epoch ms), or NaN (not learned, or compacted). */
  learnedAt(node: number, itemId: number): number {
    const at = this.at[itemId];
    if (!at) return NaN;
    const v = at[node];
    return v !== undefined && v > 0 && v !== Infinity ? v : NaN;
  }

  /** Keeps only who never learned the item; the learn times are in the truth. */
  private compact(id: number): void {
    const at = this.at[id];
    if (!at) return;
    let k = 0;
    for (let i = 0; i < at.length; i++) if (!(at[i]! > 0 && at[i] !== Infinity)) k++;
    const m = new Int32Array(k);
    k = 0;
    for (let i = 0; i < at.length; i++) if (!(at[i]! > 0 && at[i] !== Infinity)) m[k++] = i;
    this.missing[id] = m;
    this.at[id] = null;
    this.pool.push(at);
    this.compacted++;
  }
}
