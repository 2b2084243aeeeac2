/**
 * The observation ring: one single-producer single-consumer ring of fixed-size records in a
 * SharedArrayBuffer per shard (DESIGN.md "The observation ring"; byte layout in README.md here).
 * The writer (a shard worker, hot path) never blocks: a full ring counts a drop. Records become
 * visible with one Atomics.store of the write sequence per socket read; the reader (the main
 * thread) drains when the writer wakes it (Atomics.waitAsync on the write sequence, with a timeout)
 * and stores its read sequence. The memory outlives a dead writer.
 */

/** Int32 slots of the header. */
export const H_WRITE = 0;
export const H_READ = 1;
export const H_DROPPED = 2;
export const H_CAPACITY = 3;
export const H_RECORD_SIZE = 4;
export const H_MAGIC = 5;
/** 1 while the reader sleeps in Atomics.waitAsync on H_WRITE; the writer that sees it notifies. */
export const H_WAITING = 6;
/** Header bytes: 64, so records start on a cache line and the two sequences share none with them. */
export const HEADER_BYTES = 64;
export const RECORD_SIZE = 64;
/** 'invR' little-endian: marks an initialised ring (and its layout version). */
export const RING_MAGIC = 0x52766e69;

/** Record field offsets (bytes from the record's start). */
export const R_TIME = 0; // float64: receive time, epoch ms (src/observe/clock.ts)
export const R_PEER = 8; // uint32: peer index (shard-local peers are numbered by the coordinator)
export const R_KIND = 12; // uint8: Kind (kinds.ts)
export const R_FLAGS = 13; // uint8: reserved, 0
export const R_ENTRY = 14; // uint16: index of the entry within its message (capped at 65,535)
export const R_INV_TYPE = 16; // uint32: inventory type (MSG_TX, MSG_WTX, MSG_BLOCK ...; 2 for headers/cmpctblock)
export const R_SEQ = 20; // uint32: the shard's message sequence number (orders records of one read)
export const R_HASH = 32; // 32 bytes: the hash in wire order

/** What a record announces: the codes are defined once, in kinds.ts. */
export { Kind } from './kinds.js';

/** Creates and initialises a ring of `capacity` records (rounded up to a power of two). */
export function createRing(capacity: number): SharedArrayBuffer {
  let cap = 1;
  while (cap < capacity) cap *= 2;
  if (cap < 2 || cap > 1 << 24) throw new RangeError(`ring capacity must be 2 .. 16,777,216 records, got ${capacity}`);
  const sab = new SharedArrayBuffer(HEADER_BYTES + cap * RECORD_SIZE);
  const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
  h[H_CAPACITY] = cap;
  h[H_RECORD_SIZE] = RECORD_SIZE;
  Atomics.store(h, H_MAGIC, RING_MAGIC);
  return sab;
}

function header(sab: SharedArrayBuffer): Int32Array {
  const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
  if (Atomics.load(h, H_MAGIC) !== RING_MAGIC || h[H_RECORD_SIZE] !== RECORD_SIZE) {
    throw new TypeError('not an invscope observation ring (bad magic or record size)');
  }
  return h;
}

/**
 * The producer side (one per ring, in the shard that owns it). `push` writes a record in place
 * and returns false (counting a drop) when the ring is full; `publish` makes everything pushed so
 * far visible to the reader. No allocation, no lock, no wait.
 */
export class RingWriter {
  readonly sab: SharedArrayBuffer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  private readonly h: Int32Array;
  private readonly mask: number;
  private readonly cap: number;
  /** Next sequence to write (ahead of the published one until `publish`). */
  private w: number;
  /** The reader's sequence as last seen; refreshed only when the ring looks full. */
  private r: number;
  private pendingDrops = 0;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.h = header(sab);
    this.cap = this.h[H_CAPACITY]!;
    this.mask = this.cap - 1;
    this.bytes = new Uint8Array(sab);
    this.view = new DataView(sab);
    this.w = Atomics.load(this.h, H_WRITE);
    this.r = Atomics.load(this.h, H_READ);
  }

  /** Records pushed but not yet published plus published ones the reader has not taken. */
  get fill(): number {
    return (this.w - this.r) >>> 0;
  }

  /**
   * Writes one record. `hash` is read from `src[hashOff, hashOff+32)`. Returns false when the
   * ring is full (the record is dropped and counted at the next publish).
   */
  push(time: number, peer: number, kind: number, entry: number, invType: number, seq: number, src: Uint8Array, hashOff: number): boolean {
    if (((this.w - this.r) >>> 0) >= this.cap) {
      this.r = Atomics.load(this.h, H_READ);
      if (((this.w - this.r) >>> 0) >= this.cap) {
        this.pendingDrops++;
        return false;
      }
    }
    const off = HEADER_BYTES + (this.w & this.mask) * RECORD_SIZE;
    const v = this.view;
    v.setFloat64(off + R_TIME, time, true);
    v.setUint32(off + R_PEER, peer, true);
    v.setUint8(off + R_KIND, kind);
    v.setUint8(off + R_FLAGS, 0);
    v.setUint16(off + R_ENTRY, entry > 0xffff ? 0xffff : entry, true);
    v.setUint32(off + R_INV_TYPE, invType, true);
    v.setUint32(off + R_SEQ, seq, true);
    // A byte loop, not bytes.set(src.subarray(...)): subarray allocates a view per record (282
    // minor GCs per 3 M pushes, measured), and 32 bytes copy as fast either way.
    const dst = this.bytes;
    const d = off + R_HASH;
    for (let i = 0; i < 32; i++) dst[d + i] = src[hashOff + i]!;
    this.w = (this.w + 1) | 0;
    return true;
  }

  /**
   * Makes every pushed record visible (one Atomics.store) and adds the drops counted since. If the
   * reader sleeps (H_WAITING), wakes it: one Atomics.load per publish, a notify only when asleep.
   */
  publish(): void {
    const h = this.h;
    Atomics.store(h, H_WRITE, this.w);
    // Store-then-load on both sides (seq-cst): either this load sees the reader's flag, or the
    // reader's waitAsync sees the new write sequence and does not sleep. No wakeup is lost.
    if (Atomics.load(h, H_WAITING) !== 0 && Atomics.exchange(h, H_WAITING, 0) !== 0) Atomics.notify(h, H_WRITE);
    if (this.pendingDrops !== 0) {
      Atomics.add(this.h, H_DROPPED, this.pendingDrops);
      this.pendingDrops = 0;
    }
  }
}

/** What Atomics.waitAsync returns (ES2024; typed here for the ES2022 lib). */
type WaitAsync = (a: Int32Array, index: number, value: number, timeout?: number) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

/** A decoded record (the reader's convenience form; `drain` itself allocates nothing). */
export interface RingRecord {
  time: number;
  peer: number;
  kind: number;
  entry: number;
  invType: number;
  seq: number;
  /** 32 bytes, wire order (a copy). */
  hash: Uint8Array;
}

/** The consumer side (the coordinator on the main thread). */
export class RingReader {
  readonly sab: SharedArrayBuffer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  private readonly h: Int32Array;
  private readonly mask: number;
  readonly capacity: number;
  private r: number;
  /** Records taken so far. */
  taken = 0;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.h = header(sab);
    this.capacity = this.h[H_CAPACITY]!;
    this.mask = this.capacity - 1;
    this.bytes = new Uint8Array(sab);
    this.view = new DataView(sab);
    this.r = Atomics.load(this.h, H_READ);
  }

  /** Records dropped by the writer because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.h, H_DROPPED) >>> 0;
  }

  /** Published records not yet taken. */
  get available(): number {
    return (Atomics.load(this.h, H_WRITE) - this.r) >>> 0;
  }

  /**
   * Calls `fn(view, offset)` for up to `max` published records in order, then releases them to
   * the writer (one Atomics.store). The record's bytes are valid only during the call.
   * Returns the number taken.
   */
  drain(fn: (view: DataView, off: number) => void, max = Infinity): number {
    const w = Atomics.load(this.h, H_WRITE);
    let n = (w - this.r) >>> 0;
    if (n > max) n = max;
    for (let i = 0; i < n; i++) {
      fn(this.view, HEADER_BYTES + ((this.r + i) & this.mask) * RECORD_SIZE);
    }
    this.r = (this.r + n) | 0;
    Atomics.store(this.h, H_READ, this.r);
    this.taken += n;
    return n;
  }

  /**
   * Copies up to `max` published records, in order, into a new buffer (one or two copies: the
   * records may wrap around the end of the ring), releases them to the writer and returns the
   * bytes (records of RECORD_SIZE in the ring layout), or null when none are waiting.
   */
  take(max = Infinity): Uint8Array | null {
    const w = Atomics.load(this.h, H_WRITE);
    let n = (w - this.r) >>> 0;
    if (n > max) n = max;
    if (n === 0) return null;
    const out = new Uint8Array(n * RECORD_SIZE);
    const first = this.r & this.mask;
    const k = Math.min(n, this.capacity - first);
    const src = this.bytes;
    out.set(src.subarray(HEADER_BYTES + first * RECORD_SIZE, HEADER_BYTES + (first + k) * RECORD_SIZE), 0);
    if (k < n) out.set(src.subarray(HEADER_BYTES, HEADER_BYTES + (n - k) * RECORD_SIZE), k * RECORD_SIZE);
    this.r = (this.r + n) | 0;
    Atomics.store(this.h, H_READ, this.r);
    this.taken += n;
    return out;
  }

  /**
   * Releases up to `n` published records without reading them (counted as taken). Returns how many.
   */
  discard(n: number): number {
    const avail = (Atomics.load(this.h, H_WRITE) - this.r) >>> 0;
    const k = Math.min(n, avail);
    this.r = (this.r + k) | 0;
    Atomics.store(this.h, H_READ, this.r);
    this.taken += k;
    return k;
  }

  /**
   * Sleeps until the writer publishes or `timeoutMs` passes, without blocking the thread: a
   * promise from Atomics.waitAsync, or null when records are already waiting (drain now) or
   * waitAsync is unavailable (fall back to a timer). The writer wakes it at its next publish.
   * A pending wait does not keep Node's event loop alive by itself.
   */
  wait(timeoutMs: number): Promise<'ok' | 'timed-out'> | null {
    if (waitAsync === undefined) return null;
    const h = this.h;
    Atomics.store(h, H_WAITING, 1);
    const res = waitAsync(h, H_WRITE, this.r, timeoutMs);
    if (!res.async) {
      Atomics.store(h, H_WAITING, 0);
      return null;
    }
    return res.value;
  }

  /** Whether `wait` can sleep (Atomics.waitAsync exists); without it the reader polls on a timer. */
  static readonly canWait = waitAsync !== undefined;

  /** Wakes a pending `wait` (used when the reader stops). */
  wake(): void {
    Atomics.store(this.h, H_WAITING, 0);
    Atomics.notify(this.h, H_WRITE);
  }
}

/** Reads the record at `off` into an object (copies the hash). */
export function readRecord(view: DataView, off: number): RingRecord {
  return {
    time: view.getFloat64(off + R_TIME, true),
    peer: view.getUint32(off + R_PEER, true),
    kind: view.getUint8(off + R_KIND),
    entry: view.getUint16(off + R_ENTRY, true),
    invType: view.getUint32(off + R_INV_TYPE, true),
    seq: view.getUint32(off + R_SEQ, true),
    hash: new Uint8Array(view.buffer.slice(off + R_HASH, off + R_HASH + 32)),
  };
}
