import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRing, RingWriter, RingReader, Kind, RECORD_SIZE } from '../../src/observe/ring.js';
import { RecordBatch } from '../../src/observe/batch.js';
import { HashIndex } from '../../src/observe/hashindex.js';
import { hashToHex } from '../../src/protocol/hex.js';
import { prng, randomBytes } from '../helpers.js';

test('a record batch reads every field of the records taken from a ring', () => {
  const sab = createRing(8);
  const w = new RingWriter(sab);
  const rand = prng(1);
  const hashes = [randomBytes(rand, 32), randomBytes(rand, 32)];
  w.push(1700000000123.25, 4_000_000_001, Kind.INV, 2, 0x40000001, 9, hashes[0]!, 0);
  w.push(1700000000124.5, 7, Kind.CMPCTBLOCK, 0, 2, 10, hashes[1]!, 0);
  w.publish();
  const b = new RecordBatch(3, new RingReader(sab).take()!, ['1.2.3.4:8333', '[::1]:8333']);
  assert.is(b.length, 2);
  assert.is(b.shard, 3);
  assert.equal([b.time(0), b.peer(0), b.kind(0), b.entry(0), b.invType(0), b.seq(0), b.address(0)], [1700000000123.25, 4_000_000_001, Kind.INV, 2, 0x40000001, 9, '1.2.3.4:8333']);
  assert.equal([b.time(1), b.peer(1), b.kind(1), b.entry(1), b.invType(1), b.seq(1), b.address(1)], [1700000000124.5, 7, Kind.CMPCTBLOCK, 0, 2, 10, '[::1]:8333']);
  assert.equal(b.hash(1), hashes[1]);
  assert.is(b.hashHex(0), hashToHex(hashes[0]!));
  assert.equal(b.bytes.subarray(b.hashOffset(1), b.hashOffset(1) + 32), hashes[1]);
  assert.is(b.address(5), '', 'out of range: no address');
  assert.is(b.bytes.length, 2 * RECORD_SIZE);
});

test('the hash index gives dense indices in first-seen order and finds every hash again after growing', () => {
  const idx = new HashIndex(4);
  const rand = prng(7);
  const hs = Array.from({ length: 5000 }, () => randomBytes(rand, 32));
  const buf = new Uint8Array(40);
  hs.forEach((h, i) => {
    buf.set(h, 8); // at an offset, inside a larger buffer
    assert.is(idx.intern(buf, 8), i);
  });
  assert.is(idx.size, 5000);
  hs.forEach((h, i) => {
    assert.is(idx.get(h, 0), i);
    assert.is(idx.intern(h, 0), i, 'interning again returns the same index');
    assert.equal(idx.hashAt(i), h);
  });
  assert.is(idx.size, 5000);
  assert.is(idx.get(randomBytes(rand, 32), 0), -1);
});

test('hashes that share most of their bytes (made up to collide) are still told apart', () => {
  const idx = new HashIndex();
  const base = new Uint8Array(32).fill(0xab);
  for (let i = 0; i < 3000; i++) {
    const h = base.slice();
    h[31] = i & 0xff;
    h[30] = i >> 8;
    assert.is(idx.intern(h, 0), i);
  }
  const probe = base.slice();
  probe[31] = 200;
  probe[30] = 0;
  assert.is(idx.get(probe, 0), 200);
});

test.run();
