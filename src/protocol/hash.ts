/**
 * Hashes used by the codec: SHA-256, double SHA-256 (txid, wtxid, block hash, merkle root,
 * the v1 checksum) through node:crypto. The small-payload fast path for the frame checksum
 * lives in checksum.ts; this module is the simple, general one.
 * Pure module, any thread.
 */
import { hash as cryptoHash } from 'node:crypto';

/** SHA-256 of `data` (a fresh 32-byte array). */
export function sha256(data: Uint8Array): Uint8Array {
  return cryptoHash('sha256', data, 'buffer');
}

/** Double SHA-256 of `data` (a fresh 32-byte array, wire order). */
export function sha256d(data: Uint8Array): Uint8Array {
  return cryptoHash('sha256', cryptoHash('sha256', data, 'buffer'), 'buffer');
}

/** True when two byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
