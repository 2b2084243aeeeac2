/**
 * getheaders and getblocks: u32 version, a block locator (CompactSize count of 32-byte hashes,
 * at most Bitcoin Core net_processing.cpp MAX_LOCATOR_SZ = 101) and a stop hash.
 * One payload codec serves both (Core protocol.h CBlockLocator + uint256).
 * Pure module, any thread; warm path (a peer's sync requests, answered with empty headers).
 */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { varintSize } from '../writer.js';
import { MAX_LOCATOR_SZ, type CommandName } from '../constants.js';
import type { MessageCodec } from '../message.js';
import { hashToHex } from '../hex.js';

export interface GetHeadersMessage {
  /** The sender's protocol version (Core writes it, nobody reads it). */
  version: number;
  /** Block hashes, wire order, newest first. */
  locator: Uint8Array[];
  /** Wire order; all zero for "as many as allowed". */
  hashStop: Uint8Array;
}
export type GetBlocksMessage = GetHeadersMessage;

export function decodeGetHeaders(r: Reader): GetHeadersMessage {
  const version = r.u32();
  const n = r.count(MAX_LOCATOR_SZ, 32);
  const locator: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) locator[i] = r.hash();
  const hashStop = r.hash();
  return { version, locator: r.err === 0 ? locator : [], hashStop };
}

export function encodeGetHeaders(w: Writer, m: GetHeadersMessage): void {
  w.u32(m.version);
  w.varint(m.locator.length);
  for (const h of m.locator) w.bytes(h);
  w.bytes(m.hashStop);
}

export function encodedSizeGetHeaders(m: GetHeadersMessage): number {
  return 4 + varintSize(m.locator.length) + 32 * m.locator.length + 32;
}

export const decodeGetBlocks = decodeGetHeaders;
export const encodeGetBlocks = encodeGetHeaders;
export const encodedSizeGetBlocks = encodedSizeGetHeaders;

export function locatorToJSON(m: GetHeadersMessage): Record<string, unknown> {
  return { version: m.version, locator: m.locator.map((h) => hashToHex(h)), hashStop: hashToHex(m.hashStop) };
}

function locatorCodec(command: CommandName): MessageCodec<GetHeadersMessage> {
  return { command, decode: decodeGetHeaders, encode: encodeGetHeaders, encodedSize: encodedSizeGetHeaders, toJSON: locatorToJSON };
}

export const getheadersCodec = locatorCodec('getheaders');
export const getblocksCodec = locatorCodec('getblocks');

export const codecs: readonly MessageCodec<any>[] = [getheadersCodec, getblocksCodec];
