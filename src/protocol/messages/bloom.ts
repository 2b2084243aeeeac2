/**
 * BIP37 bloom filter messages: filterload (filter bytes, nHashFuncs, nTweak, nFlags) and
 * filteradd (one data element). filterclear has an empty payload and lives in control.ts.
 * Limits from Bitcoin Core bloom.h and script.h, enforced at decode time (Core deserializes first
 * and then punishes the peer; here the message is refused as malformed, which the peer layer counts).
 * Pure module, any thread; cold path (a measuring node never serves bloom filters).
 */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { varintSize } from '../writer.js';
import { Status } from '../errors.js';
import { MAX_BLOOM_FILTER_SIZE, MAX_HASH_FUNCS, MAX_SCRIPT_ELEMENT_SIZE } from '../constants.js';
import type { MessageCodec } from '../message.js';
import { toHex } from '../hex.js';

/** BIP37 nFlags values (Core bloom.h bloomflags); other values decode as they are. */
export const BloomFlags = {
  BLOOM_UPDATE_NONE: 0,
  BLOOM_UPDATE_ALL: 1,
  BLOOM_UPDATE_P2PUBKEY_ONLY: 2,
} as const;

export interface FilterLoadMessage {
  /** The bit field, at most MAX_BLOOM_FILTER_SIZE (36,000) bytes. */
  filter: Uint8Array;
  /** At most MAX_HASH_FUNCS (50); above it is BAD_VALUE. */
  nHashFuncs: number;
  nTweak: number;
  nFlags: number;
}

export function decodeFilterLoad(r: Reader): FilterLoadMessage {
  const filter = r.varBytes(MAX_BLOOM_FILTER_SIZE);
  const nHashFuncs = r.u32();
  // Failing here (not after nFlags) makes r.errAt point just past the offending field.
  if (nHashFuncs > MAX_HASH_FUNCS) r.fail(Status.BAD_VALUE);
  const nTweak = r.u32();
  const nFlags = r.u8();
  return { filter, nHashFuncs, nTweak, nFlags };
}

export function encodeFilterLoad(w: Writer, m: FilterLoadMessage): void {
  w.varBytes(m.filter);
  w.u32(m.nHashFuncs);
  w.u32(m.nTweak);
  w.u8(m.nFlags);
}

export function encodedSizeFilterLoad(m: FilterLoadMessage): number {
  return varintSize(m.filter.length) + m.filter.length + 9;
}

export const filterloadCodec: MessageCodec<FilterLoadMessage> = {
  command: 'filterload',
  decode: decodeFilterLoad,
  encode: encodeFilterLoad,
  encodedSize: encodedSizeFilterLoad,
  toJSON: (m) => ({ filterHex: toHex(m.filter), nHashFuncs: m.nHashFuncs, nTweak: m.nTweak, nFlags: m.nFlags }),
};

export interface FilterAddMessage {
  /** One element to add, at most MAX_SCRIPT_ELEMENT_SIZE (520) bytes. */
  data: Uint8Array;
}

export function decodeFilterAdd(r: Reader): FilterAddMessage {
  return { data: r.varBytes(MAX_SCRIPT_ELEMENT_SIZE) };
}

export function encodeFilterAdd(w: Writer, m: FilterAddMessage): void {
  w.varBytes(m.data);
}

export function encodedSizeFilterAdd(m: FilterAddMessage): number {
  return varintSize(m.data.length) + m.data.length;
}

export const filteraddCodec: MessageCodec<FilterAddMessage> = {
  command: 'filteradd',
  decode: decodeFilterAdd,
  encode: encodeFilterAdd,
  encodedSize: encodedSizeFilterAdd,
  toJSON: (m) => ({ dataHex: toHex(m.data) }),
};

export const codecs: readonly MessageCodec<any>[] = [filterloadCodec, filteraddCodec];
