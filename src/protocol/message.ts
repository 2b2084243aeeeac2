/**
 * The contract every message codec follows (btcd's small per-message interface):
 * decode from a Reader (never throws; failures are recorded in `r.err`), encode into a Writer
 * sized by `encodedSize`, and a JSON form for people (hashes as display-order hex, 64-bit
 * values as decimal strings, other bytes as wire-order hex).
 * Pure module, any thread.
 */
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';
import type { CommandName } from './constants.js';

export interface MessageCodec<T> {
  readonly command: CommandName;
  /**
   * Decodes one payload from `r` (which spans exactly the payload). On failure `r.err` is set and
   * the returned value must be ignored. Must not check for trailing bytes: the caller does.
   * Byte fields may be views into the reader's buffer.
   */
  decode(r: Reader): T;
  encode(w: Writer, msg: T): void;
  encodedSize(msg: T): number;
  /** The JSON form: display-order hashes, decimal strings for 64-bit values. */
  toJSON(msg: T): Record<string, unknown>;
}

/** Messages with an empty payload (verack, getaddr, mempool, sendheaders, sendaddrv2, wtxidrelay, filterclear). */
export type EmptyMessage = Record<string, never>;
