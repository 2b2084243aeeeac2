/**
 * Fuzz targets and their property checks: the v1 frame reader, every payload decoder
 * through the registry, the addrv2 address parser and the block/transaction decoders. A target
 * throws a `Finding` when a property fails (any other exception escaping a decoder is one too);
 * shared by the fuzzer (test/fuzz/run.ts) and the replay suite (test/fuzz-regressions.test.ts).
 */
import { getHeapStatistics } from 'node:v8';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { Status, statusCode } from '../../src/protocol/errors.js';
import { bytesEqual } from '../../src/protocol/hash.js';
import { fromHex } from '../../src/protocol/hex.js';
import { checksum } from '../../src/protocol/checksum.js';
import { Command, COMMAND_COUNT, COMMAND_NAMES, type CommandName } from '../../src/protocol/constants.js';
import { decodePayload, encodeMessage, encodedSize, messageToJSON } from '../../src/protocol/registry.js';
import {
  decodeNetAddrV2,
  encodeNetAddrV2,
  encodedSizeNetAddrV2,
  netAddrNetwork,
  netAddrToString,
} from '../../src/protocol/messages/address.js';
import { scanTx, decodeTx, serializeTx, txidOf, computeTxid, newTxLayout } from '../../src/protocol/messages/tx.js';
import { decodeBlock, blockTxidsInto, type BlockMessage } from '../../src/protocol/messages/block.js';
import { V1Decoder, clearFramePool, FRAME_HEADER_SIZE, EMPTY_CHECKSUM } from '../../src/transport/v1.js';
import { FIXTURES } from '../helpers.js';
import { v2Target, v2Seeds } from './v2-target.js';

/** A property violation: the fuzzer saves the input as a regression fixture. */
export class Finding extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Finding';
  }
}

const CODED = /^ERR_WIRE_/;
/** Mainnet magic as the decoder reads it (f9 be b4 d9, little-endian uint32). */
export const MAINNET_MAGIC = 0xd9b4bef9;

/**
 * Memory bound of one decode: heap + external growth at most MEM_SLACK + MEM_FACTOR x input.
 * A decoder that trusts a count (e.g. `new Array(0x02000000)`) blows through it on a 100-byte input.
 */
export const MEM_SLACK = 2 << 20;
export const MEM_FACTOR = 64;
/**
 * A hang guard, not a speed check (speed is the benchmarks'): one decode of a small input running
 * for seconds is a loop driven by a count the input cannot back. Generous for GC pauses and load.
 */
export const TIME_LIMIT_MS = 10_000;

/**
 * Bytes requested through `new Uint8Array(n)`, `new Int32Array(n)`, `new Array(n)`, Buffer.alloc*
 * ... since the meter was installed. Deterministic, unlike heap deltas (a GC during the decode
 * frees earlier garbage and hides a large allocation).
 */
let allocated = 0;
let metered = false;

/**
 * Replaces the global typed-array, Array and ArrayBuffer constructors with counting proxies and
 * wraps Buffer's allocators. For fuzzing processes only (`x.constructor === Uint8Array` no longer
 * holds for new arrays); the decoders look the globals up at run time, so it applies after import.
 */
export function installAllocationMeter(): void {
  if (metered) return;
  metered = true;
  const g = globalThis as unknown as Record<string, unknown>;
  const typed: [string, number][] = [
    ['Uint8Array', 1], ['Int8Array', 1], ['Uint16Array', 2], ['Int16Array', 2], ['Uint32Array', 4],
    ['Int32Array', 4], ['Float64Array', 8], ['BigUint64Array', 8], ['BigInt64Array', 8], ['ArrayBuffer', 1], ['Array', 8],
  ];
  for (const [name, size] of typed) {
    const C = g[name] as new (...a: unknown[]) => unknown;
    const count = (args: unknown[]): void => {
      if (typeof args[0] === 'number' && (name !== 'Array' || args.length === 1)) allocated += args[0] * size;
    };
    g[name] = new Proxy(C, {
      construct(t, args, nt) {
        count(args);
        return Reflect.construct(t, args, nt === g[name] ? t : nt);
      },
      apply(t, self, args) {
        count(args);
        return Reflect.apply(t as unknown as (...a: unknown[]) => unknown, self, args);
      },
    });
  }
  const B = Buffer as unknown as Record<string, (n: number, ...rest: unknown[]) => unknown>;
  for (const m of ['alloc', 'allocUnsafe', 'allocUnsafeSlow']) {
    const f = B[m]!.bind(Buffer);
    B[m] = (n: number, ...rest: unknown[]) => {
      allocated += n;
      return f(n, ...rest);
    };
  }
}

function memNow(): number {
  const h = getHeapStatistics();
  return h.used_heap_size + h.external_memory;
}

export function coded(status: number, where: string): void {
  if (status === 0) throw new Finding(`${where}: failed with status 0`);
  const code = statusCode(status);
  // statusCode() of a status missing from its table falls back to ERR_WIRE_STATUS_<n>: uncoded too.
  if (!CODED.test(code) || code.startsWith('ERR_WIRE_STATUS_')) throw new Finding(`${where}: uncoded status ${status} (${code})`);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function guard<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Finding) throw e;
    throw new Finding(`${where} threw: ${(e as Error)?.stack ?? String(e)}`);
  }
}

/** Runs `f` and checks the time and memory bounds against the input length `len`. */
export function bounded<T>(where: string, len: number, f: () => T): T {
  const m0 = memNow();
  const a0 = allocated;
  const t0 = performance.now();
  const v = guard(where, f);
  const dt = performance.now() - t0;
  const grown = memNow() - m0;
  const limit = MEM_SLACK + MEM_FACTOR * len;
  if (allocated - a0 > limit) throw new Finding(`${where}: allocated ${allocated - a0} bytes on ${len} input bytes`);
  if (grown > limit) throw new Finding(`${where}: grew memory by ${grown} bytes on ${len} input bytes`);
  if (dt > TIME_LIMIT_MS) throw new Finding(`${where}: took ${dt.toFixed(0)} ms on ${len} input bytes`);
  return v;
}

// -----------------------------------------------------------------------------------------------
// Payloads through the registry

/**
 * The documented exceptions to encode(decode(x)) === x. Only version's relay byte: Core reads it as
 * a bool, so a byte other than 0/1 decodes as true and re-encodes as 01 (control.ts decodeVersion).
 * (reject keeps its trailing data raw and block keeps its received bytes, so both round-trip.)
 */
function roundTripExempt(name: CommandName, msg: unknown, payload: Uint8Array): boolean {
  if (name === 'version') {
    const v = msg as { relay?: boolean };
    return v.relay !== undefined && payload[payload.length - 1]! > 1;
  }
  return false;
}

const payloadReader = new Reader();

/** The payload properties for command `id` over `buf[off, off+len)`. */
export function checkPayload(id: number, buf: Uint8Array, off: number, len: number): void {
  const name = COMMAND_NAMES[id] as CommandName;
  const where = `decodePayload(${id} ${name})`;
  const r = payloadReader;
  const msg = bounded(where, len, () => decodePayload(id, buf, off, len, r));
  if (msg === undefined) {
    coded(r.err, where);
    if (id === 0 && r.err !== Status.UNKNOWN_COMMAND) throw new Finding(`${where}: unknown command gave ${statusCode(r.err)}`);
    return;
  }
  if (r.err !== 0) throw new Finding(`${where}: returned a message with status ${statusCode(r.err)}`);
  const payload = buf.subarray(off, off + len);
  const enc = guard(`encodeMessage(${name})`, () => encodeMessage(name, msg as never));
  const size = guard(`encodedSize(${name})`, () => encodedSize(name, msg as never));
  if (size !== enc.length) throw new Finding(`${name}: encodedSize ${size} but encoded ${enc.length} bytes`);
  if (!roundTripExempt(name, msg, payload) && !bytesEqual(enc, payload)) {
    throw new Finding(`${name}: encode(decode(x)) != x\n  x   ${hex(payload)}\n  enc ${hex(enc)}`);
  }
  guard(`messageToJSON(${name})`, () => JSON.stringify(messageToJSON(name, msg)));
  if (id === Command.block) checkBlockBody(msg as BlockMessage, buf, off, off + len);
}

/** Target `payload`: the first byte selects the command id (mod COMMAND_COUNT; 0 = unknown). */
export function payloadTarget(data: Uint8Array): void {
  if (data.length < 1) return;
  checkPayload(data[0]! % COMMAND_COUNT, data, 1, data.length - 1);
}

// -----------------------------------------------------------------------------------------------
// v1 frames

interface FrameRecord {
  cmd: number;
  payload: string;
  ok: boolean;
}

/** Rewrites the checksum of every complete frame in `s` (a copy) so payloads reach the decoders. */
function repairChecksums(s: Uint8Array): Uint8Array {
  const out = s.slice();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let p = 0;
  while (p + FRAME_HEADER_SIZE <= out.length) {
    const len = view.getUint32(p + 16, true);
    if (p + FRAME_HEADER_SIZE + len > out.length) break;
    view.setUint32(p + 20, len === 0 ? EMPTY_CHECKSUM : checksum(out, p + FRAME_HEADER_SIZE, len), true);
    p += FRAME_HEADER_SIZE + len;
  }
  return out;
}

function runDecoder(chunks: Uint8Array[], decodePayloads: boolean): { frames: FrameRecord[]; status: number; d: V1Decoder } {
  const frames: FrameRecord[] = [];
  const d = new V1Decoder(MAINNET_MAGIC, {
    onFrame(cmd, buf, off, len, ok) {
      frames.push({ cmd, payload: hex(buf.subarray(off, off + len)), ok });
      if (decodePayloads && ok) checkPayload(cmd, buf, off, len);
    },
  });
  let status = 0;
  for (const c of chunks) {
    status = guard('V1Decoder.push', () => d.push(c));
    if (status !== 0) break;
  }
  return { frames, status, d };
}

const FATAL = new Set<number>([Status.BAD_MAGIC, Status.BAD_COMMAND, Status.OVERSIZE]);

/**
 * Target `frame`: byte 0 bit 0 repairs checksums, bytes 0-1 pick two split points; the rest is a
 * v1 stream fed whole and in three chunks. Both runs must deliver the same frames and status.
 */
export function frameTarget(data: Uint8Array): void {
  if (data.length < 2) return;
  let stream = data.subarray(2);
  if (data[0]! & 1) stream = repairChecksums(stream);
  const n = stream.length;
  const a = n === 0 ? 0 : ((data[0]! >> 1) * 131) % (n + 1);
  const b = n === 0 ? 0 : a + ((data[1]! * 257) % (n - a + 1));
  clearFramePool();
  const whole = bounded('V1Decoder (whole)', n, () => runDecoder([stream], true));
  const split = bounded('V1Decoder (split)', n, () =>
    runDecoder([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)], false),
  );
  for (const run of [whole, split]) {
    if (run.status !== 0 && !FATAL.has(run.status)) throw new Finding(`V1Decoder: unexpected status ${statusCode(run.status)}`);
    if (run.status !== run.d.fatal) throw new Finding('V1Decoder: push status differs from fatal');
    if (run.d.frames !== run.frames.length) throw new Finding('V1Decoder: frames counter differs from frames delivered');
    if (run.d.bufferedBytes > n) throw new Finding(`V1Decoder: buffers ${run.d.bufferedBytes} of ${n} bytes pushed`);
    if (run.d.bufferCapacity > Math.max(4096, 2 * n)) throw new Finding(`V1Decoder: holds ${run.d.bufferCapacity} bytes for ${n} pushed`);
  }
  if (whole.status !== split.status) {
    throw new Finding(`V1Decoder: whole ${statusCode(whole.status)} vs split at ${a},${b} ${statusCode(split.status)}`);
  }
  if (JSON.stringify(whole.frames) !== JSON.stringify(split.frames)) {
    throw new Finding(`V1Decoder: frames differ between whole and split at ${a},${b}`);
  }
  if (whole.status === 0 && whole.d.bufferedBytes !== split.d.bufferedBytes) {
    throw new Finding('V1Decoder: buffered bytes differ between whole and split');
  }
}

// -----------------------------------------------------------------------------------------------
// addrv2 address

/** Target `addrv2`: one BIP155 address; on success it re-encodes to the bytes consumed. */
export function addrv2Target(data: Uint8Array): void {
  const r = new Reader(data, 0, data.length);
  const a = bounded('decodeNetAddrV2', data.length, () => decodeNetAddrV2(r));
  if (r.err !== 0) return coded(r.err, 'decodeNetAddrV2');
  const w = new Writer(encodedSizeNetAddrV2(a));
  guard('encodeNetAddrV2', () => encodeNetAddrV2(w, a));
  if (w.pos !== w.buf.length) throw new Finding('encodedSizeNetAddrV2 differs from the bytes written');
  if (!bytesEqual(w.buf, data.subarray(0, r.pos))) {
    throw new Finding(`addrv2: encode(decode(x)) != x\n  x   ${hex(data.subarray(0, r.pos))}\n  enc ${hex(w.buf)}`);
  }
  guard('netAddrToString', () => netAddrToString(a) + netAddrNetwork(a));
}

// -----------------------------------------------------------------------------------------------
// transactions and blocks

const layout = newTxLayout();

/** Target `tx`: scanTx and decodeTx agree on success and length; a decoded tx re-encodes exactly. */
export function txTarget(data: Uint8Array): void {
  const e = bounded('scanTx', data.length, () => scanTx(data, 0, data.length, layout));
  const r = new Reader(data, 0, data.length);
  const tx = bounded('decodeTx', data.length, () => decodeTx(r));
  if (e < 0) coded(-e, 'scanTx');
  if (r.err !== 0) coded(r.err, 'decodeTx');
  if ((e > 0) !== (r.err === 0)) {
    throw new Finding(`scanTx ${e > 0 ? 'accepts' : statusCode(-e)} but decodeTx ${r.err === 0 ? 'accepts' : statusCode(r.err)}`);
  }
  if (e < 0) return;
  if (r.pos !== e) throw new Finding(`scanTx ends at ${e}, decodeTx at ${r.pos}`);
  const enc = guard('serializeTx', () => serializeTx(tx));
  if (!bytesEqual(enc, data.subarray(0, e))) throw new Finding(`tx: encode(decode(x)) != x\n  x   ${hex(data.subarray(0, e))}\n  enc ${hex(enc)}`);
  const id = new Uint8Array(32);
  guard('computeTxid', () => computeTxid(data, 0, e, id));
  if (!bytesEqual(id, guard('txidOf', () => txidOf(tx)))) throw new Finding('computeTxid (raw) differs from txidOf (decoded)');
}

/** The lazy block's checks: scan() and blockTxidsInto agree, every tx decodes and re-encodes. */
function checkBlockBody(m: BlockMessage, buf: Uint8Array, off: number, end: number): void {
  const s = bounded('BlockMessage.scan', end - off, () => m.scan());
  const out = new Uint8Array(32 * Math.min(m.txCount, 1 << 16));
  const n = bounded('blockTxidsInto', end - off, () => blockTxidsInto(buf, off, end, out));
  if (s !== 0) {
    coded(s, 'BlockMessage.scan');
    if (n !== -s) throw new Finding(`scan ${statusCode(s)} but blockTxidsInto ${n < 0 ? statusCode(-n) : n}`);
    return;
  }
  if (n !== m.txCount) throw new Finding(`scan ok with ${m.txCount} txs but blockTxidsInto ${n < 0 ? statusCode(-n) : n}`);
  const ids = guard('BlockMessage.txids', () => m.txids());
  if (!bytesEqual(ids, out.subarray(0, 32 * n))) throw new Finding('BlockMessage.txids differs from blockTxidsInto');
  for (let i = 0; i < m.txCount; i++) {
    const tx = guard(`BlockMessage.tx(${i})`, () => m.tx(i));
    const raw = m.txBytes(i);
    if (!bytesEqual(guard('serializeTx', () => serializeTx(tx)), raw)) throw new Finding(`block tx ${i}: encode(decode(x)) != x`);
  }
  guard('BlockMessage stats', () => [m.weight(), m.strippedSize(), m.segwitTxCount(), m.computeMerkleRoot(), m.checkWitnessCommitment()]);
}

/** Target `block`: decodeBlock, re-encode (the received bytes), then scan and the per-tx checks. */
export function blockTarget(data: Uint8Array): void {
  const r = new Reader(data, 0, data.length);
  const m = bounded('decodeBlock', data.length, () => decodeBlock(r));
  if (!r.finish()) return coded(r.err, 'decodeBlock');
  const enc = guard('encodeMessage(block)', () => encodeMessage('block', m));
  if (!bytesEqual(enc, data)) throw new Finding('block: encode(decode(x)) != x');
  checkBlockBody(m, data, 0, data.length);
}

// -----------------------------------------------------------------------------------------------
// Seeds from the fixtures

export type Target = (data: Uint8Array) => void;

export const TARGETS: Record<string, Target> = {
  frame: frameTarget,
  payload: payloadTarget,
  addrv2: addrv2Target,
  tx: txTarget,
  block: blockTarget,
  v2: (data) => v2Target(data),
};

function json<T = any>(rel: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, rel), 'utf8')) as T;
}

/** Small real blocks (< 10 kB) from test/fixtures/blocks: larger ones make slow seeds. */
function smallBlocks(): Uint8Array[] {
  const dir = join(FIXTURES, 'blocks');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .map((f) => new Uint8Array(readFileSync(join(dir, f))))
    .filter((b) => b.length <= 10_000);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const x of parts) out.set(x, p), (p += x.length);
  return out;
}

/** The seed inputs of a target, built from the fixtures (deterministic order). */
export function seedsFor(target: string): Uint8Array[] {
  switch (target) {
    case 'frame': {
      const frames = (json('messages/v1_frames.json').frames as { frameHex: string }[]).map((f) => fromHex(f.frameHex));
      const small = frames.filter((f) => f.length <= 4096);
      const seeds = small.map((f, i) => concat([Uint8Array.of(i * 2, i * 37), f]));
      // Multi-frame streams with repaired checksums and splits inside headers and payloads.
      for (let i = 0; i + 3 <= small.length; i += 3) seeds.push(concat([Uint8Array.of(1 + i * 4, 90 + i), ...small.slice(i, i + 3)]));
      return seeds;
    }
    case 'payload': {
      const msgs = json('messages/messages.json') as { command: string; payloadHex: string }[];
      const seeds = msgs
        .filter((m) => Object.hasOwn(Command, m.command) && m.payloadHex.length <= 20_000)
        .map((m) => concat([Uint8Array.of((Command as Record<string, number>)[m.command]!), fromHex(m.payloadHex)]));
      for (const b of smallBlocks().slice(0, 3)) seeds.push(concat([Uint8Array.of(Command.block), b]));
      return seeds;
    }
    case 'addrv2': {
      const a = json('messages/addrv2_addresses.json') as Record<string, { hex?: string }[]>;
      const seeds: Uint8Array[] = [];
      for (const k of ['unserializeV2', 'serialize']) for (const e of a[k] ?? []) if (e.hex) seeds.push(fromHex(e.hex));
      return seeds;
    }
    case 'tx':
      return (json('transactions/transactions.json') as { hex?: string }[])
        .filter((t) => t.hex && t.hex.length <= 20_000)
        .map((t) => fromHex(t.hex!));
    case 'block':
      return smallBlocks();
    case 'v2':
      return v2Seeds();
    default:
      throw new Error(`no fuzz target ${target}`);
  }
}

/**
 * Every command with a 100-byte payload carrying a huge CompactSize (MAX_SIZE, 0x01ffffff..., 0xffff,
 * 2^63-ish) at each offset: each must come back fast with a status, within the memory bound.
 */
export function hugeCountSweep(): void {
  const forms = [
    [0xfe, 0x00, 0x00, 0x00, 0x02],
    [0xfe, 0xff, 0xff, 0xff, 0x01],
    [0xfd, 0xff, 0xff],
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
  ];
  for (let id = 0; id < COMMAND_COUNT; id++) {
    for (const f of forms) {
      for (let at = 0; at < 96; at++) {
        const payload = new Uint8Array(100).fill(0x01);
        payload.set(f.slice(0, 100 - at), at);
        checkPayload(id, payload, 0, payload.length);
      }
    }
  }
}

/** Saved findings of a target: test/fixtures/fuzz-regressions/<target>-*.bin. */
export const REGRESSIONS = join(FIXTURES, 'fuzz-regressions');

export function regressionsFor(target: string): { name: string; data: Uint8Array }[] {
  if (!existsSync(REGRESSIONS)) return [];
  return readdirSync(REGRESSIONS)
    .filter((f) => f.startsWith(`${target}-`) && f.endsWith('.bin'))
    .sort()
    .map((f) => ({ name: f, data: new Uint8Array(readFileSync(join(REGRESSIONS, f))) }));
}
