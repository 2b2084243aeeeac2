/**
 * Tests for the v1 frame checksum and SHA256d (src/protocol/checksum.ts): every implementation
 * path (scalar WebAssembly, SIMD batch lanes, node:crypto for large payloads) against node:crypto.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hash as cryptoHash } from 'node:crypto';
import {
  CRYPTO_MIN_LEN,
  X4_MAX_LEN,
  checksum,
  checksumBatch,
  checksumFinish,
  checksumStart,
  sha256dBatch,
  sha256dInto,
} from '../../src/protocol/checksum.js';
import { prng, randomBytes } from '../helpers.js';

function refDigest(b: Uint8Array): Uint8Array {
  return cryptoHash('sha256', cryptoHash('sha256', b, 'buffer'), 'buffer');
}

function refSum(b: Uint8Array): number {
  const d = refDigest(b);
  return new DataView(d.buffer, d.byteOffset, 4).getUint32(0, true);
}

test('gives 0xe2e0f65d (bytes 5d f6 e0 e2) for the empty payload', () => {
  assert.is(checksum(new Uint8Array(0), 0, 0), 0xe2e0f65d);
  assert.is(checksum(new Uint8Array(8), 5, 0), 0xe2e0f65d);
});

test('returns an unsigned number equal to what DataView reads from the checksum field', () => {
  const b = new TextEncoder().encode('hello');
  const d = refDigest(b);
  assert.is(checksum(b, 0, b.length), new DataView(d.buffer, d.byteOffset).getUint32(0, true));
  assert.ok(checksum(b, 0, b.length) >= 0);
});

test('matches node:crypto for every length from 0 to 2000 bytes at unaligned offsets', () => {
  const rand = prng(1);
  const big = randomBytes(rand, 2000 + 16);
  for (let len = 0; len <= 2000; len++) {
    const off = len % 13;
    const want = refDigest(big.subarray(off, off + len));
    assert.is(checksum(big, off, len), new DataView(want.buffer, want.byteOffset).getUint32(0, true), `length ${len}`);
    const out = new Uint8Array(40);
    sha256dInto(big, off, len, out, 3);
    assert.equal(Buffer.from(out.subarray(3, 35)).toString('hex'), Buffer.from(want).toString('hex'), `digest length ${len}`);
  }
});

test('matches node:crypto around the node:crypto and SIMD crossover lengths', () => {
  const rand = prng(2);
  for (const edge of [CRYPTO_MIN_LEN, X4_MAX_LEN]) {
    for (let len = edge - 70; len <= edge + 70; len++) {
      const b = randomBytes(rand, len + 1);
      assert.is(checksum(b, 1, len), refSum(b.subarray(1)), `length ${len}`);
    }
  }
});

test('matches node:crypto on 100 KB, 1 MB and 4,000,000-byte payloads', () => {
  const rand = prng(3);
  for (const len of [100_000, 1_000_000, 4_000_000]) {
    const b = randomBytes(rand, len + 7);
    assert.is(checksum(b, 7, len), refSum(b.subarray(7)), `length ${len}`);
    const out = new Uint8Array(32);
    sha256dInto(b, 7, len, out, 0);
    assert.equal(Array.from(out), Array.from(refDigest(b.subarray(7))));
  }
});

test('a checksum fed in parts equals the checksum of the whole, for any split', () => {
  const rand = prng(17);
  for (const n of [0, 1, 63, 64, 65, 1000, 70_000, 300_000]) {
    const b = randomBytes(rand, n);
    for (let k = 0; k < 5; k++) {
      const h = checksumStart();
      let p = 0;
      while (p < n) {
        const part = Math.min(n - p, 1 + ((rand() * (k === 0 ? 3 : n)) | 0));
        h.update(b.subarray(p, p + part));
        p += part;
      }
      assert.is(checksumFinish(h), refSum(b), `${n} bytes, split ${k}`);
    }
  }
});

test('checksums batches of 0 to 9 mixed-length ranges like one call each', () => {
  const rand = prng(4);
  const buf = randomBytes(rand, 40_000);
  for (let round = 0; round < 200; round++) {
    for (let n = 0; n <= 9; n++) {
      const offs = new Int32Array(n);
      const lens = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        // Mostly small frames with an occasional one past X4_MAX_LEN or CRYPTO_MIN_LEN.
        const r = rand();
        lens[i] = r < 0.1 ? (rand() * 5000) | 0 : r < 0.5 ? 37 : (rand() * 400) | 0;
        offs[i] = (rand() * (buf.length - lens[i]!)) | 0;
      }
      const out = new Uint32Array(n + 1).fill(7);
      checksumBatch(buf, offs, lens, n, out);
      for (let i = 0; i < n; i++) {
        assert.is(out[i], refSum(buf.subarray(offs[i], offs[i]! + lens[i]!)), `round ${round} n ${n} item ${i}`);
      }
      assert.is(out[n], 7, 'writes nothing past n');
    }
  }
});

test('checksums a batch of 1000 frames with every block count up to the SIMD limit', () => {
  const rand = prng(5);
  const n = 1000;
  const buf = randomBytes(rand, 2_000_000);
  const offs = new Int32Array(n);
  const lens = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    lens[i] = i < 500 ? i % (X4_MAX_LEN + 1) : (rand() * 3000) | 0;
    offs[i] = (rand() * (buf.length - 3000)) | 0;
  }
  const out = new Uint32Array(n);
  checksumBatch(buf, offs, lens, n, out);
  for (let i = 0; i < n; i++) assert.is(out[i], refSum(buf.subarray(offs[i], offs[i]! + lens[i]!)), `item ${i}`);
});

test('hashes a batch of 80-byte headers to their full SHA256d digests', () => {
  const rand = prng(6);
  for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 2000]) {
    const buf = randomBytes(rand, 80 * n + 1);
    const offs = new Int32Array(n);
    const lens = new Int32Array(n).fill(80);
    for (let i = 0; i < n; i++) offs[i] = 1 + 80 * i;
    const out = new Uint8Array(32 * n + 5);
    sha256dBatch(buf, offs, lens, n, out, 5);
    for (let i = 0; i < n; i++) {
      assert.equal(Array.from(out.subarray(5 + 32 * i, 37 + 32 * i)), Array.from(refDigest(buf.subarray(1 + 80 * i, 81 + 80 * i))), `n ${n} header ${i}`);
    }
  }
});

test('hashes mixed-length batches to full digests like sha256dInto', () => {
  const rand = prng(7);
  const buf = randomBytes(rand, 10_000);
  for (let n = 0; n <= 9; n++) {
    const offs = new Int32Array(n);
    const lens = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      lens[i] = (rand() * 2000) | 0;
      offs[i] = (rand() * 8000) | 0;
    }
    const out = new Uint8Array(32 * n);
    sha256dBatch(buf, offs, lens, n, out, 0);
    for (let i = 0; i < n; i++) {
      assert.equal(Array.from(out.subarray(32 * i, 32 * i + 32)), Array.from(refDigest(buf.subarray(offs[i], offs[i]! + lens[i]!))));
    }
  }
});

test.run();
