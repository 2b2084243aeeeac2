import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { Status, statusCode } from '../../../src/protocol/errors.js';
import { fromHex, toHex } from '../../../src/protocol/hex.js';
import type { MessageCodec } from '../../../src/protocol/message.js';
import {
  codecs,
  versionCodec,
  pingCodec,
  pongCodec,
  feefilterCodec,
  sendcmpctCodec,
  rejectCodec,
  sendtxrcnclCodec,
  verackCodec,
  decodeVersion,
  encodeVersion,
  encodedSizeVersion,
  decodeSendCmpct,
  decodeReject,
  type VersionMessage,
} from '../../../src/protocol/messages/control.js';
import { prng, randomBytes } from '../../helpers.js';
import { vectorsFor, decode, encode, expectFields, u64, u32, latin1 } from './harness.js';

// ---------------------------------------------------------------------------------------------
// Helpers (the shared ones come from ./harness.ts)

const { byCommand, vectors } = vectorsFor(codecs);

// ---------------------------------------------------------------------------------------------
// Vectors

test('has a codec for every control command and lists each once', () => {
  const names = codecs.map((c) => c.command).sort();
  assert.equal(names, [
    'feefilter', 'filterclear', 'getaddr', 'mempool', 'ping', 'pong', 'reject', 'sendaddrv2',
    'sendcmpct', 'sendheaders', 'sendtxrcncl', 'verack', 'version', 'wtxidrelay',
  ]);
});

test('decodes every control vector to its stated fields and re-encodes the exact payload', () => {
  assert.ok(vectors.length >= 17, `found ${vectors.length} vectors`);
  for (const v of vectors) {
    const codec = byCommand.get(v.command)!;
    const bytes = fromHex(v.payloadHex);
    const { m, r } = decode(codec, bytes);
    assert.is(r.err, 0, `${v.name}: ${statusCode(r.err)}`);
    expectFields(codec.toJSON(m), v.fields, v.name);
    assert.is(toHex(encode(codec, m)), v.payloadHex, `${v.name} re-encodes`);
  }
});

test('keeps a version without a relay byte distinct from one with relay=1', () => {
  const v60002 = vectors.find((v) => v.name === 'btcd-version-60002')!;
  const v70001 = vectors.find((v) => v.name === 'btcd-version-70001-relay')!;
  const a = decode(versionCodec, fromHex(v60002.payloadHex)).m;
  const b = decode(versionCodec, fromHex(v70001.payloadHex)).m;
  assert.is(a.relay, undefined);
  assert.not.ok('relay' in versionCodec.toJSON(a));
  assert.is(b.relay, true);
  assert.is(encodedSizeVersion(a), 101);
  assert.is(encodedSizeVersion(b), 102);
});

test('names the service bits of a version and its addresses', () => {
  const v = vectors.find((x) => x.name === 'rustbitcoin-version-70015')!;
  const j = versionCodec.toJSON(decode(versionCodec, fromHex(v.payloadHex)).m) as any;
  assert.equal(j.serviceNames, ['NODE_NETWORK', 'NODE_BLOOM', 'NODE_WITNESS', 'NODE_NETWORK_LIMITED']);
  assert.equal(j.addrRecv.serviceNames, []);
});

// ---------------------------------------------------------------------------------------------
// Limits and bad values

function versionWith(userAgent: string, relay?: boolean): VersionMessage {
  const m: VersionMessage = {
    version: 70016,
    services: 0x409n,
    timestamp: 1_700_000_000n,
    addrRecv: { services: 0n, ip: new Uint8Array(16), port: 8333 },
    addrFrom: { services: 0x409n, ip: new Uint8Array(16), port: 0 },
    nonce: 0x0123456789abcdefn,
    userAgent,
    startHeight: 850_000,
  };
  if (relay !== undefined) m.relay = relay;
  return m;
}

test('accepts a 256-byte user agent', () => {
  const bytes = encode(versionCodec, versionWith('x'.repeat(256), true));
  const { m, r } = decode(versionCodec, bytes);
  assert.is(r.err, 0);
  assert.is(m.userAgent.length, 256);
});

/** A version payload whose user agent is exactly `ua` (raw bytes). */
function versionPayloadWithUserAgent(ua: Uint8Array): Uint8Array {
  const before = encode(versionCodec, versionWith('', true));
  // The empty user agent is one zero length byte at offset 80 (4+8+8+26+26+8).
  assert.is(before[80], 0);
  return Uint8Array.from([...before.subarray(0, 80), ua.length, ...ua, ...before.subarray(81)]);
}

test('prints a UTF-8 user agent as its characters and re-encodes its bytes', () => {
  const ua = new TextEncoder().encode('/café:1.0/ü€😀');
  const bytes = versionPayloadWithUserAgent(ua);
  const { m, r } = decode(versionCodec, bytes);
  assert.is(r.err, 0);
  const json = versionCodec.toJSON(m);
  assert.is(json.userAgent, '/café:1.0/ü€😀');
  assert.not.ok('userAgentHex' in json);
  assert.is(toHex(encode(versionCodec, m)), toHex(bytes));
  assert.is(versionCodec.toJSON(versionWith('/Satoshi:31.0.0/')).userAgent, '/Satoshi:31.0.0/');
});

test('prints a user agent that is not valid UTF-8 one character per byte, with its bytes in hex', () => {
  for (const hex of ['2f636166e92f', 'c328', 'eda080', 'f0908080ff']) {
    const bytes = versionPayloadWithUserAgent(fromHex(hex));
    const { m, r } = decode(versionCodec, bytes);
    assert.is(r.err, 0);
    const json = versionCodec.toJSON(m);
    assert.is(json.userAgentHex, hex, hex);
    assert.is(json.userAgent, String.fromCharCode(...fromHex(hex)), hex);
    assert.is(toHex(encode(versionCodec, m)), toHex(bytes));
  }
  assert.is(versionCodec.toJSON(decode(versionCodec, versionPayloadWithUserAgent(fromHex('2f636166e92f'))).m).userAgent, '/caf\u00e9/');
});

test('rejects a 257-byte user agent as too long', () => {
  const bytes = encode(versionCodec, versionWith('x'.repeat(257), true));
  const { r } = decode(versionCodec, bytes);
  assert.is(r.err, Status.TOO_LONG);
});

test('rejects a version whose user agent length is a non-canonical CompactSize', () => {
  const ok = encode(versionCodec, versionWith('ab'));
  // The user agent length sits after version(4) services(8) time(8) 2 x addr(26) nonce(8) = 80.
  const bad = new Uint8Array(ok.length + 2);
  bad.set(ok.subarray(0, 80));
  bad.set([0xfd, 0x02, 0x00], 80);
  bad.set(ok.subarray(81), 83);
  assert.is(decode(versionCodec, bad).r.err, Status.NON_CANONICAL);
});

test('reads any non-zero relay byte as true, as Bitcoin Core does', () => {
  const bytes = encode(versionCodec, versionWith('/x/', true));
  bytes[bytes.length - 1] = 2;
  const { m, r } = decode(versionCodec, bytes);
  assert.is(r.err, 0);
  assert.is(m.relay, true);
});

test('reports bytes after the relay flag as trailing bytes', () => {
  const ok = encode(versionCodec, versionWith('/x/', false));
  const bytes = new Uint8Array(ok.length + 1);
  bytes.set(ok);
  assert.is(decode(versionCodec, bytes).r.err, Status.TRAILING_BYTES);
});

test('rejects a sendcmpct whose announce byte is neither 0 nor 1', () => {
  for (const b of [2, 0x12, 0xff]) {
    const r = new Reader(fromHex(`${b.toString(16).padStart(2, '0')}0200000000000000`));
    decodeSendCmpct(r);
    assert.is(r.err, Status.BAD_VALUE, `announce ${b}`);
  }
  const ok = new Reader(fromHex('010200000000000000'));
  const m = decodeSendCmpct(ok);
  assert.ok(ok.finish());
  assert.is(m.announce, true);
  assert.is(m.version, 2n);
});

test('keeps a reject without a hash as empty data and with an odd tail as raw bytes', () => {
  const noHash = fromHex('0274781010696e73756666696369656e7420666565');
  const a = decode(rejectCodec, noHash);
  assert.is(a.r.err, 0);
  assert.is(a.m.message, 'tx');
  assert.is(a.m.ccode, 0x10);
  assert.is(a.m.reason, 'insufficient fee');
  assert.is(a.m.data.length, 0);
  assert.is(toHex(encode(rejectCodec, a.m)), toHex(noHash));
  const odd = fromHex('0274781000abcdef');
  const b = decode(rejectCodec, odd);
  assert.is(b.r.err, 0);
  assert.is(toHex(b.m.data), 'abcdef');
  assert.is(toHex(encode(rejectCodec, b.m)), '0274781000abcdef');
});

test('rejects a reject whose message is longer than a command or whose reason exceeds 111 bytes', () => {
  const longMsg = encode(rejectCodec, { message: 'x'.repeat(13), ccode: 1, reason: '', data: new Uint8Array(0) });
  assert.is(decode(rejectCodec, longMsg).r.err, Status.TOO_LONG);
  const longReason = encode(rejectCodec, { message: 'tx', ccode: 1, reason: 'r'.repeat(112), data: new Uint8Array(0) });
  assert.is(decode(rejectCodec, longReason).r.err, Status.TOO_LONG);
  const maxReason = encode(rejectCodec, { message: 'x'.repeat(12), ccode: 1, reason: 'r'.repeat(111), data: new Uint8Array(0) });
  assert.is(decode(rejectCodec, maxReason).r.err, 0);
});

test('reports a non-empty payload on an empty message as trailing bytes', () => {
  const empty = ['verack', 'getaddr', 'mempool', 'sendheaders', 'sendaddrv2', 'wtxidrelay', 'filterclear'];
  for (const c of codecs.filter((x) => empty.includes(x.command))) {
    assert.is(c.encodedSize({}), 0, c.command);
    const { r } = decode(c, Uint8Array.of(0));
    assert.is(r.err, Status.TRAILING_BYTES, c.command);
  }
  assert.is(decode(verackCodec, new Uint8Array(0)).r.err, 0);
});

test('reports a short ping, pong, feefilter or sendtxrcncl as truncated', () => {
  for (const c of [pingCodec, pongCodec, feefilterCodec] as MessageCodec<unknown>[]) {
    assert.is(decode(c, new Uint8Array(7)).r.err, Status.TRUNCATED, c.command);
  }
  assert.is(decode(sendtxrcnclCodec, new Uint8Array(11)).r.err, Status.TRUNCATED);
  const ok = decode(sendtxrcnclCodec, fromHex('01000000efcdab8967452301'));
  assert.is(ok.r.err, 0);
  assert.equal(sendtxrcnclCodec.toJSON(ok.m), { version: 1, salt: '81985529216486895' });
});

// ---------------------------------------------------------------------------------------------
// Truncation at every offset

test('gives a coded status, never an exception, for every vector truncated at every offset', () => {
  for (const v of vectors) {
    const codec = byCommand.get(v.command)!;
    const full = fromHex(v.payloadHex);
    // Where the message has an optional tail, a prefix ending at the tail's start is valid.
    const validPrefix = (k: number): boolean => {
      if (v.command === 'version') return k === 101; // no relay byte
      if (v.command === 'reject') return k >= 23; // the data hash is raw trailing bytes
      return false;
    };
    for (let k = 0; k < full.length; k++) {
      let r: Reader;
      try {
        r = decode(codec, full.subarray(0, k)).r;
      } catch (e) {
        assert.unreachable(`${v.name} at ${k} threw ${String(e)}`);
        return;
      }
      if (validPrefix(k)) assert.is(r.err, 0, `${v.name} at ${k}`);
      else {
        assert.ok(r.err !== 0, `${v.name} truncated at ${k} decodes`);
        assert.match(statusCode(r.err), /^ERR_WIRE_/);
      }
    }
  }
});

test('reports a version cut at every offset before the start height as truncated', () => {
  const bytes = encode(versionCodec, versionWith('/Satoshi:27.0.0/', true));
  for (let k = 0; k < bytes.length - 1; k++) {
    const r = new Reader(bytes, 0, k);
    decodeVersion(r);
    r.finish();
    assert.is(r.err, Status.TRUNCATED, `at ${k}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Round trips of random values

test('round-trips a few hundred random versions', () => {
  const rand = prng(1);
  for (let i = 0; i < 300; i++) {
    const m: VersionMessage = {
      version: (u32(rand) | 0),
      services: u64(rand),
      timestamp: BigInt.asIntN(64, u64(rand)),
      addrRecv: { services: u64(rand), ip: randomBytes(rand, 16), port: (rand() * 65536) | 0 },
      addrFrom: { services: u64(rand), ip: randomBytes(rand, 16), port: (rand() * 65536) | 0 },
      nonce: u64(rand),
      userAgent: latin1(rand, (rand() * 257) | 0),
      startHeight: u32(rand) | 0,
    };
    if (rand() < 0.7) m.relay = rand() < 0.5;
    const bytes = encode(versionCodec, m);
    const { m: d, r } = decode(versionCodec, bytes);
    assert.is(r.err, 0);
    assert.equal(versionCodec.toJSON(d), versionCodec.toJSON(m));
    assert.equal(encode(versionCodec, d), bytes);
  }
});

test('round-trips a few hundred random ping, pong, feefilter, sendcmpct, reject and sendtxrcncl messages', () => {
  const rand = prng(2);
  const gens: [MessageCodec<any>, () => unknown][] = [
    [pingCodec, () => ({ nonce: u64(rand) })],
    [pongCodec, () => ({ nonce: u64(rand) })],
    [feefilterCodec, () => ({ feerate: u64(rand) })],
    [sendcmpctCodec, () => ({ announce: rand() < 0.5, version: u64(rand) })],
    [sendtxrcnclCodec, () => ({ version: u32(rand), salt: u64(rand) })],
    [
      rejectCodec,
      () => ({
        message: latin1(rand, (rand() * 13) | 0),
        ccode: (rand() * 256) | 0,
        reason: latin1(rand, (rand() * 112) | 0),
        data: randomBytes(rand, rand() < 0.5 ? 32 : (rand() * 40) | 0),
      }),
    ],
  ];
  for (const [codec, gen] of gens) {
    for (let i = 0; i < 300; i++) {
      const m = gen();
      const bytes = encode(codec, m);
      const { m: d, r } = decode(codec, bytes);
      assert.is(r.err, 0, codec.command);
      assert.equal(codec.toJSON(d), codec.toJSON(m), codec.command);
      assert.equal(encode(codec, d), bytes);
    }
  }
});

test('decodes random bytes as every control message without throwing', () => {
  const rand = prng(3);
  for (const codec of codecs) {
    for (let i = 0; i < 200; i++) {
      const bytes = randomBytes(rand, (rand() * 140) | 0);
      const r = new Reader(bytes);
      codec.decode(r);
      r.finish();
      assert.ok(r.err >= 0);
    }
  }
});

test('decodes a reject with a huge declared message length quickly with a status', () => {
  const r = new Reader(fromHex('fe00000002' + '00'.repeat(10)));
  decodeReject(r);
  assert.is(r.err, Status.TOO_LONG);
});

test('encodes a version built by hand to the btcd bytes', () => {
  const v = vectors.find((x) => x.name === 'btcd-version-70001-relay')!;
  const m: VersionMessage = {
    version: 70001,
    services: 1n,
    timestamp: 1231006505n,
    addrRecv: { services: 1n, ip: fromHex('00000000000000000000ffffc0a80001'), port: 8333 },
    addrFrom: { services: 1n, ip: fromHex('00000000000000000000ffff7f000001'), port: 8333 },
    nonce: 123123n,
    userAgent: '/btcdtest:0.0.1/',
    startHeight: 234234,
    relay: true,
  };
  const w = new Writer(encodedSizeVersion(m));
  encodeVersion(w, m);
  assert.is(toHex(w.buf), v.payloadHex);
});

test.run();
