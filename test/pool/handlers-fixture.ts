/**
 * A handler module for test/pool/handlers.test.ts, loaded by every shard of the test's pool
 * (compiled to dist/test/pool/handlers-fixture.js). Each handler posts what it saw so the test can
 * check the arguments; some throw or reject on purpose to check that errors are counted, not fatal.
 */
import type { HandlerContext } from '../../src/pool/index.js';
import { hashToHex } from '../../src/protocol/hex.js';

export function setup(ctx: HandlerContext): void {
  let invs = 0;
  // Decoded: the handler may keep the message (a copy).
  ctx.on('inv', (peer, msg, rxTime) => {
    invs++;
    ctx.post({ what: 'inv', shard: ctx.shard, peer, rxTime, address: ctx.address(peer), hashes: msg.inventory.map((e) => hashToHex(e.hash)) });
  });
  // Raw: the payload view; a hash starting with ee makes it throw.
  ctx.on(
    'inv',
    (peer, payload, rxTime) => {
      if (payload[5] === 0xee) throw new Error('boom from a raw inv handler');
      ctx.post({ what: 'raw-inv', peer, rxTime, length: payload.length, count: payload[0] });
    },
    { raw: true },
  );
  ctx.on('ready', (peer, remote) => {
    ctx.post({ what: 'ready', shard: ctx.shard, peer, userAgent: remote.userAgent });
    ctx.send(peer, 'getaddr', {});
  });
  ctx.on('close', (peer, reason) => ctx.post({ what: 'close', peer, reason }));
  // A non-ring command, decoded by the peer itself.
  ctx.on('feefilter', (peer, msg, rxTime) => ctx.post({ what: 'feefilter', peer, rxTime, feerate: msg.feerate.toString() }));
  // An async handler that rejects: counted like a throw.
  ctx.on('mempool', async () => {
    await Promise.resolve();
    throw new Error('async boom');
  });
  // Asked to close: the handler closes the peer.
  ctx.on('notfound', (peer) => ctx.close(peer, 'told to'));
  // A post that cannot be cloned (a function): post() returns false and counts an error.
  ctx.on('sendheaders', (peer) => ctx.post({ what: 'bad', peer, fn: () => 1, ok: ctx.post({ what: 'cloneable' }) }));
  // Sending something that does not encode: false, counted.
  ctx.on('getheaders', (peer) => ctx.post({ what: 'bad-send', sent: ctx.send(peer, 'ping', {} as never) }));
  ctx.on('stop', () => ctx.post({ what: 'stop', shard: ctx.shard, invs, options: ctx.options }));
}
