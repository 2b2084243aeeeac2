/**
 * Framing differential: the same v1 byte streams, in the same chunks, through invscope's
 * V1Decoder and through bcoin 1.0.2's net Parser (`bcoin/lib/net/parser`, with its payload
 * decoding switched off so that only framing is compared). Streams of random valid frames with
 * bad checksums mixed in must give the same frames accepted and the same ones rejected, in order.
 * Faults where the two differ by policy are pinned down one by one, with what Bitcoin Core does
 * (net.cpp V1Transport) as the reference; test/differential/README.md lists them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { hash } from 'node:crypto';
import { prng, randomBytes } from '../helpers.js';
import { V1Decoder, encodeRawFrame, FRAME_HEADER_SIZE } from '../../src/transport/v1.js';
import { NETWORKS, COMMAND_NAMES } from '../../src/protocol/constants.js';
import { Status } from '../../src/protocol/errors.js';
import { commandString } from '../../src/protocol/commands.js';

const require = createRequire(import.meta.url);
// bcoin ships no types.
/* eslint-disable @typescript-eslint/no-explicit-any */
const BcoinParser: any = require('bcoin/lib/net/parser');

const MAGIC = NETWORKS.mainnet.magic;

/** One outcome per frame, in a form both sides can produce: command and payload, or a rejection. */
type Outcome = string;

/** The payload in an outcome: its length and SHA-1 (whole payloads would make the diffs unreadable). */
function digest(b: Uint8Array): string {
  return `${b.length}:${hash('sha1', b, 'hex')}`;
}

/** bcoin's parser with payload decoding off: it yields {cmd, data} for every accepted frame. */
function bcoinRun(stream: Uint8Array, sizes: number[]): Outcome[] {
  const p = new BcoinParser('main');
  p.parsePayload = (cmd: string, data: Buffer) => ({ cmd, data });
  const out: Outcome[] = [];
  p.on('packet', (pk: { cmd: string; data: Buffer }) => out.push(`ok ${pk.cmd} ${digest(pk.data)}`));
  p.on('error', (e: Error) => out.push(/checksum/i.test(e.message) ? 'bad-checksum' : `error: ${e.message}`));
  forChunks(stream, sizes, (c) => {
    p.feed(Buffer.from(c));
    return true;
  });
  return out;
}

/** invscope's decoder; a fatal status ends the stream (the caller disconnects). */
function invscopeRun(stream: Uint8Array, sizes: number[]): { out: Outcome[]; fatal: number } {
  const out: Outcome[] = [];
  const dec = new V1Decoder(MAGIC, {
    onFrame(_cmd, buf, off, len, ok) {
      out.push(ok ? `ok ${commandString(buf, off - 20)} ${digest(buf.subarray(off, off + len))}` : 'bad-checksum');
    },
  });
  forChunks(stream, sizes, (c) => dec.push(c) === 0);
  return { out, fatal: dec.fatal };
}

function forChunks(stream: Uint8Array, sizes: number[], push: (c: Uint8Array) => boolean): void {
  for (let pos = 0, i = 0; pos < stream.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]!);
    // A fresh copy per chunk, as a socket hands over new bytes (bcoin keeps references to chunks).
    if (!push(stream.slice(pos, pos + n))) return;
    pos += n;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Known commands of at most 11 characters: bcoin refuses 12 (getcfcheckpt), see below. */
const KNOWN = COMMAND_NAMES.filter((c) => c && c !== 'unknown' && c.length < 12);

/** A command name both accept: a known one, or 1..11 printable characters (not NUL-free 12). */
function randomCommand(rand: () => number): string {
  if (rand() < 0.7) return KNOWN[(rand() * KNOWN.length) | 0]!;
  let s = '';
  for (let i = 1 + ((rand() * 11) | 0); i > 0; i--) s += String.fromCharCode(0x21 + ((rand() * 94) | 0));
  return s;
}

/** A random stream of frames, about one in five with a corrupted payload byte or checksum. */
function randomStream(rand: () => number): { stream: Uint8Array; corrupted: number } {
  const frames: Uint8Array[] = [];
  let corrupted = 0;
  for (let i = 1 + ((rand() * 25) | 0); i > 0; i--) {
    const r = rand();
    // Mostly small frames, some empty, a few large enough for the incremental hash and to straddle.
    const len = r < 0.1 ? 0 : r < 0.95 ? (rand() * 600) | 0 : 16_000 + ((rand() * 84_000) | 0);
    const f = encodeRawFrame(MAGIC, randomCommand(rand), randomBytes(rand, len));
    if (rand() < 0.2) {
      corrupted++;
      if (len > 0 && rand() < 0.7) f[FRAME_HEADER_SIZE + ((rand() * len) | 0)] ^= 1 << ((rand() * 8) | 0);
      else f[20 + ((rand() * 4) | 0)] ^= 0x40;
    }
    frames.push(f);
  }
  return { stream: concat(frames), corrupted };
}

function chunkings(rand: () => number, total: number): number[][] {
  return [[total], [65_536], [1 + ((rand() * 50) | 0)], [1 + ((rand() * 5000) | 0), 1 + ((rand() * 70_000) | 0), 24]];
}

test('random streams of valid and bad-checksum frames: the same frames accepted and rejected, in order, at every chunking', () => {
  const rand = prng(0xf4a3);
  let frames = 0;
  let bad = 0;
  for (let k = 0; k < 150; k++) {
    const { stream, corrupted } = randomStream(rand);
    for (const sizes of chunkings(rand, stream.length)) {
      const ours = invscopeRun(stream, sizes);
      const theirs = bcoinRun(stream, sizes);
      assert.is(ours.fatal, 0);
      assert.equal(ours.out, theirs, `stream ${k}, chunks ${sizes}`);
      assert.is(ours.out.filter((o) => o === 'bad-checksum').length, corrupted, 'every corruption seen');
    }
    frames += invscopeRun(stream, [stream.length]).out.length;
    bad += corrupted;
  }
  assert.ok(frames > 1500 && bad > 250, `${frames} frames, ${bad} corrupted`);
});

// ---------------------------------------------------------------------------------------------
// Faults where the two differ. Each stream: good frames, the fault, good frames again.

function around(fault: Uint8Array): { stream: Uint8Array; before: Outcome[] } {
  const rand = prng(fault.length);
  const good = [0, 1, 2].map(() => encodeRawFrame(MAGIC, 'ping', randomBytes(rand, 8)));
  const stream = concat([good[0]!, good[1]!, fault, good[2]!, good[0]!]);
  const before = [good[0]!, good[1]!].map((f) => `ok ping ${digest(f.subarray(FRAME_HEADER_SIZE))}`);
  return { stream, before };
}

function withHeader(cmd: Uint8Array | string, payload: Uint8Array, patch: (h: DataView) => void = () => {}): Uint8Array {
  const f = encodeRawFrame(MAGIC, typeof cmd === 'string' ? 'ping' : cmd, payload);
  if (typeof cmd === 'string') f.set(new TextEncoder().encode(cmd.padEnd(12, '\0')), 4);
  patch(new DataView(f.buffer, f.byteOffset, f.byteLength));
  return f;
}

test('wrong magic: invscope stops (fatal, the peer is dropped, as Core does); bcoin reports it and reads on, out of step', () => {
  const { stream, before } = around(withHeader('ping', new Uint8Array(8), (h) => h.setUint32(0, NETWORKS.testnet3.magic, true)));
  for (const sizes of [[stream.length], [1], [7]]) {
    const ours = invscopeRun(stream, sizes);
    assert.is(ours.fatal, Status.BAD_MAGIC);
    assert.equal(ours.out, before);
    const theirs = bcoinRun(stream, sizes);
    assert.equal(theirs.slice(0, 3), [...before, 'error: Invalid magic value: 709110b.']);
    // bcoin goes on parsing 24-byte windows from there: the frames after the fault are lost to it
    // too, behind more errors, so the connection is as good as gone either way.
    assert.ok(theirs.slice(3).some((o) => o.startsWith('error')));
  }
});

test('declared length over 4,000,000: invscope stops before allocating (Core disconnects); bcoin reports it and reads on, out of step', () => {
  const { stream, before } = around(withHeader('block', new Uint8Array(16), (h) => h.setUint32(16, 4_000_001, true)));
  const ours = invscopeRun(stream, [stream.length]);
  assert.is(ours.fatal, Status.OVERSIZE);
  assert.equal(ours.out, before);
  const theirs = bcoinRun(stream, [stream.length]);
  assert.equal(theirs.slice(0, 3), [...before, 'error: Packet length too large: 4000001.']);
});

test('a 12-character command (getcfcheckpt, BIP157): valid for Core and invscope; bcoin rejects it and loses step', () => {
  // Core's CMessageHeader::IsCommandValid allows all 12 bytes to be characters (no NUL), and
  // getcfcheckpt is exactly 12: bcoin 1.0.2 (older than BIP157) requires a NUL among them.
  for (const name of ['getcfcheckpt', 'abcdefghijkl']) {
    const { stream, before } = around(withHeader(name, randomBytes(prng(4), 32)));
    const ours = invscopeRun(stream, [stream.length]);
    assert.is(ours.fatal, 0);
    assert.is(ours.out.length, 5, 'all five frames, the 12-character one included');
    assert.match(ours.out[2]!, new RegExp(`^ok ${name} `));
    const theirs = bcoinRun(stream, [stream.length]);
    assert.equal(theirs.slice(0, 3), [...before, 'error: Non NULL-terminated command.']);
    assert.ok(theirs.length < 5 || theirs.slice(3).some((o) => o.startsWith('error')), 'bcoin does not get back in step');
  }
});

test('command bytes after the NUL, or not printable: Core drops that message, invscope drops the peer (DESIGN.md), bcoin takes it', () => {
  for (const cmd of [
    new Uint8Array([0x70, 0x69, 0x6e, 0x67, 0, 0x78, 0, 0, 0, 0, 0, 0]), // "ping\0x": bcoin reads "ping"
    new Uint8Array([0x70, 0x01, 0x6e, 0x67, 0, 0, 0, 0, 0, 0, 0, 0]), // "p\x01ng"
  ]) {
    const fault = withHeader(cmd, new Uint8Array(8));
    const { stream, before } = around(fault);
    const ours = invscopeRun(stream, [stream.length]);
    assert.is(ours.fatal, Status.BAD_COMMAND);
    assert.equal(ours.out, before);
    const theirs = bcoinRun(stream, [stream.length]);
    assert.is(theirs.length, 5, 'bcoin accepts every frame');
    const name = Buffer.from(cmd.subarray(0, cmd.indexOf(0))).toString('ascii');
    assert.is(theirs[2], `ok ${name} ${digest(fault.subarray(FRAME_HEADER_SIZE))}`);
  }
});

test.run();
