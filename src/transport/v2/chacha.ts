/**
 * ChaCha20 (RFC 8439) and Poly1305 written for BIP324's packet sizes: no allocation per call,
 * state in locals, keys as 8 little-endian words. BIP324 packets are mostly small (inv, tx
 * announcements of 40-100 bytes); measured here, one `createDecipheriv('chacha20-poly1305')` costs
 * ~9 us and @noble/ciphers' `chacha20poly1305` ~12 us per small packet, against ~1 us for this
 * code, so small packets use it and large ones (see AEAD_NATIVE_MIN in aead.ts) go to OpenSSL.
 * Sans-I/O, any thread, hot path. Assumes a little-endian host (checked at load).
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

const ks = new Uint32Array(16);
const ksBytes = new Uint8Array(ks.buffer);

/**
 * XORs `len` bytes of `src` from `srcOff` with the ChaCha20 keystream starting at block `counter`
 * into `dst` at `dstOff` (src and dst may be the same bytes).
 */
export function chachaXor(
  k: Uint32Array, counter: number, n0: number, n1: number, n2: number,
  src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, len: number,
): void {
  let done = 0;
  while (done < len) {
    chachaBlock(k, counter++, n0, n1, n2, ks);
    const n = len - done < 64 ? len - done : 64;
    const s = srcOff + done;
    const d = dstOff + done;
    for (let i = 0; i < n; i++) dst[d + i] = src[s + i]! ^ ksBytes[i]!;
    done += n;
  }
}

/**
 * XORs `buf[off..off+len)` in place with the keystream from block `counter`. When the region is
 * 4-byte aligned the full blocks are XORed as 16 words (a quarter of the byte operations).
 */
export function chachaXorInPlace(k: Uint32Array, counter: number, n0: number, n1: number, n2: number, buf: Uint8Array, off: number, len: number): void {
  const start = buf.byteOffset + off;
  const full = len & ~63;
  if ((start & 3) !== 0 || full === 0) return chachaXor(k, counter, n0, n1, n2, buf, off, buf, off, len);
  const w = new Uint32Array(buf.buffer, start, full >>> 2);
  const nw = full >>> 2;
  for (let i = 0; i < nw; i += 16) {
    chachaBlock(k, counter++, n0, n1, n2, ks);
    w[i] ^= ks[0]!; w[i + 1] ^= ks[1]!; w[i + 2] ^= ks[2]!; w[i + 3] ^= ks[3]!;
    w[i + 4] ^= ks[4]!; w[i + 5] ^= ks[5]!; w[i + 6] ^= ks[6]!; w[i + 7] ^= ks[7]!;
    w[i + 8] ^= ks[8]!; w[i + 9] ^= ks[9]!; w[i + 10] ^= ks[10]!; w[i + 11] ^= ks[11]!;
    w[i + 12] ^= ks[12]!; w[i + 13] ^= ks[13]!; w[i + 14] ^= ks[14]!; w[i + 15] ^= ks[15]!;
  }
  if (len > full) chachaXor(k, counter, n0, n1, n2, buf, off + full, buf, off + full, len - full);
}

/** Reads 32 key bytes as 8 little-endian words into `out`. */
export function keyWords(key: Uint8Array, out: Uint32Array = new Uint32Array(8)): Uint32Array {
  for (let i = 0; i < 8; i++) {
    const o = i * 4;
    out[i] = key[o]! | (key[o + 1]! << 8) | (key[o + 2]! << 16) | (key[o + 3]! << 24);
  }
  return out;
}

// -----------------------------------------------------------------------------------------------
// Poly1305 in ten 13-bit limbs (the poly1305-donna-16 layout): every product fits a double and
// every partial sum of five products stays under 2^32, so `>>> 13` carries are exact.

/** Running Poly1305 state; one instance is reused (computations never interleave on a thread). */
export class Poly1305 {
  private readonly r = new Int32Array(10);
  private readonly h = new Int32Array(10);
  private readonly pad = new Int32Array(8);
  private readonly buf = new Uint8Array(16);

  /** Starts a MAC under the 32-byte one-time key at `key[off..off+32)`. */
  init(key: Uint8Array, off: number): void {
    const r = this.r;
    const t0 = key[off]! | (key[off + 1]! << 8);
    const t1 = key[off + 2]! | (key[off + 3]! << 8);
    const t2 = key[off + 4]! | (key[off + 5]! << 8);
    const t3 = key[off + 6]! | (key[off + 7]! << 8);
    const t4 = key[off + 8]! | (key[off + 9]! << 8);
    const t5 = key[off + 10]! | (key[off + 11]! << 8);
    const t6 = key[off + 12]! | (key[off + 13]! << 8);
    const t7 = key[off + 14]! | (key[off + 15]! << 8);
    // The clamping of RFC 8439 section 2.5 applied limb by limb.
    r[0] = t0 & 0x1fff;
    r[1] = ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
    r[2] = ((t1 >>> 10) | (t2 << 6)) & 0x1f03;
    r[3] = ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
    r[4] = ((t3 >>> 4) | (t4 << 12)) & 0x00ff;
    r[5] = (t4 >>> 1) & 0x1ffe;
    r[6] = ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
    r[7] = ((t5 >>> 11) | (t6 << 5)) & 0x1f81;
    r[8] = ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
    r[9] = (t7 >>> 5) & 0x007f;
    for (let i = 0; i < 8; i++) this.pad[i] = key[off + 16 + 2 * i]! | (key[off + 17 + 2 * i]! << 8);
    this.h.fill(0);
  }

  /**
   * Absorbs `len` bytes, zero-padded to a multiple of 16 (the AEAD construction only ever feeds
   * padded segments, so no partial block is carried between calls).
   */
  updatePadded(m: Uint8Array, off: number, len: number): void {
    const full = len & ~15;
    if (full > 0) this.blocks(m, off, full);
    const rest = len - full;
    if (rest > 0) {
      const b = this.buf;
      b.fill(0);
      for (let i = 0; i < rest; i++) b[i] = m[off + full + i]!;
      this.blocks(b, 0, 16);
    }
  }

  /** Absorbs the two 64-bit little-endian lengths that close the AEAD's MAC input. */
  updateLengths(aadLen: number, ctLen: number): void {
    const b = this.buf;
    b.fill(0);
    b[0] = aadLen & 0xff; b[1] = (aadLen >>> 8) & 0xff; b[2] = (aadLen >>> 16) & 0xff; b[3] = (aadLen >>> 24) & 0xff;
    b[8] = ctLen & 0xff; b[9] = (ctLen >>> 8) & 0xff; b[10] = (ctLen >>> 16) & 0xff; b[11] = (ctLen >>> 24) & 0xff;
    this.blocks(b, 0, 16);
  }

  private blocks(m: Uint8Array, pos: number, bytes: number): void {
    const hibit = 1 << 11;
    const h = this.h;
    const r = this.r;
    let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!, h6 = h[6]!, h7 = h[7]!, h8 = h[8]!, h9 = h[9]!;
    const r0 = r[0]!, r1 = r[1]!, r2 = r[2]!, r3 = r[3]!, r4 = r[4]!, r5 = r[5]!, r6 = r[6]!, r7 = r[7]!, r8 = r[8]!, r9 = r[9]!;
    const s1 = 5 * r1, s2 = 5 * r2, s3 = 5 * r3, s4 = 5 * r4, s5 = 5 * r5, s6 = 5 * r6, s7 = 5 * r7, s8 = 5 * r8, s9 = 5 * r9;
    let c: number, d0: number, d1: number, d2: number, d3: number, d4: number, d5: number, d6: number, d7: number, d8: number, d9: number;
    while (bytes >= 16) {
      const t0 = m[pos]! | (m[pos + 1]! << 8);
      const t1 = m[pos + 2]! | (m[pos + 3]! << 8);
      const t2 = m[pos + 4]! | (m[pos + 5]! << 8);
      const t3 = m[pos + 6]! | (m[pos + 7]! << 8);
      const t4 = m[pos + 8]! | (m[pos + 9]! << 8);
      const t5 = m[pos + 10]! | (m[pos + 11]! << 8);
      const t6 = m[pos + 12]! | (m[pos + 13]! << 8);
      const t7 = m[pos + 14]! | (m[pos + 15]! << 8);
      h0 += t0 & 0x1fff;
      h1 += ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
      h2 += ((t1 >>> 10) | (t2 << 6)) & 0x1fff;
      h3 += ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
      h4 += ((t3 >>> 4) | (t4 << 12)) & 0x1fff;
      h5 += (t4 >>> 1) & 0x1fff;
      h6 += ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
      h7 += ((t5 >>> 11) | (t6 << 5)) & 0x1fff;
      h8 += ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
      h9 += (t7 >>> 5) | hibit;
      c = 0;
      d0 = c + h0 * r0 + h1 * s9 + h2 * s8 + h3 * s7 + h4 * s6;
      c = d0 >>> 13; d0 &= 0x1fff;
      d0 += h5 * s5 + h6 * s4 + h7 * s3 + h8 * s2 + h9 * s1;
      c += d0 >>> 13; d0 &= 0x1fff;
      d1 = c + h0 * r1 + h1 * r0 + h2 * s9 + h3 * s8 + h4 * s7;
      c = d1 >>> 13; d1 &= 0x1fff;
      d1 += h5 * s6 + h6 * s5 + h7 * s4 + h8 * s3 + h9 * s2;
      c += d1 >>> 13; d1 &= 0x1fff;
      d2 = c + h0 * r2 + h1 * r1 + h2 * r0 + h3 * s9 + h4 * s8;
      c = d2 >>> 13; d2 &= 0x1fff;
      d2 += h5 * s7 + h6 * s6 + h7 * s5 + h8 * s4 + h9 * s3;
      c += d2 >>> 13; d2 &= 0x1fff;
      d3 = c + h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s9;
      c = d3 >>> 13; d3 &= 0x1fff;
      d3 += h5 * s8 + h6 * s7 + h7 * s6 + h8 * s5 + h9 * s4;
      c += d3 >>> 13; d3 &= 0x1fff;
      d4 = c + h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
      c = d4 >>> 13; d4 &= 0x1fff;
      d4 += h5 * s9 + h6 * s8 + h7 * s7 + h8 * s6 + h9 * s5;
      c += d4 >>> 13; d4 &= 0x1fff;
      d5 = c + h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1;
      c = d5 >>> 13; d5 &= 0x1fff;
      d5 += h5 * r0 + h6 * s9 + h7 * s8 + h8 * s7 + h9 * s6;
      c += d5 >>> 13; d5 &= 0x1fff;
      d6 = c + h0 * r6 + h1 * r5 + h2 * r4 + h3 * r3 + h4 * r2;
      c = d6 >>> 13; d6 &= 0x1fff;
      d6 += h5 * r1 + h6 * r0 + h7 * s9 + h8 * s8 + h9 * s7;
      c += d6 >>> 13; d6 &= 0x1fff;
      d7 = c + h0 * r7 + h1 * r6 + h2 * r5 + h3 * r4 + h4 * r3;
      c = d7 >>> 13; d7 &= 0x1fff;
      d7 += h5 * r2 + h6 * r1 + h7 * r0 + h8 * s9 + h9 * s8;
      c += d7 >>> 13; d7 &= 0x1fff;
      d8 = c + h0 * r8 + h1 * r7 + h2 * r6 + h3 * r5 + h4 * r4;
      c = d8 >>> 13; d8 &= 0x1fff;
      d8 += h5 * r3 + h6 * r2 + h7 * r1 + h8 * r0 + h9 * s9;
      c += d8 >>> 13; d8 &= 0x1fff;
      d9 = c + h0 * r9 + h1 * r8 + h2 * r7 + h3 * r6 + h4 * r5;
      c = d9 >>> 13; d9 &= 0x1fff;
      d9 += h5 * r4 + h6 * r3 + h7 * r2 + h8 * r1 + h9 * r0;
      c += d9 >>> 13; d9 &= 0x1fff;
      // The carry out of limb 9 wraps around times 5 (2^130 = 5 mod p).
      c = ((c << 2) + c) | 0;
      c = (c + d0) | 0;
      d0 = c & 0x1fff;
      c = c >>> 13;
      d1 += c;
      h0 = d0; h1 = d1; h2 = d2; h3 = d3; h4 = d4; h5 = d5; h6 = d6; h7 = d7; h8 = d8; h9 = d9;
      pos += 16;
      bytes -= 16;
    }
    h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7; h[8] = h8; h[9] = h9;
  }

  /** Writes the 16-byte tag to `out[off..off+16)`. */
  finish(out: Uint8Array, off: number): void {
    const h = this.h;
    const g = this.g;
    let c = h[1]! >>> 13;
    h[1]! &= 0x1fff;
    for (let i = 2; i < 10; i++) {
      h[i]! += c;
      c = h[i]! >>> 13;
      h[i]! &= 0x1fff;
    }
    h[0]! += c * 5;
    c = h[0]! >>> 13;
    h[0]! &= 0x1fff;
    h[1]! += c;
    c = h[1]! >>> 13;
    h[1]! &= 0x1fff;
    h[2]! += c;
    // g = h + 5 - 2^130: taken when h >= p (the add carries out of bit 130).
    g[0] = h[0]! + 5;
    c = g[0]! >>> 13;
    g[0]! &= 0x1fff;
    for (let i = 1; i < 10; i++) {
      g[i] = h[i]! + c;
      c = g[i]! >>> 13;
      g[i]! &= 0x1fff;
    }
    let mask = (c ^ 1) - 1;
    for (let i = 0; i < 10; i++) g[i]! &= mask;
    mask = ~mask;
    for (let i = 0; i < 10; i++) h[i] = (h[i]! & mask) | g[i]!;
    const w0 = (h[0]! | (h[1]! << 13)) & 0xffff;
    const w1 = ((h[1]! >>> 3) | (h[2]! << 10)) & 0xffff;
    const w2 = ((h[2]! >>> 6) | (h[3]! << 7)) & 0xffff;
    const w3 = ((h[3]! >>> 9) | (h[4]! << 4)) & 0xffff;
    const w4 = ((h[4]! >>> 12) | (h[5]! << 1) | (h[6]! << 14)) & 0xffff;
    const w5 = ((h[6]! >>> 2) | (h[7]! << 11)) & 0xffff;
    const w6 = ((h[7]! >>> 5) | (h[8]! << 8)) & 0xffff;
    const w7 = ((h[8]! >>> 8) | (h[9]! << 5)) & 0xffff;
    const w = this.w;
    w[0] = w0; w[1] = w1; w[2] = w2; w[3] = w3; w[4] = w4; w[5] = w5; w[6] = w6; w[7] = w7;
    // Tag = (h + s) mod 2^128, in 16-bit steps with the carry.
    let f = 0;
    for (let i = 0; i < 8; i++) {
      f = w[i]! + this.pad[i]! + (f >>> 16);
      out[off + 2 * i] = f & 0xff;
      out[off + 2 * i + 1] = (f >>> 8) & 0xff;
    }
  }

  private readonly g = new Int32Array(10);
  private readonly w = new Int32Array(8);
}
