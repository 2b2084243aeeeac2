import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader } from '../../../src/protocol/reader.js';
import { Status, statusCode } from '../../../src/protocol/errors.js';
import { fromHex, toHex, hashToHex } from '../../../src/protocol/hex.js';
import { InvType } from '../../../src/protocol/constants.js';
import {
  codecs,
  invCodec,
  getdataCodec,
  notfoundCodec,
  decodeInv,
  scanInv,
  invEntryOffset,
  invEntryType,
  invPrefixSize,
  INV_ENTRY_SIZE,
  type InvMessage,
} from '../../../src/protocol/messages/inventory.js';
import { prng, randomBytes } from '../../helpers.js';
import { vectorsFor, decode, encode, expectFields } from './harness.js';

// ---------------------------------------------------------------------------------------------
// Helpers (the shared ones come from ./harness.ts)

const { byCommand, vectors } = vectorsFor(codecs);

/** The status decodeInv + r.finish() gives, negated, or the count: what scanInv must return. */
function referenceScan(buf: Uint8Array, off: number, len: number): number {
  const r = new Reader(buf, off, len);
  const m = decodeInv(r);
  r.finish();
  return r.err !== 0 ? -r.err : m.inventory.length;
}

function invOf(n: number, rand: () => number): InvMessage {
  const types = [1, 2, 3, 4, 5, InvType.MSG_WITNESS_TX, InvType.MSG_WITNESS_BLOCK, 0xffffffff];
  return { inventory: Array.from({ length: n }, () => ({ type: types[(rand() * types.length) | 0]!, hash: randomBytes(rand, 32) })) };
}

// ---------------------------------------------------------------------------------------------
// Vectors

test('decodes every inv, getdata and notfound vector to its stated fields and re-encodes the exact payload', () => {
  assert.is(vectors.length, 6);
  for (const v of vectors) {
    const codec = byCommand.get(v.command)!;
    const { m, r } = decode(codec, fromHex(v.payloadHex));
    assert.is(r.err, 0, `${v.name}: ${statusCode(r.err)}`);
    expectFields(codec.toJSON(m), v.fields, v.name);
    assert.is(toHex(encode(codec, m)), v.payloadHex, `${v.name} re-encodes`);
  }
  assert.equal([invCodec.command, getdataCodec.command, notfoundCodec.command], ['inv', 'getdata', 'notfound']);
});

test('names inventory types in JSON next to their numbers', () => {
  const j = invCodec.toJSON({
    inventory: [
      { type: InvType.MSG_WTX, hash: new Uint8Array(32) },
      { type: InvType.MSG_WITNESS_BLOCK, hash: new Uint8Array(32) },
      { type: 77, hash: new Uint8Array(32) },
    ],
  }) as any;
  assert.equal(
    j.inventory.map((e: any) => [e.type, e.typeName]),
    [[5, 'MSG_WTX'], [0x40000002, 'MSG_WITNESS_BLOCK'], [77, '77']],
  );
});

test('scans every vector in place: the count, and each type and hash where decodeInv puts them', () => {
  for (const v of vectors) {
    const payload = fromHex(v.payloadHex);
    // Put the payload inside a larger buffer to exercise the offset.
    const buf = new Uint8Array(payload.length + 17);
    buf.set(payload, 9);
    const n = scanInv(buf, 9, payload.length);
    const m = decode(invCodec, payload).m;
    assert.is(n, m.inventory.length, v.name);
    for (let i = 0; i < n; i++) {
      const at = invEntryOffset(9, n, i);
      assert.is(invEntryType(buf, at), m.inventory[i]!.type);
      assert.is(hashToHex(buf, at + 4), hashToHex(m.inventory[i]!.hash));
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Limits

test('accepts an inv with 50,000 entries', () => {
  const bytes = encode(invCodec, invOf(50_000, prng(1)));
  assert.is(bytes.length, 3 + 36 * 50_000);
  assert.is(decode(invCodec, bytes).r.err, 0);
  assert.is(scanInv(bytes, 0, bytes.length), 50_000);
  assert.is(invEntryOffset(0, 50_000, 49_999), 3 + 36 * 49_999);
});

test('rejects an inv with 50,001 entries as too many', () => {
  const bytes = encode(invCodec, invOf(50_001, prng(2)));
  assert.is(decode(invCodec, bytes).r.err, Status.TOO_MANY_ITEMS);
  assert.is(scanInv(bytes, 0, bytes.length), -Status.TOO_MANY_ITEMS);
  for (const codec of [getdataCodec, notfoundCodec]) assert.is(decode(codec, bytes).r.err, Status.TOO_MANY_ITEMS);
});

test('rejects non-canonical counts in all three CompactSize widths', () => {
  const cases = ['fd0100', 'fdfc00', 'fe01000000', 'feffff0000', 'ff0100000000000000', 'ffffffffff00000000'];
  for (const hex of cases) {
    const bytes = fromHex(hex + '00'.repeat(36));
    assert.is(decode(invCodec, bytes).r.err, Status.NON_CANONICAL, hex);
    assert.is(scanInv(bytes, 0, bytes.length), -Status.NON_CANONICAL, hex);
  }
});

test('rejects counts above MAX_SIZE as too large and canonical ones above 50,000 as too many', () => {
  assert.is(scanInv(fromHex('fe01000002'), 0, 5), -Status.SIZE_TOO_LARGE);
  assert.is(scanInv(fromHex('ff0000000001000000'), 0, 9), -Status.SIZE_TOO_LARGE);
  assert.is(scanInv(fromHex('fe00000002'), 0, 5), -Status.TOO_MANY_ITEMS);
  assert.is(scanInv(fromHex('fd51c3'), 0, 3), -Status.TOO_MANY_ITEMS); // 50,001
  assert.is(decode(invCodec, fromHex('fe01000002')).r.err, Status.SIZE_TOO_LARGE);
});

test('reports a payload shorter than its count as truncated and a longer one as trailing bytes', () => {
  const bytes = encode(invCodec, invOf(3, prng(3)));
  assert.is(scanInv(bytes, 0, bytes.length - 1), -Status.TRUNCATED);
  assert.is(decode(invCodec, bytes.subarray(0, bytes.length - 1)).r.err, Status.TRUNCATED);
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  assert.is(scanInv(longer, 0, longer.length), -Status.TRAILING_BYTES);
  assert.is(decode(invCodec, longer).r.err, Status.TRAILING_BYTES);
  assert.is(scanInv(longer, 0, 0), -Status.TRUNCATED, 'an empty payload has no count');
});

test('refuses with a status, before allocating for it, a huge count that comes with few bytes', () => {
  const huge = fromHex('fe00000002' + '00'.repeat(10));
  assert.is(decode(invCodec, huge).r.err, Status.TOO_MANY_ITEMS);
  assert.is(scanInv(huge, 0, huge.length), -Status.TOO_MANY_ITEMS);
  // Within the limit, but 40,000 entries cannot fit in 10 bytes: refused before anything is allocated.
  const many = fromHex('fd409c' + '00'.repeat(10));
  assert.is(decode(invCodec, many).r.err, Status.TRUNCATED);
  assert.is(scanInv(many, 0, many.length), -Status.TRUNCATED);
});

test('gives a coded status, never an exception, for every vector truncated at every offset', () => {
  for (const v of vectors) {
    const full = fromHex(v.payloadHex);
    for (let k = 0; k < full.length; k++) {
      let err = 0;
      try {
        err = decode(byCommand.get(v.command)!, full.subarray(0, k)).r.err;
      } catch (e) {
        assert.unreachable(`${v.name} at ${k} threw ${String(e)}`);
      }
      assert.ok(err !== 0, `${v.name} truncated at ${k} decodes`);
      assert.match(statusCode(err), /^ERR_WIRE_/);
      assert.is(scanInv(full, 0, k), -err, `${v.name} scanned at ${k}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// scanInv agrees with the decoder

test('agrees with decodeInv on every prefix and random mutation of random inv payloads', () => {
  const rand = prng(4);
  for (let i = 0; i < 300; i++) {
    const n = rand() < 0.1 ? 253 + ((rand() * 300) | 0) : (rand() * 8) | 0;
    const bytes = encode(invCodec, invOf(n, rand));
    const buf = new Uint8Array(bytes.length + 8);
    buf.set(bytes, 4);
    assert.is(scanInv(buf, 4, bytes.length), n);
    // Truncate, extend and corrupt the prefix.
    const cuts = [0, 1, 2, 3, 4, 5, bytes.length - 1, bytes.length + 1, (rand() * bytes.length) | 0];
    for (const len of cuts) assert.is(scanInv(buf, 4, len), referenceScan(buf, 4, len), `n=${n} len=${len}`);
    for (let j = 0; j < 5; j++) {
      const p = 4 + ((rand() * Math.min(9, bytes.length)) | 0);
      buf[p] = (rand() * 256) | 0;
      assert.is(scanInv(buf, 4, bytes.length), referenceScan(buf, 4, bytes.length));
    }
  }
});

test('agrees with decodeInv on random bytes with every CompactSize prefix', () => {
  const rand = prng(5);
  for (let i = 0; i < 2000; i++) {
    const len = (rand() * 80) | 0;
    const buf = randomBytes(rand, len + 3);
    if (len > 0 && rand() < 0.5) buf[1] = [0xfd, 0xfe, 0xff, 0, 1, 2][(rand() * 6) | 0]!;
    assert.is(scanInv(buf, 1, len), referenceScan(buf, 1, len), toHex(buf.subarray(1, 1 + len)));
  }
});

test('reads entry offsets for every count width', () => {
  assert.is(invPrefixSize(0), 1);
  assert.is(invPrefixSize(252), 1);
  assert.is(invPrefixSize(253), 3);
  assert.is(invPrefixSize(0xffff), 3);
  assert.is(invPrefixSize(0x10000), 5);
  assert.is(invEntryOffset(100, 2, 1), 100 + 1 + INV_ENTRY_SIZE);
  assert.is(invEntryOffset(100, 300, 0), 103);
  assert.is(invEntryType(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 0), 0xffffffff);
});

/** The hot loop, in a plain function so that its locals are registers (an async function would box them). */
function scanMany(bytes: Uint8Array, rounds: number): number {
  let acc = 0;
  for (let i = 0; i < rounds; i++) {
    const n = scanInv(bytes, 0, bytes.length);
    acc = (acc + (invEntryType(bytes, invEntryOffset(0, n, i % n)) & 0xff)) & 0xffff;
  }
  return acc;
}

test('scans a million inv payloads without a garbage collection', async () => {
  const { PerformanceObserver } = await import('node:perf_hooks');
  const bytes = encode(invCodec, invOf(35, prng(6)));
  // Warm up first, so that compilation and earlier tests' garbage are not counted.
  scanMany(bytes, 100_000);
  await new Promise((r) => setTimeout(r, 10));
  let gcs = 0;
  const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
  // A full collection first (the test command runs node with --expose-gc): garbage left by earlier
  // suites in this process must not be collected inside the measured window.
  (globalThis as { gc?: () => void }).gc?.();
  obs.observe({ entryTypes: ['gc'] });
  const acc = scanMany(bytes, 1_000_000);
  await new Promise((r) => setTimeout(r, 10));
  obs.disconnect();
  assert.ok(acc >= 0);
  assert.is(gcs, 0, `${gcs} garbage collections`);
});

// ---------------------------------------------------------------------------------------------
// Round trips

test('round-trips a few hundred random inv, getdata and notfound messages', () => {
  const rand = prng(7);
  for (const codec of codecs) {
    for (let i = 0; i < 200; i++) {
      const m = invOf((rand() * 40) | 0, rand);
      const bytes = encode(codec, m);
      const d = decode(codec, bytes);
      assert.is(d.r.err, 0);
      assert.equal(codec.toJSON(d.m), codec.toJSON(m));
      assert.equal(encode(codec, d.m), bytes);
    }
  }
});

test.run();
