import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  V1Decoder,
  encodeRawFrame,
  FRAME_HEADER_SIZE,
  EMPTY_CHECKSUM,
  STREAM_HASH_MIN,
  clearFramePool,
  type V1FrameSink,
} from '../../src/transport/v1.js';
import { hash as cryptoHash } from 'node:crypto';
import { Status } from '../../src/protocol/errors.js';
import { NETWORKS, Command, MAX_PROTOCOL_MESSAGE_LENGTH } from '../../src/protocol/constants.js';
import { commandString } from '../../src/protocol/commands.js';
import { fromHex, toHex } from '../../src/protocol/hex.js';
import { PerformanceObserver } from 'node:perf_hooks';
import { fixtureJSON, prng, randomBytes } from '../helpers.js';

interface Frame {
  name: string;
  network: string;
  frameHex: string;
  valid: boolean;
  magic: string;
  command: string;
  length: number;
  payloadHex: string;
  checksumMatches: boolean;
  lengthMatches: boolean;
  expectedError?: string;
}
const vectors = fixtureJSON<{ frames: Frame[]; streams: any[] }>('messages/v1_frames.json');

interface Seen {
  cmd: number;
  name: string;
  payload: string;
  ok: boolean;
}

function collector(): { sink: V1FrameSink; seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    sink: {
      onFrame(cmd, buf, off, len, ok) {
        seen.push({ cmd, name: commandString(buf, off - 20), payload: toHex(buf, off, len), ok });
      },
    },
  };
}

function magicOf(f: Frame): number {
  const net = NETWORKS[f.network as keyof typeof NETWORKS];
  return net ? net.magic : 0xd9b4bef9;
}

/** Feeds `bytes` in chunks whose sizes come from `sizes` (cycled); returns the first fatal status. */
function feed(dec: V1Decoder, bytes: Uint8Array, sizes: number[]): number {
  let pos = 0;
  let i = 0;
  while (pos < bytes.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    const st = dec.push(bytes.subarray(pos, pos + n));
    if (st !== 0) return st;
    pos += n;
  }
  return 0;
}

const valid = vectors.frames.filter((f) => f.valid);

test('decodes every valid fixture frame whole, with its command and payload and a good checksum', () => {
  for (const f of valid) {
    const { sink, seen } = collector();
    const dec = new V1Decoder(magicOf(f), sink);
    assert.is(dec.push(fromHex(f.frameHex)), 0, f.name);
    assert.is(seen.length, 1, f.name);
    assert.is(seen[0]!.name, f.command, f.name);
    assert.is(seen[0]!.payload, f.payloadHex, f.name);
    assert.ok(seen[0]!.ok, f.name);
    const id = (Command as Record<string, number>)[f.command] ?? 0;
    assert.is(seen[0]!.cmd, id, f.name);
  }
});

test('decodes every valid fixture frame fed one byte at a time and in random chunkings', () => {
  const rand = prng(7);
  for (const f of valid) {
    for (const sizes of [[1], [2, 3], [23], [25], [(rand() * 40) | 0, (rand() * 40) | 0]]) {
      const { sink, seen } = collector();
      const dec = new V1Decoder(magicOf(f), sink);
      assert.is(feed(dec, fromHex(f.frameHex), sizes), 0);
      assert.is(seen.length, 1, `${f.name} ${sizes}`);
      assert.is(seen[0]!.payload, f.payloadHex);
      assert.ok(seen[0]!.ok);
      assert.is(dec.bufferedBytes, 0);
    }
  }
});

test('re-encodes every valid fixture frame to the exact bytes', () => {
  for (const f of valid) {
    const frame = encodeRawFrame(magicOf(f), f.command, fromHex(f.payloadHex));
    assert.is(toHex(frame), f.frameHex, f.name);
  }
});

test('splits the captured getheaders + feefilter stream at every byte offset', () => {
  const s = vectors.streams[0];
  const bytes = fromHex(s.streamHex);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { sink, seen } = collector();
    const dec = new V1Decoder(NETWORKS.regtest.magic, sink);
    assert.is(dec.push(bytes.subarray(0, cut)), 0);
    assert.is(dec.push(bytes.subarray(cut)), 0);
    assert.equal(
      seen.map((x) => x.name),
      s.frames,
    );
    assert.ok(seen.every((x) => x.ok));
  }
});

function byName(name: string): Frame {
  const f = vectors.frames.find((x) => x.name === name);
  if (!f) throw new Error(`no fixture ${name}`);
  return f;
}

test('delivers a frame with a bad checksum flagged, and keeps the stream in sync', () => {
  for (const name of ['btcd-bad-checksum', 'rustbitcoin-bad-checksum-noncanonical']) {
    const f = byName(name);
    const { sink, seen } = collector();
    const magic = new DataView(fromHex(f.frameHex).buffer).getUint32(0, true);
    const dec = new V1Decoder(magic, sink);
    const good = encodeRawFrame(magic, 'ping', new Uint8Array(8));
    const both = new Uint8Array([...fromHex(f.frameHex), ...good]);
    assert.is(dec.push(both), 0, name);
    assert.is(seen.length, 2);
    assert.is(seen[0]!.ok, false);
    assert.is(seen[1]!.name, 'ping');
    assert.is(seen[1]!.ok, true);
    assert.is(dec.badChecksums, 1);
  }
});

test('reports a wrong magic as fatal BAD_MAGIC', () => {
  const f = byName('btcd-wrong-network');
  const { sink, seen } = collector();
  const dec = new V1Decoder(NETWORKS.mainnet.magic, sink);
  assert.is(dec.push(fromHex(f.frameHex)), Status.BAD_MAGIC);
  assert.is(seen.length, 0);
  assert.is(dec.push(new Uint8Array(1)), Status.BAD_MAGIC, 'stays dead');
});

test('reports command bytes that are not printable ASCII, or non-NUL after NUL, as fatal BAD_COMMAND', () => {
  for (const name of ['btcd-bad-command-bytes', 'gen-command-nonzero-after-nul']) {
    const f = byName(name);
    const dec = new V1Decoder(NETWORKS.mainnet.magic, collector().sink);
    assert.is(dec.push(fromHex(f.frameHex)), Status.BAD_COMMAND, name);
  }
});

test('reports a declared length over 4,000,000 as fatal OVERSIZE before allocating', () => {
  const f = byName('btcd-oversize-length');
  const dec = new V1Decoder(NETWORKS.mainnet.magic, collector().sink);
  assert.is(dec.push(fromHex(f.frameHex)), Status.OVERSIZE);
  assert.ok(dec.bufferCapacity <= 4096);
  // Exactly the limit is allowed and waits for data.
  const hdr = encodeRawFrame(NETWORKS.mainnet.magic, 'block', new Uint8Array(0)).subarray(0, FRAME_HEADER_SIZE);
  new DataView(hdr.buffer).setUint32(16, MAX_PROTOCOL_MESSAGE_LENGTH, true);
  const dec2 = new V1Decoder(NETWORKS.mainnet.magic, collector().sink);
  assert.is(dec2.push(hdr), 0);
});

test('delivers an unknown command as id 0 with its name readable from the header', () => {
  const f = byName('bcoin-regtest-cmd');
  const { sink, seen } = collector();
  const dec = new V1Decoder(NETWORKS.regtest.magic, sink);
  dec.push(fromHex(f.frameHex));
  assert.is(seen[0]!.cmd, 0);
  assert.is(seen[0]!.name, 'cmd');
  assert.is(dec.unknownCommands, 1);
  const g = byName('btcd-unknown-command');
  const c2 = collector();
  const dec2 = new V1Decoder(NETWORKS.mainnet.magic, c2.sink);
  assert.is(dec2.push(fromHex(g.frameHex)), 0);
  assert.is(c2.seen[0]!.name, 'bogus');
  assert.is(c2.seen[0]!.ok, false, 'its checksum field is 00000000');
});

test('waits for the rest of a frame whose payload has not arrived', () => {
  const f = byName('btcd-short-payload');
  const { sink, seen } = collector();
  const dec = new V1Decoder(NETWORKS.mainnet.magic, sink);
  assert.is(dec.push(fromHex(f.frameHex)), 0);
  assert.is(seen.length, 0);
  assert.is(dec.bufferedBytes, 24);
});

test('holds no more memory than twice what has arrived of a large straddling frame', () => {
  const payload = randomBytes(prng(3), 1_000_000);
  const frame = encodeRawFrame(NETWORKS.mainnet.magic, 'block', payload);
  const { sink, seen } = collector();
  clearFramePool(); // recycled buffers may be larger: the bound is on new memory
  const dec = new V1Decoder(NETWORKS.mainnet.magic, sink);
  let pos = 0;
  for (const n of [100, 1000, 10_000, 100_000, 300_000]) {
    dec.push(frame.subarray(pos, pos + n));
    pos += n;
    assert.ok(dec.bufferCapacity <= Math.max(4096, 2 * pos), `${dec.bufferCapacity} for ${pos}`);
  }
  dec.push(frame.subarray(pos));
  assert.is(seen.length, 1);
  assert.ok(seen[0]!.ok);
  assert.is(dec.bufferCapacity, 0, 'the large buffer is released');
  // A second large frame reuses the released buffer: no new allocation needed.
  const dec2 = new V1Decoder(NETWORKS.mainnet.magic, sink);
  dec2.push(frame.subarray(0, 100));
  dec2.push(frame.subarray(100, 5000));
  assert.ok(dec2.bufferCapacity >= 1_000_000, 'took the recycled buffer');
  dec2.push(frame.subarray(5000));
  assert.is(seen.length, 2);
  assert.ok(seen[1]!.ok);
});

/** The checksum verdict computed independently of the decoder: SHA256d(payload)[0..4] == header[20..24]. */
function expectedOk(frame: Uint8Array): boolean {
  const d = cryptoHash('sha256', cryptoHash('sha256', frame.subarray(FRAME_HEADER_SIZE), 'buffer'), 'buffer');
  return d.subarray(0, 4).every((b, i) => b === frame[20 + i]);
}

/** Large frames around the incremental-hash threshold, some corrupted, with small frames between. */
function largeStream(seed: number, sizes: number[]): { bytes: Uint8Array; frames: Uint8Array[] } {
  const rand = prng(seed);
  const frames: Uint8Array[] = [];
  for (const size of sizes) {
    for (const corrupt of ['none', 'first', 'middle', 'last', 'checksum'] as const) {
      const f = encodeRawFrame(NETWORKS.mainnet.magic, 'block', randomBytes(rand, size));
      if (corrupt === 'first') f[FRAME_HEADER_SIZE] ^= 1;
      else if (corrupt === 'middle') f[FRAME_HEADER_SIZE + (size >> 1)] ^= 0x80;
      else if (corrupt === 'last') f[f.length - 1] ^= 0x10;
      else if (corrupt === 'checksum') f[22] ^= 4;
      frames.push(f, encodeRawFrame(NETWORKS.mainnet.magic, 'ping', randomBytes(rand, 8)));
    }
  }
  const bytes = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
  let o = 0;
  for (const f of frames) {
    bytes.set(f, o);
    o += f.length;
  }
  return { bytes, frames };
}

test('large straddling frames get the same checksum verdict and bytes at every chunk size, 1 byte to megabytes', () => {
  const small = [STREAM_HASH_MIN - 1, STREAM_HASH_MIN, STREAM_HASH_MIN + 1, 40_000];
  const cases: [number[], number[]][] = [
    [small, [1, 2, 3, 5, 8, 13, 21, 34, 55, 89]],
    [small, [23]],
    [small, [25]],
    [[...small, 100_000, 1_500_000], [24]],
    [[...small, 100_000, 1_500_000], [4096]],
    [[...small, 100_000, 1_500_000], [65_536]],
    [[...small, 100_000, 1_500_000], [1, 65_535, 7, 300_000]],
    [[...small, 100_000, 1_500_000], [1_000_000]],
    [[...small, 100_000, 1_500_000], [1 << 30]],
  ];
  for (const [frameSizes, sizes] of cases) {
    const { bytes, frames } = largeStream(31, frameSizes);
    const want = frames.map(expectedOk);
    assert.is(want.filter((ok) => !ok).length, 4 * frameSizes.length, 'four corrupted frames per size');
    let i = 0;
    const dec = new V1Decoder(NETWORKS.mainnet.magic, {
      onFrame(_cmd, buf, off, len, ok) {
        const f = frames[i]!;
        assert.is(ok, want[i], `frame ${i}, chunks ${sizes}`);
        assert.is(len, f.length - FRAME_HEADER_SIZE);
        assert.ok(Buffer.from(buf.buffer, buf.byteOffset + off, len).equals(f.subarray(FRAME_HEADER_SIZE)), `frame ${i} bytes`);
        i++;
      },
    });
    assert.is(feed(dec, bytes, sizes), 0, `${sizes}`);
    assert.is(i, frames.length, `${sizes}`);
    assert.is(dec.badChecksums, 4 * frameSizes.length);
    assert.is(dec.bufferedBytes, 0);
  }
});

test('a large frame whose header straddles chunks is hashed from its first payload byte only', () => {
  const rand = prng(32);
  const f = encodeRawFrame(NETWORKS.mainnet.magic, 'block', randomBytes(rand, 3 * STREAM_HASH_MIN));
  for (let cut = 1; cut <= FRAME_HEADER_SIZE + 1; cut++) {
    const seen: boolean[] = [];
    const dec = new V1Decoder(NETWORKS.mainnet.magic, { onFrame: (_c, _b, _o, _l, ok) => seen.push(ok) });
    assert.is(dec.push(f.subarray(0, cut)), 0);
    assert.is(dec.push(f.subarray(cut, cut + 5000)), 0);
    assert.is(dec.push(f.subarray(cut + 5000)), 0);
    assert.equal(seen, [true], `cut at ${cut}`);
  }
});

/**
 * A socket as `net.connect({ onread: { buffer: () => dec.receiveBuffer() ?? recv } })` drives it:
 * each read lands in the decoder's offered view or in the shared receive buffer, then is pushed.
 */
function socketFeed(dec: V1Decoder, bytes: Uint8Array, readSize: number): { offered: number } {
  const recv = new Uint8Array(readSize);
  let offered = 0;
  for (let pos = 0; pos < bytes.length; ) {
    const direct = dec.receiveBuffer();
    if (direct) offered++;
    const target = direct ?? recv;
    const n = Math.min(target.length, readSize, bytes.length - pos);
    target.set(bytes.subarray(pos, pos + n)); // the kernel's copy
    assert.is(dec.push(target.subarray(0, n)), 0);
    pos += n;
  }
  return { offered };
}

test('reads straight into the frame buffer: same frames, verdicts and bytes, and those bytes are never copied', () => {
  const sizes = [STREAM_HASH_MIN - 1, STREAM_HASH_MIN, 40_000, 100_000, 1_500_000];
  const { bytes, frames } = largeStream(34, sizes);
  const want = frames.map(expectedOk);
  for (const readSize of [1000, 4096, 65_536, 200_000]) {
    clearFramePool();
    let i = 0;
    const dec = new V1Decoder(NETWORKS.mainnet.magic, {
      onFrame(_cmd, buf, off, len, ok) {
        const f = frames[i]!;
        assert.is(ok, want[i], `frame ${i}, reads of ${readSize}`);
        assert.ok(Buffer.from(buf.buffer, buf.byteOffset + off, len).equals(f.subarray(FRAME_HEADER_SIZE)), `frame ${i} bytes`);
        i++;
      },
    });
    const { offered } = socketFeed(dec, bytes, readSize);
    assert.is(i, frames.length);
    assert.is(dec.badChecksums, 4 * sizes.length);
    assert.ok(offered > 0, 'the decoder offered its buffer');
    // Most large-frame bytes landed in place (the rest arrived before the buffer had room).
    const large = frames.filter((f) => f.length - FRAME_HEADER_SIZE >= STREAM_HASH_MIN).reduce((a, f) => a + f.length, 0);
    assert.ok(dec.inPlaceBytes > large / 2, `${dec.inPlaceBytes} of ${large} bytes in place, reads of ${readSize}`);
  }
});

test('offers no receive buffer between frames, for small frames, or before a large frame\'s header is complete', () => {
  const dec = new V1Decoder(NETWORKS.mainnet.magic, { onFrame() {} });
  assert.is(dec.receiveBuffer(), null, 'idle');
  const small = encodeRawFrame(NETWORKS.mainnet.magic, 'tx', new Uint8Array(STREAM_HASH_MIN - 1));
  dec.push(small.subarray(0, 100));
  assert.is(dec.receiveBuffer(), null, 'a small frame is copied as before');
  dec.push(small.subarray(100));
  const big = encodeRawFrame(NETWORKS.mainnet.magic, 'block', new Uint8Array(200_000));
  dec.push(big.subarray(0, 20));
  assert.is(dec.receiveBuffer(), null, 'header incomplete');
  clearFramePool();
  dec.push(big.subarray(20, 30));
  assert.is(dec.receiveBuffer(), null, 'a 4 KiB buffer with nothing worth offering');
  dec.push(big.subarray(30, 5000));
  dec.push(big.subarray(5000, 12_000));
  const view = dec.receiveBuffer();
  assert.ok(view !== null, 'a growing buffer offers its free tail');
  assert.is(view.length, dec.bufferCapacity - dec.bufferedBytes, 'only capacity already held');
  assert.ok(dec.bufferCapacity <= 2 * 12_000, 'offering it allocated nothing');
  view.set(big.subarray(12_000, 12_000 + view.length));
  dec.push(view);
  assert.is(dec.inPlaceBytes, view.length);
});

test('the frame buffer released last is the one the next large frame takes', () => {
  clearFramePool();
  const rand = prng(33);
  const a = encodeRawFrame(NETWORKS.mainnet.magic, 'block', randomBytes(rand, 200_000));
  const b = encodeRawFrame(NETWORKS.mainnet.magic, 'block', randomBytes(rand, 300_000));
  const c = encodeRawFrame(NETWORKS.mainnet.magic, 'block', randomBytes(rand, 150_000));
  const bufs: Uint8Array[] = [];
  const sink: V1FrameSink = { onFrame: (_c, buf) => bufs.push(buf) };
  for (const f of [a, b, c, c]) {
    const dec = new V1Decoder(NETWORKS.mainnet.magic, sink);
    dec.push(f.subarray(0, 1000));
    dec.push(f.subarray(1000));
  }
  assert.ok(bufs[0] !== bufs[1], 'b does not fit in a released buffer: a new one');
  assert.ok(bufs[2] === bufs[1], 'c takes the buffer released last (b), not the first that fits (a)');
  assert.ok(bufs[3] === bufs[2], 'and again: one buffer serves a stream of blocks');
});

test('delivers thousands of frames from one chunk in order, across checksum batches', () => {
  const rand = prng(11);
  const frames: Uint8Array[] = [];
  const expected: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const p = randomBytes(rand, (rand() * 300) | 0);
    frames.push(encodeRawFrame(NETWORKS.mainnet.magic, 'tx', p));
    expected.push(toHex(p));
  }
  const all = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
  let o = 0;
  for (const f of frames) {
    all.set(f, o);
    o += f.length;
  }
  for (const sizes of [[all.length], [65536], [1, 7, 300, 5000]]) {
    const { sink, seen } = collector();
    const dec = new V1Decoder(NETWORKS.mainnet.magic, sink, { batchSize: 100 });
    assert.is(feed(dec, all, sizes), 0);
    assert.is(seen.length, 3000);
    assert.ok(seen.every((s, i) => s.ok && s.payload === expected[i]));
  }
});

test('delivers the frames before a fatal fault in the same chunk', () => {
  const good = encodeRawFrame(NETWORKS.mainnet.magic, 'verack', new Uint8Array(0));
  const bad = encodeRawFrame(NETWORKS.testnet3.magic, 'verack', new Uint8Array(0));
  const { sink, seen } = collector();
  const dec = new V1Decoder(NETWORKS.mainnet.magic, sink);
  assert.is(dec.push(new Uint8Array([...good, ...good, ...bad])), Status.BAD_MAGIC);
  assert.is(seen.length, 2);
});

test('uses the constant checksum 5df6e0e2 for empty payloads', () => {
  const f = encodeRawFrame(NETWORKS.mainnet.magic, 'verack', new Uint8Array(0));
  assert.is(new DataView(f.buffer).getUint32(20, true), EMPTY_CHECKSUM);
  assert.is(toHex(f.subarray(20)), '5df6e0e2');
});

test('writes a precomputed checksum as given', () => {
  const f = encodeRawFrame(NETWORKS.mainnet.magic, 'ping', new Uint8Array(8), 0x01020304);
  assert.is(toHex(f.subarray(20, 24)), '04030201');
});

test('decodes a million one-entry inv frames with every checksum verified and no garbage collection', async () => {
  // 200,000 distinct frames (12.2 MB) fed five times in 64 KiB chunks, as a socket delivers them.
  const n = 200_000;
  const rand = prng(21);
  const stream = new Uint8Array(61 * n);
  for (let i = 0; i < n; i++) {
    const payload = new Uint8Array(37);
    payload[0] = 1;
    payload[1] = 5;
    payload.set(randomBytes(rand, 32), 5);
    stream.set(encodeRawFrame(NETWORKS.mainnet.magic, 'inv', payload), 61 * i);
  }
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < stream.length; o += 65536) chunks.push(stream.subarray(o, o + 65536));
  let frames = 0;
  let bad = 0;
  const sink: V1FrameSink = {
    onFrame(_cmd, _buf, _off, _len, ok) {
      frames++;
      if (!ok) bad++;
    },
  };
  const dec = new V1Decoder(NETWORKS.mainnet.magic, sink);
  for (const c of chunks) dec.push(c); // warm-up: compilation allocates
  frames = 0;
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 20));
  let gcs = 0;
  const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
  obs.observe({ entryTypes: ['gc'] });
  for (let pass = 0; pass < 5; pass++) for (const c of chunks) dec.push(c);
  await new Promise((r) => setTimeout(r, 20));
  obs.disconnect();
  assert.is(frames, 1_000_000);
  assert.is(bad, 0);
  assert.is(gcs, 0);
});

test.run();
