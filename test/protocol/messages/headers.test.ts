import { test } from 'uvu';
import { PerformanceObserver } from 'node:perf_hooks';
import * as assert from 'uvu/assert';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { Status } from '../../../src/protocol/errors.js';
import { fromHex, hashToHex, toHex } from '../../../src/protocol/hex.js';
import {
  HEADERS_ENTRY_SIZE,
  codecs,
  decodeHeaders,
  encodeHeaders,
  encodedSizeHeaders,
  headerOffset,
  headersCodec,
  headersHashesInto,
  scanHeaders,
  type HeadersMessage,
} from '../../../src/protocol/messages/headers.js';
import { headerHash, serializeHeader } from '../../../src/protocol/messages/block.js';
import { fixtureJSON, prng } from '../../helpers.js';
import { randomHeader } from './_random.js';

function decode(b: Uint8Array): { m: HeadersMessage; err: number } {
  const r = new Reader(b, 0, b.length);
  const m = decodeHeaders(r);
  r.finish();
  return { m, err: r.err };
}

function encode(m: HeadersMessage): Uint8Array {
  const w = new Writer(encodedSizeHeaders(m));
  encodeHeaders(w, m);
  assert.is(w.pos, w.buf.length);
  return w.buf;
}

/** A headers payload of `n` copies of the real header hex, with `count` as the wire count. */
function payload(n: number, countHex?: string): Uint8Array {
  const hdr = fixtureJSON<any[]>('blocks/headers.json')[0].headerHex;
  const count = countHex ?? varintHex(n);
  return fromHex(count + (hdr + '00').repeat(n));
}

function varintHex(n: number): string {
  if (n < 0xfd) return n.toString(16).padStart(2, '0');
  return 'fd' + (n & 0xff).toString(16).padStart(2, '0') + (n >> 8).toString(16).padStart(2, '0');
}

test('matches every headers vector of messages.json and re-encodes it exactly', () => {
  const vectors = fixtureJSON<any[]>('messages/messages.json').filter((v) => v.command === 'headers');
  assert.ok(vectors.length >= 2);
  for (const v of vectors) {
    const b = fromHex(v.payloadHex);
    const { m, err } = decode(b);
    assert.is(err, 0, v.name);
    assert.equal(headersCodec.toJSON(m), v.fields);
    assert.is(toHex(encode(m)), v.payloadHex);
    assert.is(scanHeaders(b, 0, b.length), v.fields.headers.length);
    const hashes = new Uint8Array(32 * m.headers.length);
    headersHashesInto(b, 0, m.headers.length, hashes);
    for (let i = 0; i < m.headers.length; i++) assert.is(hashToHex(hashes, 32 * i), v.fields.headers[i].hash);
  }
});

test('carries the chained real headers of headers.json with their hashes', () => {
  const fx = fixtureJSON<any[]>('blocks/headers.json');
  const b = fromHex(varintHex(fx.length) + fx.map((h) => h.headerHex + '00').join(''));
  const n = scanHeaders(b, 0, b.length);
  assert.is(n, fx.length);
  const out = new Uint8Array(32 * n);
  headersHashesInto(b, 0, n, out);
  const { m, err } = decode(b);
  assert.is(err, 0);
  for (let i = 0; i < n; i++) {
    assert.is(hashToHex(out, 32 * i), fx[i].hash);
    assert.is(hashToHex(headerHash(m.headers[i]!)), fx[i].hash);
    assert.is(toHex(b, headerOffset(0, n, i), 80), fx[i].headerHex);
  }
  // rust-bitcoin's 900000..900002 chain: each prevBlock is the previous hash.
  const chain = fx.filter((h) => /^rustbitcoin-mainnet-9000/.test(h.name));
  assert.is(chain.length, 3);
  for (let i = 1; i < chain.length; i++) assert.is(hashToHex(m.headers[fx.indexOf(chain[i])]!.prevBlock), chain[i - 1].hash);
});

test('accepts 2,000 headers and rejects 2,001 as too many', () => {
  const ok = payload(2000);
  assert.is(scanHeaders(ok, 0, ok.length), 2000);
  assert.is(decode(ok).err, 0);
  const many = payload(2001);
  assert.is(scanHeaders(many, 0, many.length), -Status.TOO_MANY_ITEMS);
  assert.is(decode(many).err, Status.TOO_MANY_ITEMS);
  // A huge count with almost no bytes is refused on the count alone.
  const huge = fromHex('fe00000002' + '00'.repeat(10));
  assert.is(scanHeaders(huge, 0, huge.length), -Status.TOO_MANY_ITEMS);
  assert.is(decode(huge).err, Status.TOO_MANY_ITEMS);
});

test('rejects a header followed by a non-zero transaction count', () => {
  for (const txCount of ['01', 'ff', 'fd0001']) {
    const b = payload(3);
    const bad = fromHex(toHex(b, 0, 1 + HEADERS_ENTRY_SIZE + 80) + txCount + toHex(b, 1 + 2 * HEADERS_ENTRY_SIZE));
    // 'ff' begins a 9-byte CompactSize: whatever it is, it is not the zero count.
    const st = scanHeaders(bad, 0, bad.length);
    assert.ok(st < 0, txCount);
    assert.is(decode(bad).err, -st, 'scanner and decoder agree');
    if (txCount !== 'ff') assert.is(st, -Status.BAD_VALUE);
  }
});

test('rejects a non-canonical count and reports trailing bytes', () => {
  const b = payload(2, 'fd0200');
  assert.is(scanHeaders(b, 0, b.length), -Status.NON_CANONICAL);
  assert.is(decode(b).err, Status.NON_CANONICAL);
  const t = fromHex(toHex(payload(1)) + '00');
  assert.is(scanHeaders(t, 0, t.length), -Status.TRAILING_BYTES);
  assert.is(decode(t).err, Status.TRAILING_BYTES);
  const empty = new Uint8Array(0);
  assert.is(scanHeaders(empty, 0, 0), -Status.TRUNCATED);
});

test('gives a truncation status at every offset, from the scanner and the decoder alike', () => {
  for (const b of [payload(1), payload(3), payload(260)]) {
    for (let n = 0; n < b.length; n += b.length > 1000 ? 13 : 1) {
      assert.is(scanHeaders(b, 0, n), -Status.TRUNCATED, `cut at ${n}`);
      const r = new Reader(b, 0, n);
      decodeHeaders(r);
      assert.is(r.err, Status.TRUNCATED);
    }
  }
});

test('scans a payload that sits inside a bigger receive buffer', () => {
  const p = payload(5);
  const buf = new Uint8Array(p.length + 40).fill(0xab);
  buf.set(p, 17);
  assert.is(scanHeaders(buf, 17, p.length), 5);
  assert.is(headerOffset(17, 5, 4), 17 + 1 + 4 * HEADERS_ENTRY_SIZE);
  const big = payload(300);
  const buf2 = new Uint8Array(big.length + 9);
  buf2.set(big, 9);
  assert.is(scanHeaders(buf2, 9, big.length), 300);
  assert.is(headerOffset(9, 300, 0), 9 + 3);
});

test('round-trips random headers messages through encode, decode and the scanner', () => {
  const rand = prng(2024);
  for (let k = 0; k < 200; k++) {
    const n = k === 0 ? 0 : k === 1 ? 2000 : (rand() * 300) | 0;
    const m: HeadersMessage = { headers: Array.from({ length: n }, () => randomHeader(rand)) };
    const b = encode(m);
    assert.is(scanHeaders(b, 0, b.length), n);
    const d = decode(b);
    assert.is(d.err, 0);
    assert.equal(d.m, m);
    for (let i = 0; i < Math.min(n, 3); i++) assert.is(toHex(b, headerOffset(0, n, i), 80), toHex(serializeHeader(m.headers[i]!)));
  }
});

test('scans and hashes a million headers announcements without a garbage collection', async () => {
  const b = payload(1);
  const out = new Uint8Array(32);
  // Warm up first: compiling the functions and the hash kernels allocates.
  for (let k = 0; k < 100_000; k++) scanHeaders(b, 0, b.length);
  for (let k = 0; k < 1_000; k++) headersHashesInto(b, 0, 1, out);
  await new Promise((r) => setTimeout(r, 20));
  let gcs = 0;
  const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
  // A full collection first (the test command runs node with --expose-gc): garbage left by earlier
  // suites in this process must not be collected inside the measured window.
  (globalThis as { gc?: () => void }).gc?.();
  obs.observe({ entryTypes: ['gc'] });
  let total = 0;
  for (let k = 0; k < 1_000_000; k++) total += scanHeaders(b, 0, b.length);
  for (let k = 0; k < 20_000; k++) headersHashesInto(b, 0, 1, out);
  await new Promise((r) => setTimeout(r, 20));
  obs.disconnect();
  assert.is(total, 1_000_000);
  assert.is(gcs, 0);
});

test('lists the headers codec for the registry', () => {
  assert.equal(
    codecs.map((c) => c.command),
    ['headers'],
  );
});

test.run();
