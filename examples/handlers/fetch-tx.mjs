/**
 * A handler module: it runs inside every shard of the pool (examples/handlers.mjs loads it with
 * `new Coordinator({ handlers: new URL('./handlers/fetch-tx.mjs', import.meta.url) })`).
 * pycoin-style, where the bytes are: every transaction announced to this shard is fetched once with
 * getdata from the first peer that announced it; the tx answers are decoded and measured here, and
 * only a small summary per shard crosses to the main thread (ctx.post) when the pool stops.
 */
import { InvType, MSG_WITNESS_FLAG, hashToHex, tx as txCodec } from 'invscope/protocol';

/** @param {import('invscope/pool').HandlerContext} ctx */
export function setup(ctx) {
  const { maxTracked = 100_000 } = /** @type {{ maxTracked?: number }} */ (ctx.options ?? {});
  /** wtxid or txid (display hex) -> the inv's receive time, for items we asked for */
  const asked = new Map();
  const s = { shard: ctx.shard, announced: 0, requested: 0, fetched: 0, notfound: 0, bytes: 0, weight: 0, waitMs: [] };

  // Decoded inv: the entries of one message, with the time its bytes arrived.
  ctx.on('inv', (peer, msg, rxTime) => {
    const want = [];
    for (const e of msg.inventory) {
      const type = e.type & ~MSG_WITNESS_FLAG;
      if (type !== InvType.MSG_TX && type !== InvType.MSG_WTX) continue;
      s.announced++;
      const key = hashToHex(e.hash);
      if (asked.has(key) || asked.size >= maxTracked) continue;
      asked.set(key, rxTime);
      want.push(e);
    }
    if (want.length > 0 && ctx.send(peer, 'getdata', { inventory: want })) s.requested += want.length;
  });

  // Raw tx: its size on the wire (the view is only valid during the call).
  ctx.on('tx', (_peer, payload) => (s.bytes += payload.length), { raw: true });

  // Decoded tx: which request it answers, and how long after the announcement it came.
  ctx.on('tx', (_peer, tx, rxTime) => {
    const t = asked.get(hashToHex(txCodec.wtxidOf(tx))) ?? asked.get(hashToHex(txCodec.txidOf(tx)));
    if (t === undefined) return;
    s.fetched++;
    s.weight += txCodec.weightTx(tx);
    if (s.waitMs.length < 10_000) s.waitMs.push(rxTime - t);
  });

  ctx.on('notfound', (_peer, msg) => (s.notfound += msg.inventory.length));

  ctx.on('stop', () => {
    const w = s.waitMs.sort((a, b) => a - b);
    ctx.post({ ...s, waitMs: undefined, medianWaitMs: w.length ? w[w.length >> 1] : null });
  });
}
