import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader } from '../../../src/protocol/reader.js';
import { Status, statusCode } from '../../../src/protocol/errors.js';
import { fromHex, toHex } from '../../../src/protocol/hex.js';
import {
  codecs,
  getcfiltersCodec,
  getcfheadersCodec,
  cfilterCodec,
  cfheadersCodec,
  getcfcheckptCodec,
  cfcheckptCodec,
  encodedSizeCFCheckpt,
  MAX_CFCHECKPT_HEADERS,
  FilterType,
  type GetCFiltersMessage,
  type CFilterMessage,
  type CFHeadersMessage,
  type GetCFCheckptMessage,
  type CFCheckptMessage,
} from '../../../src/protocol/messages/cfilters.js';
import { prng, randomBytes } from '../../helpers.js';
import { vectorsFor, decode, encode, expectFields, roundTrip, u32, hashes } from './harness.js';

// ---------------------------------------------------------------------------------------------
// Helpers (the shared ones come from ./harness.ts)

const { byCommand, vectors } = vectorsFor(codecs);

test('decodes every BIP157 vector to its stated fields and re-encodes the exact payload', () => {
  assert.is(vectors.length, 6);
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

test('decodes random bytes as every BIP157 message without throwing', () => {
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

test('accepts 2,000 filter hashes in a cfheaders and rejects 2,001 as too many', () => {
  const rand = prng(1);
  const m: CFHeadersMessage = { filterType: 0, stopHash: randomBytes(rand, 32), previousFilterHeader: randomBytes(rand, 32), filterHashes: hashes(rand, 2000) };
  assert.is(decode(cfheadersCodec, encode(cfheadersCodec, m)).r.err, 0);
  m.filterHashes = hashes(rand, 2001);
  assert.is(decode(cfheadersCodec, encode(cfheadersCodec, m)).r.err, Status.TOO_MANY_ITEMS);
});

test('bounds cfcheckpt by what a 4,000,000-byte payload holds', () => {
  assert.is(MAX_CFCHECKPT_HEADERS, 124_998);
  assert.ok(encodedSizeCFCheckpt({ filterType: 0, stopHash: new Uint8Array(32), filterHeaders: new Array(MAX_CFCHECKPT_HEADERS).fill(new Uint8Array(32)) }) <= 4_000_000);
  const big = new Uint8Array(33 + 5 + 32 * 1000);
  big.set(fromHex('fe3fe80100'), 33); // 124,991 headers: within the bound, far more than the bytes present
  assert.is(decode(cfcheckptCodec, big).r.err, Status.TRUNCATED);
  big.set(fromHex('fe47e80100'), 33); // 124,999 headers
  assert.is(decode(cfcheckptCodec, big).r.err, Status.TOO_MANY_ITEMS);
  const ok = { filterType: 0, stopHash: new Uint8Array(32), filterHeaders: hashes(prng(2), 1000) };
  assert.is(decode(cfcheckptCodec, encode(cfcheckptCodec, ok)).r.err, 0);
});

test('rejects non-canonical counts and filter lengths', () => {
  const stop = '00'.repeat(32);
  assert.is(decode(cfheadersCodec, fromHex(`00${stop}${stop}fd0100${stop}`)).r.err, Status.NON_CANONICAL);
  assert.is(decode(cfcheckptCodec, fromHex(`00${stop}fd0100${stop}`)).r.err, Status.NON_CANONICAL);
  assert.is(decode(cfilterCodec, fromHex(`00${stop}fd0100ab`)).r.err, Status.NON_CANONICAL);
});

test('refuses with a status, before allocating for it, a huge count that comes with few bytes', () => {
  const stop = '00'.repeat(32);
  assert.is(decode(cfheadersCodec, fromHex(`00${stop}${stop}fe00000002${'00'.repeat(10)}`)).r.err, Status.TOO_MANY_ITEMS);
  assert.is(decode(cfcheckptCodec, fromHex(`00${stop}fe00000002${'00'.repeat(10)}`)).r.err, Status.TOO_MANY_ITEMS);
  assert.is(decode(cfilterCodec, fromHex(`00${stop}fe00000002${'00'.repeat(10)}`)).r.err, Status.TOO_LONG);
  assert.is(decode(cfilterCodec, fromHex(`00${stop}fe00000100${'00'.repeat(10)}`)).r.err, Status.TRUNCATED);
});

test('decodes unknown filter types, leaving them to policy', () => {
  const d = decode(getcfiltersCodec, fromHex(`ff01000000${'11'.repeat(32)}`));
  assert.is(d.r.err, 0);
  assert.is(d.m.filterType, 0xff);
  assert.is(FilterType.BASIC, 0);
});

test('round-trips a few hundred random messages of every BIP157 kind', () => {
  const rand = prng(3);
  const type = () => (rand() < 0.8 ? 0 : (rand() * 256) | 0);
  for (let i = 0; i < 300; i++) {
    const g: GetCFiltersMessage = { filterType: type(), startHeight: u32(rand), stopHash: randomBytes(rand, 32) };
    roundTrip(getcfiltersCodec, g);
    roundTrip(getcfheadersCodec, g);
    roundTrip(cfilterCodec, { filterType: type(), blockHash: randomBytes(rand, 32), filter: randomBytes(rand, (rand() * 400) | 0) } satisfies CFilterMessage);
    roundTrip(cfheadersCodec, {
      filterType: type(),
      stopHash: randomBytes(rand, 32),
      previousFilterHeader: randomBytes(rand, 32),
      filterHashes: hashes(rand, rand() < 0.02 ? 2000 : (rand() * 300) | 0),
    } satisfies CFHeadersMessage);
    roundTrip(getcfcheckptCodec, { filterType: type(), stopHash: randomBytes(rand, 32) } satisfies GetCFCheckptMessage);
    roundTrip(cfcheckptCodec, { filterType: type(), stopHash: randomBytes(rand, 32), filterHeaders: hashes(rand, (rand() * 300) | 0) } satisfies CFCheckptMessage);
  }
});

test.run();
