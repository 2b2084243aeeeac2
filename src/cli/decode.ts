/**
 * `invscope decode`: reads v1 frames (a hex argument, a file, or bytes on stdin, raw or as hex
 * text) and prints one JSON object per message. A bad frame is printed as an error object with its
 * code and the stream goes on: after a fatal header fault the decoder resynchronises at the next
 * occurrence of the network magic. Main thread, cold path.
 */
import { readFileSync, existsSync } from 'node:fs';
import { V1Decoder, HEADER_SIZE } from '../transport/v1.js';
import { decodePayload, messageToJSON } from '../protocol/registry.js';
import { Reader } from '../protocol/reader.js';
import { statusCode, Status } from '../protocol/errors.js';
import { commandString } from '../protocol/commands.js';
import { COMMAND_NAMES } from '../protocol/constants.js';
import { toHex, fromHex } from '../protocol/hex.js';

export interface DecodeSummary {
  frames: number;
  messages: number;
  errors: number;
  errorsByCode: Record<string, number>;
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
  const summary: DecodeSummary = { frames: 0, messages: 0, errors: 0, errorsByCode: {} };
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
      const offset = base + off - HEADER_SIZE;
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
    report(statusCode(status), { offset: at, headerHex: toHex(bytes, at, Math.min(HEADER_SIZE, bytes.length - at)) });
    // Resynchronise: the next occurrence of the magic after the faulty header's first byte.
    const next = findMagic(bytes, magic, at + 1);
    if (next < 0) break;
    base = next;
  }
  return summary;
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

/** Reads the input named on the command line: a file path, a hex string, or '-' for stdin. */
export function readInput(arg: string | undefined): Uint8Array {
  if (arg === undefined || arg === '-') return asBytes(new Uint8Array(readFileSync(0)));
  if (existsSync(arg)) return asBytes(new Uint8Array(readFileSync(arg)));
  if (/^[0-9a-fA-F\s]+$/.test(arg)) {
    if (arg.replace(/\s+/g, '').length % 2 !== 0) throw new UsageError(`hex input has an odd number of digits: ${arg.length}`);
    return fromHex(arg.replace(/\s+/g, ''));
  }
  throw new UsageError(`no such file, and not hex: ${JSON.stringify(arg)}`);
}

/** A bad argument or option: printed as a one-line message, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
