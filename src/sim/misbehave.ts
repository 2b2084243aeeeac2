/**
 * The bad bytes of the simulator's misbehaving nodes (types.ts MISBEHAVIOURS): one pure builder
 * per mode, so that the server sends and the tests check exactly the same bytes. Each mode hits
 * one row of the bad-input table (src/transport/README.md). Simulator process, cold path (the
 * large inv-flood frame is built once per process and reused).
 */
import type { Socket } from 'node:net';
import { encodeRawFrame, allocFrame, encodeFrame, FRAME_HEADER_SIZE } from '../transport/v1.js';
import { Command, InvType, MAX_ADDR_TO_SEND, MAX_INV_SZ, MAX_PROTOCOL_MESSAGE_LENGTH, type NetworkParams } from '../protocol/constants.js';
import { varintSize, Writer } from '../protocol/writer.js';
import type { AddrEntry } from '../protocol/messages/address.js';
import { ALL_MISBEHAVIOURS, type Misbehaviour } from './types.js';

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
  /** checksum-flood: bad-checksum pings in all (640 KB): "bad checksums at high rate", as fast as the observer reads. */
  CHECKSUM_FLOOD_FRAMES: 20_000,
  /** inv-storm: legal inv frames of MAX_INV_SZ (50,000) entries back to back (1.8 MB each, 36 MB in all). */
  INV_STORM_FRAMES: 20,
  /** addr-flood: legal addr messages of MAX_ADDR_TO_SEND (1,000) entries back to back (30 KB each, 30 MB). */
  ADDR_FLOOD_MESSAGES: 1_000,
  /** ping-flood: pings back to back (3.2 MB); each asks for a pong. */
  PING_FLOOD_FRAMES: 100_000,
  /** command-flood: frames of this many distinct unknown commands (x00000, x00001, ...), one write. */
  COMMAND_FLOOD_FRAMES: 5_000,
  /**
   * never-reads: pings sent while never reading the pongs (32 MB). The pongs must outgrow the
   * kernel's buffers (loopback: the sender's 4 MB tcp_wmem plus the idle receiver's ~128 KB) and
   * then the observer's send bound (5 MB by default) for the bound to be what stops them.
   */
  NEVER_READS_PINGS: 1_000_000,
  /** Frames per write of the floods above (about 64 KB of small frames). */
  FLOOD_BATCH: 2_048,
} as const;

/** Modes that complete a real handshake first and misbehave after it. */
/** Modes that never complete a handshake (no Peer on the node side): the rest misbehave after one. */
export const RAW_MODES: ReadonlySet<Misbehaviour> = new Set<Misbehaviour>(['slow-drip', 'no-handshake', 'no-verack']);
export const AFTER_HANDSHAKE: ReadonlySet<Misbehaviour> = new Set(ALL_MISBEHAVIOURS.filter((m) => !RAW_MODES.has(m)));

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
  return full.subarray(0, FRAME_HEADER_SIZE + MISBEHAVE.TRUNCATED_PAYLOAD_BYTES);
}

/**
 * An `inv` frame of `n` MSG_WTX entries with a correct checksum and deterministic hashes that are
 * not all equal (xorshift32 from `seed`: cheap).
 */
function invFrame(magic: number, n: number, seed: number): Uint8Array {
  const payload = new Uint8Array(varintSize(n) + n * 36);
  const w = new Writer(payload, 0);
  w.varint(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    w.u32(InvType.MSG_WTX);
    for (let j = 0; j < 8; j++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      w.u32(x >>> 0);
    }
  }
  return encodeRawFrame(magic, Command.inv, payload);
}

const floodCache = new Map<number, Uint8Array>();

/**
 * One `inv` frame of INV_FLOOD_ENTRIES MSG_WTX entries with pseudo-random hashes and a correct
 * checksum: well framed, but one entry over the limit (TOO_MANY_ITEMS). Built once per magic.
 */
export function invFloodFrame(magic: number): Uint8Array {
  let f = floodCache.get(magic);
  if (f) return f;
  f = invFrame(magic, MISBEHAVE.INV_FLOOD_ENTRIES, 0x9e3779b9);
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

/** Frame `one` repeated `n` times in one buffer. */
function repeat(one: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(one.length * n);
  for (let i = 0; i < n; i++) out.set(one, i * one.length);
  return out;
}

/**
 * One legal `inv` frame of exactly MAX_INV_SZ (50,000) MSG_WTX entries: decodes fine, so every
 * entry would reach the observation ring. Deterministic hashes (xorshift32 from `seed`).
 */
export function invStormFrame(magic: number, seed = 0x2545f491): Uint8Array {
  return invFrame(magic, MAX_INV_SZ, seed);
}

/**
 * One legal `addr` message of MAX_ADDR_TO_SEND (1,000) entries. The addresses are loopback
 * (127.254.x.y, port 1: nothing listens there), so an observer that dials them reaches nothing
 * outside the machine.
 */
export function addrFloodFrame(network: NetworkParams, page = 0): Uint8Array {
  const addrs: AddrEntry[] = [];
  for (let i = 0; i < MAX_ADDR_TO_SEND; i++) {
    const k = (page * MAX_ADDR_TO_SEND + i) & 0xffff;
    const ip = new Uint8Array(16);
    ip[10] = 0xff;
    ip[11] = 0xff;
    ip[12] = 127;
    ip[13] = 254;
    ip[14] = k >> 8;
    ip[15] = k & 255;
    addrs.push({ time: 1_700_000_000, services: 1n, ip, port: 1 });
  }
  return encodeFrame(network.magic, 'addr', { addrs });
}

/** `n` distinct unknown commands (`x00000`, `x00001`, ...), empty payloads, concatenated. */
export function commandFlood(magic: number, n: number = MISBEHAVE.COMMAND_FLOOD_FRAMES): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let i = 0; i < n; i++) {
    const f = encodeRawFrame(magic, `x${String(i).padStart(5, '0')}`, new Uint8Array(0));
    parts.push(f);
    size += f.length;
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `n` pings (nonces first..first+n-1, so each pong can be told apart), concatenated. */
function pings(magic: number, first: number, n: number): Uint8Array {
  const p = new Uint8Array(8);
  const dv = new DataView(p.buffer);
  let out: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    dv.setUint32(0, (first + i) >>> 0, true);
    const f = encodeRawFrame(magic, Command.ping, p);
    out ??= new Uint8Array(f.length * n);
    out.set(f, i * f.length);
  }
  return out ?? new Uint8Array(0);
}

/**
 * The chunks of one flood mode, in order, each about 64 KB (or one big frame): written by `pump`
 * as fast as the observer reads. Lazily made, so a closed connection stops the work.
 */
export function* floodChunks(mode: Misbehaviour, network: NetworkParams): Generator<Uint8Array> {
  const magic = network.magic;
  const B = MISBEHAVE.FLOOD_BATCH;
  switch (mode) {
    case 'checksum-flood': {
      const one = badChecksumFrame(magic, 1);
      const batch = repeat(one, B);
      for (let sent = 0; sent < MISBEHAVE.CHECKSUM_FLOOD_FRAMES; sent += B) {
        yield sent + B <= MISBEHAVE.CHECKSUM_FLOOD_FRAMES ? batch : batch.subarray(0, (MISBEHAVE.CHECKSUM_FLOOD_FRAMES - sent) * one.length);
      }
      return;
    }
    case 'inv-storm': {
      const f = invStormFrame(magic);
      for (let i = 0; i < MISBEHAVE.INV_STORM_FRAMES; i++) yield f;
      return;
    }
    case 'addr-flood':
      for (let i = 0; i < MISBEHAVE.ADDR_FLOOD_MESSAGES; i++) yield addrFloodFrame(network, i);
      return;
    case 'ping-flood':
    case 'never-reads': {
      const total = mode === 'ping-flood' ? MISBEHAVE.PING_FLOOD_FRAMES : MISBEHAVE.NEVER_READS_PINGS;
      for (let sent = 0; sent < total; sent += B) yield pings(magic, sent + 1, Math.min(B, total - sent));
      return;
    }
    case 'command-flood':
      yield commandFlood(magic);
      return;
    default:
      return;
  }
}

/**
 * Writes `chunks` to `socket` with backpressure (waits for 'drain' whenever write() says the
 * buffer is full), until they run out or `stopped()` (the connection closed). Resolves with the
 * bytes written.
 */
export function pump(socket: Socket, chunks: Iterator<Uint8Array>, stopped: () => boolean): Promise<number> {
  return new Promise((resolve) => {
    let bytes = 0;
    const next = (): void => {
      for (;;) {
        if (stopped() || socket.destroyed) return resolve(bytes);
        const r = chunks.next();
        if (r.done) return resolve(bytes);
        bytes += r.value.length;
        if (!socket.write(r.value)) {
          socket.once('drain', next);
          return;
        }
      }
    };
    socket.once('close', () => resolve(bytes));
    next();
  });
}
