/**
 * Coordinator misuse and bad options throw a PoolError with a stable code (no thread is started
 * for these: each check happens before or without start()).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Coordinator, PoolError, PoolErrorCode } from '../../src/pool/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    assert.instance(e, PoolError);
    return (e as PoolError).code;
  }
  return undefined;
}

test('send, closePeer and crashShard before start() throw ERR_POOL_STATE', () => {
  const pool = new Coordinator({ network: 'regtest', addresses: ['127.0.0.1:1'] });
  assert.is(codeOf(() => pool.send(0, 'ping', { nonce: 1n })), PoolErrorCode.STATE);
  assert.is(codeOf(() => pool.closePeer(0)), PoolErrorCode.STATE);
  assert.is(codeOf(() => pool.crashShard(0)), PoolErrorCode.STATE);
});

test('records() while observations() is consumed throws ERR_POOL_STATE', () => {
  const pool = new Coordinator({ network: 'regtest', addresses: ['127.0.0.1:1'] });
  pool.observations();
  assert.is(codeOf(() => pool.records()), PoolErrorCode.STATE);
});

test('start() twice rejects with ERR_POOL_STATE; after stop() too', async () => {
  const pool = new Coordinator({ network: 'regtest', shards: 1, peers: 0, addresses: ['127.0.0.1:1'] });
  await pool.start();
  try {
    const again = await pool.start().then(() => null, (e: unknown) => e);
    assert.instance(again, PoolError);
    assert.is((again as PoolError).code, PoolErrorCode.STATE);
  } finally {
    await pool.stop();
  }
  const after = await pool.start().then(() => null, (e: unknown) => e);
  assert.is((after as PoolError).code, PoolErrorCode.STATE);
  // After stop() a send is not misuse (peers are gone): false, not a throw.
  assert.is(pool.send(0, 'ping', { nonce: 1n }), false);
});

test.run();
