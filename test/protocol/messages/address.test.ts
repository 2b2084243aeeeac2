import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { Status, statusCode } from '../../../src/protocol/errors.js';
import { fromHex, toHex } from '../../../src/protocol/hex.js';
import { sha256 } from '../../../src/protocol/hash.js';
import type { MessageCodec } from '../../../src/protocol/message.js';
import {
  codecs,
  addrCodec,
  addrv2Codec,
  decodeNetAddrV2,
  encodeNetAddrV2,
  encodedSizeNetAddrV2,
  netAddrNetwork,
  netAddrToString,
  netAddrToV1,
  netAddrFromV1,
  parseNetAddr,
  ipV1ToString,
  ipV1FromString,
  ipv6ToString,
  base32Encode,
  base32Decode,
  NetworkId,
  type AddrMessage,
  type AddrV2Message,
  type AddrV2Entry,
  type NetAddrV2,
} from '../../../src/protocol/messages/address.js';
import { fixtureJSON, prng, randomBytes } from '../../helpers.js';
import { vectorsFor, decode, encode, expectFields, u64, u32 } from './harness.js';

// ---------------------------------------------------------------------------------------------
// Helpers (the shared ones come from ./harness.ts)

const { byCommand, vectors } = vectorsFor(codecs);
const addrFixtures = fixtureJSON<any>('messages/addrv2_addresses.json');

function decodeNet(hex: string): { a: NetAddrV2; r: Reader } {
  const r = new Reader(fromHex(hex));
  const a = decodeNetAddrV2(r);
  r.finish();
  return { a, r };
}

/** A Core "internal" address for a name: fd6b88c08724 + sha256(name)[0:10] (netaddress.cpp SetInternal). */
function internalAddr(name: string): NetAddrV2 {
  const addr = new Uint8Array(16);
  addr.set([0xfd, 0x6b, 0x88, 0xc0, 0x87, 0x24]);
  addr.set(sha256(new TextEncoder().encode(name)).subarray(0, 10), 6);
  return { networkId: NetworkId.IPV6, addr };
}

// ---------------------------------------------------------------------------------------------
// Message vectors

test('decodes every addr and addrv2 vector to its stated fields and re-encodes the exact payload', () => {
  assert.ok(vectors.length >= 5, `found ${vectors.length}`);
  for (const v of vectors) {
    const codec = byCommand.get(v.command)!;
    const bytes = fromHex(v.payloadHex);
    const { m, r } = decode(codec, bytes);
    assert.is(r.err, 0, `${v.name}: ${statusCode(r.err)}`);
    expectFields(codec.toJSON(m), v.fields, v.name);
    assert.is(toHex(encode(codec, m)), v.payloadHex, `${v.name} re-encodes`);
  }
});

test('decodes the same three addresses from Core\'s addr and addrv2 streams', () => {
  const v1 = decode(addrCodec, fromHex(vectors.find((v) => v.name === 'core-addr-3')!.payloadHex)).m;
  const v2 = decode(addrv2Codec, fromHex(vectors.find((v) => v.name === 'core-addrv2-3')!.payloadHex)).m;
  assert.is(v1.addrs.length, 3);
  for (let i = 0; i < 3; i++) {
    const a = v1.addrs[i]!;
    const b = v2.addrs[i]!;
    assert.is(a.time, b.time);
    assert.is(a.services, b.services);
    assert.is(a.port, b.port);
    assert.equal(netAddrToV1(b), a.ip);
  }
  assert.equal((addrCodec.toJSON(v1) as any).addrs[2].serviceNames, ['NODE_WITNESS', 'NODE_COMPACT_FILTERS', 'NODE_NETWORK_LIMITED']);
});

// ---------------------------------------------------------------------------------------------
// BIP155 network addresses (Bitcoin Core net_tests.cpp cnetaddr_unserialize_v2)

/** The status a Core exception reason corresponds to. */
function statusForCoreError(error: string): number {
  if (error.startsWith('end of data')) return Status.TRUNCATED;
  if (error.startsWith('Address too long')) return Status.TOO_LONG;
  if (/address with length \d+ \(should be \d+\)/.test(error)) return Status.BAD_VALUE;
  throw new Error(`unmapped Core error ${error}`);
}

test('decodes every unserializeV2 address as Bitcoin Core does', () => {
  const entries: any[] = addrFixtures.unserializeV2;
  assert.is(entries.length, 20);
  for (const e of entries) {
    const { a, r } = decodeNet(e.hex);
    if (!e.valid) {
      assert.is(r.err, statusForCoreError(e.error), `${e.hex}: ${e.error} gave ${statusCode(r.err)}`);
      continue;
    }
    assert.is(r.err, 0, `${e.hex}: ${statusCode(r.err)}`);
    assert.is(netAddrNetwork(a), e.network, e.hex);
    if (Object.hasOwn(e, 'toString')) assert.is(netAddrToString(a), e.toString, e.hex);
    if (e.addrV1Compatible === true) assert.equal(netAddrToV1(netAddrFromV1(netAddrToV1(a))), netAddrToV1(a), e.hex);
    if (e.addrV1Compatible === false) assert.equal(netAddrToV1(a), new Uint8Array(16), `${e.hex} has no v1 form`);
    // What was consumed re-encodes to the same bytes.
    const w = new Writer(encodedSizeNetAddrV2(a));
    encodeNetAddrV2(w, a);
    assert.is(toHex(w.buf), e.hex);
  }
});

test('serializes every Core serialize vector in v1 and v2 form', () => {
  const entries: any[] = addrFixtures.serialize;
  assert.is(entries.length, 10);
  for (const e of entries) {
    const input: string = e.input;
    let a: NetAddrV2;
    if (input.startsWith('default CNetAddr')) a = { networkId: NetworkId.IPV6, addr: new Uint8Array(16) };
    else if (input.startsWith('internal name "a"')) a = internalAddr('a');
    else a = parseNetAddr(input.split(' ')[0]!)!;
    assert.ok(a, input);
    if (e.format === 'v1') assert.is(toHex(netAddrToV1(a)), e.hex, input);
    else {
      const w = new Writer(encodedSizeNetAddrV2(a));
      encodeNetAddrV2(w, a);
      assert.is(toHex(w.buf), e.hex, input);
    }
  }
  assert.is(netAddrToString(internalAddr('a')), `${base32Encode(sha256(new TextEncoder().encode('a')).subarray(0, 10))}.internal`);
});

test('maps btcd\'s raw address bytes to strings, judging OnionCat by Core', () => {
  for (const e of addrFixtures.btcdAddrBytes as any[]) {
    const b = fromHex(e.addrBytesHex);
    const a: NetAddrV2 =
      b.length === 4 ? { networkId: NetworkId.IPV4, addr: b }
      : b.length === 16 ? netAddrFromV1(b)
      : b.length === 10 ? { networkId: NetworkId.TORV2, addr: b }
      : { networkId: NetworkId.TORV3, addr: b };
    if (b.length === 16 && e.network === 'torv2') {
      // btcd turns OnionCat into a TORv2 name; Core (22+) keeps it as a non-routable IPv6 slot.
      assert.is(netAddrNetwork(a), 'ipv6');
      assert.is(netAddrToString(a), 'fd87:d87e:eb43:fffe:cc39:a873:6915:ffff');
      continue;
    }
    assert.is(netAddrNetwork(a), e.network, e.addrBytesHex);
    assert.is(netAddrToString(a), e.toString, e.addrBytesHex);
  }
});

test('decodes btcd\'s addrv2 entries with Bitcoin Core semantics', () => {
  // In fixture order. Core differs from btcd on TORv2 (an unknown id since Core 22: no length
  // check; the length-2 entry still fails, as truncated) and I2P (accepted); it consumes OnionCat
  // and IPv4-mapped addresses in the IPv6 slot, and unknown ids with a sane length.
  const expected: (number | string)[] = [
    Status.TOO_LONG, // ff with length 65535 > 512
    'unknown', // ff, 32 bytes: kept as raw bytes
    Status.BAD_VALUE, // ipv4 length 5
    'ipv4',
    Status.BAD_VALUE, // ipv6 length 252
    'ipv6', // OnionCat in the IPv6 slot
    'ipv6', // ::ffff:192.0.2.1 in the IPv6 slot
    'ipv6',
    Status.TRUNCATED, // torv2 length 2, no bytes follow
    'torv2',
    Status.BAD_VALUE, // torv3 length 2
    'torv3',
    Status.BAD_VALUE, // i2p length 2
    'i2p',
  ];
  const entries: any[] = addrFixtures.btcdReadEntry;
  assert.is(entries.length, expected.length);
  entries.forEach((e, i) => {
    // Entries shorter than the 9-byte minimum are padded to it, so the count's byte check passes
    // and the entry itself is judged (an unpadded one is refused as TRUNCATED up front).
    const hex: string = e.entryHex.length < 18 ? e.entryHex.padEnd(18, '0') : e.entryHex;
    const { m, r } = decode(addrv2Codec, fromHex(`01${hex}`));
    const want = expected[i]!;
    if (typeof want === 'number') assert.is(r.err, want, `${e.entryHex}: ${statusCode(r.err)}`);
    else {
      assert.is(r.err, 0, `${e.entryHex}: ${statusCode(r.err)}`);
      assert.is(netAddrNetwork(m.addrs[0]!), want, e.entryHex);
      assert.is(m.addrs[0]!.port, 0x2222);
    }
  });
});

test('treats a TORv2 network id of any length as Core 22+ does, naming only the 10-byte form', () => {
  const { a, r } = decodeNet('0307' + '00'.repeat(7));
  assert.is(r.err, 0);
  assert.is(netAddrNetwork(a), 'unknown');
  assert.is(netAddrToString(a), 'unknown-3:00000000000000');
});

test('accepts an unknown network\'s 512-byte address and rejects 513 bytes as too long', () => {
  const ok = decodeNet('aafd0002' + '11'.repeat(512));
  assert.is(ok.r.err, 0);
  assert.is(ok.a.addr.length, 512);
  assert.is(decodeNet('aafd0102' + '11'.repeat(513)).r.err, Status.TOO_LONG);
  // The length is refused before any byte of the address is needed.
  assert.is(decodeNet('aafd0102').r.err, Status.TOO_LONG);
});

test('rejects an addrv2 entry with a 513-byte address as too long', () => {
  const m: AddrV2Message = { addrs: [{ time: 1, services: 1n, networkId: 0xaa, addr: new Uint8Array(513), port: 1 }] };
  assert.is(decode(addrv2Codec, encode(addrv2Codec, m)).r.err, Status.TOO_LONG);
});

// ---------------------------------------------------------------------------------------------
// Strings

test('prints IPv6 like Bitcoin Core: shortest form, first longest zero run, no single-group ::', () => {
  const cases: [string, string][] = [
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['00010000000000000000000000000000', '1::'],
    ['00010000000000020000000000000003', '1:0:0:2::3'],
    ['00010000000000020000000000030004', '1::2:0:0:3:4'],
    ['00010000000200000003000000040000', '1:0:2:0:3:0:4:0'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['00000000000000000000ffff01020304', '::ffff:102:304'],
    ['fc000001000200030004000500060007', 'fc00:1:2:3:4:5:6:7'],
    ['ffffffffffffffffffffffffffffffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ];
  for (const [hex, s] of cases) {
    assert.is(ipv6ToString(fromHex(hex)), s, hex);
    assert.is(toHex(netAddrToV1(parseNetAddr(s)!)), hex, s);
  }
});

test('prints a v1 IPv4-mapped address dotted and parses it back', () => {
  assert.is(ipV1ToString(fromHex('00000000000000000000ffffc0a80001')), '192.168.0.1');
  assert.is(ipV1ToString(fromHex('00000000000000000000ffff00000000')), '0.0.0.0');
  assert.is(ipV1ToString(fromHex('00000000000000000000000000000001')), '::1');
  assert.is(toHex(ipV1FromString('192.168.0.1')!), '00000000000000000000ffffc0a80001');
  assert.is(toHex(ipV1FromString('::ffff:192.168.0.1')!), '00000000000000000000ffffc0a80001');
  assert.is(toHex(ipV1FromString('[2001:db8::1]')!), '20010db8000000000000000000000001');
  for (const bad of ['1.2.3', '256.1.1.1', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', 'x.onion', '']) {
    assert.is(ipV1FromString(bad), null, bad);
  }
});

test('round-trips random 16-byte addresses through their strings', () => {
  const rand = prng(11);
  for (let i = 0; i < 500; i++) {
    const b = randomBytes(rand, 16);
    // Make zero runs and mapped addresses common.
    for (let g = 0; g < 8; g++) if (rand() < 0.4) b[2 * g] = b[2 * g + 1] = 0;
    if (rand() < 0.2) b.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
    assert.is(toHex(ipV1FromString(ipV1ToString(b))!), toHex(b), ipV1ToString(b));
  }
});

test('checks the version and checksum of a v3 onion name', () => {
  const name = 'pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion';
  const a = parseNetAddr(name)!;
  assert.is(a.networkId, NetworkId.TORV3);
  assert.is(netAddrToString(a), name);
  assert.is(parseNetAddr(name.toUpperCase().replace('.ONION', '.onion'))!.networkId, NetworkId.TORV3);
  // Flip one character of the key: the checksum no longer matches.
  assert.is(parseNetAddr(`a${name.slice(1)}`), null);
  assert.is(parseNetAddr('6hzph5hv6337r6p2.onion'), null, 'v2 names are not accepted');
  const i2p = 'ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p';
  assert.is(netAddrToString(parseNetAddr(i2p)!), i2p);
});

test('round-trips random bytes through base32', () => {
  const rand = prng(12);
  for (let i = 0; i < 300; i++) {
    const b = randomBytes(rand, (rand() * 40) | 0);
    assert.equal(base32Decode(base32Encode(b)), b);
  }
  assert.is(base32Decode('1'), null);
});

// ---------------------------------------------------------------------------------------------
// Limits, malformed counts, truncation

function addrs(n: number): AddrMessage {
  const ip = new Uint8Array(16);
  return { addrs: Array.from({ length: n }, (_, i) => ({ time: i, services: 1n, ip, port: 8333 })) };
}
function addrsV2(n: number): AddrV2Message {
  const addr = Uint8Array.of(10, 0, 0, 1);
  return { addrs: Array.from({ length: n }, (_, i) => ({ time: i, services: 1n, networkId: 1, addr, port: 8333 })) };
}

test('accepts 1,000 addr entries and rejects 1,001 as too many', () => {
  assert.is(decode(addrCodec, encode(addrCodec, addrs(1000))).r.err, 0);
  assert.is(decode(addrCodec, encode(addrCodec, addrs(1001))).r.err, Status.TOO_MANY_ITEMS);
});

test('accepts 1,000 addrv2 entries and rejects 1,001 as too many', () => {
  assert.is(decode(addrv2Codec, encode(addrv2Codec, addrsV2(1000))).r.err, 0);
  assert.is(decode(addrv2Codec, encode(addrv2Codec, addrsV2(1001))).r.err, Status.TOO_MANY_ITEMS);
});

test('rejects non-canonical CompactSize counts and addrv2 services', () => {
  assert.is(decode(addrCodec, fromHex('fd0100' + '00'.repeat(30))).r.err, Status.NON_CANONICAL);
  assert.is(decode(addrv2Codec, fromHex('fd0100' + '00'.repeat(9))).r.err, Status.NON_CANONICAL);
  // services 1 written as fd 01 00
  assert.is(decode(addrv2Codec, fromHex('01' + '00000000' + 'fd0100' + '01047f000001' + '208d')).r.err, Status.NON_CANONICAL);
});

test('round-trips the largest addrv2 services value', () => {
  const m: AddrV2Message = { addrs: [{ time: 0xffffffff, services: 2n ** 64n - 1n, networkId: 1, addr: Uint8Array.of(1, 2, 3, 4), port: 65535 }] };
  const bytes = encode(addrv2Codec, m);
  const d = decode(addrv2Codec, bytes);
  assert.is(d.r.err, 0);
  assert.is(d.m.addrs[0]!.services, 2n ** 64n - 1n);
  assert.equal(encode(addrv2Codec, d.m), bytes);
});

test('reports a trailing byte after an addr or addrv2 payload', () => {
  for (const v of vectors) {
    const codec = byCommand.get(v.command)!;
    assert.is(decode(codec, fromHex(`${v.payloadHex}00`)).r.err, Status.TRAILING_BYTES, v.name);
  }
});

test('refuses with a status, before allocating for it, a huge count that comes with few bytes', () => {
  assert.is(decode(addrCodec, fromHex('fe00000002' + '00'.repeat(10))).r.err, Status.TOO_MANY_ITEMS);
  assert.is(decode(addrv2Codec, fromHex('fe00000002' + '00'.repeat(10))).r.err, Status.TOO_MANY_ITEMS);
  // Within the limit but without the bytes: refused before the array is made.
  assert.is(decode(addrCodec, fromHex('fde803' + '00'.repeat(10))).r.err, Status.TRUNCATED);
  assert.is(decode(addrv2Codec, fromHex('fde803' + '00'.repeat(10))).r.err, Status.TRUNCATED);
});

test('gives a coded status, never an exception, for every vector truncated at every offset', () => {
  const all = [
    ...vectors.map((v) => [byCommand.get(v.command)!, v.payloadHex, v.name] as const),
    ...(addrFixtures.btcdReadEntry as any[])
      .filter((e) => !/^0000000000(0105|02fc|0302|0402|0502|fffd)/.test(e.entryHex))
      .map((e) => [addrv2Codec, `01${e.entryHex}`, e.entryHex] as const),
  ];
  for (const [codec, hex, name] of all) {
    const full = fromHex(hex);
    for (let k = 0; k < full.length; k++) {
      let err = 0;
      try {
        err = decode(codec as MessageCodec<unknown>, full.subarray(0, k)).r.err;
      } catch (e) {
        assert.unreachable(`${name} at ${k} threw ${String(e)}`);
      }
      assert.ok(err !== 0, `${name} truncated at ${k} decodes`);
      assert.match(statusCode(err), /^ERR_WIRE_/);
    }
  }
});

test('decodes random bytes as addr and addrv2 without throwing', () => {
  const rand = prng(13);
  for (let i = 0; i < 1000; i++) {
    const bytes = randomBytes(rand, (rand() * 120) | 0);
    if (rand() < 0.5) bytes[0] = (rand() * 4) | 0;
    for (const codec of codecs) {
      const r = new Reader(bytes);
      codec.decode(r);
      r.finish();
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Round trips

function randomEntryV2(rand: () => number): AddrV2Entry {
  const id = (rand() * 8) | 0; // 0 and 7 are unknown ids
  const sizes = [(rand() * 40) | 0, 4, 16, 10, 32, 32, 16, (rand() * 513) | 0];
  const services = rand() < 0.3 ? BigInt((rand() * 0x10000) | 0) : rand() < 0.5 ? u64(rand) : BigInt(u32(rand));
  return { time: u32(rand), services, networkId: id === 7 ? 0xf0 : id, addr: randomBytes(rand, sizes[id]!), port: (rand() * 65536) | 0 };
}

test('round-trips a few hundred random addr messages', () => {
  const rand = prng(14);
  for (let i = 0; i < 300; i++) {
    const n = (rand() * 20) | 0;
    const m: AddrMessage = {
      addrs: Array.from({ length: n }, () => ({ time: u32(rand), services: u64(rand), ip: randomBytes(rand, 16), port: (rand() * 65536) | 0 })),
    };
    const bytes = encode(addrCodec, m);
    const d = decode(addrCodec, bytes);
    assert.is(d.r.err, 0);
    assert.equal(addrCodec.toJSON(d.m), addrCodec.toJSON(m));
    assert.equal(encode(addrCodec, d.m), bytes);
  }
});

test('round-trips a few hundred random addrv2 messages across all network ids', () => {
  const rand = prng(15);
  for (let i = 0; i < 300; i++) {
    const m: AddrV2Message = { addrs: Array.from({ length: (rand() * 12) | 0 }, () => randomEntryV2(rand)) };
    const bytes = encode(addrv2Codec, m);
    const d = decode(addrv2Codec, bytes);
    assert.is(d.r.err, 0);
    assert.equal(addrv2Codec.toJSON(d.m), addrv2Codec.toJSON(m));
    assert.equal(encode(addrv2Codec, d.m), bytes);
  }
});

test.run();
