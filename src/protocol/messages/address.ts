/**
 * addr (v1 entries) and addrv2 (BIP155) payload codecs, plus network-address helpers: BIP155
 * network ids and lengths, v1 16-byte <-> v2 conversion, and strings as Bitcoin Core prints them
 * (netaddress.cpp ToStringAddr; Tor rend-spec-v3 onion names; I2P b32 names).
 * Pure module, any thread. Decoding is warm (addr gossip), the string helpers are cold (JSON, CLI).
 */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { varintSize, varint64Size } from '../writer.js';
import { Status } from '../errors.js';
import { MAX_ADDR_TO_SEND, MAX_ADDRV2_SIZE, serviceNames } from '../constants.js';
import type { MessageCodec } from '../message.js';
import { toHex } from '../hex.js';
import { createHash } from 'node:crypto';

// ---------------------------------------------------------------------------------------------
// BIP155 networks

/** BIP155 network ids (Bitcoin Core netaddress.h BIP155Network). */
export const NetworkId = {
  IPV4: 1,
  IPV6: 2,
  /** Decode-only: Tor v2 was removed from Tor and from Bitcoin Core 22.0. */
  TORV2: 3,
  TORV3: 4,
  I2P: 5,
  CJDNS: 6,
} as const;

/** Address lengths of the networks Bitcoin Core knows (netaddress.h ADDR_*_SIZE). */
export const ADDR_IPV4_SIZE = 4;
export const ADDR_IPV6_SIZE = 16;
export const ADDR_TORV2_SIZE = 10;
export const ADDR_TORV3_SIZE = 32;
export const ADDR_I2P_SIZE = 32;
export const ADDR_CJDNS_SIZE = 16;

/**
 * Required length per network id, 0 where the length is not checked. TORv2 (3) is 0 on purpose:
 * Bitcoin Core 22.0+ SetNetFromBIP155Network no longer lists it, so id 3 is an unknown network
 * whose bytes are skipped whatever their length (an old 0.21 node threw on a length other than 10).
 */
const BIP155_SIZE: readonly number[] = [0, ADDR_IPV4_SIZE, ADDR_IPV6_SIZE, 0, ADDR_TORV3_SIZE, ADDR_I2P_SIZE, ADDR_CJDNS_SIZE];

/** Network names as the fixtures and Bitcoin Core's GetNetworkName spell them. */
export type NetworkName = 'ipv4' | 'ipv6' | 'internal' | 'torv2' | 'torv3' | 'i2p' | 'cjdns' | 'unknown';

/** A BIP155 network address: the network id and the address bytes (a view, wire order). */
export interface NetAddrV2 {
  networkId: number;
  addr: Uint8Array;
}

/** Bitcoin Core netaddress.h IPV4_IN_IPV6_PREFIX: ::ffff:0:0/96. */
const IPV4_IN_IPV6_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
/** Bitcoin Core netaddress.h INTERNAL_IN_IPV6_PREFIX: 0xfd + sha256("bitcoin")[0:5]. */
const INTERNAL_IN_IPV6_PREFIX = [0xfd, 0x6b, 0x88, 0xc0, 0x87, 0x24];

function hasPrefix(b: Uint8Array, prefix: readonly number[]): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

/**
 * The network of an address. An IPv6 address with Core's internal prefix is 'internal' (that is
 * how Core's v1 and v2 decoders classify it); embedded IPv4 or OnionCat in the IPv6 slot stays
 * 'ipv6' (Core parses it but IsValid() is false). Ids 1..6 with a wrong length are 'unknown'.
 */
export function netAddrNetwork(a: NetAddrV2): NetworkName {
  const n = a.addr.length;
  switch (a.networkId) {
    case NetworkId.IPV4:
      return n === ADDR_IPV4_SIZE ? 'ipv4' : 'unknown';
    case NetworkId.IPV6:
      if (n !== ADDR_IPV6_SIZE) return 'unknown';
      return hasPrefix(a.addr, INTERNAL_IN_IPV6_PREFIX) ? 'internal' : 'ipv6';
    case NetworkId.TORV2:
      return n === ADDR_TORV2_SIZE ? 'torv2' : 'unknown';
    case NetworkId.TORV3:
      return n === ADDR_TORV3_SIZE ? 'torv3' : 'unknown';
    case NetworkId.I2P:
      return n === ADDR_I2P_SIZE ? 'i2p' : 'unknown';
    case NetworkId.CJDNS:
      return n === ADDR_CJDNS_SIZE ? 'cjdns' : 'unknown';
    default:
      return 'unknown';
  }
}

/**
 * Decodes a BIP155 network address (network id, CompactSize length, bytes) as Bitcoin Core
 * CNetAddr::UnserializeV2Stream does: a length above 512 is TOO_LONG, a known network with the wrong
 * length is BAD_VALUE (checked before the bytes are read), an unknown id is kept as raw bytes.
 */
export function decodeNetAddrV2(r: Reader): NetAddrV2 {
  const networkId = r.u8();
  const len = r.varint();
  if (r.err !== 0) return { networkId, addr: EMPTY };
  if (len > MAX_ADDRV2_SIZE) {
    r.fail(Status.TOO_LONG);
    return { networkId, addr: EMPTY };
  }
  const want = networkId < BIP155_SIZE.length ? BIP155_SIZE[networkId]! : 0;
  if (want !== 0 && len !== want) {
    r.fail(Status.BAD_VALUE);
    return { networkId, addr: EMPTY };
  }
  return { networkId, addr: r.bytes(len) };
}

export function encodeNetAddrV2(w: Writer, a: NetAddrV2): void {
  w.u8(a.networkId);
  w.varBytes(a.addr);
}

export function encodedSizeNetAddrV2(a: NetAddrV2): number {
  return 1 + varintSize(a.addr.length) + a.addr.length;
}

const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------------------------------------
// v1 <-> v2

/**
 * A 16-byte v1 address as BIP155 (Core CNetAddr::UnserializeV1Array): IPv4-mapped becomes IPv4
 * (a view of the last 4 bytes), everything else IPv6 (internal stays in the IPv6 slot, as Core's
 * v2 serializer writes it).
 */
export function netAddrFromV1(ip: Uint8Array): NetAddrV2 {
  if (ip.length === 16 && hasPrefix(ip, IPV4_IN_IPV6_PREFIX)) return { networkId: NetworkId.IPV4, addr: ip.subarray(12, 16) };
  return { networkId: NetworkId.IPV6, addr: ip };
}

/**
 * The 16-byte v1 form of a BIP155 address (Core CNetAddr::SerializeV1Array): IPv4 as
 * ::ffff:a.b.c.d, IPv6 as is, and networks v1 cannot express (TORv3, I2P, CJDNS, unknown) as
 * 16 zero bytes.
 */
export function netAddrToV1(a: NetAddrV2): Uint8Array {
  const out = new Uint8Array(16);
  const net = netAddrNetwork(a);
  if (net === 'ipv4') {
    out[10] = 0xff;
    out[11] = 0xff;
    out.set(a.addr, 12);
  } else if (net === 'ipv6' || net === 'internal') {
    out.set(a.addr);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Strings (cold path)

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lowercase, no padding (Core EncodeBase32(..., pad=false)). */
export function base32Encode(b: Uint8Array): string {
  let s = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < b.length; i++) {
    acc = ((acc << 8) | b[i]!) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += B32[(acc >>> bits) & 31];
    }
  }
  if (bits > 0) s += B32[(acc << (5 - bits)) & 31];
  return s;
}

/** RFC 4648 base32 without padding, case-insensitive; null on a bad digit or non-zero spare bits. */
export function base32Decode(s: string): Uint8Array | null {
  const out = new Uint8Array(Math.floor((s.length * 5) / 8));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (let i = 0; i < s.length; i++) {
    const v = B32.indexOf(s[i]!.toLowerCase());
    if (v < 0) return null;
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >>> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

/** Dotted quad of 4 bytes at `off`. */
export function ipv4ToString(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * 16 bytes as IPv6 text the way Bitcoin Core IPv6ToString prints it (RFC 5952 style): lowercase
 * groups without leading zeros, the longest run of two or more zero groups (the first on a tie)
 * as "::". Like Core, an IPv4-mapped address is not printed with a dotted tail here.
 */
export function ipv6ToString(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let bestStart = 0;
  let bestLen = 0;
  let curStart = 0;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (g[i] !== 0) {
      curStart = i + 1;
      curLen = 0;
      continue;
    }
    curLen++;
    if (curLen > bestLen) {
      bestLen = curLen;
      bestStart = curStart;
    }
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (bestLen >= 2 && i >= bestStart && i < bestStart + bestLen) {
      if (i === bestStart) s += '::';
      continue;
    }
    s += (s.length > 0 && !s.endsWith(':') ? ':' : '') + g[i]!.toString(16);
  }
  return s;
}

/** Tor rend-spec-v3: CHECKSUM = SHA3-256(".onion checksum" | PUBKEY | VERSION)[:2], VERSION = 3. */
function onionChecksum(pubkey: Uint8Array): Uint8Array {
  return createHash('sha3-256').update('.onion checksum').update(pubkey).update(Uint8Array.of(3)).digest().subarray(0, 2);
}

/** A Tor v3 public key as its 56-character name: base32(PUBKEY | CHECKSUM | VERSION) + ".onion". */
export function onionV3ToString(pubkey: Uint8Array): string {
  const full = new Uint8Array(35);
  full.set(pubkey);
  full.set(onionChecksum(pubkey), 32);
  full[34] = 3;
  return `${base32Encode(full)}.onion`;
}

/**
 * A BIP155 address as text, as Bitcoin Core CNetAddr::ToStringAddr prints it: IPv4 dotted,
 * IPv6 and CJDNS compressed hex, internal as base32 + ".internal", TORv2 base32 + ".onion",
 * TORv3 with checksum + ".onion", I2P base32 + ".b32.i2p". Unknown networks (which Core drops)
 * as "unknown-<id>:<hex>" so that logs still show them.
 */
export function netAddrToString(a: NetAddrV2): string {
  switch (netAddrNetwork(a)) {
    case 'ipv4':
      return ipv4ToString(a.addr);
    case 'ipv6':
    case 'cjdns':
      return ipv6ToString(a.addr);
    case 'internal':
      return `${base32Encode(a.addr.subarray(INTERNAL_IN_IPV6_PREFIX.length))}.internal`;
    case 'torv2':
      return `${base32Encode(a.addr)}.onion`;
    case 'torv3':
      return onionV3ToString(a.addr);
    case 'i2p':
      return `${base32Encode(a.addr)}.b32.i2p`;
    default:
      return `unknown-${a.networkId}:${toHex(a.addr)}`;
  }
}

/** A 16-byte v1 address as text: IPv4-mapped (::ffff:a.b.c.d) as a.b.c.d, otherwise IPv6. */
export function ipV1ToString(ip: Uint8Array): string {
  if (hasPrefix(ip, IPV4_IN_IPV6_PREFIX)) return ipv4ToString(ip, 12);
  return ipv6ToString(ip);
}

function parseIPv4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(parts[i]!)) return null;
    const v = Number(parts[i]);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

function parseIPv6(s: string): Uint8Array | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      // A dotted IPv4 tail (::ffff:1.2.3.4) fills the last two groups.
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      out.push(parseInt(p, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i]! >> 8;
    out[2 * i + 1] = all[i]! & 0xff;
  }
  return out;
}

/**
 * Parses an address string to BIP155 form: IPv4, IPv6 (an IPv4-mapped one becomes IPv4, an
 * fc00::/8 one stays IPv6: CJDNS cannot be told apart by text), a 56-character v3 ".onion"
 * (version and checksum verified) or a 52-character ".b32.i2p". Null when it is none of them.
 * Cold path (CLI, address files).
 */
export function parseNetAddr(s: string): NetAddrV2 | null {
  const lower = s.toLowerCase();
  if (lower.endsWith('.onion')) {
    const b = lower.length === 56 + 6 ? base32Decode(lower.slice(0, 56)) : null;
    if (!b || b.length !== 35 || b[34] !== 3) return null;
    const pubkey = b.slice(0, 32);
    const sum = onionChecksum(pubkey);
    if (sum[0] !== b[32] || sum[1] !== b[33]) return null;
    return { networkId: NetworkId.TORV3, addr: pubkey };
  }
  if (lower.endsWith('.b32.i2p')) {
    const b = lower.length === 52 + 8 ? base32Decode(lower.slice(0, 52)) : null;
    if (!b || b.length !== 32) return null;
    return { networkId: NetworkId.I2P, addr: b };
  }
  const v4 = parseIPv4(s);
  if (v4) return { networkId: NetworkId.IPV4, addr: v4 };
  const v6 = parseIPv6(s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s);
  if (v6) return netAddrFromV1(v6);
  return null;
}

/** Parses an IPv4 or IPv6 string to the 16-byte v1 form (IPv4 as ::ffff:a.b.c.d); null otherwise. */
export function ipV1FromString(s: string): Uint8Array | null {
  const a = parseNetAddr(s);
  if (!a || (a.networkId !== NetworkId.IPV4 && a.networkId !== NetworkId.IPV6)) return null;
  return netAddrToV1(a);
}

// ---------------------------------------------------------------------------------------------
// addr (v1)

/** A v1 network address without time (the version message's addrRecv/addrFrom). */
export interface NetAddrV1 {
  services: bigint;
  /** 16 bytes, wire order (IPv4 as ::ffff:a.b.c.d). */
  ip: Uint8Array;
  /** Host byte order; big-endian on the wire. */
  port: number;
}

/** An addr entry: u32 time, u64 services, 16-byte address, u16 big-endian port. */
export interface AddrEntry extends NetAddrV1 {
  time: number;
}

export interface AddrMessage {
  addrs: AddrEntry[];
}

/** Bytes of one addr entry (time 4, services 8, ip 16, port 2). */
export const ADDR_ENTRY_SIZE = 30;
/** Bytes of a NetAddrV1 without time (in version). */
export const NET_ADDR_V1_SIZE = 26;

export function decodeNetAddrV1(r: Reader): NetAddrV1 {
  const services = r.u64();
  const ip = r.bytes(16);
  const port = r.u16be();
  return { services, ip, port };
}

export function encodeNetAddrV1(w: Writer, a: NetAddrV1): void {
  w.u64(a.services);
  w.bytes(a.ip);
  w.u16be(a.port);
}

export function netAddrV1ToJSON(a: NetAddrV1): Record<string, unknown> {
  return {
    services: a.services.toString(),
    serviceNames: serviceNames(a.services),
    ip: ipV1ToString(a.ip),
    ipHex: toHex(a.ip),
    port: a.port,
  };
}

export function decodeAddr(r: Reader): AddrMessage {
  const n = r.count(MAX_ADDR_TO_SEND, ADDR_ENTRY_SIZE);
  const addrs: AddrEntry[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const time = r.u32();
    const a = decodeNetAddrV1(r);
    addrs[i] = { time, services: a.services, ip: a.ip, port: a.port };
  }
  return { addrs: r.err === 0 ? addrs : [] };
}

export function encodeAddr(w: Writer, m: AddrMessage): void {
  w.varint(m.addrs.length);
  for (const a of m.addrs) {
    w.u32(a.time);
    encodeNetAddrV1(w, a);
  }
}

export function encodedSizeAddr(m: AddrMessage): number {
  return varintSize(m.addrs.length) + ADDR_ENTRY_SIZE * m.addrs.length;
}

export const addrCodec: MessageCodec<AddrMessage> = {
  command: 'addr',
  decode: decodeAddr,
  encode: encodeAddr,
  encodedSize: encodedSizeAddr,
  toJSON: (m) => ({ addrs: m.addrs.map((a) => ({ time: a.time, ...netAddrV1ToJSON(a) })) }),
};

// ---------------------------------------------------------------------------------------------
// addrv2 (BIP155)

/** An addrv2 entry: u32 time, CompactSize services, network address, u16 big-endian port. */
export interface AddrV2Entry extends NetAddrV2 {
  time: number;
  services: bigint;
  port: number;
}

export interface AddrV2Message {
  addrs: AddrV2Entry[];
}

/** The smallest addrv2 entry: time 4, services 1, network 1, length 1, no address, port 2. */
export const ADDRV2_ENTRY_MIN_SIZE = 9;

export function decodeAddrV2(r: Reader): AddrV2Message {
  const n = r.count(MAX_ADDR_TO_SEND, ADDRV2_ENTRY_MIN_SIZE);
  const addrs: AddrV2Entry[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const time = r.u32();
    const services = r.varint64();
    const a = decodeNetAddrV2(r);
    const port = r.u16be();
    addrs[i] = { time, services, networkId: a.networkId, addr: a.addr, port };
  }
  return { addrs: r.err === 0 ? addrs : [] };
}

export function encodeAddrV2(w: Writer, m: AddrV2Message): void {
  w.varint(m.addrs.length);
  for (const a of m.addrs) {
    w.u32(a.time);
    w.varint64(a.services);
    encodeNetAddrV2(w, a);
    w.u16be(a.port);
  }
}

export function encodedSizeAddrV2(m: AddrV2Message): number {
  let n = varintSize(m.addrs.length);
  for (const a of m.addrs) n += 4 + varint64Size(a.services) + encodedSizeNetAddrV2(a) + 2;
  return n;
}

function addrV2EntryToJSON(a: AddrV2Entry): Record<string, unknown> {
  const network = netAddrNetwork(a);
  const out: Record<string, unknown> = {
    time: a.time,
    services: a.services.toString(),
    serviceNames: serviceNames(a.services),
    networkId: a.networkId,
    network,
    addrHex: toHex(a.addr),
  };
  if (network !== 'unknown') out.addr = netAddrToString(a);
  out.port = a.port;
  return out;
}

export const addrv2Codec: MessageCodec<AddrV2Message> = {
  command: 'addrv2',
  decode: decodeAddrV2,
  encode: encodeAddrV2,
  encodedSize: encodedSizeAddrV2,
  toJSON: (m) => ({ addrs: m.addrs.map(addrV2EntryToJSON) }),
};

export const codecs: readonly MessageCodec<any>[] = [addrCodec, addrv2Codec];
