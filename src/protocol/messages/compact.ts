/**
 * BIP152 compact blocks: cmpctblock (header, nonce, 6-byte short ids, prefilled txs with
 * differentially encoded indexes), getblocktxn, blocktxn, and the short id computation
 * (SipHash-2-4 keyed by SHA256(header || nonce)). sendcmpct lives in control.ts.
 * Bitcoin Core blockencodings.h/.cpp. cmpctblock is an announcement (decoded per peer per block);
 * SipHash runs on 32-bit halves so no BigInt is made per id. Pure module, any thread.
 */
import { Status } from '../errors.js';
import { MAX_SIZE, type Reader } from '../reader.js';
import { varintSize, type Writer } from '../writer.js';
import type { MessageCodec } from '../message.js';
import { MAX_BIP152_INDEX } from '../constants.js';
import { sha256 } from '../hash.js';
import { hashToHex, toHex } from '../hex.js';
import { BLOCK_HEADER_SIZE, decodeHeader, encodeHeader, headerToJSON, serializeHeader, type BlockHeader } from './block.js';
import { MIN_TX_SIZE, decodeTx, encodeTx, encodedSizeTx, txToJSON, type TxMessage } from './tx.js';

/** Core blockencodings.h SHORTTXIDS_LENGTH. */
export const SHORTTXID_LENGTH = 6;

// ---------------------------------------------------------------------------------------------
// Short ids

/**
 * The SipHash key of one compact block: [k0 lo, k0 hi, k1 lo, k1 hi], where k0 and k1 are the
 * first two little-endian u64 of SHA256(header (80 bytes) || nonce (u64 LE)).
 */
export function shortIdKey(header: BlockHeader, nonce: bigint): Uint32Array {
  const pre = new Uint8Array(BLOCK_HEADER_SIZE + 8);
  pre.set(serializeHeader(header), 0);
  new DataView(pre.buffer).setBigUint64(BLOCK_HEADER_SIZE, BigInt.asUintN(64, nonce), true);
  const h = sha256(pre);
  const dv = new DataView(h.buffer, h.byteOffset, 32);
  return Uint32Array.of(dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true), dv.getUint32(12, true));
}

// SipHash state as 32-bit halves (module scope: the round function allocates nothing).
let v0l = 0, v0h = 0, v1l = 0, v1h = 0, v2l = 0, v2h = 0, v3l = 0, v3h = 0; // prettier-ignore

function sipRound(): void {
  let l: number, t: number;
  // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
  l = (v0l + v1l) >>> 0;
  v0h = (v0h + v1h + (l < v0l ? 1 : 0)) >>> 0;
  v0l = l;
  t = ((v1h << 13) | (v1l >>> 19)) >>> 0;
  v1l = ((v1l << 13) | (v1h >>> 19)) >>> 0;
  v1h = t;
  v1l = (v1l ^ v0l) >>> 0;
  v1h = (v1h ^ v0h) >>> 0;
  t = v0l;
  v0l = v0h;
  v0h = t;
  // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
  l = (v2l + v3l) >>> 0;
  v2h = (v2h + v3h + (l < v2l ? 1 : 0)) >>> 0;
  v2l = l;
  t = ((v3h << 16) | (v3l >>> 16)) >>> 0;
  v3l = ((v3l << 16) | (v3h >>> 16)) >>> 0;
  v3h = t;
  v3l = (v3l ^ v2l) >>> 0;
  v3h = (v3h ^ v2h) >>> 0;
  // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
  l = (v0l + v3l) >>> 0;
  v0h = (v0h + v3h + (l < v0l ? 1 : 0)) >>> 0;
  v0l = l;
  t = ((v3h << 21) | (v3l >>> 11)) >>> 0;
  v3l = ((v3l << 21) | (v3h >>> 11)) >>> 0;
  v3h = t;
  v3l = (v3l ^ v0l) >>> 0;
  v3h = (v3h ^ v0h) >>> 0;
  // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
  l = (v2l + v1l) >>> 0;
  v2h = (v2h + v1h + (l < v2l ? 1 : 0)) >>> 0;
  v2l = l;
  t = ((v1h << 17) | (v1l >>> 15)) >>> 0;
  v1l = ((v1l << 17) | (v1h >>> 15)) >>> 0;
  v1h = t;
  v1l = (v1l ^ v2l) >>> 0;
  v1h = (v1h ^ v2h) >>> 0;
  t = v2l;
  v2l = v2h;
  v2h = t;
}

function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/**
 * SipHash-2-4 of the 32-byte hash at `hash[off..)` with `key` (Core crypto/siphash.cpp
 * SipHashUint256), low 48 bits written to `out[outOff..outOff+6)` little-endian: the BIP152 short
 * id (version 2 hashes the wtxid, version 1 the txid).
 */
export function shortIdInto(key: Uint32Array, hash: Uint8Array, off: number, out: Uint8Array, outOff: number): void {
  const k0l = key[0]!, k0h = key[1]!, k1l = key[2]!, k1h = key[3]!; // prettier-ignore
  // "somepseudorandomlygeneratedbytes"
  v0l = (k0l ^ 0x70736575) >>> 0;
  v0h = (k0h ^ 0x736f6d65) >>> 0;
  v1l = (k1l ^ 0x6e646f6d) >>> 0;
  v1h = (k1h ^ 0x646f7261) >>> 0;
  v2l = (k0l ^ 0x6e657261) >>> 0;
  v2h = (k0h ^ 0x6c796765) >>> 0;
  v3l = (k1l ^ 0x79746573) >>> 0;
  v3h = (k1h ^ 0x74656462) >>> 0;
  for (let i = 0; i < 4; i++) {
    const ml = le32(hash, off + 8 * i);
    const mh = le32(hash, off + 8 * i + 4);
    v3l = (v3l ^ ml) >>> 0;
    v3h = (v3h ^ mh) >>> 0;
    sipRound();
    sipRound();
    v0l = (v0l ^ ml) >>> 0;
    v0h = (v0h ^ mh) >>> 0;
  }
  // Final block: the message length (32) in the top byte, no tail bytes.
  v3h = (v3h ^ 0x20000000) >>> 0;
  sipRound();
  sipRound();
  v0h = (v0h ^ 0x20000000) >>> 0;
  v2l = (v2l ^ 0xff) >>> 0;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  const rl = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  const rh = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
  out[outOff] = rl;
  out[outOff + 1] = rl >>> 8;
  out[outOff + 2] = rl >>> 16;
  out[outOff + 3] = rl >>> 24;
  out[outOff + 4] = rh;
  out[outOff + 5] = rh >>> 8;
}

/** The short ids of `n` packed 32-byte hashes (wtxids for version 2), 6 bytes each in wire order. */
export function shortIds(key: Uint32Array, hashes: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(SHORTTXID_LENGTH * n);
  for (let i = 0; i < n; i++) shortIdInto(key, hashes, 32 * i, out, SHORTTXID_LENGTH * i);
  return out;
}

// ---------------------------------------------------------------------------------------------
// cmpctblock

export interface PrefilledTx {
  /** Absolute position in the block (the wire carries the difference to the previous one, minus 1). */
  index: number;
  tx: TxMessage;
}

export interface CmpctBlockMessage {
  header: BlockHeader;
  nonce: bigint;
  /** All short ids packed, 6 bytes each in wire order (one view: no object per id). */
  shortIds: Uint8Array;
  prefilled: PrefilledTx[];
}

/** Smallest prefilled entry: a 1-byte index and a minimal transaction. */
const MIN_PREFILLED_SIZE = 1 + MIN_TX_SIZE;

/**
 * Reads a differentially encoded index list entry: returns the absolute index or -1 after failing
 * the reader with BAD_VALUE when it passes 0xffff (Core DifferenceFormatter "differential value
 * overflow"; PartiallyDownloadedBlock::InitData for prefilled indexes).
 */
function readIndex(r: Reader, last: number): number {
  const diff = r.varint();
  if (r.err !== 0) return -1;
  const idx = last + 1 + diff;
  if (idx > MAX_BIP152_INDEX) {
    r.fail(Status.BAD_VALUE);
    return -1;
  }
  return idx;
}

export function decodeCmpctBlock(r: Reader): CmpctBlockMessage {
  const header = decodeHeader(r);
  const nonce = r.u64();
  const nShort = r.count(MAX_BIP152_INDEX, SHORTTXID_LENGTH);
  const ids = r.bytes(SHORTTXID_LENGTH * nShort);
  const nPre = r.count(MAX_BIP152_INDEX, MIN_PREFILLED_SIZE);
  // Core: "indexes overflowed 16 bits" when short ids + prefilled exceed a uint16 position.
  if (r.err === 0 && nShort + nPre > MAX_BIP152_INDEX) r.fail(Status.BAD_VALUE);
  const prefilled: PrefilledTx[] = [];
  let last = -1;
  for (let i = 0; i < nPre && r.err === 0; i++) {
    const index = readIndex(r, last);
    if (r.err !== 0) break;
    // Core InitData: a prefilled index past (short ids + prefilled so far) names a tx that is in
    // neither list, so the block cannot be rebuilt.
    if (index > nShort + i) {
      r.fail(Status.BAD_VALUE);
      break;
    }
    last = index;
    prefilled.push({ index, tx: decodeTx(r) });
  }
  return { header, nonce, shortIds: ids, prefilled };
}

export function encodeCmpctBlock(w: Writer, m: CmpctBlockMessage): void {
  encodeHeader(w, m.header);
  w.u64(m.nonce);
  w.varint(m.shortIds.length / SHORTTXID_LENGTH);
  w.bytes(m.shortIds);
  w.varint(m.prefilled.length);
  let last = -1;
  for (const p of m.prefilled) {
    w.varint(p.index - last - 1);
    last = p.index;
    encodeTx(w, p.tx);
  }
}

export function encodedSizeCmpctBlock(m: CmpctBlockMessage): number {
  let n = BLOCK_HEADER_SIZE + 8 + varintSize(m.shortIds.length / SHORTTXID_LENGTH) + m.shortIds.length;
  n += varintSize(m.prefilled.length);
  let last = -1;
  for (const p of m.prefilled) {
    n += varintSize(p.index - last - 1) + encodedSizeTx(p.tx);
    last = p.index;
  }
  return n;
}

/** Short id `i` as the vectors print it: the 6-byte little-endian integer in big-endian hex. */
export function shortIdHex(ids: Uint8Array, i: number): string {
  let s = '';
  for (let k = SHORTTXID_LENGTH - 1; k >= 0; k--) s += toHex(ids, SHORTTXID_LENGTH * i + k, 1);
  return s;
}

export function cmpctBlockToJSON(m: CmpctBlockMessage): Record<string, unknown> {
  const n = m.shortIds.length / SHORTTXID_LENGTH;
  const shortIdsHex: string[] = [];
  for (let i = 0; i < n; i++) shortIdsHex.push(shortIdHex(m.shortIds, i));
  let last = -1;
  return {
    header: headerToJSON(m.header),
    nonce: m.nonce.toString(),
    shortIds: shortIdsHex,
    prefilledTxs: m.prefilled.map((p) => {
      const indexDiff = p.index - last - 1;
      last = p.index;
      return { ...txToJSON(p.tx), indexDiff, index: p.index };
    }),
  };
}

export const cmpctBlockCodec: MessageCodec<CmpctBlockMessage> = {
  command: 'cmpctblock',
  decode: decodeCmpctBlock,
  encode: encodeCmpctBlock,
  encodedSize: encodedSizeCmpctBlock,
  toJSON: cmpctBlockToJSON,
};

// ---------------------------------------------------------------------------------------------
// getblocktxn

export interface GetBlockTxnMessage {
  /** Wire order. */
  blockHash: Uint8Array;
  /** Absolute, strictly increasing positions in the block (each <= 0xffff). */
  indexes: number[];
}

/** At most 0x10000 distinct uint16 positions: any longer list must overflow. */
const MAX_GETBLOCKTXN_INDEXES = MAX_BIP152_INDEX + 1;

export function decodeGetBlockTxn(r: Reader): GetBlockTxnMessage {
  const blockHash = r.hash();
  const n = r.count(MAX_GETBLOCKTXN_INDEXES, 1);
  const indexes: number[] = [];
  let last = -1;
  for (let i = 0; i < n && r.err === 0; i++) {
    const idx = readIndex(r, last);
    if (r.err !== 0) break;
    indexes.push(idx);
    last = idx;
  }
  return { blockHash, indexes };
}

export function encodeGetBlockTxn(w: Writer, m: GetBlockTxnMessage): void {
  w.bytes(m.blockHash);
  w.varint(m.indexes.length);
  let last = -1;
  for (const idx of m.indexes) {
    w.varint(idx - last - 1);
    last = idx;
  }
}

export function encodedSizeGetBlockTxn(m: GetBlockTxnMessage): number {
  let n = 32 + varintSize(m.indexes.length);
  let last = -1;
  for (const idx of m.indexes) {
    n += varintSize(idx - last - 1);
    last = idx;
  }
  return n;
}

export function getBlockTxnToJSON(m: GetBlockTxnMessage): Record<string, unknown> {
  return { blockHash: hashToHex(m.blockHash), indexes: m.indexes.slice() };
}

export const getBlockTxnCodec: MessageCodec<GetBlockTxnMessage> = {
  command: 'getblocktxn',
  decode: decodeGetBlockTxn,
  encode: encodeGetBlockTxn,
  encodedSize: encodedSizeGetBlockTxn,
  toJSON: getBlockTxnToJSON,
};

// ---------------------------------------------------------------------------------------------
// blocktxn

export interface BlockTxnMessage {
  /** Wire order. */
  blockHash: Uint8Array;
  txs: TxMessage[];
}

export function decodeBlockTxn(r: Reader): BlockTxnMessage {
  const blockHash = r.hash();
  const n = r.count(MAX_SIZE, MIN_TX_SIZE);
  const txs: TxMessage[] = [];
  for (let i = 0; i < n && r.err === 0; i++) txs.push(decodeTx(r));
  return { blockHash, txs };
}

export function encodeBlockTxn(w: Writer, m: BlockTxnMessage): void {
  w.bytes(m.blockHash);
  w.varint(m.txs.length);
  for (const t of m.txs) encodeTx(w, t);
}

export function encodedSizeBlockTxn(m: BlockTxnMessage): number {
  let n = 32 + varintSize(m.txs.length);
  for (const t of m.txs) n += encodedSizeTx(t);
  return n;
}

export function blockTxnToJSON(m: BlockTxnMessage): Record<string, unknown> {
  return { blockHash: hashToHex(m.blockHash), txs: m.txs.map(txToJSON) };
}

export const blockTxnCodec: MessageCodec<BlockTxnMessage> = {
  command: 'blocktxn',
  decode: decodeBlockTxn,
  encode: encodeBlockTxn,
  encodedSize: encodedSizeBlockTxn,
  toJSON: blockTxnToJSON,
};

export const codecs: readonly MessageCodec<any>[] = [cmpctBlockCodec, getBlockTxnCodec, blockTxnCodec];
