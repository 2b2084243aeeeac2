/**
 * BIP-less v1 transport framing: a sans-I/O push decoder and a frame writer.
 * Header: magic(4) | command(12, NUL-padded ASCII) | length(u32 LE) | checksum(4 = SHA256d[0..4]).
 * Checks in the order of the bad-input table (src/transport/README.md): magic, command bytes,
 * declared length (before any allocation), checksum over the raw received bytes.
 * Runs on whichever thread owns the socket (a shard worker); hot path: no allocation for frames
 * inside one chunk, no exceptions on peer bytes, checksums batched per pushed chunk, large
 * straddling payloads hashed part by part as they arrive.
 */
import { Status } from '../protocol/errors.js';
import { lookupCommand, commandBytes, COMMAND_BYTES, COMMAND_SIZE } from '../protocol/commands.js';
import type { Hash } from 'node:crypto';
import { checksum, checksumBatch, checksumStart, checksumFinish } from '../protocol/checksum.js';
import { Command, MAX_PROTOCOL_MESSAGE_LENGTH, type CommandName } from '../protocol/constants.js';
import { Writer } from '../protocol/writer.js';
import { encodedSize, encodeMessageInto, type MessageMap } from '../protocol/registry.js';

export const FRAME_HEADER_SIZE = 24;
/** SHA256d of the empty string, first four bytes (5d f6 e0 e2) as uint32 LE: every empty payload's checksum. */
export const EMPTY_CHECKSUM = 0xe2e0f65d;

/** Receives decoded frames. Views are valid only during the call: the buffer is reused after it. */
export interface V1FrameSink {
  /**
   * One frame. `command` is a known command id (> 0) or 0 for a valid but unknown command (its
   * string is at `buf[off - 20, off - 8)`: the header always precedes the payload in `buf`).
   * `checksumOk` false means the frame must be dropped and counted (the stream stays in sync).
   */
  onFrame(command: number, buf: Uint8Array, off: number, len: number, checksumOk: boolean): void;
}

export interface V1DecoderOptions {
  /**
   * Largest payload accepted; a larger declared length is fatal.
   * @default MAX_PROTOCOL_MESSAGE_LENGTH (4,000,000, Bitcoin Core net.h)
   */
  maxPayload?: number;
  /**
   * Frames per checksum batch: the multi-buffer hash works on many frames of one chunk at once.
   * @default 256
   */
  batchSize?: number;
}

/** Smallest buffer for a frame that straddles chunks; it then grows to at most twice what arrived. */
const MIN_PARTIAL = 4096;

const EMPTY = new Uint8Array(0);

/**
 * Declared payload length from which a straddling frame is hashed part by part as its bytes
 * arrive (each part hashed while it is in cache, then copied), instead of once over the assembled
 * frame after the last copy (which reads the whole payload back from memory). Measured with 64 KiB
 * parts against crypto.hash over the same bytes: from 16 KB up to 1.5 MB payloads the incremental
 * hash gains 5-10 points (the blocks corpus through the decoder: 83 % -> 88 %); below ~8 KB no
 * gain shows through the noise, and a node:crypto Hash object per frame is not worth it there.
 */
export const STREAM_HASH_MIN = 16 * 1024;

/**
 * Large frame buffers released after delivery are kept for reuse, a few per thread: a fresh
 * multi-megabyte buffer costs page faults and a GC on every block, a recycled one neither
 * (measured: the blocks suite went from 58 % to 83 % of crypto.hash's rate). The pool is a stack:
 * the buffer released last is taken first, so a stream of blocks keeps writing into one buffer,
 * which stays in the CPU's last-level cache (alternating between two 1.5 MB buffers cost 5-8 % of
 * the blocks rate here). New memory per straddling frame stays bounded by what arrived (see
 * `append`); a recycled buffer may be larger.
 */
const POOL_MAX = 4;
const pool: Uint8Array[] = [];

/** The most recently released buffer of at least `min` bytes, or undefined. */
function takePooled(min: number): Uint8Array | undefined {
  for (let i = pool.length - 1; i >= 0; i--) {
    const b = pool[i]!;
    if (b.length >= min) {
      for (let j = i + 1; j < pool.length; j++) pool[j - 1] = pool[j]!;
      pool.pop();
      return b;
    }
  }
  return undefined;
}

function release(b: Uint8Array): void {
  if (b.length <= MIN_PARTIAL) return;
  pool.push(b);
  if (pool.length <= POOL_MAX) return;
  // Keep the largest buffers: they are the expensive ones to make.
  let min = 0;
  for (let i = 1; i < pool.length; i++) if (pool[i]!.length < pool[min]!.length) min = i;
  for (let j = min + 1; j < pool.length; j++) pool[j - 1] = pool[j]!;
  pool.pop();
}

/** Empties this thread's pool of recycled frame buffers (tests of the memory bound use it). */
export function clearFramePool(): void {
  pool.length = 0;
}

/** Uninitialised memory: every byte is written before it is read. */
function alloc(n: number): Uint8Array {
  return Buffer.allocUnsafeSlow(n);
}
let lastBuffer: ArrayBufferLike | null = null;
let lastView: DataView | null = null;

/** One DataView per underlying ArrayBuffer, reused while pushes come from the same buffer. */
function viewOf(buf: Uint8Array): DataView {
  if (buf.buffer !== lastBuffer) {
    lastBuffer = buf.buffer;
    lastView = new DataView(buf.buffer);
  }
  return lastView!;
}

/**
 * Push decoder for one v1 byte stream. `push` takes chunks of any size and calls the sink once per
 * complete frame, in order. A fatal fault (bad magic, malformed command bytes, oversize length)
 * is returned as a status and the decoder stays dead: the caller disconnects.
 */
export class V1Decoder {
  readonly magic: number;
  readonly maxPayload: number;
  sink: V1FrameSink;

  /** 0 while healthy; the fatal status once the stream is unusable. */
  fatal = 0;
  /**
   * After BAD_MAGIC: the four bytes found where the magic belongs (little-endian, as `magic`), so
   * a caller can tell a peer of another network (its magic) from garbage. 0 otherwise.
   */
  badMagic = 0;
  frames = 0;
  bytes = 0;
  badChecksums = 0;
  unknownCommands = 0;
  /** Bytes that arrived in place, read into `receiveBuffer()`: never copied by the decoder. */
  inPlaceBytes = 0;

  // A frame straddling chunks: header and arrived payload bytes, copied into `partial`.
  private partial: Uint8Array = EMPTY;
  private partialLen = 0;
  /** Total size (header + payload) of the straddling frame, 0 while its header is incomplete. */
  private partialTotal = 0;
  private partialCmd = 0;
  /** Incremental hash of the straddling frame's payload, for payloads of STREAM_HASH_MIN or more. */
  private partialHash: Hash | null = null;

  // Batch state, reused across pushes.
  private readonly batchMax: number;
  private readonly bOff: Int32Array;
  private readonly bLen: Int32Array;
  private readonly bCmd: Int32Array;
  private readonly bSum: Uint32Array;
  private readonly bGot: Uint32Array;

  constructor(magic: number, sink: V1FrameSink, options: V1DecoderOptions = {}) {
    this.magic = magic >>> 0;
    this.sink = sink;
    this.maxPayload = options.maxPayload ?? MAX_PROTOCOL_MESSAGE_LENGTH;
    this.batchMax = options.batchSize ?? 256;
    this.bOff = new Int32Array(this.batchMax);
    this.bLen = new Int32Array(this.batchMax);
    this.bCmd = new Int32Array(this.batchMax);
    this.bSum = new Uint32Array(this.batchMax);
    this.bGot = new Uint32Array(this.batchMax);
  }

  /** Bytes held for a frame that has not fully arrived (bounded by what arrived, see MIN_PARTIAL). */
  get bufferedBytes(): number {
    return this.partialLen;
  }

  /** Bytes of memory held for the straddling frame. */
  get bufferCapacity(): number {
    return this.partial.length;
  }

  /**
   * Where the next socket read may land directly: the free tail of the buffer of a large frame
   * that is arriving (a declared payload of STREAM_HASH_MIN or more), ending at the frame's end or
   * the buffer's, or null (read into your own buffer). Pushing a chunk that lies exactly at the
   * start of this view appends it without copying: the kernel's copy into it is the only one.
   * For `net.connect({ onread: { buffer: () => dec.receiveBuffer() ?? shared, callback } })`.
   * The view is valid until the next `push`; it never makes the decoder allocate.
   */
  receiveBuffer(): Uint8Array | null {
    if (this.partialHash === null) return null;
    const end = Math.min(this.partial.length, this.partialTotal);
    // A sliver left in a buffer that is still growing is not worth a read of its own.
    if (end - this.partialLen < MIN_PARTIAL) return null;
    return this.partial.subarray(this.partialLen, end);
  }

  /**
   * Feeds one chunk. Returns 0, or a fatal status (BAD_MAGIC, BAD_COMMAND, OVERSIZE) after which
   * the stream must be closed. Frames before the fault in the same chunk are still delivered.
   */
  push(chunk: Uint8Array): number {
    if (this.fatal !== 0) return this.fatal;
    this.bytes += chunk.length;
    let pos = 0;
    const end = chunk.length;

    if (this.partialLen > 0) {
      pos = this.fillPartial(chunk);
      if (this.fatal !== 0) return this.fatal;
      if (this.partialLen > 0) return 0; // still incomplete: the whole chunk was consumed
    }

    const view = viewOf(chunk);
    const base = chunk.byteOffset;
    const magic = this.magic;
    const maxPayload = this.maxPayload;
    const bOff = this.bOff;
    const bLen = this.bLen;
    const bCmd = this.bCmd;
    const bGot = this.bGot;
    let n = 0;

    while (end - pos >= FRAME_HEADER_SIZE) {
      const h = base + pos;
      if (view.getUint32(h, true) !== magic) {
        this.fatal = Status.BAD_MAGIC;
        this.badMagic = view.getUint32(h, true);
        break;
      }
      const cmd = lookupCommand(view, h + 4);
      if (cmd < 0) {
        this.fatal = Status.BAD_COMMAND;
        break;
      }
      const len = view.getUint32(h + 16, true);
      if (len > maxPayload) {
        this.fatal = Status.OVERSIZE;
        break;
      }
      if (end - pos - FRAME_HEADER_SIZE < len) break; // straddles: keep for the next chunk
      bOff[n] = pos + FRAME_HEADER_SIZE;
      bLen[n] = len;
      bCmd[n] = cmd;
      bGot[n] = view.getUint32(h + 20, true);
      n++;
      pos += FRAME_HEADER_SIZE + len;
      if (n === this.batchMax) {
        this.deliver(chunk, n);
        n = 0;
      }
    }
    if (n > 0) this.deliver(chunk, n);
    if (this.fatal !== 0) return this.fatal;
    if (pos < end) this.startPartial(chunk, pos);
    return 0;
  }

  /** Checksums a batch of in-chunk frames at once and hands them to the sink, in order. */
  private deliver(chunk: Uint8Array, n: number): void {
    const bSum = this.bSum;
    checksumBatch(chunk, this.bOff, this.bLen, n, bSum);
    const sink = this.sink;
    for (let i = 0; i < n; i++) {
      const ok = bSum[i] === this.bGot[i];
      const cmd = this.bCmd[i]!;
      this.frames++;
      if (!ok) this.badChecksums++;
      if (cmd === 0) this.unknownCommands++;
      sink.onFrame(cmd, chunk, this.bOff[i]!, this.bLen[i]!, ok);
    }
  }

  /** Keeps the tail of a chunk that holds an incomplete frame (or header). */
  private startPartial(chunk: Uint8Array, pos: number): void {
    const avail = chunk.length - pos;
    this.partialTotal = 0;
    this.partialLen = 0;
    this.partialHash = null;
    if (this.partial.length < FRAME_HEADER_SIZE) this.partial = new Uint8Array(MIN_PARTIAL);
    if (avail >= FRAME_HEADER_SIZE) {
      // Header complete and already validated by the caller's loop: only the payload is missing.
      this.readPartialHeader(chunk, pos);
    }
    this.append(chunk, pos, avail);
  }

  /** Validates the header at `chunk[pos]` and sets the straddling frame's total size. */
  private readPartialHeader(buf: Uint8Array, pos: number): void {
    const view = viewOf(buf);
    const h = buf.byteOffset + pos;
    if (view.getUint32(h, true) !== this.magic) {
      this.fatal = Status.BAD_MAGIC;
      this.badMagic = view.getUint32(h, true);
      return;
    }
    const cmd = lookupCommand(view, h + 4);
    if (cmd < 0) {
      this.fatal = Status.BAD_COMMAND;
      return;
    }
    const len = view.getUint32(h + 16, true);
    if (len > this.maxPayload) {
      this.fatal = Status.OVERSIZE;
      return;
    }
    this.partialCmd = cmd;
    this.partialTotal = FRAME_HEADER_SIZE + len;
    if (len >= STREAM_HASH_MIN) this.partialHash = checksumStart();
  }

  /**
   * Appends bytes to the straddling frame, growing its buffer to at most twice what arrived.
   * With an incremental hash, the payload bytes among them are hashed first, from `src`, while
   * they are hot in cache; the copy after it then reads them from cache too.
   */
  private append(src: Uint8Array, pos: number, n: number): void {
    const h = this.partialHash;
    if (h !== null) {
      // Header bytes (the first 24 of the frame) are not part of the payload's hash.
      const skip = this.partialLen < FRAME_HEADER_SIZE ? FRAME_HEADER_SIZE - this.partialLen : 0;
      if (n > skip) h.update(src.subarray(pos + skip, pos + n));
    }
    const need = this.partialLen + n;
    // Bytes read straight into our own buffer (receiveBuffer) are already where they belong.
    if (need <= this.partial.length && src.buffer === this.partial.buffer && src.byteOffset + pos === this.partial.byteOffset + this.partialLen) {
      this.partialLen = need;
      this.inPlaceBytes += n;
      return;
    }
    if (need > this.partial.length) {
      // Only a recycled buffer that holds the whole frame: then it never grows again.
      let grown = this.partialTotal > 0 ? takePooled(this.partialTotal) : undefined;
      if (!grown) {
        let cap = Math.max(this.partial.length * 2, need, MIN_PARTIAL);
        if (this.partialTotal > 0 && cap > this.partialTotal) cap = this.partialTotal;
        grown = alloc(cap);
      }
      grown.set(this.partial.subarray(0, this.partialLen));
      release(this.partial);
      this.partial = grown;
    }
    this.partial.set(src.subarray(pos, pos + n), this.partialLen);
    this.partialLen = need;
  }

  /** Continues the straddling frame with the start of `chunk`; returns the bytes consumed. */
  private fillPartial(chunk: Uint8Array): number {
    let pos = 0;
    if (this.partialTotal === 0) {
      const take = Math.min(FRAME_HEADER_SIZE - this.partialLen, chunk.length);
      this.append(chunk, 0, take);
      pos = take;
      if (this.partialLen < FRAME_HEADER_SIZE) return pos;
      this.readPartialHeader(this.partial, 0);
      if (this.fatal !== 0) return pos;
    }
    const take = Math.min(this.partialTotal - this.partialLen, chunk.length - pos);
    this.append(chunk, pos, take);
    pos += take;
    if (this.partialLen === this.partialTotal) {
      const buf = this.partial;
      const len = this.partialTotal - FRAME_HEADER_SIZE;
      const got = viewOf(buf).getUint32(buf.byteOffset + 20, true);
      const h = this.partialHash;
      const sum = h !== null ? checksumFinish(h) : len === 0 ? EMPTY_CHECKSUM : checksum(buf, FRAME_HEADER_SIZE, len);
      const ok = sum === got;
      const cmd = this.partialCmd;
      this.partialHash = null;
      this.partialLen = 0;
      this.partialTotal = 0;
      // A large buffer goes back to the thread's pool once its frame is delivered, so an idle
      // peer holds little memory.
      const large = buf.length > MIN_PARTIAL;
      if (large) this.partial = EMPTY;
      this.frames++;
      if (!ok) this.badChecksums++;
      if (cmd === 0) this.unknownCommands++;
      this.sink.onFrame(cmd, buf, FRAME_HEADER_SIZE, len, ok);
      if (large) release(buf);
    }
    return pos;
  }
}

// -----------------------------------------------------------------------------------------------
// Frame writer

/**
 * Allocates a whole frame (header + `payloadSize` bytes) and returns it with the payload region
 * left for the caller to fill at offset 24; call `sealFrame` after writing the payload.
 */
export function allocFrame(magic: number, command: number | string | Uint8Array, payloadSize: number): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_SIZE + payloadSize);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  view.setUint32(0, magic >>> 0, true);
  const cmd =
    typeof command === 'number' ? COMMAND_BYTES[command]! : typeof command === 'string' ? commandBytes(command) : command;
  if (cmd.length !== COMMAND_SIZE) throw new RangeError('command field must be 12 bytes');
  frame.set(cmd, 4);
  view.setUint32(16, payloadSize, true);
  return frame;
}

/** Writes the checksum of the payload at offset 24 (or the given precomputed one) into the header. */
export function sealFrame(frame: Uint8Array, precomputedChecksum?: number): Uint8Array {
  const len = frame.length - FRAME_HEADER_SIZE;
  const sum = precomputedChecksum ?? (len === 0 ? EMPTY_CHECKSUM : checksum(frame, FRAME_HEADER_SIZE, len));
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(20, sum >>> 0, true);
  return frame;
}

/** A complete frame around raw payload bytes: one allocation, optional precomputed checksum. */
export function encodeRawFrame(
  magic: number,
  command: number | string | Uint8Array,
  payload: Uint8Array,
  precomputedChecksum?: number,
): Uint8Array {
  const frame = allocFrame(magic, command, payload.length);
  frame.set(payload, FRAME_HEADER_SIZE);
  return sealFrame(frame, precomputedChecksum);
}

/** A complete frame around an encoded message: header and payload in one allocation. */
export function encodeFrame<K extends CommandName>(magic: number, command: K, msg: MessageMap[K]): Uint8Array {
  const frame = allocFrame(magic, Command[command], encodedSize(command, msg));
  const w = new Writer(frame, FRAME_HEADER_SIZE);
  encodeMessageInto(w, command, msg);
  return sealFrame(frame);
}
