import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { decodeStream, asBytes } from '../../src/cli/decode.js';
import { NETWORKS } from '../../src/protocol/constants.js';
import { fromHex, toHex } from '../../src/protocol/hex.js';
import { encodeFrame } from '../../src/transport/v1.js';
import { Reader } from '../../src/protocol/reader.js';
import { decodeVersion } from '../../src/protocol/messages/control.js';
import { fixtureBytes, fixtureJSON, fixturePath, ROOT } from '../helpers.js';

const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const frames = fixtureJSON<{ frames: { name: string; frameHex: string; valid: boolean; magic: string; command: string }[] }>(
  'messages/v1_frames.json',
).frames;

function run(args: string[], input?: Uint8Array | string) {
  const res = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 20_000 });
  return { code: res.status, out: res.stdout, err: res.stderr };
}

test('decodes the bundled sample: 55 messages and the two bad frames reported with their codes', () => {
  const lines: Record<string, unknown>[] = [];
  const s = decodeStream(fixtureBytes('sample-stream.bin'), NETWORKS.mainnet.magic, (o) => lines.push(o));
  assert.is(s.frames, 57);
  assert.is(s.messages, 55);
  assert.equal(s.errorsByCode, { ERR_WIRE_CHECKSUM: 1, ERR_WIRE_TRUNCATED: 1 });
  assert.is(lines[5]!.error, 'ERR_WIRE_CHECKSUM');
  assert.is(lines[6]!.error, 'ERR_WIRE_TRUNCATED');
  assert.is(lines[6]!.command, 'addr');
  assert.is(lines[0]!.command, 'verack');
});

test('resynchronises after a bad magic and goes on decoding', () => {
  const good = fromHex(frames.find((f) => f.name === 'rustbitcoin-verack')!.frameHex);
  const bytes = new Uint8Array([...good, 0xde, 0xad, 0xbe, 0xef, ...good.subarray(4), ...good]);
  const lines: Record<string, unknown>[] = [];
  const s = decodeStream(bytes, NETWORKS.mainnet.magic, (o) => lines.push(o));
  assert.is(s.messages, 2);
  assert.equal(
    lines.map((l) => l.command ?? l.error),
    ['verack', 'ERR_WIRE_BAD_MAGIC', 'verack'],
  );
});

test('reports a stream that ends inside a frame', () => {
  const f = fromHex(frames.find((x) => x.name === 'rustbitcoin-version')!.frameHex);
  const lines: Record<string, unknown>[] = [];
  decodeStream(f.subarray(0, 50), NETWORKS.mainnet.magic, (o) => lines.push(o));
  assert.equal(lines.map((l) => l.error), ['ERR_WIRE_TRUNCATED']);
});

test('takes hex text with white space as input', () => {
  assert.equal([...asBytes(new TextEncoder().encode('0a 0B\n'))], [10, 11]);
  assert.equal([...asBytes(new Uint8Array([0xf9, 0xbe]))], [0xf9, 0xbe]);
});

test('the command prints one JSON line per message for a file, exit 1 because two frames are bad', () => {
  const r = run(['decode', fixturePath('sample-stream.bin')]);
  assert.is(r.code, 1, r.err);
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.is(lines.length, 57);
  const version = lines.find((l) => l.command === 'version');
  assert.is(typeof version.nonce, 'string', '64-bit values are decimal strings');
});

test('the command decodes a hex argument and raw bytes on stdin, exit 0 when all frames are good', () => {
  const hex = frames.find((f) => f.name === 'rustbitcoin-verack')!.frameHex;
  const a = run(['decode', hex]);
  assert.is(a.code, 0, a.err);
  assert.equal(JSON.parse(a.out), { command: 'verack' });
  const b = run(['decode', '-'], fromHex(hex));
  assert.is(b.code, 0, b.err);
  assert.equal(JSON.parse(b.out), { command: 'verack' });
});

test('the command selects the magic with --network', () => {
  const f = frames.find((x) => x.magic === 'fabfb5da' && x.command === 'ping')!;
  assert.is(run(['decode', f.frameHex, '--network', 'regtest']).code, 0);
  const bad = run(['decode', f.frameHex]);
  assert.is(bad.code, 1);
  assert.match(bad.out, /ERR_WIRE_BAD_MAGIC/);
});

test('the command rejects bad arguments with a message naming the value, exit 2', () => {
  const a = run(['decode', 'xyz-no-such-file']);
  assert.is(a.code, 2);
  assert.match(a.err, /xyz-no-such-file/);
  const b = run(['decode', '00', '--network', 'moon']);
  assert.is(b.code, 2);
  assert.match(b.err, /moon/);
  const c = run(['frobnicate']);
  assert.is(c.code, 2);
  assert.match(c.err, /frobnicate/);
  const d = run(['decode', '00', '--network', 'signet', '--signet-challenge', 'zz']);
  assert.is(d.code, 2);
  assert.match(d.err, /signet-challenge/);
});

test('the command prints a tx version of 2^31 and above unsigned, as Bitcoin Core does', () => {
  const fx = fixtureJSON<{ frame: { hex: string; txid: string; version: number } }>('transactions/unsigned-version.json').frame;
  const r = run(['decode', fx.hex]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /"version":4294967295[,}]/);
  const o = JSON.parse(r.out);
  assert.is(o.command, 'tx');
  assert.is(o.version, fx.version);
  assert.is(o.txid, fx.txid);
  const bare = run(['decode', '--command', 'tx', fx.hex.slice(48)]);
  assert.is(bare.code, 0, bare.err);
  assert.is(JSON.parse(bare.out).version, 4294967295);
});

test('the command prints a UTF-8 user agent as its characters, invalid UTF-8 one character per byte with its hex', () => {
  const f = fromHex(frames.find((x) => x.name === 'rustbitcoin-version')!.frameHex);
  const msg = decodeVersion(new Reader(f, 24, f.length));
  const withUa = (bytes: Uint8Array) =>
    toHex(encodeFrame(NETWORKS.mainnet.magic, 'version', { ...msg, userAgent: String.fromCharCode(...bytes) }));
  const good = run(['decode', withUa(new TextEncoder().encode('/café/'))]);
  assert.is(good.code, 0, good.err);
  assert.match(good.out, /"userAgent":"\/café\/"/);
  assert.not.match(good.out, /userAgentHex/);
  const bad = run(['decode', withUa(fromHex('2f636166e92f'))]);
  assert.is(bad.code, 0, bad.err);
  const o = JSON.parse(bad.out);
  assert.is(o.userAgent, '/caf\u00e9/');
  assert.is(o.userAgentHex, '2f636166e92f');
});

test.run();
