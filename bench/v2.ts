/**
 * The v2 (BIP324) suites of `npm run bench`, called from bench/parse.ts: the announce and blocks
 * corpora re-framed as v2 packets of one session, then
 *   - encrypt: `V2Transport.encodeRaw` of every message (next to v1 `encodeRawFrame`, checksums),
 *   - decrypt: 64 KiB chunks through `V2Transport.push` into the same receive-path sink as the
 *     v1 suites (inv scanned in place, addr and headers decoded), timed alternately with a v1
 *     decode pass of the same corpus (`v1-decode-*`), so the ratio survives a changing load.
 * Frames/s count messages; MB/s the wire bytes of the v2 stream (v1 bytes for the v1 row).
 * Single thread. Cold setup (session keys, the v2 stream) happens before timing.
 */
import { Bench } from 'tinybench';
import { V1Decoder, encodeRawFrame, type V1FrameSink } from '../src/transport/v1.js';
import { commandString } from '../src/protocol/commands.js';
import { COMMAND_NAMES } from '../src/protocol/constants.js';
import { V2Transport } from '../src/transport/v2/transport.js';
import { Bip324Cipher } from '../src/transport/v2/aead.js';
import { ellswiftCreate } from '../src/transport/v2/ellswift.js';
import { loadOrMake } from './corpus.js';

const CHUNK = 64 * 1024;

export interface V2Row {
  suite: string;
  frames: number;
  bytes: number;
  medianMs: number;
  framesPerSec: number;
  mbPerSec: number;
  nsPerFrame: number;
  /** For decrypt rows: the v1 decode rate measured alternately with it, and the ratio to it. */
  v1FramesPerSec?: number;
  ratioToV1?: number;
}

export interface V2BenchOptions {
  corpusDir: string;
  timeMs: number;
  scale: number;
  /** The receive-path sink of the v1 suites, so both transports feed the same work. */
  makeSink: () => V1FrameSink & { frames: number; bad: number };
  log: (line: string) => void;
}

interface Msg {
  name: string;
  payload: Uint8Array;
}

/** The messages of a v1 stream (command name and payload copy). */
function messagesOf(data: Uint8Array, magic: number): Msg[] {
  const out: Msg[] = [];
  const dec = new V1Decoder(magic, {
    onFrame(cmd, buf, off, len) {
      out.push({ name: cmd === 0 ? commandString(buf, off - 20) : COMMAND_NAMES[cmd]!, payload: buf.slice(off, off + len) });
    },
  });
  for (let o = 0; o < data.length; o += CHUNK) dec.push(data.subarray(o, Math.min(o + CHUNK, data.length)));
  return out;
}

async function median(name: string, timeMs: number, fn: () => void): Promise<number> {
  const bench = new Bench({ time: timeMs, iterations: 5, warmupTime: Math.min(2000, timeMs), warmupIterations: 2 });
  bench.add(name, fn);
  await bench.run();
  const res = bench.tasks[0]!.result as unknown as { latency?: { p50?: number; mean: number } };
  if (!res?.latency) throw new Error(`${name}: benchmark failed`);
  return res.latency.p50 ?? res.latency.mean;
}

/**
 * Median pass times of `a` and `b` run alternately (after a warm-up of each) for about `timeMs`
 * in total, at least 5 rounds.
 */
function alternate(a: () => void, b: () => void, timeMs: number): { a: number; b: number } {
  for (let i = 0; i < 2; i++) {
    a();
    b();
  }
  const ta: number[] = [];
  const tb: number[] = [];
  const t0 = performance.now();
  while (ta.length < 5 || performance.now() - t0 < timeMs) {
    let t = performance.now();
    a();
    ta.push(performance.now() - t);
    t = performance.now();
    b();
    tb.push(performance.now() - t);
  }
  const med = (x: number[]): number => x.sort((p, q) => p - q)[x.length >> 1]!;
  return { a: med(ta), b: med(tb) };
}

function row(suite: string, frames: number, bytes: number, ms: number): V2Row {
  return {
    suite,
    frames,
    bytes,
    medianMs: +ms.toFixed(3),
    framesPerSec: Math.round(frames / (ms / 1000)),
    mbPerSec: +(bytes / 1e6 / (ms / 1000)).toFixed(1),
    nsPerFrame: +((ms * 1e6) / frames).toFixed(1),
  };
}

export async function runV2Suites(o: V2BenchOptions, corpora: string[] = ['announce', 'blocks']): Promise<V2Row[]> {
  const rows: V2Row[] = [];
  const secret = new Uint8Array(32).fill(0x42);
  const magicBytes = new Uint8Array(4);
  // One key for every transport made below: key creation is per connection, not per packet.
  const key = ellswiftCreate();
  const transport = (initiator: boolean, magic: number, sink: V1FrameSink): V2Transport => {
    const t = new V2Transport({ initiator, magic, key, garbageLen: 0 }, sink);
    t.resume(new Bip324Cipher(secret, initiator, magicBytes));
    return t;
  };
  const noSink: V1FrameSink = { onFrame() {} };
  const show = (r: V2Row): void =>
    o.log(
      `${r.suite.padEnd(18)} ${r.framesPerSec.toLocaleString('en-US').padStart(11)} frames/s ${r.mbPerSec.toFixed(1).padStart(7)} MB/s ${r.nsPerFrame.toFixed(0).padStart(8)} ns/frame` +
        (r.ratioToV1 !== undefined ? `  (${(r.ratioToV1 * 100).toFixed(0)}% of v1 decode ${r.v1FramesPerSec!.toLocaleString('en-US')} frames/s)` : ''),
    );
  for (const name of corpora) {
    const { data } = loadOrMake(o.corpusDir, name, o.scale);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const magic = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
    new DataView(magicBytes.buffer).setUint32(0, magic, true);
    const msgs = messagesOf(bytes, magic);

    // The v2 stream of one session, and a check that it decodes to the same frames.
    const tx = transport(true, magic, noSink);
    const packets = msgs.map((m) => tx.encodeRaw(m.name, m.payload));
    const stream = Buffer.concat(packets);
    const chunks: Uint8Array[] = [];
    for (let off = 0; off < stream.length; off += CHUNK) chunks.push(stream.subarray(off, Math.min(off + CHUNK, stream.length)));
    const decryptPass = (sink: V1FrameSink): number => {
      const rx = transport(false, magic, sink);
      for (const c of chunks) if (rx.push(c) !== 0) return rx.fatal;
      return 0;
    };
    const check = o.makeSink();
    const st = decryptPass(check);
    // (`bad` counts the corpus's deliberately malformed payloads, the same for both transports.)
    if (st !== 0 || check.frames !== msgs.length) {
      throw new Error(`v2 ${name}: the stream did not decode cleanly (status ${st}, ${check.frames}/${msgs.length} frames)`);
    }

    const encMs = await median(`v2-encrypt-${name}`, o.timeMs, () => {
      const t = transport(true, magic, noSink);
      for (const m of msgs) t.encodeRaw(m.name, m.payload);
    });
    const v1EncMs = await median(`v1-encode-${name}`, o.timeMs, () => {
      for (const m of msgs) encodeRawFrame(magic, m.name, m.payload);
    });
    // Decrypt is timed in alternation with a v1 decode pass of the same corpus into the same
    // sink, round by round, so that the ratio holds on a machine whose load changes (shared here).
    const v1Chunks: Uint8Array[] = [];
    for (let off = 0; off < bytes.length; off += CHUNK) v1Chunks.push(bytes.subarray(off, Math.min(off + CHUNK, bytes.length)));
    const v1Pass = (): void => {
      const d = new V1Decoder(magic, o.makeSink());
      for (const c of v1Chunks) d.push(c);
    };
    const { a: decMs, b: v1DecMs } = alternate(() => decryptPass(o.makeSink()), v1Pass, o.timeMs);
    const enc = row(`v2-encrypt-${name}`, msgs.length, stream.length, encMs);
    const v1enc = row(`v1-encode-${name}`, msgs.length, bytes.length, v1EncMs);
    const dec = row(`v2-decrypt-${name}`, msgs.length, stream.length, decMs);
    const v1dec = row(`v1-decode-${name}`, msgs.length, bytes.length, v1DecMs);
    dec.v1FramesPerSec = v1dec.framesPerSec;
    dec.ratioToV1 = +(dec.framesPerSec / v1dec.framesPerSec).toFixed(3);
    for (const r of [v1enc, enc, v1dec, dec]) {
      rows.push(r);
      show(r);
    }
  }
  return rows;
}
