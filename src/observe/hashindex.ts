/**
 * Dense indices for 32-byte hashes, keyed by the bytes themselves: an open-addressing table over
 * typed arrays, no string and no object per hash. For first-seen maps over millions of records
 * (the bench, aggregators): `intern(bytes, off)` gives the item's index 0, 1, 2... in first-seen
 * order, to index typed arrays of per-item data. Any thread, hot path; imports nothing.
 */

/** Load factor above which the table doubles (linear probing stays short below it). */
const MAX_LOAD = 0.5;

export class HashIndex {
  /** The interned hashes, 32 bytes each, in index order (grows by doubling). */
  private keys: Uint8Array;
  /** Open-addressing slots: index + 1, 0 = empty. */
  private slots: Int32Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity / MAX_LOAD) cap *= 2;
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    this.keys = new Uint8Array((cap / 2) * 32);
  }

  /** The index of the hash at `buf[off, off+32)`, or -1 if it was never interned. */
  get(buf: Uint8Array, off: number): number {
    const slots = this.slots;
    let s = slotHash(buf, off) & this.mask;
    for (;;) {
      const v = slots[s]!;
      if (v === 0) return -1;
      if (this.equals(v - 1, buf, off)) return v - 1;
      s = (s + 1) & this.mask;
    }
  }

  /** The index of the hash at `buf[off, off+32)`, adding it (next index) if new. */
  intern(buf: Uint8Array, off: number): number {
    let s = slotHash(buf, off) & this.mask;
    const slots = this.slots;
    for (;;) {
      const v = slots[s]!;
      if (v === 0) break;
      if (this.equals(v - 1, buf, off)) return v - 1;
      s = (s + 1) & this.mask;
    }
    const idx = this.size++;
    if ((idx + 1) * 32 > this.keys.length) this.growKeys();
    this.keys.set(buf.subarray(off, off + 32), idx * 32);
    slots[s] = idx + 1;
    if (this.size > slots.length * MAX_LOAD) this.rehash();
    return idx;
  }

  /** The hash of index `i` (a view; wire order as interned). */
  hashAt(i: number): Uint8Array {
    return this.keys.subarray(i * 32, i * 32 + 32);
  }

  private equals(i: number, buf: Uint8Array, off: number): boolean {
    const k = this.keys;
    const base = i * 32;
    for (let j = 0; j < 32; j++) if (k[base + j] !== buf[off + j]) return false;
    return true;
  }

  private growKeys(): void {
    const k = new Uint8Array(this.keys.length * 2);
    k.set(this.keys);
    this.keys = k;
  }

  private rehash(): void {
    const cap = this.slots.length * 2;
    const slots = new Int32Array(cap);
    const mask = cap - 1;
    for (let i = 0; i < this.size; i++) {
      let s = slotHash(this.keys, i * 32) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = i + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** A per-process random key: peers cannot precompute hashes that collide in the table. */
const SEED = (Math.random() * 0x1_0000_0000) | 0;

/**
 * A keyed mix of all eight 32-bit words (multiply-xorshift): real item hashes are uniform anyway,
 * and hashes a peer makes up to collide (equal in some words) still spread, as every word counts.
 */
function slotHash(b: Uint8Array, o: number): number {
  let h = SEED;
  for (let j = 0; j < 32; j += 4) {
    const w = b[o + j]! | (b[o + j + 1]! << 8) | (b[o + j + 2]! << 16) | (b[o + j + 3]! << 24);
    h = Math.imul(h ^ w, 0x9e3779b1);
    h ^= h >>> 15;
  }
  return h;
}
