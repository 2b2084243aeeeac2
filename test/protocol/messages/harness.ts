/**
 * Shared harness for the codec suites of test/protocol/messages (control, address, inventory,
 * locator, bloom, cfilters): the message vectors of one codec family, decode/encode through a
 * MessageCodec with the same checks every suite makes, a recursive field comparison, a round
 * trip, and small random-value generators (deterministic through the PRNG of test/helpers.ts).
 * Not a suite itself.
 */
import * as assert from 'uvu/assert';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { statusCode } from '../../../src/protocol/errors.js';
import type { MessageCodec } from '../../../src/protocol/message.js';
import { fixtureJSON, randomBytes } from '../../helpers.js';

/** One entry of test/fixtures/messages/messages.json. */
export interface Vector {
  name: string;
  command: string;
  payloadHex: string;
  fields: Record<string, unknown>;
}

/** The family's codecs by command, and the vectors of messages.json whose command is one of them. */
export function vectorsFor(codecs: readonly MessageCodec<any>[]): {
  byCommand: Map<string, MessageCodec<any>>;
  vectors: Vector[];
} {
  const byCommand = new Map(codecs.map((c) => [c.command as string, c]));
  const vectors = fixtureJSON<Vector[]>('messages/messages.json').filter((v) => byCommand.has(v.command));
  return { byCommand, vectors };
}

export function decode<T>(codec: MessageCodec<T>, bytes: Uint8Array): { m: T; r: Reader } {
  const r = new Reader(bytes);
  const m = codec.decode(r);
  r.finish();
  return { m, r };
}

export function encode<T>(codec: MessageCodec<T>, m: T): Uint8Array {
  const size = codec.encodedSize(m);
  const w = new Writer(size);
  codec.encode(w, m);
  assert.is(w.pos, size, 'encodedSize matches the bytes written');
  return w.buf;
}

/** Every field of `expected` (recursively) equals the same field of `actual`; extra fields are fine. */
export function expectFields(actual: unknown, expected: unknown, path: string): void {
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

/** Encodes, decodes, compares the JSON forms and re-encodes to the same bytes. */
export function roundTrip<T>(codec: MessageCodec<T>, m: T): void {
  const bytes = encode(codec, m);
  const d = decode(codec, bytes);
  assert.is(d.r.err, 0, `${codec.command}: ${statusCode(d.r.err)}`);
  assert.equal(codec.toJSON(d.m), codec.toJSON(m), codec.command);
  assert.equal(encode(codec, d.m), bytes, codec.command);
}

export function u64(rand: () => number): bigint {
  return (BigInt((rand() * 2 ** 32) >>> 0) << 32n) | BigInt((rand() * 2 ** 32) >>> 0);
}

export function u32(rand: () => number): number {
  return (rand() * 2 ** 32) >>> 0;
}

/** A string of `n` random characters in U+0000..U+00FF. */
export function latin1(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode((rand() * 256) | 0);
  return s;
}

/** `n` random 32-byte hashes. */
export function hashes(rand: () => number, n: number): Uint8Array[] {
  return Array.from({ length: n }, () => randomBytes(rand, 32));
}
