import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GUARD, TokenBucket } from '../../src/pool/shard/guard.js';
import { AddressBook } from '../../src/pool/coordinator/addressbook.js';

test('a token bucket gives its burst at once, then refills at its rate up to its capacity', () => {
  const b = new TokenBucket(10_000, 5_000, 0);
  assert.ok(b.take(10_000, 0));
  assert.not.ok(b.take(1, 0), 'empty');
  assert.not.ok(b.take(5_001, 1_000), 'one second refills 5,000, not more');
  assert.ok(b.take(5_000, 1_000));
  assert.ok(b.take(10_000, 60_000), 'refilled to capacity');
  assert.not.ok(b.take(10_001, 10_000_000), 'never above capacity');
});

test('a legal 50,000-entry inv is over the record budget of a fresh peer, Core-sized invs are not', () => {
  const b = new TokenBucket(GUARD.INV_BURST, GUARD.INV_PER_SECOND, 0);
  assert.not.ok(b.take(50_000, 0));
  assert.ok(b.take(1_000, 0), 'a refused take costs nothing');
  // Core's most per trickle (1,000), every 100 ms for a minute: 10,000/s is over 5,000/s.
  let refused = 0;
  for (let t = 100; t <= 60_000; t += 100) if (!b.take(1_000, t)) refused++;
  assert.ok(refused > 0);
  // ...while 1,000 every 2 s (Core towards an outbound peer at its busiest) never is.
  const c = new TokenBucket(GUARD.INV_BURST, GUARD.INV_PER_SECOND, 0);
  for (let t = 0; t <= 600_000; t += 2_000) assert.ok(c.take(1_000, t));
});

test("Core's addr limit: one address without a getaddr, 1,000 after one, then 0.1 a second", () => {
  const b = new TokenBucket(GUARD.ADDR_BUCKET, GUARD.ADDR_PER_SECOND, 0, GUARD.ADDR_INITIAL);
  assert.is(b.takeUpTo(1_000, 0), 1);
  assert.is(b.takeUpTo(1_000, 0), 0);
  b.add(GUARD.ADDR_BUCKET);
  assert.is(b.takeUpTo(1_000, 0), 1_000);
  assert.is(b.takeUpTo(1_000, 100_000), 10, '100 s refill 10');
});

test('an address closed for a fault after each handshake backs off exponentially; a clean drop resets it', () => {
  const book = new AddressBook({ backoffBaseMs: 1_000, backoffMaxMs: 64_000, retryAfterDropMs: 50, jitter: 0 });
  const r = book.add('127.0.0.1:1')!;
  const delays: number[] = [];
  let t = 0;
  for (let i = 0; i < 8; i++) {
    book.markPending(r, t);
    book.markConnected(r, t);
    book.markReady(r, t); // the handshake completes every time...
    book.markMisbehaved(r, 'bad-magic', t); // ...and then it misbehaves
    delays.push(r.nextAttemptAt - t);
    t = r.nextAttemptAt;
  }
  assert.equal(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 64_000]);
  assert.is(r.lastOutcome, 'bad-magic');
  book.markPending(r, t);
  book.markReady(r, t);
  book.markDropped(r, 'remote-closed', t);
  assert.is(r.nextAttemptAt - t, 50);
  assert.is(r.misbehaved, 0);
});

test.run();
