/**
 * The v1 frame checksum: the first four bytes of SHA256d(payload), read as a little-endian
 * uint32 (the same number a DataView reads from the header's checksum field).
 * Baseline implementation through node:crypto.
 * Pure module, any thread, hot path.
 */
import { hash as cryptoHash } from 'node:crypto';

/** Checksum of `buf[off, off+len)`. */
export function checksum(buf: Uint8Array, off: number, len: number): number {
  const d = cryptoHash('sha256', cryptoHash('sha256', buf.subarray(off, off + len), 'buffer'), 'buffer');
  return (d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24)) >>> 0;
}

/** Checksums of `n` ranges of `buf` into `out[0..n)`. */
export function checksumBatch(buf: Uint8Array, offs: Int32Array, lens: Int32Array, n: number, out: Uint32Array): void {
  for (let i = 0; i < n; i++) out[i] = checksum(buf, offs[i]!, lens[i]!);
}

/** Full double SHA-256 of `buf[off, off+len)` written into `out[outOff, outOff+32)` (wire order). */
export function sha256dInto(buf: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): void {
  const d = cryptoHash('sha256', cryptoHash('sha256', buf.subarray(off, off + len), 'buffer'), 'buffer');
  out.set(d, outOff);
}
