import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader } from '../../../src/protocol/reader.js';
import { Status, statusCode } from '../../../src/protocol/errors.js';
import { fromHex, toHex } from '../../../src/protocol/hex.js';
import {
  codecs,
  filterloadCodec,
  filteraddCodec,
  decodeFilterLoad,
  BloomFlags,
  type FilterLoadMessage,
} from '../../../src/protocol/messages/bloom.js';
import { prng, randomBytes } from '../../helpers.js';
import { vectorsFor, decode, encode, expectFields, roundTrip, u32 } from './harness.js';

// ---------------------------------------------------------------------------------------------
// Helpers (the shared ones come from ./harness.ts)

const { byCommand, vectors } = vectorsFor(codecs);

test('decodes every filterload and filteradd vector to its stated fields and re-encodes the exact payload', () => {
  assert.is(vectors.length, 4);
  for (const v of vectors) {
    const codec = byCommand.get(v.command)!;
    const { m, r } = decode(codec, fromHex(v.payloadHex));
    assert.is(r.err, 0, `${v.name}: ${statusCode(r.err)}`);
    expectFields(codec.toJSON(m), v.fields, v.name);
    assert.is(toHex(encode(codec, m)), v.payloadHex, `${v.name} re-encodes`);
  }
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
    }
  }
});

test('reports a byte after every vector as trailing', () => {
  for (const v of vectors) {
    assert.is(decode(byCommand.get(v.command)!, fromHex(`${v.payloadHex}00`)).r.err, Status.TRAILING_BYTES, v.name);
  }
});

test('decodes random bytes as every filterload and filteradd message without throwing', () => {
  const rand = prng(99);
  for (const codec of codecs) {
    for (let i = 0; i < 300; i++) {
      const bytes = randomBytes(rand, (rand() * 120) | 0);
      if (rand() < 0.3) bytes.fill(0xfd, 0, Math.min(bytes.length, 40));
      const r = new Reader(bytes);
      codec.decode(r);
      r.finish();
    }
  }
});

test('accepts a 36,000-byte filter and rejects 36,001 bytes as too long', () => {
  const ok = { filter: new Uint8Array(36_000), nHashFuncs: 50, nTweak: 0, nFlags: 0 };
  assert.is(decode(filterloadCodec, encode(filterloadCodec, ok)).r.err, 0);
  const bad = { ...ok, filter: new Uint8Array(36_001) };
  assert.is(decode(filterloadCodec, encode(filterloadCodec, bad)).r.err, Status.TOO_LONG);
});

test('rejects more than 50 hash functions as a bad value', () => {
  const m: FilterLoadMessage = { filter: Uint8Array.of(1, 2, 3), nHashFuncs: 51, nTweak: 7, nFlags: 1 };
  const r = new Reader(encode(filterloadCodec, m));
  decodeFilterLoad(r);
  assert.is(r.err, Status.BAD_VALUE);
  assert.is(r.errAt, 8, 'the failure points just past nHashFuncs');
  m.nHashFuncs = 0xffffffff;
  assert.is(decode(filterloadCodec, encode(filterloadCodec, m)).r.err, Status.BAD_VALUE);
});

test('keeps nFlags values BIP37 does not define', () => {
  const m: FilterLoadMessage = { filter: new Uint8Array(0), nHashFuncs: 0, nTweak: 0xffffffff, nFlags: 0xff };
  const d = decode(filterloadCodec, encode(filterloadCodec, m));
  assert.is(d.r.err, 0);
  assert.is(d.m.nFlags, 0xff);
  assert.is(d.m.nTweak, 0xffffffff);
  assert.is(BloomFlags.BLOOM_UPDATE_P2PUBKEY_ONLY, 2);
});

test('accepts a 520-byte filteradd element and rejects 521 bytes as too long', () => {
  assert.is(decode(filteraddCodec, encode(filteraddCodec, { data: new Uint8Array(520) })).r.err, 0);
  assert.is(decode(filteraddCodec, encode(filteraddCodec, { data: new Uint8Array(521) })).r.err, Status.TOO_LONG);
});

test('rejects a non-canonical filter or element length', () => {
  assert.is(decode(filteraddCodec, fromHex('fd0400' + '01020304')).r.err, Status.NON_CANONICAL);
  assert.is(decode(filterloadCodec, fromHex('fd0100' + '00' + '00'.repeat(9))).r.err, Status.NON_CANONICAL);
});

test('refuses with a status, before allocating for it, a huge length that comes with few bytes', () => {
  assert.is(decode(filterloadCodec, fromHex('fe00000002' + '00'.repeat(10))).r.err, Status.TOO_LONG);
  assert.is(decode(filteraddCodec, fromHex('fd0002' + '00'.repeat(10))).r.err, Status.TRUNCATED);
});

test('round-trips a few hundred random filterload and filteradd messages', () => {
  const rand = prng(4);
  for (let i = 0; i < 300; i++) {
    roundTrip(filterloadCodec, {
      filter: randomBytes(rand, rand() < 0.05 ? 36_000 : (rand() * 600) | 0),
      nHashFuncs: (rand() * 51) | 0,
      nTweak: u32(rand),
      nFlags: (rand() * 256) | 0,
    } satisfies FilterLoadMessage);
    roundTrip(filteraddCodec, { data: randomBytes(rand, (rand() * 521) | 0) });
  }
});

test.run();
