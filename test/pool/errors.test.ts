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

test('send, closePeer and crashShard before start() throw ERR_POOL_NOT_RUNNING', () => {
  const pool = new Coordinator({ network: 'regtest', addresses: ['127.0.0.1:1'] });
  assert.is(codeOf(() => pool.send(0, 'ping', { nonce: 1n })), PoolErrorCode.NOT_RUNNING);
  assert.is(codeOf(() => pool.closePeer(0)), PoolErrorCode.NOT_RUNNING);
  assert.is(codeOf(() => pool.crashShard(0)), PoolErrorCode.NOT_RUNNING);
});

test('bad options throw ERR_POOL_BAD_OPTION naming the value', () => {
  assert.is(codeOf(() => new Coordinator({ network: 'nonet' as never })), PoolErrorCode.BAD_OPTION);
  assert.is(codeOf(() => new Coordinator({ proxy: '127.0.0.1' })), PoolErrorCode.BAD_OPTION);
  assert.is(codeOf(() => new Coordinator({ listen: 'nowhere:99999' })), PoolErrorCode.BAD_OPTION);
  assert.throws(() => new Coordinator({ proxy: 'tor:x' }), /proxy must be host:port, got tor:x/);
  assert.not.throws(() => new Coordinator({ network: 'regtest', listen: '127.0.0.1:0', addresses: ['127.0.0.1:1'] }));
});

test('records() while observations() is consumed throws ERR_POOL_CONSUMER_TAKEN', () => {
  const pool = new Coordinator({ network: 'regtest', addresses: ['127.0.0.1:1'] });
  pool.observations();
  assert.is(codeOf(() => pool.records()), PoolErrorCode.CONSUMER_TAKEN);
});

test('start() twice rejects with ERR_POOL_ALREADY_STARTED; after stop() too', async () => {
  const pool = new Coordinator({ network: 'regtest', shards: 1, peers: 0, addresses: ['127.0.0.1:1'] });
  await pool.start();
  try {
    const again = await pool.start().then(() => null, (e: unknown) => e);
    assert.instance(again, PoolError);
    assert.is((again as PoolError).code, PoolErrorCode.ALREADY_STARTED);
  } finally {
    await pool.stop();
  }
  const after = await pool.start().then(() => null, (e: unknown) => e);
  assert.is((after as PoolError).code, PoolErrorCode.ALREADY_STARTED);
  // After stop() a send is not misuse (peers are gone): false, not a throw.
  assert.is(pool.send(0, 'ping', { nonce: 1n }), false);
});

test.run();
