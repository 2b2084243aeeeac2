/**
 * The ChaCha20 block function (RFC 8439) in JavaScript, keys as 8 little-endian words: what
 * FSChaCha20 needs for the length keystream (one 704-byte epoch per 224 packets) and the rekeys.
 * Packet contents go through the WebAssembly kernel (wasm.ts) or OpenSSL (aead.ts says which).
 * Sans-I/O, any thread. Assumes a little-endian host (checked at load).
 */

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('invscope v2 transport needs a little-endian host');

const S0 = 0x61707865;
const S1 = 0x3320646e;
const S2 = 0x79622d32;
const S3 = 0x6b206574;

/** The 16-word ChaCha20 block for key `k` (8 words), a block counter and a 3-word nonce. */
export function chachaBlock(k: Uint32Array, counter: number, n0: number, n1: number, n2: number, out: Uint32Array): void {
  const k0 = k[0]! | 0, k1 = k[1]! | 0, k2 = k[2]! | 0, k3 = k[3]! | 0;
  const k4 = k[4]! | 0, k5 = k[5]! | 0, k6 = k[6]! | 0, k7 = k[7]! | 0;
  let x0 = S0, x1 = S1, x2 = S2, x3 = S3;
  let x4 = k0, x5 = k1, x6 = k2, x7 = k3, x8 = k4, x9 = k5, x10 = k6, x11 = k7;
  let x12 = counter | 0, x13 = n0 | 0, x14 = n1 | 0, x15 = n2 | 0;
  for (let i = 0; i < 10; i++) {
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 16) | (x12 >>> 16);
    x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 12) | (x4 >>> 20);
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 8) | (x12 >>> 24);
    x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 7) | (x4 >>> 25);
    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 16) | (x13 >>> 16);
    x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 12) | (x5 >>> 20);
    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 8) | (x13 >>> 24);
    x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 7) | (x5 >>> 25);
    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 16) | (x14 >>> 16);
    x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 12) | (x6 >>> 20);
    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 8) | (x14 >>> 24);
    x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 7) | (x6 >>> 25);
    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 16) | (x15 >>> 16);
    x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 12) | (x7 >>> 20);
    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 8) | (x15 >>> 24);
    x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 7) | (x7 >>> 25);
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 16) | (x15 >>> 16);
    x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 12) | (x5 >>> 20);
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 8) | (x15 >>> 24);
    x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 7) | (x5 >>> 25);
    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 16) | (x12 >>> 16);
    x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 12) | (x6 >>> 20);
    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 8) | (x12 >>> 24);
    x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 7) | (x6 >>> 25);
    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 16) | (x13 >>> 16);
    x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 12) | (x7 >>> 20);
    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 8) | (x13 >>> 24);
    x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 7) | (x7 >>> 25);
    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 16) | (x14 >>> 16);
    x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 12) | (x4 >>> 20);
    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 8) | (x14 >>> 24);
    x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 7) | (x4 >>> 25);
  }
  out[0] = (x0 + S0) | 0; out[1] = (x1 + S1) | 0; out[2] = (x2 + S2) | 0; out[3] = (x3 + S3) | 0;
  out[4] = (x4 + k0) | 0; out[5] = (x5 + k1) | 0; out[6] = (x6 + k2) | 0; out[7] = (x7 + k3) | 0;
  out[8] = (x8 + k4) | 0; out[9] = (x9 + k5) | 0; out[10] = (x10 + k6) | 0; out[11] = (x11 + k7) | 0;
  out[12] = (x12 + counter) | 0; out[13] = (x13 + n0) | 0; out[14] = (x14 + n1) | 0; out[15] = (x15 + n2) | 0;
}

/** Reads 32 key bytes as 8 little-endian words into `out`. */
export function keyWords(key: Uint8Array, out: Uint32Array = new Uint32Array(8)): Uint32Array {
  for (let i = 0; i < 8; i++) {
    const o = i * 4;
    out[i] = key[o]! | (key[o + 1]! << 8) | (key[o + 2]! << 16) | (key[o + 3]! << 24);
  }
  return out;
}
