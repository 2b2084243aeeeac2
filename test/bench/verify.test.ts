import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { verifySink } from '../../bench/verify.js';

test('a suite with all its frames and tx payloads, none bad, is reported', () => {
  assert.is(verifySink('announce', { frames: 100, bad: 0, txs: 12 }, { frames: 100, txs: 12 }), null);
});

test('a suite that saw a bad frame is refused', () => {
  assert.match(verifySink('small', { frames: 100, bad: 1, txs: 0 }, { frames: 100, txs: 0 })!, /small: 1 of 100 frames were bad/);
});

test('a suite whose frame count differs from the corpus is refused', () => {
  assert.match(verifySink('small', { frames: 99, bad: 0, txs: 0 }, { frames: 100, txs: 0 })!, /99 frames decoded, the corpus has 100/);
});

test('a suite that decoded fewer tx payloads than the corpus holds is refused', () => {
  assert.match(verifySink('announce', { frames: 100, bad: 0, txs: 11 }, { frames: 100, txs: 12 })!, /11 tx payloads decoded, the corpus has 12/);
});

test.run();
