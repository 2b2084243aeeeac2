/**
 * BIP157 compact block filter messages: getcfilters/cfilter, getcfheaders/cfheaders and
 * getcfcheckpt/cfcheckpt (Bitcoin Core net_processing.cpp ProcessGetCFilters & co., blockfilter.h).
 * The filter type is a u8 (0 = basic, BIP158); unknown types decode, refusing them is policy.
 * Pure module, any thread; cold path (a measuring node neither serves nor requests filters).
 */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { varintSize } from '../writer.js';
import { MAX_GETCFHEADERS_SIZE, MAX_PROTOCOL_MESSAGE_LENGTH } from '../constants.js';
import type { MessageCodec } from '../message.js';
import { hashToHex, toHex } from '../hex.js';

/** BIP158 filter types. */
export const FilterType = { BASIC: 0 } as const;

/**
 * Filter headers in one cfcheckpt. Core sends one per CFCHECKPT_INTERVAL (1,000) blocks and
 * states no receive limit, so the bound is what a MAX_PROTOCOL_MESSAGE_LENGTH payload can hold
 * after filter type (1), stop hash (32) and a 5-byte count: 124,998 headers, a chain of ~125M
 * blocks. It never refuses a message Core could send, and r.count already keeps the allocation
 * within the bytes present.
 */
export const MAX_CFCHECKPT_HEADERS = Math.floor((MAX_PROTOCOL_MESSAGE_LENGTH - 1 - 32 - 5) / 32);

/** The largest cfilter filter: whatever fits a MAX_PROTOCOL_MESSAGE_LENGTH payload (Core has no other bound). */
export const MAX_CFILTER_SIZE = MAX_PROTOCOL_MESSAGE_LENGTH - 1 - 32 - 5;

function hashes(r: Reader, max: number): Uint8Array[] {
  const n = r.count(max, 32);
  const out: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = r.hash();
  return r.err === 0 ? out : [];
}

function writeHashes(w: Writer, hs: Uint8Array[]): void {
  w.varint(hs.length);
  for (const h of hs) w.bytes(h);
}

// ---------------------------------------------------------------------------------------------
// getcfilters / getcfheaders: u8 filter type, u32 start height, stop hash

export interface GetCFiltersMessage {
  filterType: number;
  startHeight: number;
  /** Wire order. */
  stopHash: Uint8Array;
}
export type GetCFHeadersMessage = GetCFiltersMessage;

export function decodeGetCFilters(r: Reader): GetCFiltersMessage {
  const filterType = r.u8();
  const startHeight = r.u32();
  return { filterType, startHeight, stopHash: r.hash() };
}
export function encodeGetCFilters(w: Writer, m: GetCFiltersMessage): void {
  w.u8(m.filterType);
  w.u32(m.startHeight);
  w.bytes(m.stopHash);
}
export function encodedSizeGetCFilters(_m: GetCFiltersMessage): number {
  return 37;
}
export const decodeGetCFHeaders = decodeGetCFilters;
export const encodeGetCFHeaders = encodeGetCFilters;
export const encodedSizeGetCFHeaders = encodedSizeGetCFilters;

function getCFiltersToJSON(m: GetCFiltersMessage): Record<string, unknown> {
  return { filterType: m.filterType, startHeight: m.startHeight, stopHash: hashToHex(m.stopHash) };
}

export const getcfiltersCodec: MessageCodec<GetCFiltersMessage> = {
  command: 'getcfilters',
  decode: decodeGetCFilters,
  encode: encodeGetCFilters,
  encodedSize: encodedSizeGetCFilters,
  toJSON: getCFiltersToJSON,
};
export const getcfheadersCodec: MessageCodec<GetCFHeadersMessage> = {
  command: 'getcfheaders',
  decode: decodeGetCFHeaders,
  encode: encodeGetCFHeaders,
  encodedSize: encodedSizeGetCFHeaders,
  toJSON: getCFiltersToJSON,
};

// ---------------------------------------------------------------------------------------------
// cfilter: u8 filter type, block hash, CompactSize-prefixed filter bytes

export interface CFilterMessage {
  filterType: number;
  blockHash: Uint8Array;
  /** The encoded filter (BIP158 N then Golomb-coded set), raw. */
  filter: Uint8Array;
}

export function decodeCFilter(r: Reader): CFilterMessage {
  const filterType = r.u8();
  const blockHash = r.hash();
  return { filterType, blockHash, filter: r.varBytes(MAX_CFILTER_SIZE) };
}
export function encodeCFilter(w: Writer, m: CFilterMessage): void {
  w.u8(m.filterType);
  w.bytes(m.blockHash);
  w.varBytes(m.filter);
}
export function encodedSizeCFilter(m: CFilterMessage): number {
  return 33 + varintSize(m.filter.length) + m.filter.length;
}

export const cfilterCodec: MessageCodec<CFilterMessage> = {
  command: 'cfilter',
  decode: decodeCFilter,
  encode: encodeCFilter,
  encodedSize: encodedSizeCFilter,
  toJSON: (m) => ({ filterType: m.filterType, blockHash: hashToHex(m.blockHash), filterHex: toHex(m.filter) }),
};

// ---------------------------------------------------------------------------------------------
// cfheaders: u8 filter type, stop hash, previous filter header, filter hashes (max 2,000)

export interface CFHeadersMessage {
  filterType: number;
  stopHash: Uint8Array;
  previousFilterHeader: Uint8Array;
  /** At most MAX_GETCFHEADERS_SIZE (2,000). */
  filterHashes: Uint8Array[];
}

export function decodeCFHeaders(r: Reader): CFHeadersMessage {
  const filterType = r.u8();
  const stopHash = r.hash();
  const previousFilterHeader = r.hash();
  return { filterType, stopHash, previousFilterHeader, filterHashes: hashes(r, MAX_GETCFHEADERS_SIZE) };
}
export function encodeCFHeaders(w: Writer, m: CFHeadersMessage): void {
  w.u8(m.filterType);
  w.bytes(m.stopHash);
  w.bytes(m.previousFilterHeader);
  writeHashes(w, m.filterHashes);
}
export function encodedSizeCFHeaders(m: CFHeadersMessage): number {
  return 65 + varintSize(m.filterHashes.length) + 32 * m.filterHashes.length;
}

export const cfheadersCodec: MessageCodec<CFHeadersMessage> = {
  command: 'cfheaders',
  decode: decodeCFHeaders,
  encode: encodeCFHeaders,
  encodedSize: encodedSizeCFHeaders,
  toJSON: (m) => ({
    filterType: m.filterType,
    stopHash: hashToHex(m.stopHash),
    previousFilterHeader: hashToHex(m.previousFilterHeader),
    filterHashes: m.filterHashes.map((h) => hashToHex(h)),
  }),
};

// ---------------------------------------------------------------------------------------------
// getcfcheckpt: u8 filter type, stop hash; cfcheckpt adds the filter headers

export interface GetCFCheckptMessage {
  filterType: number;
  stopHash: Uint8Array;
}

export function decodeGetCFCheckpt(r: Reader): GetCFCheckptMessage {
  const filterType = r.u8();
  return { filterType, stopHash: r.hash() };
}
export function encodeGetCFCheckpt(w: Writer, m: GetCFCheckptMessage): void {
  w.u8(m.filterType);
  w.bytes(m.stopHash);
}
export function encodedSizeGetCFCheckpt(_m: GetCFCheckptMessage): number {
  return 33;
}

export const getcfcheckptCodec: MessageCodec<GetCFCheckptMessage> = {
  command: 'getcfcheckpt',
  decode: decodeGetCFCheckpt,
  encode: encodeGetCFCheckpt,
  encodedSize: encodedSizeGetCFCheckpt,
  toJSON: (m) => ({ filterType: m.filterType, stopHash: hashToHex(m.stopHash) }),
};

export interface CFCheckptMessage {
  filterType: number;
  stopHash: Uint8Array;
  /** One filter header per 1,000 blocks up to stopHash; at most MAX_CFCHECKPT_HEADERS. */
  filterHeaders: Uint8Array[];
}

export function decodeCFCheckpt(r: Reader): CFCheckptMessage {
  const filterType = r.u8();
  const stopHash = r.hash();
  return { filterType, stopHash, filterHeaders: hashes(r, MAX_CFCHECKPT_HEADERS) };
}
export function encodeCFCheckpt(w: Writer, m: CFCheckptMessage): void {
  w.u8(m.filterType);
  w.bytes(m.stopHash);
  writeHashes(w, m.filterHeaders);
}
export function encodedSizeCFCheckpt(m: CFCheckptMessage): number {
  return 33 + varintSize(m.filterHeaders.length) + 32 * m.filterHeaders.length;
}

export const cfcheckptCodec: MessageCodec<CFCheckptMessage> = {
  command: 'cfcheckpt',
  decode: decodeCFCheckpt,
  encode: encodeCFCheckpt,
  encodedSize: encodedSizeCFCheckpt,
  toJSON: (m) => ({ filterType: m.filterType, stopHash: hashToHex(m.stopHash), filterHeaders: m.filterHeaders.map((h) => hashToHex(h)) }),
};

export const codecs: readonly MessageCodec<any>[] = [
  getcfiltersCodec,
  cfilterCodec,
  getcfheadersCodec,
  cfheadersCodec,
  getcfcheckptCodec,
  cfcheckptCodec,
];
