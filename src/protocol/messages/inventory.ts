/**
 * inv, getdata and notfound: one payload codec (CompactSize count, then u32 type + 32-byte hash
 * per entry; Bitcoin Core protocol.h CInv, net_processing.cpp MAX_INV_SZ), and `scanInv`, the
 * zero-allocation validator the shard workers run on every inv of every peer.
 * Pure module, any thread. scanInv/invEntryOffset/invEntryType are the HOT PATH: no allocation,
 * no exception, no DataView; the object codec is for the cold side (getdata out, CLI, tests).
 */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { varintSize } from '../writer.js';
import { MAX_SIZE } from '../reader.js';
import { Status } from '../errors.js';
import { MAX_INV_SZ, invTypeName, type CommandName } from '../constants.js';
import type { MessageCodec } from '../message.js';
import { hashToHex } from '../hex.js';

/** Bytes of one inventory entry: u32 type + 32-byte hash. */
export const INV_ENTRY_SIZE = 36;

export interface InvEntry {
  /** Inventory type (InvType), a u32. */
  type: number;
  /** 32 bytes, wire order (a view into the decoded buffer). */
  hash: Uint8Array;
}

export interface InvMessage {
  inventory: InvEntry[];
}
export type GetDataMessage = InvMessage;
export type NotFoundMessage = InvMessage;

export function decodeInv(r: Reader): InvMessage {
  const n = r.count(MAX_INV_SZ, INV_ENTRY_SIZE);
  const inventory: InvEntry[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const type = r.u32();
    inventory[i] = { type, hash: r.hash() };
  }
  return { inventory: r.err === 0 ? inventory : [] };
}

export function encodeInv(w: Writer, m: InvMessage): void {
  w.varint(m.inventory.length);
  for (const e of m.inventory) {
    w.u32(e.type);
    w.bytes(e.hash);
  }
}

export function encodedSizeInv(m: InvMessage): number {
  return varintSize(m.inventory.length) + INV_ENTRY_SIZE * m.inventory.length;
}

export const decodeGetData = decodeInv;
export const encodeGetData = encodeInv;
export const encodedSizeGetData = encodedSizeInv;
export const decodeNotFound = decodeInv;
export const encodeNotFound = encodeInv;
export const encodedSizeNotFound = encodedSizeInv;

export function invToJSON(m: InvMessage): Record<string, unknown> {
  return { inventory: m.inventory.map((e) => ({ type: e.type, typeName: invTypeName(e.type), hash: hashToHex(e.hash) })) };
}

function invCodecFor(command: CommandName): MessageCodec<InvMessage> {
  return { command, decode: decodeInv, encode: encodeInv, encodedSize: encodedSizeInv, toJSON: invToJSON };
}

export const invCodec = invCodecFor('inv');
export const getdataCodec = invCodecFor('getdata');
export const notfoundCodec = invCodecFor('notfound');

export const codecs: readonly MessageCodec<any>[] = [invCodec, getdataCodec, notfoundCodec];

// ---------------------------------------------------------------------------------------------
// Hot path

/**
 * Validates the inv/getdata/notfound payload `buf[off, off+len)` in place and returns its entry
 * count (>= 0), or the negated status when it is malformed; the statuses are exactly those of
 * `decodeInv` followed by `r.finish()`:
 *   -TRUNCATED       the count is cut off, or fewer than count * 36 bytes follow it
 *   -NON_CANONICAL   the count is not in its shortest CompactSize form
 *   -SIZE_TOO_LARGE  the count is above MAX_SIZE (0x02000000)
 *   -TOO_MANY_ITEMS  the count is above MAX_INV_SZ (50,000)
 *   -TRAILING_BYTES  more than count * 36 bytes follow it
 * Reads the count bytes directly: no DataView, no allocation, no exception.
 * Entry i then starts at `invEntryOffset(off, count, i)`.
 */
export function scanInv(buf: Uint8Array, off: number, len: number): number {
  if (len < 1) return -Status.TRUNCATED;
  const first = buf[off]!;
  let count: number;
  let prefix: number;
  if (first < 0xfd) {
    count = first;
    prefix = 1;
  } else if (first === 0xfd) {
    if (len < 3) return -Status.TRUNCATED;
    count = buf[off + 1]! | (buf[off + 2]! << 8);
    if (count < 0xfd) return -Status.NON_CANONICAL;
    prefix = 3;
  } else if (first === 0xfe) {
    if (len < 5) return -Status.TRUNCATED;
    // >>> 0 keeps the top byte unsigned.
    count = (buf[off + 1]! | (buf[off + 2]! << 8) | (buf[off + 3]! << 16) | (buf[off + 4]! << 24)) >>> 0;
    if (count < 0x10000) return -Status.NON_CANONICAL;
    if (count > MAX_SIZE) return -Status.SIZE_TOO_LARGE;
    prefix = 5;
  } else {
    if (len < 9) return -Status.TRUNCATED;
    // Any canonical 0xff form is >= 2^32, far above MAX_SIZE: only canonicity needs the bytes.
    const hi = buf[off + 5]! | buf[off + 6]! | buf[off + 7]! | buf[off + 8]!;
    return hi === 0 ? -Status.NON_CANONICAL : -Status.SIZE_TOO_LARGE;
  }
  if (count > MAX_INV_SZ) return -Status.TOO_MANY_ITEMS;
  const need = prefix + INV_ENTRY_SIZE * count;
  if (len < need) return -Status.TRUNCATED;
  if (len > need) return -Status.TRAILING_BYTES;
  return count;
}

/** Bytes of the CompactSize count prefix of a (validated) inv payload with `count` entries. */
export function invPrefixSize(count: number): number {
  return count < 0xfd ? 1 : count <= 0xffff ? 3 : 5;
}

/**
 * Absolute offset of entry `i` of a payload at `off` that `scanInv` accepted with `count`
 * entries: the u32 LE type is at that offset, the 32-byte wire-order hash 4 bytes after it.
 */
export function invEntryOffset(off: number, count: number, i: number): number {
  return off + invPrefixSize(count) + INV_ENTRY_SIZE * i;
}

/** The u32 LE inventory type of the entry at absolute offset `entryOff` (no DataView). */
export function invEntryType(buf: Uint8Array, entryOff: number): number {
  return (buf[entryOff]! | (buf[entryOff + 1]! << 8) | (buf[entryOff + 2]! << 16) | (buf[entryOff + 3]! << 24)) >>> 0;
}
