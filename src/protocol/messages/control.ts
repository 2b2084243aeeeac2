/**
 * Control-message payload codecs: version, verack, ping/pong (BIP31), the empty feature
 * negotiation messages (getaddr, mempool, sendheaders BIP130, sendaddrv2 BIP155, wtxidrelay BIP339,
 * filterclear BIP37), feefilter (BIP133), sendcmpct (BIP152), reject (BIP61) and sendtxrcncl (BIP330).
 * Follows Bitcoin Core net_processing.cpp ProcessMessage. Pure module, any thread; warm path
 * (handshake and keepalive), not the per-inv hot path.
 */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { varintSize } from '../writer.js';
import { MAX_REJECT_MESSAGE_LENGTH, MAX_SUBVERSION_LENGTH, serviceNames } from '../constants.js';
import type { EmptyMessage, MessageCodec } from '../message.js';
import type { CommandName } from '../constants.js';
import { toHex } from '../hex.js';
import { COMMAND_SIZE } from '../commands.js';
import { decodeNetAddrV1, encodeNetAddrV1, netAddrV1ToJSON, NET_ADDR_V1_SIZE, type NetAddrV1 } from './address.js';

// ---------------------------------------------------------------------------------------------
// version

/**
 * The version message. Everything up to startHeight is required (Core accepts shorter payloads
 * from pre-106 peers, but MIN_PEER_PROTO_VERSION 31800 drops those anyway); `relay` is undefined
 * when the payload ends before it (BIP37: pre-70001 peers omit it, Core then assumes true), so
 * re-encoding reproduces the bytes.
 */
export interface VersionMessage {
  version: number;
  services: bigint;
  /** Unix seconds, int64. */
  timestamp: bigint;
  addrRecv: NetAddrV1;
  addrFrom: NetAddrV1;
  nonce: bigint;
  /**
   * The wire bytes one character per byte (latin1, so encoding writes them back unchanged), at
   * most MAX_SUBVERSION_LENGTH bytes. The JSON form decodes them as UTF-8: see userAgentJSON.
   */
  userAgent: string;
  startHeight: number;
  relay?: boolean;
}

export function decodeVersion(r: Reader): VersionMessage {
  const version = r.i32();
  const services = r.u64();
  const timestamp = r.i64();
  const addrRecv = decodeNetAddrV1(r);
  const addrFrom = decodeNetAddrV1(r);
  const nonce = r.u64();
  const userAgent = r.varString(MAX_SUBVERSION_LENGTH);
  const startHeight = r.i32();
  const m: VersionMessage = { version, services, timestamp, addrRecv, addrFrom, nonce, userAgent, startHeight };
  // Core reads fRelay as a bool (any non-zero byte is true) and only when bytes remain. A byte
  // other than 0/1 therefore decodes (as true) rather than costing the handshake; only such a
  // payload does not re-encode byte for byte.
  if (r.err === 0 && r.pos < r.end) m.relay = r.u8() !== 0;
  return m;
}

export function encodeVersion(w: Writer, m: VersionMessage): void {
  w.i32(m.version);
  w.u64(m.services);
  w.i64(m.timestamp);
  encodeNetAddrV1(w, m.addrRecv);
  encodeNetAddrV1(w, m.addrFrom);
  w.u64(m.nonce);
  w.varString(m.userAgent);
  w.i32(m.startHeight);
  if (m.relay !== undefined) w.bool(m.relay);
}

export function encodedSizeVersion(m: VersionMessage): number {
  return 4 + 8 + 8 + 2 * NET_ADDR_V1_SIZE + 8 + varintSize(m.userAgent.length) + m.userAgent.length + 4 + (m.relay === undefined ? 0 : 1);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JSON fields of a user agent held one character per byte: `userAgent` is the bytes decoded
 * as UTF-8 when they are valid UTF-8 ("/café/" prints as "/café/"); otherwise `userAgent` stays
 * one character per byte (latin1) and `userAgentHex` gives the exact bytes.
 */
export function userAgentJSON(latin1: string): { userAgent: string; userAgentHex?: string } {
  let ascii = true;
  for (let i = 0; i < latin1.length && ascii; i++) if (latin1.charCodeAt(i) >= 0x80) ascii = false;
  if (ascii) return { userAgent: latin1 };
  const b = Uint8Array.from(latin1, (c) => c.charCodeAt(0) & 0xff);
  try {
    return { userAgent: utf8.decode(b) };
  } catch {
    return { userAgent: latin1, userAgentHex: toHex(b) };
  }
}

export const versionCodec: MessageCodec<VersionMessage> = {
  command: 'version',
  decode: decodeVersion,
  encode: encodeVersion,
  encodedSize: encodedSizeVersion,
  toJSON: (m) => {
    const out: Record<string, unknown> = {
      version: m.version,
      services: m.services.toString(),
      serviceNames: serviceNames(m.services),
      timestamp: m.timestamp.toString(),
      addrRecv: netAddrV1ToJSON(m.addrRecv),
      addrFrom: netAddrV1ToJSON(m.addrFrom),
      nonce: m.nonce.toString(),
      ...userAgentJSON(m.userAgent),
      startHeight: m.startHeight,
    };
    if (m.relay !== undefined) out.relay = m.relay ? 1 : 0;
    return out;
  },
};

// ---------------------------------------------------------------------------------------------
// Empty payloads

export type VerackMessage = EmptyMessage;
export type GetAddrMessage = EmptyMessage;
export type MempoolMessage = EmptyMessage;
export type SendHeadersMessage = EmptyMessage;
export type SendAddrV2Message = EmptyMessage;
export type WtxidRelayMessage = EmptyMessage;
export type FilterClearMessage = EmptyMessage;

/** The one shared empty message: decoding allocates nothing. */
const EMPTY_MESSAGE: EmptyMessage = Object.freeze({}) as EmptyMessage;

/** Reads nothing: a non-empty payload is left for the caller's r.finish() to report as TRAILING_BYTES. */
export function decodeEmpty(_r: Reader): EmptyMessage {
  return EMPTY_MESSAGE;
}
export function encodeEmpty(_w: Writer, _m: EmptyMessage): void {}
export function encodedSizeEmpty(_m: EmptyMessage): number {
  return 0;
}

function emptyCodec(command: CommandName): MessageCodec<EmptyMessage> {
  return { command, decode: decodeEmpty, encode: encodeEmpty, encodedSize: encodedSizeEmpty, toJSON: () => ({}) };
}

export const decodeVerack = decodeEmpty;
export const encodeVerack = encodeEmpty;
export const encodedSizeVerack = encodedSizeEmpty;
export const decodeGetAddr = decodeEmpty;
export const encodeGetAddr = encodeEmpty;
export const encodedSizeGetAddr = encodedSizeEmpty;
export const decodeMempool = decodeEmpty;
export const encodeMempool = encodeEmpty;
export const encodedSizeMempool = encodedSizeEmpty;
export const decodeSendHeaders = decodeEmpty;
export const encodeSendHeaders = encodeEmpty;
export const encodedSizeSendHeaders = encodedSizeEmpty;
export const decodeSendAddrV2 = decodeEmpty;
export const encodeSendAddrV2 = encodeEmpty;
export const encodedSizeSendAddrV2 = encodedSizeEmpty;
export const decodeWtxidRelay = decodeEmpty;
export const encodeWtxidRelay = encodeEmpty;
export const encodedSizeWtxidRelay = encodedSizeEmpty;
export const decodeFilterClear = decodeEmpty;
export const encodeFilterClear = encodeEmpty;
export const encodedSizeFilterClear = encodedSizeEmpty;

export const verackCodec = emptyCodec('verack');
export const getaddrCodec = emptyCodec('getaddr');
export const mempoolCodec = emptyCodec('mempool');
export const sendheadersCodec = emptyCodec('sendheaders');
export const sendaddrv2Codec = emptyCodec('sendaddrv2');
export const wtxidrelayCodec = emptyCodec('wtxidrelay');
export const filterclearCodec = emptyCodec('filterclear');

// ---------------------------------------------------------------------------------------------
// ping / pong (BIP31: a u64 nonce)

export interface PingMessage {
  nonce: bigint;
}
export interface PongMessage {
  nonce: bigint;
}

export function decodePing(r: Reader): PingMessage {
  return { nonce: r.u64() };
}
export function encodePing(w: Writer, m: PingMessage): void {
  w.u64(m.nonce);
}
export function encodedSizePing(_m: PingMessage): number {
  return 8;
}
export const decodePong: (r: Reader) => PongMessage = decodePing;
export const encodePong: (w: Writer, m: PongMessage) => void = encodePing;
export const encodedSizePong: (m: PongMessage) => number = encodedSizePing;

export const pingCodec: MessageCodec<PingMessage> = {
  command: 'ping',
  decode: decodePing,
  encode: encodePing,
  encodedSize: encodedSizePing,
  toJSON: (m) => ({ nonce: m.nonce.toString() }),
};
export const pongCodec: MessageCodec<PongMessage> = {
  command: 'pong',
  decode: decodePong,
  encode: encodePong,
  encodedSize: encodedSizePong,
  toJSON: (m) => ({ nonce: m.nonce.toString() }),
};

// ---------------------------------------------------------------------------------------------
// feefilter (BIP133)

export interface FeeFilterMessage {
  /** Satoshis per 1,000 virtual bytes. Core reads a signed CAmount; read unsigned here, same bytes. */
  feerate: bigint;
}

export function decodeFeeFilter(r: Reader): FeeFilterMessage {
  return { feerate: r.u64() };
}
export function encodeFeeFilter(w: Writer, m: FeeFilterMessage): void {
  w.u64(m.feerate);
}
export function encodedSizeFeeFilter(_m: FeeFilterMessage): number {
  return 8;
}

export const feefilterCodec: MessageCodec<FeeFilterMessage> = {
  command: 'feefilter',
  decode: decodeFeeFilter,
  encode: encodeFeeFilter,
  encodedSize: encodedSizeFeeFilter,
  toJSON: (m) => ({ feerate: m.feerate.toString() }),
};

// ---------------------------------------------------------------------------------------------
// sendcmpct (BIP152)

export interface SendCmpctMessage {
  /** High-bandwidth mode. BIP152 allows only 0 and 1: anything else is BAD_VALUE. */
  announce: boolean;
  version: bigint;
}

export function decodeSendCmpct(r: Reader): SendCmpctMessage {
  const announce = r.bool();
  return { announce, version: r.u64() };
}
export function encodeSendCmpct(w: Writer, m: SendCmpctMessage): void {
  w.bool(m.announce);
  w.u64(m.version);
}
export function encodedSizeSendCmpct(_m: SendCmpctMessage): number {
  return 9;
}

export const sendcmpctCodec: MessageCodec<SendCmpctMessage> = {
  command: 'sendcmpct',
  decode: decodeSendCmpct,
  encode: encodeSendCmpct,
  encodedSize: encodedSizeSendCmpct,
  toJSON: (m) => ({ announce: m.announce ? 1 : 0, version: m.version.toString() }),
};

// ---------------------------------------------------------------------------------------------
// reject (BIP61; removed from Bitcoin Core 0.20, still sent by old nodes and other clients)

export interface RejectMessage {
  /** The rejected message's command, at most 12 bytes (Core read it as LIMITED_STRING(COMMAND_SIZE)). */
  message: string;
  ccode: number;
  /** At most MAX_REJECT_MESSAGE_LENGTH (111) bytes. */
  reason: string;
  /**
   * Whatever follows the reason: BIP61 puts the 32-byte tx or block hash here for tx/block
   * rejects. Kept raw (any length, usually 0 or 32) so that the payload re-encodes exactly.
   */
  data: Uint8Array;
}

export function decodeReject(r: Reader): RejectMessage {
  const message = r.varString(COMMAND_SIZE);
  const ccode = r.u8();
  const reason = r.varString(MAX_REJECT_MESSAGE_LENGTH);
  const data = r.bytes(r.end - r.pos);
  return { message, ccode, reason, data };
}
export function encodeReject(w: Writer, m: RejectMessage): void {
  w.varString(m.message);
  w.u8(m.ccode);
  w.varString(m.reason);
  w.bytes(m.data);
}
export function encodedSizeReject(m: RejectMessage): number {
  return varintSize(m.message.length) + m.message.length + 1 + varintSize(m.reason.length) + m.reason.length + m.data.length;
}

export const rejectCodec: MessageCodec<RejectMessage> = {
  command: 'reject',
  decode: decodeReject,
  encode: encodeReject,
  encodedSize: encodedSizeReject,
  toJSON: (m) => ({ message: m.message, ccode: m.ccode, reason: m.reason, dataHex: toHex(m.data) }),
};

// ---------------------------------------------------------------------------------------------
// sendtxrcncl (BIP330: u32 version, u64 salt)

export interface SendTxRcnclMessage {
  version: number;
  salt: bigint;
}

export function decodeSendTxRcncl(r: Reader): SendTxRcnclMessage {
  const version = r.u32();
  return { version, salt: r.u64() };
}
export function encodeSendTxRcncl(w: Writer, m: SendTxRcnclMessage): void {
  w.u32(m.version);
  w.u64(m.salt);
}
export function encodedSizeSendTxRcncl(_m: SendTxRcnclMessage): number {
  return 12;
}

export const sendtxrcnclCodec: MessageCodec<SendTxRcnclMessage> = {
  command: 'sendtxrcncl',
  decode: decodeSendTxRcncl,
  encode: encodeSendTxRcncl,
  encodedSize: encodedSizeSendTxRcncl,
  toJSON: (m) => ({ version: m.version, salt: m.salt.toString() }),
};

export const codecs: readonly MessageCodec<any>[] = [
  versionCodec,
  verackCodec,
  pingCodec,
  pongCodec,
  getaddrCodec,
  mempoolCodec,
  sendheadersCodec,
  sendaddrv2Codec,
  wtxidrelayCodec,
  filterclearCodec,
  feefilterCodec,
  sendcmpctCodec,
  rejectCodec,
  sendtxrcnclCodec,
];
