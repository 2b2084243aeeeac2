import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { PerformanceObserver } from 'node:perf_hooks';
import { createRing, RingWriter, RingReader, readRecord, Kind, R_HASH, R_SEQ, RECORD_SIZE, HEADER_BYTES } from '../../src/observe/ring.js';
import { now } from '../../src/observe/clock.js';

function hashOf(i: number): Uint8Array {
  const h = new Uint8Array(32);
  new DataView(h.buffer).setUint32(0, i, true);
  h[31] = i & 0xff;
  return h;
}

test('rounds the capacity up to a power of two and lays records after a 64-byte header', () => {
  const sab = createRing(100);
  assert.is(sab.byteLength, HEADER_BYTES + 128 * RECORD_SIZE);
  assert.is(new RingReader(sab).capacity, 128);
  assert.throws(() => new RingReader(new SharedArrayBuffer(1024)), /not an invscope observation ring/);
});

test('carries every field of a record from writer to reader', () => {
  const sab = createRing(4);
  const w = new RingWriter(sab);
  const t = now();
  assert.ok(w.push(t, 4_000_000_000, Kind.HEADERS, 3, 0x40000002, 77, hashOf(9), 0));
  const r = new RingReader(sab);
  assert.is(r.drain(() => {}), 0, 'nothing is visible before publish');
  w.publish();
  const got: ReturnType<typeof readRecord>[] = [];
  assert.is(r.drain((v, o) => got.push(readRecord(v, o))), 1);
  assert.equal(got[0], { time: t, peer: 4_000_000_000, kind: Kind.HEADERS, entry: 3, invType: 0x40000002, seq: 77, hash: hashOf(9) });
});

test('wraps around many times without losing or reordering records', () => {
  const sab = createRing(8);
  const w = new RingWriter(sab);
  const r = new RingReader(sab);
  const seen: number[] = [];
  let next = 0;
  for (let round = 0; round < 50; round++) {
    const n = 1 + (round % 8);
    for (let i = 0; i < n; i++, next++) assert.ok(w.push(next, 0, Kind.INV, 0, 1, next, hashOf(next), 0));
    w.publish();
    r.drain((v, o) => seen.push(v.getUint32(o + R_SEQ, true)));
  }
  assert.is(seen.length, next);
  assert.ok(seen.every((s, i) => s === i));
  assert.is(r.dropped, 0);
});

test('counts a drop for every record pushed into a full ring and never blocks', () => {
  const sab = createRing(4);
  const w = new RingWriter(sab);
  const r = new RingReader(sab);
  for (let i = 0; i < 10; i++) w.push(i, 0, Kind.INV, 0, 1, i, hashOf(i), 0);
  w.publish();
  assert.is(r.dropped, 6);
  const seqs: number[] = [];
  r.drain((v, o) => seqs.push(v.getUint32(o + R_SEQ, true)));
  assert.equal(seqs, [0, 1, 2, 3], 'the oldest records are kept; nothing recorded is overwritten');
  assert.ok(w.push(10, 0, Kind.INV, 0, 1, 10, hashOf(10), 0), 'room again after the reader released');
});

test('drains at most the number asked for and leaves the rest', () => {
  const sab = createRing(16);
  const w = new RingWriter(sab);
  for (let i = 0; i < 10; i++) w.push(i, 0, Kind.INV, 0, 1, i, hashOf(i), 0);
  w.publish();
  const r = new RingReader(sab);
  assert.is(r.drain(() => {}, 4), 4);
  assert.is(r.available, 6);
  assert.is(r.drain(() => {}), 6);
});

test('a real second thread writes a million records that all arrive in order while the main thread drains', async () => {
  const count = 1_000_000;
  const sab = createRing(1 << 16);
  const r = new RingReader(sab);
  const worker = new Worker(new URL('./ring-worker.js', import.meta.url), { workerData: { sab, count, batch: 64 } });
  let expect = 0;
  let bad = 0;
  const check = (v: DataView, o: number): void => {
    const seq = v.getUint32(o + R_SEQ, true);
    // Drops may leave gaps in the numbers; order must hold and the hash must belong to its record.
    if (seq < expect || v.getUint32(o + R_HASH, true) !== seq || v.getUint32(o + R_HASH + 28, true) !== (seq ^ 0xa5a5a5a5) >>> 0) bad++;
    expect = seq + 1;
  };
  let done = false;
  let accepted = -1;
  worker.on('message', (m: { accepted: number }) => {
    accepted = m.accepted;
    done = true;
  });
  while (!done) {
    r.drain(check);
    await new Promise((res) => setImmediate(res));
  }
  r.drain(check);
  await worker.terminate();
  assert.is(bad, 0);
  assert.is(r.taken, accepted);
  assert.is(r.taken + r.dropped, count, 'every record is either delivered or counted as dropped');
});

test('what reached the ring survives its writer thread being terminated', async () => {
  const sab = createRing(1 << 12);
  const worker = new Worker(new URL('./ring-worker.js', import.meta.url), { workerData: { sab, count: 3000, batch: 100 } });
  await new Promise((res) => worker.on('message', res));
  await worker.terminate();
  const r = new RingReader(sab);
  let n = 0;
  r.drain(() => n++);
  assert.is(n, 3000);
});

test('take copies the waiting records out in order across the wrap-around and releases them; discard releases unread', () => {
  const sab = createRing(8);
  const w = new RingWriter(sab);
  const r = new RingReader(sab);
  for (let i = 0; i < 6; i++) w.push(i, 0, Kind.INV, 0, 1, i, hashOf(i), 0);
  w.publish();
  assert.is(r.discard(5), 5);
  // Records 6..12 wrap: sequence 5 sits at slot 5, 8 at slot 0.
  for (let i = 6; i < 13; i++) assert.ok(w.push(i, 0, Kind.INV, 0, 1, i, hashOf(i), 0));
  w.publish();
  const bytes = r.take()!;
  assert.is(bytes.length, 8 * RECORD_SIZE);
  const v = new DataView(bytes.buffer);
  const seqs = Array.from({ length: 8 }, (_, i) => v.getUint32(i * RECORD_SIZE + R_SEQ, true));
  assert.equal(seqs, [5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(bytes.subarray(7 * RECORD_SIZE + R_HASH, 8 * RECORD_SIZE), hashOf(12));
  assert.is(r.take(), null, 'nothing left');
  assert.is(r.taken, 13);
  assert.is(r.discard(3), 0, 'discard never passes the write sequence');
  for (let i = 0; i < 4; i++) w.push(i, 0, Kind.INV, 0, 1, 100 + i, hashOf(i), 0);
  w.publish();
  assert.is(r.take(3)!.length, 3 * RECORD_SIZE, 'at most the number asked for');
  assert.is(r.available, 1);
});

test('wait sleeps until the writer publishes, returns null when records are waiting, times out otherwise', async () => {
  const sab = createRing(8);
  const w = new RingWriter(sab);
  const r = new RingReader(sab);
  // A pending waitAsync does not keep the event loop alive (the pool's timers and ports do).
  const keepAlive = setInterval(() => {}, 1_000);
  assert.ok(RingReader.canWait, 'Atomics.waitAsync exists on Node 20');
  const p = r.wait(10_000)!;
  assert.ok(p instanceof Promise, 'nothing waiting: it sleeps');
  w.push(1, 0, Kind.INV, 0, 1, 0, hashOf(1), 0);
  w.publish(); // sees the reader's flag and notifies
  assert.is(await p, 'ok');
  assert.is(r.wait(10_000), null, 'a record is waiting: drain now');
  r.discard(1);
  assert.is(await r.wait(5)!, 'timed-out');
  const q = r.wait(10_000)!;
  r.wake();
  assert.is(await q, 'ok', 'wake ends a pending wait');
  clearInterval(keepAlive);
});

test('a writer in another thread wakes a sleeping reader at its first publish', async () => {
  const sab = createRing(1 << 12);
  const r = new RingReader(sab);
  const woke = r.wait(30_000)!;
  const worker = new Worker(new URL('./ring-worker.js', import.meta.url), { workerData: { sab, count: 10, batch: 5 } });
  assert.is(await woke, 'ok');
  await new Promise((res) => worker.on('message', res));
  await worker.terminate();
  assert.is(r.take()!.length, 10 * RECORD_SIZE);
});

/** The shard's tap: pushes of a hash out of a receive buffer, published and consumed in batches. */
function tapMany(w: RingWriter, r: RingReader, src: Uint8Array, n: number): number {
  let pushed = 0;
  for (let i = 0; i < n; i++) {
    if (w.push(i, i & 0xffff, Kind.INV, i & 7, 1, i, src, (i & 15) * 32)) pushed++;
    if ((i & 1023) === 1023) {
      w.publish();
      r.discard(1024);
    }
  }
  return pushed;
}

test("the shard's tap into the ring allocates nothing: 3 million pushes without a garbage collection", async () => {
  const sab = createRing(4096);
  const w = new RingWriter(sab);
  const r = new RingReader(sab);
  const src = new Uint8Array(16 * 32).map((_, i) => i & 0xff);
  tapMany(w, r, src, 200_000); // compiled and warm before the measured window
  await new Promise((res) => setTimeout(res, 10));
  let gcs = 0;
  const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
  // A full collection first (the test command runs node with --expose-gc), so that earlier
  // suites' garbage is not collected inside the window.
  (globalThis as { gc?: () => void }).gc?.();
  obs.observe({ entryTypes: ['gc'] });
  const pushed = tapMany(w, r, src, 3_000_000);
  await new Promise((res) => setTimeout(res, 10));
  obs.disconnect();
  assert.is(pushed, 3_000_000, 'no record dropped');
  assert.is(gcs, 0, `${gcs} garbage collections`);
});

test.run();
