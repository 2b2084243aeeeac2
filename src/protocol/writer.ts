/**
 * Writer: little-endian writes into one buffer allocated at its final size.
 * Encoders compute `encodedSize` first, so a message is written with exactly one allocation
 * (the frame writer reserves the 24-byte v1 header in the same allocation).
 * Writing past the end is a programming error and throws RangeError (never peer-triggered).
 * Pure module, any thread.
 */

export class Writer {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos: number;

  constructor(bufOrSize: Uint8Array | number, off = 0) {
    this.buf = typeof bufOrSize === 'number' ? new Uint8Array(bufOrSize) : bufOrSize;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.pos = off;
  }

  u8(v: number): void {
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }
  u16(v: number): void {
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u16be(v: number): void {
    this.view.setUint16(this.pos, v, false);
    this.pos += 2;
  }
  u32(v: number): void {
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }
  i32(v: number): void {
    this.view.setInt32(this.pos, v | 0, true);
    this.pos += 4;
  }
  u64(v: bigint): void {
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v), true);
    this.pos += 8;
  }
  i64(v: bigint): void {
    this.view.setBigInt64(this.pos, BigInt.asIntN(64, v), true);
    this.pos += 8;
  }
  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }
  /** CompactSize, canonical form, for counts and lengths (< 2^53). */
  varint(n: number): void {
    if (n < 0xfd) this.u8(n);
    else if (n <= 0xffff) {
      this.u8(0xfd);
      this.u16(n);
    } else if (n <= 0xffffffff) {
      this.u8(0xfe);
      this.u32(n);
    } else {
      this.u8(0xff);
      this.u64(BigInt(n));
    }
  }
  /** CompactSize of a full 64-bit value (addrv2 services). */
  varint64(v: bigint): void {
    if (v <= 0xffffffffn) this.varint(Number(v));
    else {
      this.u8(0xff);
      this.u64(v);
    }
  }
  bytes(b: Uint8Array): void {
    if (this.pos + b.length > this.buf.length) throw new RangeError('Writer: write past end');
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  varBytes(b: Uint8Array): void {
    this.varint(b.length);
    this.bytes(b);
  }
  /** A latin1 string with its CompactSize length. */
  varString(s: string): void {
    this.varint(s.length);
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i) & 0xff);
  }
  zeros(n: number): void {
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }
}

/** Bytes taken by a CompactSize encoding of `n` (a count or length). */
export function varintSize(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

/** Bytes taken by a CompactSize encoding of a 64-bit value. */
export function varint64Size(v: bigint): number {
  return v <= 0xffffffffn ? varintSize(Number(v)) : 9;
}
