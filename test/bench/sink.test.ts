/**
 * The benchmark's checked pass (bench/sink.ts) on a small announce corpus from bench/corpus.ts:
 * accepted whole, refused with one planted fault (a flipped payload byte, a tx payload with a
 * trailing byte under a valid checksum, a missing frame). Test code, main thread.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { genAnnounce, frame, MAGIC_MAIN } from '../../bench/corpus.js';
import { checkedPass } from '../../bench/sink.js';

const stream = genAnnounce('announce', 0xa11ce, 400, true);
const expected = { frames: stream.meta.messages, txs: stream.meta.byCommand.tx?.count ?? 0 };
const commandOf = (f: Buffer): string => f.subarray(4, 16).toString('latin1').replace(/\0+$/, '');
const firstTx = stream.parts.findIndex((f) => commandOf(f) === 'tx');

function corpusWith(i: number, replacement: Buffer | null): Uint8Array {
  const parts = stream.parts.slice();
  if (replacement === null) parts.splice(i, 1);
  else parts[i] = replacement;
  return new Uint8Array(Buffer.concat(parts));
}

test('the corpus as generated passes, tx payloads included', () => {
  assert.ok(expected.txs > 0 && firstTx >= 0, 'the announce corpus holds tx messages');
  const { check } = checkedPass('announce', new Uint8Array(Buffer.concat(stream.parts)), false, expected);
  assert.is(check.frames, expected.frames);
  assert.is(check.txs, expected.txs);
  assert.is(check.bad, 0);
});

test('a flipped payload byte (checksum fails) is refused', () => {
  const bad = Buffer.from(stream.parts[firstTx]!);
  bad[bad.length - 1]! ^= 0x01;
  assert.throws(() => checkedPass('announce', corpusWith(firstTx, bad), false, expected), /refusing to report: announce: 1 of \d+ frames were bad/);
});

test('a tx payload that does not parse (a trailing byte, checksum valid) is refused', () => {
  const f = stream.parts[firstTx]!;
  const payload = Buffer.concat([f.subarray(24), Buffer.from([0])]);
  assert.throws(() => checkedPass('announce', corpusWith(firstTx, frame(MAGIC_MAIN, 'tx', payload)), false, expected), /frames were bad/);
});

test('a frame missing from the corpus is refused', () => {
  assert.throws(() => checkedPass('announce', corpusWith(0, null), false, expected), /frames decoded, the corpus has/);
});

test.run();
