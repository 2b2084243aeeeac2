/**
 * `invscope decode`: reads v1 frames (a hex argument, a file, or bytes on stdin, raw or as hex
 * text) and prints one JSON object per message. A bad frame is printed as an error object with its
 * code and the stream goes on: after a fatal header fault the decoder resynchronises at the next
 * occurrence of the network magic. Main thread, cold path.
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { V1Decoder, FRAME_HEADER_SIZE } from '../transport/v1.js';
import { decodePayload, messageToJSON } from '../protocol/registry.js';
import { Reader } from '../protocol/reader.js';
import { statusCode, Status } from '../protocol/errors.js';
import { commandString, commandId } from '../protocol/commands.js';
import { COMMAND_NAMES, NETWORKS, type CommandName, type NetworkParams } from '../protocol/constants.js';
import { toHex, fromHex } from '../protocol/hex.js';

export interface DecodeSummary {
  frames: number;
  messages: number;
  errors: number;
  errorsByCode: Record<string, number>;
  /** Sentences for the person (a frame of another known network's magic), at most one each. */
  hints: string[];
}

/** JSON.stringify that prints bigints as decimal strings (codecs already do; this is a safety net). */
export function jsonLine(o: unknown): string {
  return JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * Decodes a whole byte stream of v1 frames, calling `out` with one JSON object per frame
 * (a message, or an error object with `error`, `offset` and what is known of the frame).
 */
export function decodeStream(bytes: Uint8Array, magic: number, out: (o: Record<string, unknown>) => void): DecodeSummary {
  const summary: DecodeSummary = { frames: 0, messages: 0, errors: 0, errorsByCode: {}, hints: [] };
  const report = (code: string, o: Record<string, unknown>): void => {
    summary.errors++;
    summary.errorsByCode[code] = (summary.errorsByCode[code] ?? 0) + 1;
    out({ error: code, ...o });
  };
  const r = new Reader();
  let base = 0; // offset of the current slice in `bytes`
  let lastEnd = 0; // end of the last delivered frame, relative to the slice
  const sink = {
    onFrame(cmd: number, buf: Uint8Array, off: number, len: number, ok: boolean) {
      summary.frames++;
      lastEnd = off + len;
      const command = cmd === 0 ? commandString(buf, off - 20) : COMMAND_NAMES[cmd]!;
      const offset = base + off - FRAME_HEADER_SIZE;
      if (!ok) return report(statusCode(Status.BAD_CHECKSUM), { offset, command, length: len });
      if (cmd === 0) {
        summary.messages++;
        return out({ command, unknown: true, payloadHex: toHex(buf, off, len) });
      }
      const msg = decodePayload(cmd, buf, off, len, r);
      if (msg === undefined) {
        return report(statusCode(r.err), { offset, command, length: len, at: r.errAt, payloadHex: toHex(buf, off, len) });
      }
      summary.messages++;
      out(messageToJSON(command, msg));
    },
  };
  while (base < bytes.length) {
    lastEnd = 0;
    const dec = new V1Decoder(magic, sink);
    const slice = bytes.subarray(base);
    const status = dec.push(slice);
    if (status === 0) {
      if (dec.bufferedBytes > 0) {
        report(statusCode(Status.TRUNCATED), { offset: base + lastEnd, length: dec.bufferedBytes, detail: 'stream ends inside a frame' });
      }
      break;
    }
    const at = base + lastEnd;
    const other = status === Status.BAD_MAGIC ? otherNetworkAt(bytes, at, magic) : undefined;
    const hint = other ? `the frame has ${other.name}'s magic (${toHex(bytes, at, 4)}): use --network ${other.name}` : undefined;
    if (hint !== undefined && !summary.hints.includes(hint)) summary.hints.push(hint);
    report(statusCode(status), { offset: at, headerHex: toHex(bytes, at, Math.min(FRAME_HEADER_SIZE, bytes.length - at)), ...(hint ? { hint } : {}) });
    // Resynchronise: the next occurrence of the magic after the faulty header's first byte.
    const next = findMagic(bytes, magic, at + 1);
    if (next < 0) break;
    base = next;
  }
  return summary;
}

/**
 * Decodes one bare payload of a known command (no v1 header: what RPC's getrawtransaction or
 * getblock HASH 0 return), printing its JSON or an error object with the code and offset.
 */
export function decodeBarePayload(command: CommandName, bytes: Uint8Array, out: (o: Record<string, unknown>) => void): DecodeSummary {
  const r = new Reader();
  const msg = decodePayload(commandId(command), bytes, 0, bytes.length, r);
  if (msg === undefined) {
    const code = statusCode(r.err);
    out({ error: code, command, length: bytes.length, at: r.errAt });
    return { frames: 0, messages: 0, errors: 1, errorsByCode: { [code]: 1 }, hints: [] };
  }
  out(messageToJSON(command, msg));
  return { frames: 0, messages: 1, errors: 0, errorsByCode: {}, hints: [] };
}

function findMagic(bytes: Uint8Array, magic: number, from: number): number {
  const b0 = magic & 0xff;
  const b1 = (magic >>> 8) & 0xff;
  const b2 = (magic >>> 16) & 0xff;
  const b3 = magic >>> 24;
  for (let i = from; i + 4 <= bytes.length; i++) {
    if (bytes[i] === b0 && bytes[i + 1] === b1 && bytes[i + 2] === b2 && bytes[i + 3] === b3) return i;
  }
  return -1;
}

/** Bytes that are only hex digits and white space are hex text; anything else is raw bytes. */
export function asBytes(input: Uint8Array): Uint8Array {
  let hex = true;
  for (let i = 0; i < input.length && hex; i++) {
    const c = input[i]!;
    hex = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  }
  if (!hex || input.length === 0) return input;
  const text = Buffer.from(input).toString('latin1').replace(/\s+/g, '');
  return fromHex(text);
}

/** Reads the input named on the command line: a file path, a hex string (0x allowed), or '-' for stdin. */
export function readInput(arg: string | undefined): Uint8Array {
  if (arg === undefined || arg === '-') return asBytes(new Uint8Array(readFileSync(0)));
  if (existsSync(arg)) return asBytes(readFileArg(arg));
  const hex = arg.replace(/^0x/i, '').replace(/\s+/g, '');
  if (/^[0-9a-fA-F]+$/.test(hex)) {
    if (hex.length % 2 !== 0) throw new UsageError(`hex input has an odd number of digits: ${hex.length}`);
    return fromHex(hex);
  }
  throw new UsageError(`no such file, and not hex: ${JSON.stringify(arg)}`);
}

/** A file's bytes; a directory or an unreadable file is a UsageError naming it. */
function readFileArg(path: string): Uint8Array {
  if (statSync(path).isDirectory()) throw new UsageError(`${path} is a directory, not a file of frames`);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * The known network whose magic the four bytes at `off` are, other than `magic` itself: a frame
 * that fails on its magic is most often from a peer or file of another network.
 */
export function otherNetworkAt(bytes: Uint8Array, off: number, magic: number): NetworkParams | undefined {
  if (off + 4 > bytes.length) return undefined;
  const m = (bytes[off]! | (bytes[off + 1]! << 8) | (bytes[off + 2]! << 16) | (bytes[off + 3]! << 24)) >>> 0;
  if (m === magic >>> 0) return undefined;
  return Object.values(NETWORKS).find((n) => n.magic >>> 0 === m);
}

/** A bad argument or option: printed as a one-line message, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
