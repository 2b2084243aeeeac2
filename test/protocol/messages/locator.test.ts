import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { Status, statusCode } from '../../../src/protocol/errors.js';
import { fromHex, toHex } from '../../../src/protocol/hex.js';
import type { MessageCodec } from '../../../src/protocol/message.js';
import {
  codecs,
  getheadersCodec,
  getblocksCodec,
  decodeGetHeaders,
  type GetHeadersMessage,
} from '../../../src/protocol/messages/locator.js';
import { fixtureJSON, prng, randomBytes } from '../../helpers.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers (each suite carries its own copy: suites are independent files)

interface Vector {
  name: string;
  command: string;
  payloadHex: string;
  fields: Record<string, unknown>;
}

const byCommand = new Map(codecs.map((c) => [c.command as string, c]));
const vectors = fixtureJSON<Vector[]>('messages/messages.json').filter((v) => byCommand.has(v.command));

function decode<T>(codec: MessageCodec<T>, bytes: Uint8Array): { m: T; r: Reader } {
  const r = new Reader(bytes);
  const m = codec.decode(r);
  r.finish();
  return { m, r };
}

function encode<T>(codec: MessageCodec<T>, m: T): Uint8Array {
  const size = codec.encodedSize(m);
  const w = new Writer(size);
  codec.encode(w, m);
  assert.is(w.pos, size, 'encodedSize matches the bytes written');
  return w.buf;
}

function expectFields(actual: unknown, expected: unknown, path: string): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path} is an array`);
    const a = actual as unknown[];
    assert.is(a.length, expected.length, `${path}.length`);
    expected.forEach((e, i) => expectFields(a[i], e, `${path}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${path} is an object`);
    for (const [k, v] of Object.entries(expected)) expectFields((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else {
    assert.is(actual, expected, path);
  }
}

function u32(rand: () => number): number {
  return (rand() * 2 ** 32) >>> 0;
}

function hashes(rand: () => number, n: number): Uint8Array[] {
  return Array.from({ length: n }, () => randomBytes(rand, 32));
}

/** Encodes, decodes, compares the JSON forms and re-encodes to the same bytes. */
function roundTrip<T>(codec: MessageCodec<T>, m: T): void {
  const bytes = encode(codec, m);
  const d = decode(codec, bytes);
  assert.is(d.r.err, 0, `${codec.command}: ${statusCode(d.r.err)}`);
  assert.equal(codec.toJSON(d.m), codec.toJSON(m), codec.command);
  assert.equal(encode(codec, d.m), bytes, codec.command);
}

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

test('returns quickly with a status when a huge count comes with few bytes', () => {
  const t0 = performance.now();
  assert.is(decode(getheadersCodec, fromHex('7f110100fe00000002' + '00'.repeat(10))).r.err, Status.TOO_MANY_ITEMS);
  assert.is(decode(getblocksCodec, fromHex('7f11010065' + '00'.repeat(10))).r.err, Status.TRUNCATED);
  assert.ok(performance.now() - t0 < 50);
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
