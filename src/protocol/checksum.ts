/**
 * The v1 frame checksum: the first four bytes of SHA256d(payload), read as a little-endian
 * uint32 (the number a DataView reads from the header's checksum field), and full SHA256d.
 * Small payloads go to the WebAssembly kernels (sha256/), batches 4 at a time through SIMD lanes;
 * large payloads to node:crypto. Crossovers measured in bench/sha256.ts, figures in bench/README.md.
 * Pure module, any thread, hot path: no allocation per call below CRYPTO_MIN_LEN, never throws.
 */
import { hash as cryptoHash, createHash, type Hash } from 'node:crypto';
import {
  WASM_X4_MAX_BLOCKS,
  blockCount,
  checksumOuterWasm,
  checksumWasm,
  clearLane,
  digestInto,
  laneChecksum,
  laneDigestInto,
  packLane,
  runX4,
} from './sha256/wasm.js';

/**
 * Payload length from which node:crypto does the inner hash (the outer hash of its 32-byte
 * digest stays in WebAssembly, saving a second call). One node:crypto call costs ~1.5 us, then
 * OpenSSL runs at ~1.1 GB/s (this CPU has SHA-NI); the scalar kernel costs ~300 ns per 64-byte
 * block with no call cost: equal near 250 bytes (bench/README.md).
 */
export const CRYPTO_MIN_LEN = 256;

/**
 * Longest payload a batch hashes in a SIMD lane (~120-240 ns per block per lane); longer ones go
 * one at a time through `checksum` (node:crypto): equal near 500 bytes. Must stay under
 * WASM_X4_MAX_BLOCKS blocks.
 */
export const X4_MAX_LEN = 512;

/**
 * Fewest items worth a SIMD run: one run costs about three scalar double hashes of one block,
 * so 1-2 leftover items go scalar.
 */
const X4_MIN_ITEMS = 3;

/** Checksum of `buf[off, off+len)`. */
export function checksum(buf: Uint8Array, off: number, len: number): number {
  if (len < CRYPTO_MIN_LEN) return checksumWasm(buf, off, len);
  return checksumOuterWasm(cryptoHash('sha256', buf.subarray(off, off + len), 'buffer'));
}

/**
 * A checksum computed over parts as they arrive (a large frame that straddles socket reads):
 * `update` each part in order, then `checksumFinish`. Same value as `checksum` over the
 * concatenated parts. Hashing a part right after it arrives reads it while it is still in cache;
 * hashing the assembled frame afterwards reads it all again from memory (bench/README.md).
 * One node:crypto object per frame: for large payloads only (the decoder's STREAM_HASH_MIN).
 */
export function checksumStart(): Hash {
  return createHash('sha256');
}

/** The checksum of everything given to `h.update`; `h` is used up. */
export function checksumFinish(h: Hash): number {
  return checksumOuterWasm(h.digest());
}

/** Full double SHA-256 of `buf[off, off+len)` written into `out[outOff, outOff+32)` (wire order). */
export function sha256dInto(buf: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): void {
  if (len < CRYPTO_MIN_LEN) checksumWasm(buf, off, len);
  else checksumOuterWasm(cryptoHash('sha256', buf.subarray(off, off + len), 'buffer'));
  digestInto(out, outOff);
}

/** Checksums of `n` ranges of `buf` into `out[0..n)`. */
export function checksumBatch(buf: Uint8Array, offs: Int32Array, lens: Int32Array, n: number, out: Uint32Array): void {
  batch(buf, offs, lens, n, out, null, 0);
}

/**
 * Full double SHA-256 of `n` ranges of `buf`, range i into `out[outOff + 32i, outOff + 32i + 32)`
 * (wire order). For txids, and block hashes of `headers` (80-byte ranges, 3 blocks each).
 */
export function sha256dBatch(buf: Uint8Array, offs: Int32Array, lens: Int32Array, n: number, out: Uint8Array, outOff: number): void {
  batch(buf, offs, lens, n, null, out, outOff);
}

// Batch scratch: item indices sorted by block count (grown, never shrunk, so amortised
// allocation-free) and the counting-sort bucket starts.
let order = new Int32Array(256);
const X4_MAX_BLOCKS = blockCount(X4_MAX_LEN);
const bucket = new Int32Array(X4_MAX_BLOCKS + 2);
if (X4_MAX_BLOCKS > WASM_X4_MAX_BLOCKS) throw new Error('X4_MAX_LEN exceeds the SIMD input region');

function one(buf: Uint8Array, off: number, len: number, i: number, sums: Uint32Array | null, digests: Uint8Array | null, dOff: number): void {
  if (sums !== null) sums[i] = checksum(buf, off, len);
  else sha256dInto(buf, off, len, digests!, dOff + 32 * i);
}

/**
 * Lanes of one SIMD run must share a block count or waste the difference (the kernel masks
 * finished lanes), so items are counting-sorted by block count and taken 4 at a time.
 */
function batch(
  buf: Uint8Array,
  offs: Int32Array,
  lens: Int32Array,
  n: number,
  sums: Uint32Array | null,
  digests: Uint8Array | null,
  dOff: number,
): void {
  if (n < X4_MIN_ITEMS) {
    for (let i = 0; i < n; i++) one(buf, offs[i]!, lens[i]!, i, sums, digests, dOff);
    return;
  }
  if (order.length < n) order = new Int32Array(Math.max(n, order.length * 2));
  bucket.fill(0);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const len = lens[i]!;
    if (len > X4_MAX_LEN) one(buf, offs[i]!, len, i, sums, digests, dOff);
    else {
      bucket[blockCount(len) + 1]!++;
      m++;
    }
  }
  for (let b = 1; b < bucket.length; b++) bucket[b]! += bucket[b - 1]!;
  for (let i = 0; i < n; i++) {
    const len = lens[i]!;
    if (len <= X4_MAX_LEN) order[bucket[blockCount(len)]!++] = i;
  }
  let k = 0;
  for (; k + 4 <= m; k += 4) group(buf, offs, lens, k, 4, sums, digests, dOff);
  if (m - k >= X4_MIN_ITEMS) group(buf, offs, lens, k, m - k, sums, digests, dOff);
  else for (; k < m; k++) one(buf, offs[order[k]!]!, lens[order[k]!]!, order[k]!, sums, digests, dOff);
}

function group(
  buf: Uint8Array,
  offs: Int32Array,
  lens: Int32Array,
  k: number,
  count: number,
  sums: Uint32Array | null,
  digests: Uint8Array | null,
  dOff: number,
): void {
  let maxBlocks = 0;
  for (let l = 0; l < count; l++) {
    const i = order[k + l]!;
    const nb = packLane(buf, offs[i]!, lens[i]!, l);
    if (nb > maxBlocks) maxBlocks = nb;
  }
  for (let l = count; l < 4; l++) clearLane(l);
  runX4(maxBlocks);
  for (let l = 0; l < count; l++) {
    const i = order[k + l]!;
    if (sums !== null) sums[i] = laneChecksum(l);
    else laneDigestInto(l, digests!, dOff + 32 * i);
  }
}
