/**
 * The bad bytes of the simulator's misbehaving nodes (types.ts MISBEHAVIOURS): one pure builder
 * per mode, so that the server sends and the tests check exactly the same bytes. Each mode hits
 * one row of the bad-input table (src/transport/README.md). Simulator process, cold path (the
 * large inv-flood frame is built once per process and reused).
 */
import { encodeRawFrame, allocFrame, HEADER_SIZE } from '../transport/v1.js';
import { Command, InvType, MAX_INV_SZ, MAX_PROTOCOL_MESSAGE_LENGTH } from '../protocol/constants.js';
import { varintSize, Writer } from '../protocol/writer.js';
import type { Misbehaviour } from './types.js';

/** Sizes and rates of each mode, each with why it is that number. */
export const MISBEHAVE = {
  /** One over Core's net.h MAX_PROTOCOL_MESSAGE_LENGTH: the smallest declared length that must disconnect. */
  OVERSIZE_LENGTH: MAX_PROTOCOL_MESSAGE_LENGTH + 1,
  /** One over Core's MAX_INV_SZ (50,000): the smallest inv that is "too many items". */
  INV_FLOOD_ENTRIES: MAX_INV_SZ + 1,
  /** inv-flood frames sent back to back (1.8 MB each): enough to show a burst, bounded per connection. */
  INV_FLOOD_FRAMES: 3,
  /** tiny-flood frames: thousands of 24-byte frames (98 KB), one write. */
  TINY_FLOOD_FRAMES: 4096,
  /** The tiny-flood command: unknown to every implementation, so each frame is counted, never answered. */
  TINY_FLOOD_COMMAND: 'flood',
  /** garbage bytes sent in one write. */
  GARBAGE_BYTES: 256,
  /** truncated: bytes of the 8-byte ping payload that are sent before the close. */
  TRUNCATED_PAYLOAD_BYTES: 3,
  /** bad-checksum: one bad frame per interval (real ms): visible in any run, cheap for the observer. */
  BAD_CHECKSUM_INTERVAL_MS: 2_000,
  /** slow-drip: one byte per second, so a ~100-byte version outlasts Core's 60 s handshake timeout. */
  DRIP_INTERVAL_MS: 1_000,
} as const;

/** Modes that complete a real handshake first and misbehave after it. */
export const AFTER_HANDSHAKE: ReadonlySet<Misbehaviour> = new Set<Misbehaviour>([
  'bad-checksum',
  'bad-magic',
  'oversize',
  'garbage',
  'truncated',
  'inv-flood',
  'tiny-flood',
]);

/** A `ping` frame (8-byte nonce) with its checksum inverted: dropped and counted, the peer stays. */
export function badChecksumFrame(magic: number, nonce: number): Uint8Array {
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setUint32(0, nonce >>> 0, true);
  const frame = encodeRawFrame(magic, Command.ping, payload);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  dv.setUint32(20, ~dv.getUint32(20, true) >>> 0, true);
  return frame;
}

/** The complement of a magic: never a network's magic, differs from it in every bit. */
export function wrongMagic(magic: number): number {
  return ~magic >>> 0;
}

/** A valid `ping` frame under the wrong magic: fatal, the receiver disconnects. */
export function badMagicFrame(magic: number): Uint8Array {
  return encodeRawFrame(wrongMagic(magic), Command.ping, new Uint8Array(8));
}

/** Only a `block` header declaring OVERSIZE_LENGTH bytes (checksum zero, no payload): fatal. */
export function oversizeHeader(magic: number): Uint8Array {
  const h = allocFrame(magic, Command.block, 0);
  new DataView(h.buffer, h.byteOffset, h.byteLength).setUint32(16, MISBEHAVE.OVERSIZE_LENGTH, true);
  return h;
}

/** `n` random bytes whose first four are not the magic (so they cannot pass as a frame header). */
export function garbageBytes(magic: number, n: number = MISBEHAVE.GARBAGE_BYTES, rand: () => number = Math.random): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 256) | 0;
  if (n >= 4 && new DataView(out.buffer).getUint32(0, true) === magic >>> 0) out[0] ^= 0xff;
  return out;
}

/** A `ping` frame cut after its header and TRUNCATED_PAYLOAD_BYTES of its 8-byte payload. */
export function truncatedFrame(magic: number): Uint8Array {
  const full = encodeRawFrame(magic, Command.ping, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  return full.subarray(0, HEADER_SIZE + MISBEHAVE.TRUNCATED_PAYLOAD_BYTES);
}

const floodCache = new Map<number, Uint8Array>();

/**
 * One `inv` frame of INV_FLOOD_ENTRIES MSG_WTX entries with pseudo-random hashes and a correct
 * checksum: well framed, but one entry over the limit (TOO_MANY_ITEMS). Built once per magic.
 */
export function invFloodFrame(magic: number): Uint8Array {
  let f = floodCache.get(magic);
  if (f) return f;
  const n = MISBEHAVE.INV_FLOOD_ENTRIES;
  const size = varintSize(n) + n * 36;
  const payload = new Uint8Array(size);
  const w = new Writer(payload, 0);
  w.varint(n);
  // xorshift32: cheap, deterministic hashes that are not all equal.
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    w.u32(InvType.MSG_WTX);
    for (let j = 0; j < 8; j++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      w.u32(x >>> 0);
    }
  }
  f = encodeRawFrame(magic, Command.inv, payload);
  floodCache.set(magic, f);
  return f;
}

/** `n` empty frames of an unknown command, concatenated: each is counted, none disconnects. */
export function tinyFlood(magic: number, n: number = MISBEHAVE.TINY_FLOOD_FRAMES): Uint8Array {
  const one = encodeRawFrame(magic, MISBEHAVE.TINY_FLOOD_COMMAND, new Uint8Array(0));
  const out = new Uint8Array(one.length * n);
  for (let i = 0; i < n; i++) out.set(one, i * one.length);
  return out;
}
