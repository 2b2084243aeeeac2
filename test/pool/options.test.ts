/**
 * resolveOptions: CoordinatorOptions resolved once into what the coordinator, a shard and a peer
 * need, each default from its one definition (POOL_DEFAULTS, PEER_DEFAULTS, GUARD).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { POOL_DEFAULTS, resolveOptions } from '../../src/pool/index.js';
import { PEER_DEFAULTS } from '../../src/peer/peer.js';
import { GUARD } from '../../src/pool/shard/guard.js';

test('with no options every shard and peer setting is the documented default', () => {
  const r = resolveOptions({ addresses: ['127.0.0.1:1'] });
  assert.is(r.network.name, 'mainnet');
  assert.is(r.pool.peers, POOL_DEFAULTS.peers);
  assert.is(r.pool.reseedIntervalMs, 1_800_000);
  assert.is(r.pool.reseedIntervalMs, POOL_DEFAULTS.reseedIntervalMs);
  assert.is(r.pool.maxInbound, 117);
  assert.is(r.shard.maxInbound, 117);
  assert.is(r.shard.statsIntervalMs, POOL_DEFAULTS.statsIntervalMs);
  assert.is(r.shard.connectTimeoutMs, PEER_DEFAULTS.connectTimeoutMs);
  assert.is(r.shard.invBurst, GUARD.INV_BURST);
  assert.is(r.shard.invPerSecond, GUARD.INV_PER_SECOND);
  assert.equal(r.shard.peer, {
    blockAnnounce: 'inv',
    handshakeTimeoutMs: PEER_DEFAULTS.handshakeTimeoutMs,
    pingIntervalMs: PEER_DEFAULTS.pingIntervalMs,
    pingTimeoutMs: PEER_DEFAULTS.pingTimeoutMs,
    idleTimeoutMs: PEER_DEFAULTS.idleTimeoutMs,
    maxSendBuffer: PEER_DEFAULTS.maxSendBuffer,
    sendStallMs: PEER_DEFAULTS.sendStallMs,
    answerPing: true,
    answerGetHeaders: true,
  });
  assert.is(r.shard.transport, 'auto');
  assert.equal(r.pool.seedNames, []);
  assert.is(r.pool.listen, null);
  assert.is(r.book.maxLearned, POOL_DEFAULTS.maxLearnedAddresses);
});

test('given options reach the shard and its peers; crawl implies connectLearned', () => {
  const r = resolveOptions({ network: 'regtest', crawl: true, handshakeTimeoutMs: 7, maxSendBuffer: 9, invBurst: 3, maxInbound: 2, listen: '127.0.0.1:0', proxy: '127.0.0.1:9050' });
  assert.is(r.pool.connectLearned, true);
  assert.is(r.shard.peer.handshakeTimeoutMs, 7);
  assert.is(r.shard.peer.maxSendBuffer, 9);
  assert.is(r.shard.invBurst, 3);
  assert.is(r.shard.maxInbound, 2);
  assert.equal(r.pool.listen, { host: '127.0.0.1', port: 0 });
  assert.equal(r.shard.proxy, { host: '127.0.0.1', port: 9050 });
  assert.ok(r.book.reachable!.includes('torv3'));
  assert.equal(r.pool.seedNames, r.network.dnsSeeds);
});

test.run();
