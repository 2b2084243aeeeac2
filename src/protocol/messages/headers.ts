/**
 * headers: up to 2,000 block headers, each followed by a tx count that must be 0
 * (Bitcoin Core net_processing.cpp ProcessMessage "headers", MAX_HEADERS_RESULTS; btcd msgheaders.go).
 * `scanHeaders` is the hot path (every headers announcement of every peer): it validates the whole
 * payload without allocating, and header i then sits at a fixed offset. Pure module, any thread.
 */
import { Status } from '../errors.js';
import { MAX_HEADERS_RESULTS } from '../constants.js';
import { Reader } from '../reader.js';
import { varintSize, type Writer } from '../writer.js';
import type { MessageCodec } from '../message.js';
import { sha256dBatch } from '../checksum.js';
import { BLOCK_HEADER_SIZE, decodeHeader, encodeHeader, headerToJSON, type BlockHeader } from './block.js';

/** One entry on the wire: the 80-byte header and its (zero) tx count byte. */
export const HEADERS_ENTRY_SIZE = BLOCK_HEADER_SIZE + 1;

export interface HeadersMessage {
  headers: BlockHeader[];
}

export function decodeHeaders(r: Reader): HeadersMessage {
  const n = r.count(MAX_HEADERS_RESULTS, HEADERS_ENTRY_SIZE);
  const headers: BlockHeader[] = [];
  for (let i = 0; i < n && r.err === 0; i++) {
    headers.push(decodeHeader(r));
    // Core reads and ignores this count; btcd and BIP130-era peers always send 0, and a non-zero
    // count means the sender put transactions (or garbage) where none belong.
    if (r.varint() !== 0) r.fail(Status.BAD_VALUE);
  }
  return { headers };
}

export function encodeHeaders(w: Writer, m: HeadersMessage): void {
  w.varint(m.headers.length);
  for (const h of m.headers) {
    encodeHeader(w, h);
    w.u8(0);
  }
}

export function encodedSizeHeaders(m: HeadersMessage): number {
  return varintSize(m.headers.length) + HEADERS_ENTRY_SIZE * m.headers.length;
}

const slowReader = new Reader();

/**
 * Validates a whole headers payload `buf[off, off+len)` without allocating. Returns the header
 * count (>= 0) or a negated Status: -TOO_MANY_ITEMS above 2,000, -BAD_VALUE for a non-zero tx
 * count, -TRUNCATED, -NON_CANONICAL, -TRAILING_BYTES (unlike decoders, the scanner owns the whole
 * payload, so it also checks that nothing follows the last header). On success header i starts
 * at `headerOffset(off, count, i)`.
 */
export function scanHeaders(buf: Uint8Array, off: number, len: number): number {
  if (len >= 1) {
    const n = buf[off]!;
    // Fast path: a one-byte count (< 253; announcements carry 1..a few headers), exact length and
    // all tx count bytes zero.
    if (n < 0xfd && len === 1 + HEADERS_ENTRY_SIZE * n) {
      let zero = 0;
      for (let i = 0, p = off + 1 + BLOCK_HEADER_SIZE; i < n; i++, p += HEADERS_ENTRY_SIZE) zero |= buf[p]!;
      if (zero === 0) return n;
    }
  }
  // Anything else (longer counts, errors): the Reader gives the exact status, as decodeHeaders would.
  return slowScan(buf, off, len);
}

function slowScan(buf: Uint8Array, off: number, len: number): number {
  const r = slowReader.reset(buf, off, len);
  const n = r.count(MAX_HEADERS_RESULTS, HEADERS_ENTRY_SIZE);
  for (let i = 0; i < n && r.err === 0; i++) {
    r.skip(BLOCK_HEADER_SIZE);
    if (r.varint() !== 0) r.fail(Status.BAD_VALUE);
  }
  if (!r.finish()) return -r.err;
  return n;
}

/** Absolute offset of header i in a payload at `off` that scanHeaders accepted with `count` headers. */
export function headerOffset(off: number, count: number, i: number): number {
  return off + varintSize(count) + HEADERS_ENTRY_SIZE * i;
}

/** Ranges of headersHashesInto: header i of a payload is always at 81i past the count. */
const hashOffs = new Int32Array(MAX_HEADERS_RESULTS);
const hashLens = new Int32Array(MAX_HEADERS_RESULTS).fill(BLOCK_HEADER_SIZE);

/**
 * The block hashes of the `count` headers of a payload at `off` (as accepted by scanHeaders) into
 * `out[outOff..)`, 32 bytes each, wire order. One sha256dBatch call: 80-byte headers hash four
 * at a time in SIMD lanes. Allocates nothing.
 */
export function headersHashesInto(buf: Uint8Array, off: number, count: number, out: Uint8Array, outOff = 0): void {
  const n = Math.min(count, MAX_HEADERS_RESULTS);
  let p = off + varintSize(count);
  for (let i = 0; i < n; i++, p += HEADERS_ENTRY_SIZE) hashOffs[i] = p;
  sha256dBatch(buf, hashOffs, hashLens, n, out, outOff);
}

export function headersToJSON(m: HeadersMessage): Record<string, unknown> {
  return { headers: m.headers.map((h) => ({ ...headerToJSON(h), txCount: 0 })) };
}

export const headersCodec: MessageCodec<HeadersMessage> = {
  command: 'headers',
  decode: decodeHeaders,
  encode: encodeHeaders,
  encodedSize: encodedSizeHeaders,
  toJSON: headersToJSON,
};

export const codecs: readonly MessageCodec<any>[] = [headersCodec];
