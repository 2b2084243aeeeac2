import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader } from '../../../src/protocol/reader.js';
import { Status, statusCode } from '../../../src/protocol/errors.js';
import { fromHex, toHex } from '../../../src/protocol/hex.js';
import {
  codecs,
  getheadersCodec,
  getblocksCodec,
  decodeGetHeaders,
  type GetHeadersMessage,
} from '../../../src/protocol/messages/locator.js';
import { prng, randomBytes } from '../../helpers.js';
import { vectorsFor, decode, encode, expectFields, roundTrip, u32, hashes } from './harness.js';

// ---------------------------------------------------------------------------------------------
// Helpers (the shared ones come from ./harness.ts)

const { byCommand, vectors } = vectorsFor(codecs);

test('decodes every getheaders and getblocks vector to its stated fields and re-encodes the exact payload', () => {
  assert.is(vectors.length, 5);
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

test('decodes random bytes as every getheaders and getblocks message without throwing', () => {
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

test('accepts 101 locator hashes and rejects 102 as too many', () => {
  const rand = prng(1);
  for (const codec of codecs) {
    const ok = encode(codec, { version: 70016, locator: hashes(rand, 101), hashStop: new Uint8Array(32) });
    assert.is(decode(codec, ok).r.err, 0);
    const bad = encode(codec, { version: 70016, locator: hashes(rand, 102), hashStop: new Uint8Array(32) });
    assert.is(decode(codec, bad).r.err, Status.TOO_MANY_ITEMS, codec.command);
  }
});

test('rejects a non-canonical locator count', () => {
  const r = new Reader(fromHex('7f110100' + 'fd0100' + '00'.repeat(64)));
  decodeGetHeaders(r);
  assert.is(r.err, Status.NON_CANONICAL);
});

test('refuses with a status, before allocating for it, a huge count that comes with few bytes', () => {
  assert.is(decode(getheadersCodec, fromHex('7f110100fe00000002' + '00'.repeat(10))).r.err, Status.TOO_MANY_ITEMS);
  assert.is(decode(getblocksCodec, fromHex('7f11010065' + '00'.repeat(10))).r.err, Status.TRUNCATED);
});

test('reports a missing stop hash as truncated', () => {
  const full = encode(getheadersCodec, { version: 1, locator: hashes(prng(2), 2), hashStop: new Uint8Array(32) });
  assert.is(decode(getheadersCodec, full.subarray(0, full.length - 32)).r.err, Status.TRUNCATED);
});

test('round-trips a few hundred random getheaders and getblocks messages', () => {
  const rand = prng(3);
  for (const codec of codecs) {
    for (let i = 0; i < 300; i++) {
      roundTrip(codec, { version: u32(rand), locator: hashes(rand, (rand() * 102) | 0), hashStop: randomBytes(rand, 32) } satisfies GetHeadersMessage);
    }
  }
});

test.run();
