/**
 * The model's event queue: a binary min-heap on time over typed arrays (no object per event).
 * Each entry's payload (kind, node, item, from, offer time) lives in slot arrays; the heap holds
 * (time, slot) pairs side by side so sifting never chases the slot. Ties pop in push order
 * (a sequence number breaks them), so a run is the same whatever the heap's shape.
 * Simulator process; hot path (every relay offer goes through push/pop).
 */

export class EventQueue {
  /** Heap order: time and slot of entry i. */
  private ht: Float64Array;
  private hs: Int32Array;
  private hq: Float64Array;
  private n = 0;
  private seq = 0;
  // Slot payloads.
  private sKind: Uint8Array;
  private sNode: Int32Array;
  private sItem: Int32Array;
  private sFrom: Int32Array;
  private sOffer: Float64Array;
  private free: Int32Array;
  private nFree = 0;
  private cap = 0;

  /** The last popped entry (valid until the next pop). */
  t = 0;
  kind = 0;
  node = 0;
  item = 0;
  from = 0;
  offer = 0;

  constructor(capacity = 1024) {
    this.ht = new Float64Array(capacity);
    this.hs = new Int32Array(capacity);
    this.hq = new Float64Array(capacity);
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
    return this.n;
  }

  /** Time of the earliest entry, or +Infinity when empty. */
  peekTime(): number {
    return this.n > 0 ? this.ht[0]! : Infinity;
  }

  push(t: number, kind: number, node: number, item: number, from: number, offer: number): void {
    if (this.nFree === 0) this.grow();
    const s = this.free[--this.nFree]!;
    this.sKind[s] = kind;
    this.sNode[s] = node;
    this.sItem[s] = item;
    this.sFrom[s] = from;
    this.sOffer[s] = offer;
    const q = this.seq++;
    // Sift up with a hole.
    const ht = this.ht;
    const hs = this.hs;
    const hq = this.hq;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = ht[p]!;
      if (pt < t || (pt === t && hq[p]! < q)) break;
      ht[i] = pt;
      hs[i] = hs[p]!;
      hq[i] = hq[p]!;
      i = p;
    }
    ht[i] = t;
    hs[i] = s;
    hq[i] = q;
  }

  /** Removes the earliest entry into the public fields. The queue must not be empty. */
  pop(): void {
    const ht = this.ht;
    const hs = this.hs;
    const hq = this.hq;
    const s = hs[0]!;
    this.t = ht[0]!;
    this.kind = this.sKind[s]!;
    this.node = this.sNode[s]!;
    this.item = this.sItem[s]!;
    this.from = this.sFrom[s]!;
    this.offer = this.sOffer[s]!;
    this.free[this.nFree++] = s;
    const n = --this.n;
    if (n === 0) return;
    // Sift the last entry down from the root.
    const t = ht[n]!;
    const ls = hs[n]!;
    const lq = hq[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && (ht[r]! < ht[c]! || (ht[r] === ht[c] && hq[r]! < hq[c]!))) c = r;
      const ct = ht[c]!;
      if (t < ct || (t === ct && lq < hq[c]!)) break;
      ht[i] = ct;
      hs[i] = hs[c]!;
      hq[i] = hq[c]!;
      i = c;
    }
    ht[i] = t;
    hs[i] = ls;
    hq[i] = lq;
  }

  clear(): void {
    this.n = 0;
    this.nFree = 0;
    for (let i = this.cap - 1; i >= 0; i--) this.free[this.nFree++] = i;
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
    this.ht = g64(this.ht);
    this.hq = g64(this.hq);
    this.hs = g32(this.hs);
    this.sOffer = g64(this.sOffer);
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
