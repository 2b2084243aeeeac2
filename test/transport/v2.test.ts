import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { V2Transport, V2State, MAX_GARBAGE_LEN, V1_HEADER_WORTH, type V2TransportOptions } from '../../src/transport/v2/transport.js';
import { encodeFrame, encodeRawFrame, type V1FrameSink } from '../../src/transport/v1.js';
import { Status, statusCode } from '../../src/protocol/errors.js';
import { NETWORKS, Command, COMMAND_NAMES, type CommandName } from '../../src/protocol/constants.js';
import { commandString } from '../../src/protocol/commands.js';
import { decodeMessage } from '../../src/protocol/registry.js';
import { fromHex, toHex } from '../../src/protocol/hex.js';
import { V2_SHORT_IDS } from '../../src/transport/v2/ids.js';
import { fixtureJSON, prng } from '../helpers.js';

const MAGIC = NETWORKS.mainnet.magic;

interface Got {
  cmd: number;
  name: string;
  payload: string;
}

/** A sink that records every frame (with the unknown command's name read the v1 way). */
function recorder(): { sink: V1FrameSink; got: Got[] } {
  const got: Got[] = [];
  return {
    got,
    sink: {
      onFrame(cmd, buf, off, len, ok) {
        assert.ok(ok);
        got.push({ cmd, name: cmd === 0 ? commandString(buf, off - 20) : COMMAND_NAMES[cmd]!, payload: toHex(buf, off, len) });
      },
    },
  };
}

/**
 * Two transports joined by queues, like a socket pair: writes are delivered by `pump`, never
 * inside the writer (a transport is not re-entered). `split` cuts each delivery into pieces.
 */
function pair(a: Partial<V2TransportOptions> = {}, b: Partial<V2TransportOptions> = {}, split: (n: number) => number[] = (n) => [n]) {
  const ra = recorder();
  const rb = recorder();
  const ini = new V2Transport({ initiator: true, magic: MAGIC, ...a }, ra.sink);
  const res = new V2Transport({ initiator: false, magic: MAGIC, ...b }, rb.sink);
  const toRes: Uint8Array[] = [];
  const toIni: Uint8Array[] = [];
  const status = { ini: 0, res: 0 };
  ini.start((bytes) => toRes.push(bytes));
  res.start((bytes) => toIni.push(bytes));
  const deliver = (q: Uint8Array[], t: V2Transport, side: 'ini' | 'res'): boolean => {
    if (q.length === 0) return false;
    const all = Buffer.concat(q.splice(0));
    let pos = 0;
    for (const n of split(all.length)) {
      const st = t.push(all.subarray(pos, pos + n));
      pos += n;
      if (st !== 0) status[side] = st;
    }
    return true;
  };
  const pump = (): void => {
    for (let i = 0; i < 100; i++) {
      const x = deliver(toRes, res, 'res');
      const y = deliver(toIni, ini, 'ini');
      if (!x && !y) return;
    }
  };
  const send = (from: V2Transport, bytes: Uint8Array): void => {
    if (bytes.length) (from === ini ? toRes : toIni).push(bytes);
  };
  return { ini, res, ra, rb, toRes, toIni, pump, send, status };
}

interface Sample {
  name: string;
  command: string;
  payloadHex: string;
}
const samples = fixtureJSON<Sample[]>('messages/messages.json');

test('a session comes up in both roles with the same session id and each side sees the other send nothing yet', () => {
  const p = pair();
  p.pump();
  assert.ok(p.ini.established);
  assert.ok(p.res.established);
  assert.is(toHex(p.ini.sessionId!), toHex(p.res.sessionId!));
  assert.is(p.ini.kind, 'v2');
  assert.is(p.res.kind, 'v2');
  assert.is(p.ra.got.length + p.rb.got.length, 0);
  assert.is(p.status.ini + p.status.res, 0);
});

test('every message type of the sample fixtures round-trips both ways, with its short id or its 12-byte command', () => {
  const p = pair({ garbageLen: MAX_GARBAGE_LEN, decoysBeforeVersion: 2, decoyEvery: 3 }, { garbageLen: 0, decoyEvery: 2 });
  p.pump();
  for (const s of samples) {
    const msg = decodeMessage(s.command as CommandName, fromHex(s.payloadHex));
    p.send(p.ini, p.ini.encode(s.command as CommandName, msg as never));
    p.send(p.res, p.res.encodeRaw(s.command, fromHex(s.payloadHex)));
  }
  p.pump();
  assert.is(p.rb.got.length, samples.length);
  assert.is(p.ra.got.length, samples.length);
  samples.forEach((s, i) => {
    assert.is(p.rb.got[i]!.name, s.command, s.name);
    assert.is(p.rb.got[i]!.payload, s.payloadHex, s.name);
    assert.is(p.ra.got[i]!.name, s.command);
    assert.is(p.ra.got[i]!.payload, s.payloadHex);
  });
  assert.ok(p.res.decoys >= 2 + Math.floor(samples.length / 3), 'decoys were received and skipped');
  assert.ok(p.ini.decoys >= Math.floor(samples.length / 2));
  assert.is(p.res.garbageReceived, MAX_GARBAGE_LEN);
  assert.is(p.ini.garbageReceived, 0);
});

test('messages with a short id use one type byte; the others 0x00 and 12 command bytes', () => {
  const p = pair({ garbageLen: 0 }, { garbageLen: 0 });
  p.pump();
  for (let sid = 1; sid < V2_SHORT_IDS.length; sid++) {
    const pkt = p.ini.encodeRaw(V2_SHORT_IDS[sid]!, new Uint8Array(0));
    assert.is(pkt.length, 3 + 1 + 1 + 16, V2_SHORT_IDS[sid]);
    p.send(p.ini, pkt);
  }
  const long = p.ini.encodeRaw('verack', new Uint8Array(0));
  assert.is(long.length, 3 + 1 + 13 + 16);
  p.send(p.ini, long);
  p.pump();
  assert.equal(
    p.rb.got.map((g) => g.name),
    [...V2_SHORT_IDS.slice(1), 'verack'],
  );
});

test('an unknown command arrives as command 0 with its name where the v1 header keeps it', () => {
  const p = pair();
  p.pump();
  p.send(p.ini, p.ini.encodeRaw('utreexo', fromHex('0102')));
  p.send(p.ini, p.ini.encodeRaw('x', new Uint8Array(0)));
  p.pump();
  assert.equal(p.rb.got, [
    { cmd: 0, name: 'utreexo', payload: '0102' },
    { cmd: 0, name: 'x', payload: '' },
  ]);
});

test('messages encoded before the handshake are queued and arrive in order after it', () => {
  const p = pair();
  assert.is(p.ini.encodeRaw('ping', fromHex('0102030405060708')).length, 0, 'queued, nothing to write yet');
  assert.is(p.ini.encodeDecoy(5).length, 0);
  assert.is(p.ini.encodeRaw('pong', fromHex('0807060504030201')).length, 0);
  p.pump();
  assert.equal(p.rb.got.map((g) => g.name), ['ping', 'pong']);
  assert.is(p.res.decoys, 1);
});

test('byte-at-a-time and random splits of the whole conversation give the same frames', () => {
  for (const [label, split] of [
    ['one byte', (n: number) => Array(n).fill(1)],
    ['random', (() => {
      const r = prng(11);
      return (n: number) => {
        const out: number[] = [];
        while (n > 0) {
          const k = Math.min(n, 1 + Math.floor(r() * 700));
          out.push(k);
          n -= k;
        }
        return out;
      };
    })()],
  ] as [string, (n: number) => number[]][]) {
    const p = pair({ garbageLen: 100, decoyEvery: 2 }, { garbageLen: 4000 }, split);
    p.send(p.ini, p.ini.encodeRaw('inv', fromHex('01' + '01000000' + 'ab'.repeat(32))));
    p.pump();
    for (let i = 0; i < 50; i++) p.send(p.ini, p.ini.encodeRaw('tx', new Uint8Array(i * 37)));
    p.send(p.res, p.res.encodeRaw('block', new Uint8Array(70_000).fill(7)));
    p.pump();
    assert.is(p.rb.got.length, 51, label);
    assert.is(p.rb.got[50]!.payload.length, 49 * 37 * 2);
    assert.is(p.ra.got.length, 1);
    assert.is(p.ra.got[0]!.payload.length, 140_000);
    assert.is(p.status.ini + p.status.res, 0);
    assert.is(p.ini.bufferedBytes + p.res.bufferedBytes, 0);
  }
});

test('1,000 packets each way cross four rekeys of both ciphers and still authenticate', () => {
  const p = pair();
  p.pump();
  for (let i = 0; i < 1000; i++) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, i, true);
    p.send(p.ini, p.ini.encodeRaw('ping', new Uint8Array([...b, 0, 0, 0, 0])));
    p.send(p.res, p.res.encodeRaw('pong', new Uint8Array([...b, 1, 1, 1, 1])));
    if (i % 97 === 0) p.pump();
  }
  p.pump();
  assert.is(p.rb.got.length, 1000);
  assert.is(p.ra.got.length, 1000);
  assert.is(p.rb.got[999]!.payload, 'e703000000000000');
  assert.is(p.ra.got[999]!.payload, 'e703000001010101');
});

test('a responder serves a v1 peer whose first bytes are a v1 version header', () => {
  const r = recorder();
  const res = new V2Transport({ initiator: false, magic: MAGIC }, r.sink);
  const written: Uint8Array[] = [];
  res.start((b) => written.push(b));
  const version = samples.find((s) => s.command === 'version')!;
  const frame = encodeRawFrame(MAGIC, 'version', fromHex(version.payloadHex));
  const verack = encodeRawFrame(MAGIC, 'verack', new Uint8Array(0));
  assert.is(res.push(frame.subarray(0, 10)), 0);
  assert.is(res.kind, 'v2', 'undecided after 10 matching bytes');
  assert.is(res.push(Buffer.concat([frame.subarray(10), verack])), 0);
  assert.is(res.kind, 'v1');
  assert.is(written.length, 0, 'a v1 peer never sees a v2 key');
  assert.equal(r.got.map((g) => g.name), ['version', 'verack']);
  assert.is(r.got[0]!.payload, version.payloadHex);
  const out = res.encode('verack', {});
  assert.is(toHex(out), toHex(encodeFrame(MAGIC, 'verack', {})), 'and answers in v1 framing');
  assert.is(res.encodeDecoy(3).length, 0, 'no decoys in v1');
});

test('a responder falls back to v1 even with messages queued before the decision', () => {
  const r = recorder();
  const res = new V2Transport({ initiator: false, magic: MAGIC }, r.sink);
  const written: Uint8Array[] = [];
  res.start((b) => written.push(b));
  assert.is(res.encodeRaw('ping', new Uint8Array(8)).length, 0);
  res.push(encodeRawFrame(MAGIC, 'verack', new Uint8Array(0)).subarray(0, 8));
  assert.is(res.state, V2State.KEY, 'verack is not a version header: v2');
  assert.is(written.length, 1, 'its key and garbage went out');

  const r2 = recorder();
  const res2 = new V2Transport({ initiator: false, magic: MAGIC }, r2.sink);
  const w2: Uint8Array[] = [];
  res2.start((b) => w2.push(b));
  res2.encodeRaw('ping', new Uint8Array(8));
  res2.push(encodeRawFrame(MAGIC, 'version', new Uint8Array(0)).subarray(0, 16));
  assert.is(res2.kind, 'v1');
  assert.is(toHex(w2[0]!), toHex(encodeRawFrame(MAGIC, 'ping', new Uint8Array(8))));
});

test('a v1 version under another network magic is dropped as ERR_V2_WRONG_NETWORK', () => {
  const res = new V2Transport({ initiator: false, magic: MAGIC }, recorder().sink);
  res.start(() => {});
  const st = res.push(encodeRawFrame(NETWORKS.testnet3.magic, 'version', new Uint8Array(100)));
  assert.is(st, Status.V2_WRONG_NETWORK);
  assert.is(statusCode(st), 'ERR_V2_WRONG_NETWORK');
  assert.is(res.push(new Uint8Array(1)), st, 'and stays dead');
});

test('a responder that refuses v1 reads the header as a key and drops it as another network', () => {
  const res = new V2Transport({ initiator: false, magic: MAGIC, allowV1: false }, recorder().sink);
  res.start(() => {});
  assert.is(res.push(encodeRawFrame(MAGIC, 'version', new Uint8Array(100))), Status.V2_WRONG_NETWORK);
});

test('garbage of 4,095 bytes without a terminator within 16 more is fatal: ERR_V2_NO_TERMINATOR', () => {
  const p = pair();
  p.pump();
  const res = new V2Transport({ initiator: false, magic: MAGIC }, recorder().sink);
  res.start(() => {});
  const key = new V2Transport({ initiator: true, magic: MAGIC }, recorder().sink).publicKey;
  assert.is(res.push(key), 0);
  assert.is(res.push(new Uint8Array(MAX_GARBAGE_LEN + 15)), 0, 'one byte short of the limit: still waiting');
  assert.is(res.bufferedBytes, MAX_GARBAGE_LEN + 15);
  assert.is(res.push(new Uint8Array(1)), Status.V2_NO_TERMINATOR);
});

test('a wrong key (one bit flipped in flight) never finds the terminator: ERR_V2_NO_TERMINATOR', () => {
  const p = pair({ garbageLen: 10 }, { garbageLen: 10 });
  p.toRes[0]![5]! ^= 1;
  p.pump();
  // The responder derives another secret, so the initiator's terminator never matches; the
  // initiator gets the responder's terminator under its own secret, which does not match either.
  p.send(p.ini, new Uint8Array(5000));
  p.send(p.res, new Uint8Array(5000));
  p.pump();
  assert.is(p.status.res, Status.V2_NO_TERMINATOR);
  assert.is(p.status.ini, Status.V2_NO_TERMINATOR);
});

test('a flipped bit in a packet fails authentication: ERR_V2_AUTH, fatal', () => {
  const p = pair();
  p.pump();
  const pkt = p.ini.encodeRaw('ping', new Uint8Array(8));
  pkt[6]! ^= 0x40;
  p.send(p.ini, pkt);
  p.pump();
  assert.is(p.status.res, Status.V2_AUTH);
  assert.is(p.res.push(new Uint8Array(3)), Status.V2_AUTH);
});

test('a tampered garbage fails the first packet: the garbage is authenticated', () => {
  const p = pair({ garbageLen: 50 });
  p.toRes[0]![64 + 3]! ^= 1;
  p.pump();
  assert.is(p.status.res, Status.V2_AUTH);
});

test('a length over 1 + 12 + 4,000,000 is fatal before any allocation: ERR_V2_OVERSIZE', () => {
  const p = pair();
  p.pump();
  const len = new Uint8Array([0xff, 0xff, 0xff]);
  (p.ini as unknown as { cipher: { sendL: { crypt3(b: Uint8Array, o: number): void } } }).cipher.sendL.crypt3(len, 0);
  assert.is(p.res.push(len), Status.V2_OVERSIZE);
  assert.ok(p.res.bufferedBytes < 100);
});

test('empty contents, an unassigned short id and a malformed long command are dropped and counted; the stream goes on', () => {
  const p = pair();
  p.pump();
  const cipher = (p.ini as unknown as { cipher: { encryptPacket(c: Uint8Array, i?: boolean): Uint8Array } }).cipher;
  p.send(p.ini, cipher.encryptPacket(new Uint8Array(0)));
  p.send(p.ini, cipher.encryptPacket(new Uint8Array([29, 1, 2])));
  p.send(p.ini, cipher.encryptPacket(new Uint8Array([0, 0x41, 0, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0])));
  p.send(p.ini, cipher.encryptPacket(new Uint8Array([0, 0x41, 0x42])));
  p.send(p.ini, p.ini.encodeRaw('ping', new Uint8Array(8)));
  p.pump();
  assert.is(p.res.badTypes, 4);
  assert.is(p.status.res, 0);
  assert.equal(p.rb.got.map((g) => g.name), ['ping']);
});

test('an initiator that sent its key and heard nothing asks for a v1 retry; once bytes arrive it does not', () => {
  const ini = new V2Transport({ initiator: true, magic: MAGIC, garbageLen: 0 }, recorder().sink);
  assert.not.ok(ini.shouldReconnectV1, 'nothing sent yet');
  ini.start(() => {});
  assert.ok(ini.sentBytes >= V1_HEADER_WORTH);
  assert.ok(ini.shouldReconnectV1);
  ini.push(new Uint8Array(1));
  assert.not.ok(ini.shouldReconnectV1);
  const res = new V2Transport({ initiator: false, magic: MAGIC }, recorder().sink);
  res.start(() => {});
  assert.not.ok(res.shouldReconnectV1, 'never for a responder');
});

test('decoys before the version packet carry the garbage AAD and are skipped', () => {
  const p = pair({ garbageLen: 300, decoysBeforeVersion: 3 }, { garbageLen: 300, decoysBeforeVersion: 1, versionContents: fromHex('00ff') });
  p.pump();
  assert.ok(p.res.established && p.ini.established);
  assert.is(p.res.decoys, 3);
  assert.is(p.ini.decoys, 1);
});

test('garbageLen outside 0..4,095 is a programming error', () => {
  assert.throws(() => new V2Transport({ initiator: true, magic: MAGIC, garbageLen: 4096 }, recorder().sink), /garbageLen/);
});

test('random bytes, in random chunks, at either role never throw and end in 0 or a coded fatal status', () => {
  const r = prng(99);
  const coded = new Set([0, Status.V2_NO_TERMINATOR, Status.V2_AUTH, Status.V2_OVERSIZE, Status.V2_WRONG_NETWORK, Status.BAD_MAGIC, Status.BAD_COMMAND, Status.OVERSIZE]);
  for (let i = 0; i < 150; i++) {
    const t = new V2Transport({ initiator: i % 2 === 0, magic: MAGIC, garbageLen: 0 }, recorder().sink);
    t.start(() => {});
    const n = Math.floor(r() * 6000);
    const bytes = new Uint8Array(n);
    for (let j = 0; j < n; j++) bytes[j] = Math.floor(r() * 256);
    // Sometimes a v1 version header first, so the fallback path gets random frames too.
    const head = i % 5 === 1 ? encodeRawFrame(MAGIC, 'version', new Uint8Array(0)).subarray(0, 16) : new Uint8Array(0);
    const all = Buffer.concat([head, bytes]);
    let st = 0;
    for (let pos = 0; pos < all.length && st === 0; ) {
      const k = 1 + Math.floor(r() * 900);
      st = t.push(all.subarray(pos, pos + k));
      pos += k;
    }
    assert.ok(coded.has(st), `status ${statusCode(st)}`);
  }
});

test('one corrupted byte anywhere in an established stream is fatal (auth or oversize) or leaves the stream waiting, never delivered', () => {
  const r = prng(5);
  for (let i = 0; i < 60; i++) {
    const p = pair({ garbageLen: 7 }, { garbageLen: 9 });
    p.pump();
    const pkts = [p.ini.encodeRaw('inv', new Uint8Array(37)), p.ini.encodeRaw('tx', new Uint8Array(200)), p.ini.encodeRaw('ping', new Uint8Array(8))];
    const stream = Buffer.concat(pkts);
    const at = Math.floor(r() * stream.length);
    stream[at]! ^= 1 << Math.floor(r() * 8);
    const st = p.res.push(stream);
    const whole = [0, pkts[0]!.length, pkts[0]!.length + pkts[1]!.length, stream.length];
    const hit = whole.findIndex((end, k) => k > 0 && at < end) - 1;
    assert.ok(st === Status.V2_AUTH || st === Status.V2_OVERSIZE || (st === 0 && at < whole[hit]! + 3), `byte ${at}: ${statusCode(st)}`);
    assert.is(p.rb.got.length, hit, 'the packets before the corrupted one are delivered, no other');
  }
});

void Command;
test.run();
