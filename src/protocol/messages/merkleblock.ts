/**
 * merkleblock (BIP37): a block header and a partial merkle tree (total tx count, hashes, flag
 * bits), and the tree's extraction into matched txids and a computed root (Bitcoin Core
 * merkleblock.cpp CPartialMerkleTree::ExtractMatches, with all of its checks).
 * Cold path (SPV-style queries); pure module, any thread.
 */
import { Status } from '../errors.js';
import { MAX_SIZE, type Reader } from '../reader.js';
import { varintSize, type Writer } from '../writer.js';
import type { MessageCodec } from '../message.js';
import { sha256dInto } from '../checksum.js';
import { hashToHex, toHex } from '../hex.js';
import { MAX_BLOCK_WEIGHT } from '../constants.js';
import { BLOCK_HEADER_SIZE, decodeHeader, encodeHeader, headerToJSON, type BlockHeader } from './block.js';

/** Core consensus/consensus.h MIN_TRANSACTION_WEIGHT (4 x 60): bounds the tx count of a block. */
const MIN_TRANSACTION_WEIGHT = 240;
/** Core ExtractMatches: "check for excessively high numbers of transactions". */
export const MAX_MERKLEBLOCK_TRANSACTIONS = Math.floor(MAX_BLOCK_WEIGHT / MIN_TRANSACTION_WEIGHT);

export interface MerkleBlockMessage {
  header: BlockHeader;
  totalTransactions: number;
  /** The tree's hashes, wire order (views). */
  hashes: Uint8Array[];
  /** Flag bits, least significant bit of byte 0 first. */
  flags: Uint8Array;
}

/**
 * Counts are bounded by the bytes present (32 per hash, 1 per flag byte); the tree's own
 * consistency (hashes <= transactions, enough bits) is checked by extractMatches, as in Core,
 * where deserialization accepts what the traversal later rejects.
 */
export function decodeMerkleBlock(r: Reader): MerkleBlockMessage {
  const header = decodeHeader(r);
  const totalTransactions = r.u32();
  const n = r.count(MAX_SIZE, 32);
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < n && r.err === 0; i++) hashes.push(r.hash());
  const flags = r.varBytes(MAX_SIZE);
  return { header, totalTransactions, hashes, flags };
}

export function encodeMerkleBlock(w: Writer, m: MerkleBlockMessage): void {
  encodeHeader(w, m.header);
  w.u32(m.totalTransactions);
  w.varint(m.hashes.length);
  for (const h of m.hashes) w.bytes(h);
  w.varBytes(m.flags);
}

export function encodedSizeMerkleBlock(m: MerkleBlockMessage): number {
  return BLOCK_HEADER_SIZE + 4 + varintSize(m.hashes.length) + 32 * m.hashes.length + varintSize(m.flags.length) + m.flags.length;
}

export interface PartialMerkleResult {
  /** 0, or BAD_VALUE when the tree is inconsistent (Core returns a null root then). */
  status: number;
  /** The computed merkle root (compare with header.merkleRoot), wire order; zeros on failure. */
  root: Uint8Array;
  /** Matched txids in tree order, wire order. */
  matches: Uint8Array[];
  /** Their positions in the block. */
  indexes: number[];
}

/** Core CPartialMerkleTree::ExtractMatches on a decoded merkleblock. */
export function extractMatches(m: MerkleBlockMessage): PartialMerkleResult {
  const fail: PartialMerkleResult = { status: Status.BAD_VALUE, root: new Uint8Array(32), matches: [], indexes: [] };
  const nTx = m.totalTransactions;
  const hashes = m.hashes;
  const nBits = m.flags.length * 8;
  if (nTx === 0 || nTx > MAX_MERKLEBLOCK_TRANSACTIONS) return fail;
  if (hashes.length > nTx) return fail;
  if (nBits < hashes.length) return fail;
  const width = (h: number): number => Math.floor((nTx + 2 ** h - 1) / 2 ** h);
  let height = 0;
  while (width(height) > 1) height++;
  let bitsUsed = 0;
  let hashUsed = 0;
  let bad = false;
  const matches: Uint8Array[] = [];
  const indexes: number[] = [];
  const pair = new Uint8Array(64);

  // Recursion depth is the tree height (<= 15 for 16,666 transactions).
  const traverse = (h: number, pos: number): Uint8Array => {
    if (bitsUsed >= nBits) {
      bad = true;
      return new Uint8Array(32);
    }
    const bit = (m.flags[bitsUsed >> 3]! >> (bitsUsed & 7)) & 1;
    bitsUsed++;
    if (h === 0 || bit === 0) {
      if (hashUsed >= hashes.length) {
        bad = true;
        return new Uint8Array(32);
      }
      const hash = hashes[hashUsed++]!;
      if (h === 0 && bit === 1) {
        matches.push(hash);
        indexes.push(pos);
      }
      return hash;
    }
    const left = traverse(h - 1, pos * 2);
    let right = left;
    if (pos * 2 + 1 < width(h - 1)) {
      right = traverse(h - 1, pos * 2 + 1);
      // CVE-2012-2459: identical siblings would let two different trees share a root.
      let same = true;
      for (let i = 0; i < 32; i++) if (left[i] !== right[i]) same = false;
      if (same) bad = true;
    }
    pair.set(left, 0);
    pair.set(right, 32);
    const out = new Uint8Array(32);
    sha256dInto(pair, 0, 64, out, 0);
    return out;
  };

  const root = traverse(height, 0);
  if (bad) return fail;
  // All bits used, except the padding of the last flag byte; all hashes used.
  if (((bitsUsed + 7) >> 3) !== m.flags.length) return fail;
  if (hashUsed !== hashes.length) return fail;
  return { status: 0, root, matches, indexes };
}

/**
 * Core CPartialMerkleTree(vTxid, vMatch): the hashes and flag bytes of a partial merkle tree over
 * `n` packed txids (wire order) proving the transactions where `match[i]` is true. For servers
 * (the simulator) and tests.
 */
export function buildPartialMerkleTree(
  txids: Uint8Array,
  n: number,
  match: readonly boolean[],
): { hashes: Uint8Array[]; flags: Uint8Array } {
  const width = (h: number): number => Math.floor((n + 2 ** h - 1) / 2 ** h);
  const pair = new Uint8Array(64);
  const calcHash = (h: number, pos: number): Uint8Array => {
    if (h === 0) return txids.subarray(32 * pos, 32 * pos + 32);
    const left = calcHash(h - 1, pos * 2);
    const right = pos * 2 + 1 < width(h - 1) ? calcHash(h - 1, pos * 2 + 1) : left;
    pair.set(left, 0);
    pair.set(right, 32);
    const out = new Uint8Array(32);
    sha256dInto(pair, 0, 64, out, 0);
    return out;
  };
  const bits: boolean[] = [];
  const hashes: Uint8Array[] = [];
  const build = (h: number, pos: number): void => {
    let parentOfMatch = false;
    for (let p = pos * 2 ** h; p < (pos + 1) * 2 ** h && p < n; p++) parentOfMatch ||= match[p] === true;
    bits.push(parentOfMatch);
    if (h === 0 || !parentOfMatch) hashes.push(calcHash(h, pos));
    else {
      build(h - 1, pos * 2);
      if (pos * 2 + 1 < width(h - 1)) build(h - 1, pos * 2 + 1);
    }
  };
  let height = 0;
  while (width(height) > 1) height++;
  build(height, 0);
  const flags = new Uint8Array((bits.length + 7) >> 3);
  for (let i = 0; i < bits.length; i++) if (bits[i]) flags[i >> 3]! |= 1 << (i & 7);
  return { hashes, flags };
}

export function merkleBlockToJSON(m: MerkleBlockMessage): Record<string, unknown> {
  return {
    header: headerToJSON(m.header),
    totalTransactions: m.totalTransactions,
    hashes: m.hashes.map((h) => hashToHex(h)),
    flagsHex: toHex(m.flags),
  };
}

export const merkleBlockCodec: MessageCodec<MerkleBlockMessage> = {
  command: 'merkleblock',
  decode: decodeMerkleBlock,
  encode: encodeMerkleBlock,
  encodedSize: encodedSizeMerkleBlock,
  toJSON: merkleBlockToJSON,
};

export const codecs: readonly MessageCodec<any>[] = [merkleBlockCodec];
