/**
 * The model's event queue: a calendar queue over typed arrays (no object per event). Events fall
 * into 1 ms buckets on a ring covering the next ~65 s (O(1) insert into a bucket's list); the
 * current bucket is a small binary heap (exact order within the millisecond); events beyond the
 * ring wait in a second heap. A plain binary heap over ~300,000 queued offers (10,000 nodes)
 * spent most of the model's time in cache misses. Ties pop in push order (a sequence number).
 * Simulator process; hot path (every relay offer goes through push/pop).
 */

/** Bucket width, ms of queue time (real ms): the timer's own resolution. */
const BUCKET_MS = 1;
/** Ring size (power of two): 65,536 buckets, ~65 s ahead; later events go to the far heap. */
const RING = 1 << 16;
const RING_MASK = RING - 1;

export class EventQueue {
  // Slot payloads.
  private sT: Float64Array;
  private sQ: Float64Array;
  private sNext: Int32Array;
  private sKind: Uint8Array;
  private sNode: Int32Array;
  private sItem: Int32Array;
  private sFrom: Int32Array;
  private sOffer: Float64Array;
  private free: Int32Array;
  private nFree = 0;
  private cap = 0;
  private seq = 0;

  /** Bucket lists (slot of the first entry, -1 when empty) and the number of entries in them. */
  private readonly heads = new Int32Array(RING).fill(-1);
  private ringCount = 0;
  /** Absolute index of the current bucket (NaN before the first push). */
  private cur = NaN;
  /** Events of buckets <= cur, as a binary heap of slots. */
  private near = new Int32Array(1024);
  private nNear = 0;
  /** Events of buckets >= cur + RING, as a binary heap of slots. */
  private far = new Int32Array(64);
  private nFar = 0;

  /** The last popped entry (valid until the next pop). */
  t = 0;
  kind = 0;
  node = 0;
  item = 0;
  from = 0;
  offer = 0;

  constructor(capacity = 1024) {
    this.sT = new Float64Array(capacity);
    this.sQ = new Float64Array(capacity);
    this.sNext = new Int32Array(capacity);
    this.sKind = new Uint8Array(capacity);
    this.sNode = new Int32Array(capacity);
    this.sItem = new Int32Array(capacity);
    this.sFrom = new Int32Array(capacity);
    this.sOffer = new Float64Array(capacity);
    this.free = new Int32Array(capacity);
    this.cap = capacity;
    for (let i = capacity - 1; i >= 0; i--) this.free[this.nFree++] = i;
  }

  get size(): number {
    return this.nNear + this.ringCount + this.nFar;
  }

  /**
   * Time of the earliest entry, or +Infinity when empty. Moves the current bucket forward to
   * the first non-empty one (entries pushed later for earlier times still sort correctly: they
   * join the current heap).
   */
  peekTime(): number {
    if (this.nNear === 0 && !this.advance()) return Infinity;
    return this.sT[this.near[0]!]!;
  }

  push(t: number, kind: number, node: number, item: number, from: number, offer: number): void {
    if (this.nFree === 0) this.grow();
    const s = this.free[--this.nFree]!;
    this.sT[s] = t;
    this.sQ[s] = this.seq++;
    this.sKind[s] = kind;
    this.sNode[s] = node;
    this.sItem[s] = item;
    this.sFrom[s] = from;
    this.sOffer[s] = offer;
    const b = Math.floor(t / BUCKET_MS);
    if (this.cur !== this.cur) this.cur = b;
    if (b <= this.cur) this.nearPush(s);
    else if (b < this.cur + RING) {
      const h = b & RING_MASK; // ToInt32 keeps the low 32 bits of integers below 2^53
      this.sNext[s] = this.heads[h]!;
      this.heads[h] = s;
      this.ringCount++;
    } else this.farPush(s);
  }

  /** Removes the earliest entry into the public fields. Call peekTime() first; the queue must not be empty. */
  pop(): void {
    if (this.nNear === 0 && !this.advance()) throw new RangeError('EventQueue.pop: empty');
    const s = this.near[0]!;
    this.t = this.sT[s]!;
    this.kind = this.sKind[s]!;
    this.node = this.sNode[s]!;
    this.item = this.sItem[s]!;
    this.from = this.sFrom[s]!;
    this.offer = this.sOffer[s]!;
    this.free[this.nFree++] = s;
    const n = --this.nNear;
    if (n > 0) this.siftDown(this.near, n, this.near[n]!);
  }

  clear(): void {
    this.heads.fill(-1);
    this.ringCount = 0;
    this.nNear = 0;
    this.nFar = 0;
    this.cur = NaN;
    this.nFree = 0;
    for (let i = this.cap - 1; i >= 0; i--) this.free[this.nFree++] = i;
  }

  /** Moves to the next non-empty bucket. False when nothing is queued. */
  private advance(): boolean {
    while (this.nNear === 0) {
      if (this.ringCount === 0) {
        if (this.nFar === 0) return false;
        // Nothing on the ring: jump to the far heap's first bucket.
        this.cur = Math.floor(this.sT[this.far[0]!]! / BUCKET_MS) - 1;
      }
      this.cur++;
      // Far entries that now fit on the ring move there (or straight to the current heap).
      while (this.nFar > 0) {
        const f = this.far[0]!;
        const fb = Math.floor(this.sT[f]! / BUCKET_MS);
        if (fb >= this.cur + RING) break;
        this.farPop();
        if (fb <= this.cur) this.nearPush(f);
        else {
          const h = fb & RING_MASK;
          this.sNext[f] = this.heads[h]!;
          this.heads[h] = f;
          this.ringCount++;
        }
      }
      const h = this.cur & RING_MASK;
      let s = this.heads[h]!;
      if (s >= 0) {
        this.heads[h] = -1;
        while (s >= 0) {
          const nx = this.sNext[s]!;
          this.ringCount--;
          this.nearPush(s);
          s = nx;
        }
      }
    }
    return true;
  }

  private less(a: number, b: number): boolean {
    const ta = this.sT[a]!;
    const tb = this.sT[b]!;
    return ta < tb || (ta === tb && this.sQ[a]! < this.sQ[b]!);
  }

  private nearPush(s: number): void {
    if (this.nNear === this.near.length) {
      const g = new Int32Array(this.near.length * 2);
      g.set(this.near);
      this.near = g;
    }
    this.siftUp(this.near, this.nNear++, s);
  }

  private farPush(s: number): void {
    if (this.nFar === this.far.length) {
      const g = new Int32Array(this.far.length * 2);
      g.set(this.far);
      this.far = g;
    }
    this.siftUp(this.far, this.nFar++, s);
  }

  private farPop(): void {
    const n = --this.nFar;
    if (n > 0) this.siftDown(this.far, n, this.far[n]!);
  }

  private siftUp(h: Int32Array, i: number, s: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ps = h[p]!;
      if (!this.less(s, ps)) break;
      h[i] = ps;
      i = p;
    }
    h[i] = s;
  }

  /** Places `s` from the root down in a heap of `n` entries. */
  private siftDown(h: Int32Array, n: number, s: number): void {
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && this.less(h[r]!, h[c]!)) c = r;
      if (!this.less(h[c]!, s)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = s;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const g64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const g32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.sT = g64(this.sT);
    this.sQ = g64(this.sQ);
    this.sOffer = g64(this.sOffer);
    this.sNext = g32(this.sNext);
    this.sNode = g32(this.sNode);
    this.sItem = g32(this.sItem);
    this.sFrom = g32(this.sFrom);
    const k = new Uint8Array(cap);
    k.set(this.sKind);
    this.sKind = k;
    // Every old slot is in use (we grow only when the free list is empty): the new ones are free.
    this.free = new Int32Array(cap);
    this.nFree = 0;
    for (let i = cap - 1; i >= this.cap; i--) this.free[this.nFree++] = i;
    this.cap = cap;
  }
}
