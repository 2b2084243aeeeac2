/**
 * The simulator server's answers to an observer's requests, as Core's ProcessMessage for an
 * inbound peer (net_processing.cpp): one getaddr per connection (23 % of the address table, with
 * a share of Tor v3 / I2P addresses on addrv2), getdata (tx, block, cmpctblock, notfound for txs),
 * getheaders from the first known locator hash. Simulator process, main thread; cold.
 */
import { InvType, MAX_ADDR_TO_SEND, Services, type NetworkParams } from '../protocol/constants.js';
import type { MessageMap } from '../protocol/registry.js';
import { NetworkId, ipV1FromString, parseNetAddr, type AddrEntry, type AddrV2Entry } from '../protocol/messages/address.js';
import type { InvEntry } from '../protocol/messages/inventory.js';
import { bytesEqual } from '../protocol/hash.js';
import type { Rng } from './rng.js';
import type { SimChain } from './chain.js';
import type { Conn, SimModelView, SimServerStats } from './conn.js';

/** Core net_processing.cpp MAX_PCT_ADDR_TO_SEND: a getaddr answer holds 23 % of the address table. */
const MAX_PCT_ADDR_TO_SEND = 23;
/** Share of a getaddr answer (addrv2 only) that is Tor v3 / I2P addresses leading nowhere. */
const FAKE_ADDR_SHARE = 0.1;
/** BIP155 Tor v3 addresses carry the node's port; I2P has no ports (Core I2P_SAM31_PORT = 0). */
const I2P_PORT = 0;
/** Services of the fake Tor/I2P entries: NODE_NETWORK | NODE_WITNESS | NODE_NETWORK_LIMITED. */
const FAKE_SERVICES = Services.NODE_NETWORK | Services.NODE_WITNESS | Services.NODE_NETWORK_LIMITED;
/** Core's addrman timestamps are up to days old; a few hours is enough to look real. */
const ADDR_AGE_MAX_S = 3 * 3600;

export interface AnswerDeps {
  model: SimModelView;
  network: NetworkParams;
  stats: SimServerStats;
  chain: SimChain;
  /** The server's seeded stream (getaddr picks and fake addresses). */
  rng: Rng;
}

/** Up to `want` other nodes: the node's neighbours first, then random ones. */
function pickAddresses(d: AnswerDeps, node: number, want: number): Set<number> {
  const total = d.model.nodes.length;
  const picked = new Set<number>();
  for (const n of d.model.neighbors(node)) if (picked.size < want && n !== node) picked.add(n);
  for (let tries = 0; picked.size < Math.min(want, total - 1) && tries < want * 4; tries++) {
    const n = d.rng.int(total);
    if (n !== node) picked.add(n);
  }
  return picked;
}

/** Core answers one getaddr per connection, from inbound peers (the observer is one). */
export function answerGetAddr(d: AnswerDeps, c: Conn): void {
  if (c.getaddrDone || !c.ready) return;
  c.getaddrDone = true;
  const peer = c.peer!;
  const nodes = d.model.nodes;
  const want = Math.min(MAX_ADDR_TO_SEND, Math.max(1, Math.ceil((nodes.length * MAX_PCT_ADDR_TO_SEND) / 100)));
  const picked = pickAddresses(d, c.node, want);
  const nowSec = Math.floor(Date.now() / 1000);
  const time = (): number => nowSec - d.rng.int(ADDR_AGE_MAX_S);
  if (peer.remote?.sendAddrV2) {
    const addrs: AddrV2Entry[] = [];
    for (const n of picked) {
      const info = nodes[n]!;
      addrs.push({ time: time(), services: info.services, networkId: NetworkId.IPV4, addr: parseNetAddr(info.host)!.addr, port: info.port });
    }
    const fakes = Math.max(2, Math.round(addrs.length * FAKE_ADDR_SHARE));
    for (let i = 0; i < fakes && addrs.length < MAX_ADDR_TO_SEND; i++) {
      const tor = i % 2 === 0;
      addrs.push({
        time: time(),
        services: FAKE_SERVICES,
        networkId: tor ? NetworkId.TORV3 : NetworkId.I2P,
        addr: d.rng.bytes(32),
        port: tor ? d.network.defaultPort : I2P_PORT,
      });
    }
    // Shuffled so the fakes are not all at the end (Core's answer comes from a shuffled addrman).
    d.rng.shuffle(addrs);
    peer.send('addrv2', { addrs });
  } else {
    const addrs: AddrEntry[] = [];
    for (const n of picked) {
      const info = nodes[n]!;
      addrs.push({ time: time(), services: info.services, ip: ipV1FromString(info.host)!, port: info.port });
    }
    peer.send('addr', { addrs });
  }
  d.stats.served++;
}

export function answerGetData(d: AnswerDeps, c: Conn, m: MessageMap['getdata']): void {
  const peer = c.peer!;
  const notfound: InvEntry[] = [];
  for (const e of m.inventory) {
    const type = e.type >>> 0;
    const isTx = type === InvType.MSG_TX || type === InvType.MSG_WITNESS_TX || type === InvType.MSG_WTX;
    const isBlock = type === InvType.MSG_BLOCK || type === InvType.MSG_WITNESS_BLOCK || type === InvType.MSG_CMPCT_BLOCK;
    const item = isTx || isBlock ? d.model.itemByHash(e.hash) : undefined;
    const matches =
      item !== undefined &&
      d.model.knows(c.node, item.id) &&
      (isTx ? item.kind === 'tx' : item.kind === 'block') &&
      // MSG_WTX asks by wtxid, MSG_TX/MSG_WITNESS_TX by txid (BIP339).
      (type === InvType.MSG_WTX ? bytesEqual(item.wtxid, e.hash) : isBlock || bytesEqual(item.hash, e.hash));
    if (!matches) {
      notfound.push({ type: e.type, hash: e.hash });
      continue;
    }
    // Core sends the witness serialization to every peer that asks for a witness type or by
    // wtxid; sim items are stored with witnesses, and legacy ones serialize the same either way.
    if (isTx) peer.sendRaw('tx', item.raw);
    else if (type === InvType.MSG_CMPCT_BLOCK) peer.sendRaw('cmpctblock', d.chain.cmpctPayload(item));
    else peer.sendRaw('block', item.raw);
    d.stats.served++;
  }
  // Core: one notfound for every tx it cannot serve (blocks it does not have are ignored).
  const txMissing = notfound.filter((e) => e.type >>> 0 !== InvType.MSG_BLOCK && e.type >>> 0 !== InvType.MSG_WITNESS_BLOCK);
  if (txMissing.length > 0) {
    peer.send('notfound', { inventory: txMissing });
    d.stats.served++;
  }
}

export function answerGetHeaders(d: AnswerDeps, c: Conn, m: MessageMap['getheaders']): void {
  const headers = d.chain.headersAfter(c.node, m.locator, m.hashStop, (n, id) => d.model.knows(n, id));
  c.peer!.send('headers', { headers });
  d.stats.served++;
}
