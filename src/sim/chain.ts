/**
 * The simulator server's view of the block chain: simulated blocks in the order the server first
 * saw them learned, each block's decoded header, its one-header `headers` payload and its BIP152
 * cmpctblock (built once per block, as Core caches one). Simulator process, main thread; cold
 * (a few blocks per run), read when announcing and answering getheaders.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { MAX_HEADERS_RESULTS } from '../protocol/constants.js';
import { encodeMessage } from '../protocol/registry.js';
import { Reader } from '../protocol/reader.js';
import { BLOCK_HEADER_SIZE, decodeBlock, decodeHeader, type BlockHeader } from '../protocol/messages/block.js';
import { shortIdKey, shortIds, type CmpctBlockMessage } from '../protocol/messages/compact.js';
import { toHex } from '../protocol/hex.js';
import type { SimItem, SimNodeInfo } from './types.js';

interface BlockCache {
  header: BlockHeader;
  headersPayload: Uint8Array;
  cmpctPayload: Uint8Array | null;
}

export class SimChain {
  /** Blocks in the order the server first saw them learned (the chain, oldest first). */
  private readonly blocks: SimItem[] = [];
  private readonly index = new Map<string, number>();
  private readonly cache = new Map<number, BlockCache>();

  /** Appends a block the first time any node learns it. */
  add(item: SimItem): void {
    const key = toHex(item.hash);
    if (this.index.has(key)) return;
    this.index.set(key, this.blocks.length);
    this.blocks.push(item);
  }

  /** The node's height: its identity's start height plus the simulated blocks it knows. */
  height(node: number, info: SimNodeInfo, knows: (node: number, itemId: number) => boolean): number {
    let h = info.startHeight;
    for (const b of this.blocks) if (knows(node, b.id)) h++;
    return h;
  }

  /** Headers after the first locator hash the node knows, up to `hashStop` or Core's 2,000. */
  headersAfter(node: number, locator: readonly Uint8Array[], hashStop: Uint8Array, knows: (node: number, itemId: number) => boolean): BlockHeader[] {
    let start = 0;
    for (const h of locator) {
      const i = this.index.get(toHex(h));
      if (i !== undefined && knows(node, this.blocks[i]!.id)) {
        start = i + 1;
        break;
      }
    }
    const stop = toHex(hashStop);
    const headers: BlockHeader[] = [];
    for (let i = start; i < this.blocks.length && headers.length < MAX_HEADERS_RESULTS; i++) {
      const b = this.blocks[i]!;
      if (!knows(node, b.id)) break;
      headers.push(this.data(b).header);
      if (toHex(b.hash) === stop) break;
    }
    return headers;
  }

  /** The block's header and its `headers` payload, decoded and encoded once. */
  data(item: SimItem): BlockCache {
    let b = this.cache.get(item.id);
    if (b) return b;
    const headerBytes = item.header ?? item.raw.subarray(0, BLOCK_HEADER_SIZE);
    const header = decodeHeader(new Reader(headerBytes, 0, BLOCK_HEADER_SIZE));
    b = { header, headersPayload: encodeMessage('headers', { headers: [header] }), cmpctPayload: null };
    this.cache.set(item.id, b);
    return b;
  }

  /**
   * The block's BIP152 cmpctblock, built once per block (Core caches one per block too): the
   * coinbase prefilled, short ids of the other transactions' wtxids (version 2).
   */
  cmpctPayload(item: SimItem): Uint8Array {
    const b = this.data(item);
    if (b.cmpctPayload) return b.cmpctPayload;
    const block = decodeBlock(new Reader(item.raw, 0, item.raw.length));
    const nonce = cryptoRandomBytes(8).readBigUInt64LE(0);
    const key = shortIdKey(block.header, nonce);
    const wtxids = block.wtxids();
    const msg: CmpctBlockMessage = {
      header: block.header,
      nonce,
      shortIds: shortIds(key, wtxids.subarray(32), block.txCount - 1),
      prefilled: [{ index: 0, tx: block.tx(0) }],
    };
    b.cmpctPayload = encodeMessage('cmpctblock', msg);
    return b.cmpctPayload;
  }
}
