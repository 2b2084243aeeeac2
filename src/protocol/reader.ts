/**
 * Reader: bounds-checked little-endian reads over a byte range, with a sticky error status.
 * Never throws on peer bytes: a failed read records the first status (`err`, `errAt`),
 * moves `pos` to `end` and returns 0, so decoders check `r.err` once at the end.
 * Byte fields are zero-copy views (`subarray`) into the input: copy the input first if it is reused.
 * Pure module, any thread, hot path.
 */
import { Status } from './errors.js';

/** Bitcoin Core serialize.h MAX_SIZE: the largest CompactSize accepted as a count or length. */
export const MAX_SIZE = 0x02000000;

const EMPTY = new Uint8Array(0);

export class Reader {
  buf: Uint8Array = EMPTY;
  view: DataView = new DataView(EMPTY.buffer);
  /** Absolute index into `buf` of the next byte to read. */
  pos = 0;
  /** Absolute index into `buf` of the first byte past the range. */
  end = 0;
  /** Absolute index of the range's first byte. */
  start = 0;
  /** First failure status, 0 while all reads succeeded. */
  err = 0;
  /** Offset (relative to `start`) where the first failure happened, -1 if none. */
  errAt = -1;

  constructor(buf?: Uint8Array, off = 0, len?: number) {
    if (buf) this.reset(buf, off, len ?? buf.length - off);
  }

  /** Points the reader at a new range; the DataView is rebuilt only when the buffer changes. */
  reset(buf: Uint8Array, off: number, len: number): this {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    this.start = off;
    this.pos = off;
    this.end = off + len;
    this.err = 0;
    this.errAt = -1;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Records the first failure and makes every later read fail too. */
  fail(status: number): void {
    if (this.err === 0) {
      this.err = status;
      this.errAt = this.pos - this.start;
    }
    this.pos = this.end;
  }

  /** Fails with TRAILING_BYTES unless everything was consumed. Returns true when clean. */
  finish(): boolean {
    if (this.err === 0 && this.pos !== this.end) this.fail(Status.TRAILING_BYTES);
    return this.err === 0;
  }

  u8(): number {
    if (this.pos + 1 > this.end) return this.fail(Status.TRUNCATED), 0;
    return this.buf[this.pos++]!;
  }

  u16(): number {
    if (this.pos + 2 > this.end) return this.fail(Status.TRUNCATED), 0;
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  /** Big-endian u16: ports in addr, addrv2 and version. */
  u16be(): number {
    if (this.pos + 2 > this.end) return this.fail(Status.TRUNCATED), 0;
    const v = this.view.getUint16(this.pos, false);
    this.pos += 2;
    return v;
  }

  u32(): number {
    if (this.pos + 4 > this.end) return this.fail(Status.TRUNCATED), 0;
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(): number {
    if (this.pos + 4 > this.end) return this.fail(Status.TRUNCATED), 0;
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    if (this.pos + 8 > this.end) return this.fail(Status.TRUNCATED), 0n;
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  i64(): bigint {
    if (this.pos + 8 > this.end) return this.fail(Status.TRUNCATED), 0n;
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A bool byte. Strict: only 0 and 1 (BIP152 says so for sendcmpct; Core itself accepts any non-zero). */
  bool(): boolean {
    const b = this.u8();
    if (b > 1) this.fail(Status.BAD_VALUE);
    return b === 1;
  }

  /**
   * CompactSize as a count or length: canonical form required and at most MAX_SIZE
   * (Bitcoin Core serialize.h ReadCompactSize with range_check).
   */
  varint(): number {
    if (this.pos + 1 > this.end) return this.fail(Status.TRUNCATED), 0;
    const first = this.buf[this.pos]!;
    if (first < 0xfd) {
      this.pos += 1;
      return first;
    }
    let v: number;
    if (first === 0xfd) {
      if (this.pos + 3 > this.end) return this.fail(Status.TRUNCATED), 0;
      v = this.view.getUint16(this.pos + 1, true);
      if (v < 0xfd) return this.fail(Status.NON_CANONICAL), 0;
      this.pos += 3;
    } else if (first === 0xfe) {
      if (this.pos + 5 > this.end) return this.fail(Status.TRUNCATED), 0;
      v = this.view.getUint32(this.pos + 1, true);
      if (v < 0x10000) return this.fail(Status.NON_CANONICAL), 0;
      this.pos += 5;
    } else {
      if (this.pos + 9 > this.end) return this.fail(Status.TRUNCATED), 0;
      const lo = this.view.getUint32(this.pos + 1, true);
      const hi = this.view.getUint32(this.pos + 5, true);
      if (hi === 0) return this.fail(Status.NON_CANONICAL), 0;
      // Canonical but far above MAX_SIZE.
      return this.fail(Status.SIZE_TOO_LARGE), 0 * lo;
    }
    if (v > MAX_SIZE) return this.fail(Status.SIZE_TOO_LARGE), 0;
    return v;
  }

  /** CompactSize as a full 64-bit value (addrv2 services): canonical form required, no range limit. */
  varint64(): bigint {
    if (this.pos + 1 > this.end) return this.fail(Status.TRUNCATED), 0n;
    const first = this.buf[this.pos]!;
    if (first < 0xfd) {
      this.pos += 1;
      return BigInt(first);
    }
    if (first === 0xfd) {
      if (this.pos + 3 > this.end) return this.fail(Status.TRUNCATED), 0n;
      const v = this.view.getUint16(this.pos + 1, true);
      if (v < 0xfd) return this.fail(Status.NON_CANONICAL), 0n;
      this.pos += 3;
      return BigInt(v);
    }
    if (first === 0xfe) {
      if (this.pos + 5 > this.end) return this.fail(Status.TRUNCATED), 0n;
      const v = this.view.getUint32(this.pos + 1, true);
      if (v < 0x10000) return this.fail(Status.NON_CANONICAL), 0n;
      this.pos += 5;
      return BigInt(v);
    }
    if (this.pos + 9 > this.end) return this.fail(Status.TRUNCATED), 0n;
    const v = this.view.getBigUint64(this.pos + 1, true);
    if (v < 0x100000000n) return this.fail(Status.NON_CANONICAL), 0n;
    this.pos += 9;
    return v;
  }

  /**
   * Reads a count and checks it before anything is allocated: at most `max` items, and at least
   * `count * minItemSize` bytes must remain (so a count never allocates more than the bytes that
   * are there). Returns 0 on failure.
   */
  count(max: number, minItemSize: number): number {
    const n = this.varint();
    if (this.err !== 0) return 0;
    if (n > max) return this.fail(Status.TOO_MANY_ITEMS), 0;
    if (n * minItemSize > this.end - this.pos) return this.fail(Status.TRUNCATED), 0;
    return n;
  }

  /** A zero-copy view of the next `n` bytes. */
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.end) return this.fail(Status.TRUNCATED), EMPTY;
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A 32-byte hash in wire order (zero-copy view). */
  hash(): Uint8Array {
    return this.bytes(32);
  }

  /** CompactSize length then that many bytes, at most `max` (TOO_LONG above it). */
  varBytes(max: number): Uint8Array {
    const n = this.varint();
    if (this.err !== 0) return EMPTY;
    if (n > max) return this.fail(Status.TOO_LONG), EMPTY;
    return this.bytes(n);
  }

  /** CompactSize length then that many bytes as a latin1 string, at most `max` bytes. */
  varString(max: number): string {
    const b = this.varBytes(max);
    let s = '';
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
    return s;
  }

  skip(n: number): void {
    if (this.pos + n > this.end) return this.fail(Status.TRUNCATED);
    this.pos += n;
  }
}
