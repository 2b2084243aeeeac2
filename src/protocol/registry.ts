/**
 * The command registry: every message codec by command id, and the cold entry points that
 * decode, encode and print whole messages (they throw coded `WireError`s; the hot path calls
 * `decodePayload`, which returns a status instead). Unknown commands are a value (`RawMessage`),
 * never an error. Pure module, any thread.
 */
import { Command, COMMAND_COUNT, COMMAND_NAMES, type CommandName } from './constants.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { WireError, Status } from './errors.js';
import { toHex } from './hex.js';
import type { MessageCodec } from './message.js';
import { codecs as control } from './messages/control.js';
import { codecs as address } from './messages/address.js';
import { codecs as inventory } from './messages/inventory.js';
import { codecs as locator } from './messages/locator.js';
import { codecs as bloom } from './messages/bloom.js';
import { codecs as cfilters } from './messages/cfilters.js';
import { codecs as tx } from './messages/tx.js';
import { codecs as block } from './messages/block.js';
import { codecs as headers } from './messages/headers.js';
import { codecs as merkleblock } from './messages/merkleblock.js';
import { codecs as compact } from './messages/compact.js';
import type * as C from './messages/control.js';
import type * as A from './messages/address.js';
import type * as I from './messages/inventory.js';
import type * as L from './messages/locator.js';
import type * as B from './messages/bloom.js';
import type * as F from './messages/cfilters.js';
import type * as T from './messages/tx.js';
import type * as K from './messages/block.js';
import type * as H from './messages/headers.js';
import type * as M from './messages/merkleblock.js';
import type * as P from './messages/compact.js';

/** The decoded type of every known command. */
export interface MessageMap {
  version: C.VersionMessage;
  verack: C.VerackMessage;
  ping: C.PingMessage;
  pong: C.PongMessage;
  getaddr: C.GetAddrMessage;
  mempool: C.MempoolMessage;
  sendheaders: C.SendHeadersMessage;
  sendaddrv2: C.SendAddrV2Message;
  wtxidrelay: C.WtxidRelayMessage;
  filterclear: C.FilterClearMessage;
  feefilter: C.FeeFilterMessage;
  sendcmpct: C.SendCmpctMessage;
  reject: C.RejectMessage;
  sendtxrcncl: C.SendTxRcnclMessage;
  addr: A.AddrMessage;
  addrv2: A.AddrV2Message;
  inv: I.InvMessage;
  getdata: I.InvMessage;
  notfound: I.InvMessage;
  getheaders: L.GetHeadersMessage;
  getblocks: L.GetBlocksMessage;
  filterload: B.FilterLoadMessage;
  filteradd: B.FilterAddMessage;
  getcfilters: F.GetCFiltersMessage;
  cfilter: F.CFilterMessage;
  getcfheaders: F.GetCFHeadersMessage;
  cfheaders: F.CFHeadersMessage;
  getcfcheckpt: F.GetCFCheckptMessage;
  cfcheckpt: F.CFCheckptMessage;
  tx: T.TxMessage;
  block: K.BlockMessage;
  headers: H.HeadersMessage;
  merkleblock: M.MerkleBlockMessage;
  cmpctblock: P.CmpctBlockMessage;
  getblocktxn: P.GetBlockTxnMessage;
  blocktxn: P.BlockTxnMessage;
}

/** A message whose command invscope does not decode: kept as its raw payload, and it round-trips. */
export interface RawMessage {
  command: string;
  payload: Uint8Array;
}

/** Any message: a known command with its decoded fields, or a raw one. */
export type AnyMessage = { [K in CommandName]: { command: K; message: MessageMap[K] } }[CommandName];

const BY_ID: (MessageCodec<unknown> | undefined)[] = new Array(COMMAND_COUNT).fill(undefined);
for (const family of [control, address, inventory, locator, bloom, cfilters, tx, block, headers, merkleblock, compact]) {
  for (const codec of family) BY_ID[Command[codec.command]] = codec as MessageCodec<unknown>;
}
for (let id = 1; id < COMMAND_COUNT; id++) {
  if (!BY_ID[id]) throw new Error(`registry: no codec for command ${COMMAND_NAMES[id]}`);
}

/** The codec of a known command id (1..COMMAND_COUNT-1). */
export function codecOf(id: number): MessageCodec<unknown> | undefined {
  return BY_ID[id];
}

const shared = new Reader();

/**
 * Decodes the payload `buf[off, off+len)` of command `id` with a strict end check.
 * Returns the message, or undefined with the status in `r.err` (and offset in `r.errAt`).
 * Byte fields of the result are views into `buf`. Never throws on peer bytes.
 */
export function decodePayload(id: number, buf: Uint8Array, off: number, len: number, r: Reader = shared): unknown {
  const codec = BY_ID[id];
  r.reset(buf, off, len);
  if (!codec) {
    r.fail(Status.UNKNOWN_COMMAND);
    return undefined;
  }
  const msg = codec.decode(r);
  return r.finish() ? msg : undefined;
}

/** Decodes a payload of a known command; throws a coded WireError on malformed bytes. */
export function decodeMessage<K extends CommandName>(command: K, payload: Uint8Array): MessageMap[K] {
  const id = Command[command];
  const r = new Reader(payload, 0, payload.length);
  const msg = decodePayload(id, payload, 0, payload.length, r);
  if (r.err !== 0) throw new WireError(r.err, `decode ${command}`, r.errAt);
  return msg as MessageMap[K];
}

/** Bytes of the payload of `msg` as command `command`. */
export function encodedSize<K extends CommandName>(command: K, msg: MessageMap[K]): number {
  return BY_ID[Command[command]]!.encodedSize(msg);
}

/** Encodes a message's payload into a fresh buffer of exactly its size. */
export function encodeMessage<K extends CommandName>(command: K, msg: MessageMap[K]): Uint8Array {
  const codec = BY_ID[Command[command]]!;
  const w = new Writer(codec.encodedSize(msg));
  codec.encode(w, msg);
  return w.buf;
}

/** Writes a message's payload at `w.pos` (the frame writer reserves its header in the same buffer). */
export function encodeMessageInto<K extends CommandName>(w: Writer, command: K, msg: MessageMap[K]): void {
  BY_ID[Command[command]]!.encode(w, msg);
}

/** The JSON form of a message: `{command, ...fields}` with display-order hashes and decimal 64-bit values. */
export function messageToJSON(command: string, msg: unknown): Record<string, unknown> {
  const id = (Object.hasOwn(Command, command) ? (Command as Record<string, number>)[command] : 0) ?? 0;
  const codec = BY_ID[id];
  if (!codec) {
    const raw = msg as RawMessage;
    return { command, unknown: true, payloadHex: toHex(raw.payload) };
  }
  return { command, ...codec.toJSON(msg) };
}
