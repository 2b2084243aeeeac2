/**
 * tx: transactions, legacy and segwit (BIP144 marker 0x00, flag 0x01), txid and wtxid.
 * Two layers: `scanTx` walks one transaction over raw bytes with no allocation (hot path: every
 * tx of every block goes through it), and `decodeTx`/`encodeTx` build and write `TxMessage` objects
 * (cold: CLI, tests, one tx on demand). Follows Bitcoin Core primitives/transaction.h
 * UnserializeTransaction. Pure module, any thread; imports only the protocol primitives.
 */
import { Status } from '../errors.js';
import { MAX_SIZE, type Reader } from '../reader.js';
import { Writer, varintSize } from '../writer.js';
import type { MessageCodec } from '../message.js';
import { sha256dBatch, sha256dInto } from '../checksum.js';
import { hashToHex, toHex } from '../hex.js';

// ---------------------------------------------------------------------------------------------
// Sizes

/** Smallest wire transaction: version, an empty vin, a zero flag byte read as an empty vout, locktime. */
export const MIN_TX_SIZE = 10;
/** Smallest input: prevout (36) + script length (1) + sequence (4). */
export const MIN_INPUT_SIZE = 41;
/** Smallest output: value (8) + script length (1). */
export const MIN_OUTPUT_SIZE = 9;
/** Smallest witness item: its length byte. */
export const MIN_WITNESS_ITEM_SIZE = 1;
/** BIP141 WITNESS_SCALE_FACTOR (Bitcoin Core consensus/consensus.h). */
export const WITNESS_SCALE_FACTOR = 4;

// ---------------------------------------------------------------------------------------------
// Scanner (hot path)

/**
 * Where the parts of one scanned transaction are, as absolute offsets into the scanned buffer.
 * Reuse one object across calls: `scanTx` only writes numbers into it.
 */
export interface TxLayout {
  /** First byte (the version). */
  start: number;
  /** First byte past the locktime. */
  end: number;
  /** First byte of the witness section, or -1 for a legacy (non-witness) serialization. */
  witnessStart: number;
  inputs: number;
  outputs: number;
}

export function newTxLayout(): TxLayout {
  return { start: 0, end: 0, witnessStart: -1, inputs: 0, outputs: 0 };
}

/** Result slot of `slowVarint` (module state instead of an object: the scanner allocates nothing). */
let slowEnd = 0;

/**
 * The multi-byte CompactSize forms, off the inline fast path (almost every count and length in a
 * transaction is < 0xfd). Canonical form and MAX_SIZE as in Reader.varint. Returns the value (and
 * its end in `slowEnd`) or a negated status.
 */
function slowVarint(buf: Uint8Array, p: number, end: number): number {
  const first = buf[p]!;
  let v: number;
  if (first === 0xfd) {
    if (p + 3 > end) return -Status.TRUNCATED;
    v = buf[p + 1]! | (buf[p + 2]! << 8);
    if (v < 0xfd) return -Status.NON_CANONICAL;
    slowEnd = p + 3;
    return v;
  }
  if (first === 0xfe) {
    if (p + 5 > end) return -Status.TRUNCATED;
    v = (buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24)) >>> 0;
    if (v < 0x10000) return -Status.NON_CANONICAL;
    if (v > MAX_SIZE) return -Status.SIZE_TOO_LARGE;
    slowEnd = p + 5;
    return v;
  }
  if (p + 9 > end) return -Status.TRUNCATED;
  // 0xff: canonical only above 2^32, which is always above MAX_SIZE.
  if ((buf[p + 5]! | buf[p + 6]! | buf[p + 7]! | buf[p + 8]!) === 0) return -Status.NON_CANONICAL;
  return -Status.SIZE_TOO_LARGE;
}

/**
 * Walks the transaction at `buf[off..)`, not reading past `end`. Returns the offset just past it
 * (always > off), or a negated Status: -TRUNCATED, -NON_CANONICAL, -SIZE_TOO_LARGE, or -BAD_VALUE
 * for a segwit flag other than 1 or a witness-flagged transaction whose witnesses are all empty
 * (Core: "Unknown transaction optional data", "Superfluous witness record").
 * When `out` is given it receives the layout (only meaningful on success). Allocates nothing.
 */
export function scanTx(buf: Uint8Array, off: number, end: number, out?: TxLayout): number {
  let p = off + 4; // version
  if (p >= end) return -Status.TRUNCATED;
  let nIn = buf[p]!;
  if (nIn < 0xfd) p++;
  else {
    nIn = slowVarint(buf, p, end);
    if (nIn < 0) return nIn;
    p = slowEnd;
  }
  let segwit = false;
  let skipOutputs = false;
  if (nIn === 0) {
    // Core reads an empty vin, then one byte of flags: 0 means "empty vin and empty vout" (the
    // byte doubles as the vout count), 1 is BIP144 witness, anything else is unknown optional data.
    if (p >= end) return -Status.TRUNCATED;
    const flag = buf[p++]!;
    if (flag === 0) skipOutputs = true;
    else if (flag !== 1) return -Status.BAD_VALUE;
    else {
      segwit = true;
      if (p >= end) return -Status.TRUNCATED;
      nIn = buf[p]!;
      if (nIn < 0xfd) p++;
      else {
        nIn = slowVarint(buf, p, end);
        if (nIn < 0) return nIn;
        p = slowEnd;
      }
    }
  }
  p = scanInputs(buf, p, end, nIn);
  if (p < 0) return p;
  let nOut = 0;
  if (!skipOutputs) {
    if (p >= end) return -Status.TRUNCATED;
    nOut = buf[p]!;
    if (nOut < 0xfd) p++;
    else {
      nOut = slowVarint(buf, p, end);
      if (nOut < 0) return nOut;
      p = slowEnd;
    }
    p = scanOutputs(buf, p, end, nOut);
    if (p < 0) return p;
  }
  const witnessStart = segwit ? p : -1;
  if (segwit) {
    p = scanWitnesses(buf, p, end, nIn);
    if (p < 0) return p;
  }
  p += 4; // locktime
  if (p > end) return -Status.TRUNCATED;
  if (out !== undefined) {
    out.start = off;
    out.end = p;
    out.witnessStart = witnessStart;
    out.inputs = nIn;
    out.outputs = nOut;
  }
  return p;
}

/** scanTx's inputs: `n` of (prevout, script, sequence) from `p`; the offset after them or a negated Status. */
function scanInputs(buf: Uint8Array, p: number, end: number, n: number): number {
  for (let i = 0; i < n; i++) {
    // prevout (36) then at least the script length byte
    if (p + 37 > end) return -Status.TRUNCATED;
    p += 36;
    let len = buf[p]!;
    if (len < 0xfd) p++;
    else {
      len = slowVarint(buf, p, end);
      if (len < 0) return len;
      p = slowEnd;
    }
    p += len + 4; // script, sequence
    if (p > end) return -Status.TRUNCATED;
  }
  return p;
}

/** scanTx's outputs: `n` of (value, script) from `p`; the offset after them or a negated Status. */
function scanOutputs(buf: Uint8Array, p: number, end: number, n: number): number {
  for (let i = 0; i < n; i++) {
    if (p + 9 > end) return -Status.TRUNCATED;
    p += 8;
    let len = buf[p]!;
    if (len < 0xfd) p++;
    else {
      len = slowVarint(buf, p, end);
      if (len < 0) return len;
      p = slowEnd;
    }
    p += len;
    if (p > end) return -Status.TRUNCATED;
  }
  return p;
}

/**
 * scanTx's witnesses: one stack per input from `p`; the offset after them or a negated Status,
 * -BAD_VALUE when every stack is empty (Core: "Superfluous witness record": the flag promised
 * witnesses and none came).
 */
function scanWitnesses(buf: Uint8Array, p: number, end: number, nIn: number): number {
  let any = false;
  for (let i = 0; i < nIn; i++) {
    if (p >= end) return -Status.TRUNCATED;
    let items = buf[p]!;
    if (items < 0xfd) p++;
    else {
      items = slowVarint(buf, p, end);
      if (items < 0) return items;
      p = slowEnd;
    }
    if (items !== 0) any = true;
    for (let j = 0; j < items; j++) {
      if (p >= end) return -Status.TRUNCATED;
      let len = buf[p]!;
      if (len < 0xfd) p++;
      else {
        len = slowVarint(buf, p, end);
        if (len < 0) return len;
        p = slowEnd;
      }
      p += len;
    }
    if (p > end) return -Status.TRUNCATED;
  }
  return any ? p : -Status.BAD_VALUE;
}

/** Bytes of the non-witness serialization of a scanned tx (what the txid hashes; BIP141 "stripped size"). */
export function strippedSizeOf(start: number, witnessStart: number, end: number): number {
  // Drop the marker and flag (2 bytes) and the witness section; keep the 4-byte locktime.
  return witnessStart < 0 ? end - start : witnessStart - start - 2 + 4;
}

/** BIP141 weight of a scanned tx: stripped size x 3 + total size. */
export function weightOf(start: number, witnessStart: number, end: number): number {
  return strippedSizeOf(start, witnessStart, end) * (WITNESS_SCALE_FACTOR - 1) + (end - start);
}

/** Reused for the non-contiguous (segwit) txid preimage; grows to the largest tx seen (<= 4 MB). */
let scratch = new Uint8Array(4096);

/**
 * The txid of a scanned transaction into `out[outOff..outOff+32)` (wire order), hashed straight
 * from the raw bytes. A legacy tx is hashed in place; a segwit tx's txid covers
 * [start, start+4) + [start+6, witnessStart) + [end-4, end), which are copied into one reused
 * scratch buffer first (the one-shot hash needs contiguous input; the copy is memcpy-speed).
 */
export function txidAt(
  buf: Uint8Array,
  start: number,
  witnessStart: number,
  end: number,
  out: Uint8Array,
  outOff: number,
): void {
  if (witnessStart < 0) {
    sha256dInto(buf, start, end - start, out, outOff);
    return;
  }
  const n = witnessStart - start - 2 + 4;
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  const s = scratch;
  s[0] = buf[start]!;
  s[1] = buf[start + 1]!;
  s[2] = buf[start + 2]!;
  s[3] = buf[start + 3]!;
  s.set(buf.subarray(start + 6, witnessStart), 4);
  s[n - 4] = buf[end - 4]!;
  s[n - 3] = buf[end - 3]!;
  s[n - 2] = buf[end - 2]!;
  s[n - 1] = buf[end - 1]!;
  sha256dInto(s, 0, n, out, outOff);
}

/** Reused preimage buffer and ranges of txidsBatch (grown, never shrunk). */
let batchPre = new Uint8Array(1 << 16);
let batchOffs = new Int32Array(256);
let batchLens = new Int32Array(256);

/**
 * The txids of `n` scanned transactions (tx i is [starts[i], ends[i]) with its witness at
 * wits[i], -1 for legacy) into `out[outOff + 32i ..)`. The stripped serializations are packed
 * into one reused buffer so the whole set goes through sha256dBatch, which hashes small items
 * four at a time in SIMD lanes; the packing copy is memcpy-speed and cheaper than a hash call
 * per tx. `ends` may be `starts` shifted by one (block offset tables): pass endsOff = 1.
 */
export function txidsBatch(
  buf: Uint8Array,
  starts: Int32Array,
  wits: Int32Array,
  ends: Int32Array,
  endsOff: number,
  n: number,
  out: Uint8Array,
  outOff: number,
): void {
  if (batchOffs.length < n) {
    batchOffs = new Int32Array(Math.max(n, batchOffs.length * 2));
    batchLens = new Int32Array(batchOffs.length);
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += strippedSizeOf(starts[i]!, wits[i]!, ends[i + endsOff]!);
  if (batchPre.length < total) batchPre = new Uint8Array(Math.max(total, batchPre.length * 2));
  const pre = batchPre;
  let q = 0;
  for (let i = 0; i < n; i++) {
    const start = starts[i]!;
    const w = wits[i]!;
    const end = ends[i + endsOff]!;
    batchOffs[i] = q;
    if (w < 0) {
      pre.set(buf.subarray(start, end), q);
      q += end - start;
    } else {
      pre[q] = buf[start]!;
      pre[q + 1] = buf[start + 1]!;
      pre[q + 2] = buf[start + 2]!;
      pre[q + 3] = buf[start + 3]!;
      pre.set(buf.subarray(start + 6, w), q + 4);
      q += 4 + w - start - 6;
      pre[q] = buf[end - 4]!;
      pre[q + 1] = buf[end - 3]!;
      pre[q + 2] = buf[end - 2]!;
      pre[q + 3] = buf[end - 1]!;
      q += 4;
    }
    batchLens[i] = q - batchOffs[i]!;
  }
  sha256dBatch(pre, batchOffs, batchLens, n, out, outOff);
}

/** The wtxid of a scanned transaction: SHA256d of all its bytes (equal to the txid for legacy). */
export function wtxidAt(buf: Uint8Array, start: number, end: number, out: Uint8Array, outOff: number): void {
  sha256dInto(buf, start, end - start, out, outOff);
}

const layout = newTxLayout();

/**
 * Scans the tx at `buf[off..end)` and writes its txid to `out[outOff..)`. Returns the tx's end
 * offset or a negated status (then `out` is untouched).
 */
export function computeTxid(buf: Uint8Array, off: number, end: number, out: Uint8Array, outOff = 0): number {
  const e = scanTx(buf, off, end, layout);
  if (e < 0) return e;
  txidAt(buf, off, layout.witnessStart, e, out, outOff);
  return e;
}

/** As computeTxid, for the wtxid. */
export function computeWtxid(buf: Uint8Array, off: number, end: number, out: Uint8Array, outOff = 0): number {
  const e = scanTx(buf, off, end);
  if (e < 0) return e;
  sha256dInto(buf, off, e - off, out, outOff);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Decoded form (cold path)

export interface TxInput {
  /** The spent transaction's txid, wire order. */
  prevTxid: Uint8Array;
  prevIndex: number;
  script: Uint8Array;
  sequence: number;
  /** The witness stack (BIP141); empty for legacy inputs. */
  witness: Uint8Array[];
}

export interface TxOutput {
  /** Satoshis. Signed 64-bit on the wire (Core CAmount); negative values are consensus-invalid but decodable. */
  value: bigint;
  script: Uint8Array;
}

export interface TxMessage {
  /** Unsigned 32-bit, 0 to 0xffffffff (Core primitives/transaction.h `uint32_t version`; RPC prints it unsigned). */
  version: number;
  inputs: TxInput[];
  outputs: TxOutput[];
  locktime: number;
  /**
   * True when the tx is (or is to be) serialized with witnesses. Decoding sets it exactly when the
   * BIP144 marker was present. Encoding writes the witness form only when it is true AND some input
   * has a non-empty witness (Core's HasWitness); `segwit: false` gives the stripped serialization.
   */
  segwit: boolean;
}

/** Core CTransaction::HasWitness: some input has a non-empty witness stack. */
export function hasWitness(m: TxMessage): boolean {
  for (const i of m.inputs) if (i.witness.length !== 0) return true;
  return false;
}

function witnessForm(m: TxMessage): boolean {
  return m.segwit && hasWitness(m);
}

/**
 * Decodes one transaction. Counts are bounded before anything is allocated: by MAX_SIZE (in the
 * Reader) and by the bytes present (an input is >= 41 bytes, an output >= 9, a witness item >= 1).
 */
export function decodeTx(r: Reader): TxMessage {
  const version = r.u32();
  let nIn = r.count(MAX_SIZE, MIN_INPUT_SIZE);
  let segwit = false;
  let emptyTx = false;
  if (nIn === 0 && r.err === 0) {
    // See scanTx: the byte after an empty vin is Core's flags byte.
    const flag = r.u8();
    if (flag === 0) emptyTx = true;
    else if (flag !== 1) r.fail(Status.BAD_VALUE);
    else {
      segwit = true;
      nIn = r.count(MAX_SIZE, MIN_INPUT_SIZE);
    }
  }
  const inputs: TxInput[] = [];
  for (let i = 0; i < nIn && r.err === 0; i++) {
    const prevTxid = r.hash();
    const prevIndex = r.u32();
    const script = r.varBytes(MAX_SIZE);
    const sequence = r.u32();
    inputs.push({ prevTxid, prevIndex, script, sequence, witness: [] });
  }
  const outputs: TxOutput[] = [];
  if (!emptyTx) {
    const nOut = r.count(MAX_SIZE, MIN_OUTPUT_SIZE);
    for (let i = 0; i < nOut && r.err === 0; i++) {
      const value = r.i64();
      const script = r.varBytes(MAX_SIZE);
      outputs.push({ value, script });
    }
  }
  if (segwit && r.err === 0) {
    let any = false;
    for (let i = 0; i < inputs.length && r.err === 0; i++) {
      const n = r.count(MAX_SIZE, MIN_WITNESS_ITEM_SIZE);
      if (n !== 0) any = true;
      const stack = inputs[i]!.witness;
      for (let j = 0; j < n && r.err === 0; j++) stack.push(r.varBytes(MAX_SIZE));
    }
    if (!any) r.fail(Status.BAD_VALUE); // Core: "Superfluous witness record"
  }
  const locktime = r.u32();
  return { version, inputs, outputs, locktime, segwit };
}

export function encodeTx(w: Writer, m: TxMessage): void {
  const wit = witnessForm(m);
  w.u32(m.version);
  if (wit) {
    w.u8(0);
    w.u8(1);
  }
  w.varint(m.inputs.length);
  for (const i of m.inputs) {
    w.bytes(i.prevTxid);
    w.u32(i.prevIndex);
    w.varBytes(i.script);
    w.u32(i.sequence);
  }
  w.varint(m.outputs.length);
  for (const o of m.outputs) {
    w.i64(o.value);
    w.varBytes(o.script);
  }
  if (wit) {
    for (const i of m.inputs) {
      w.varint(i.witness.length);
      for (const item of i.witness) w.varBytes(item);
    }
  }
  w.u32(m.locktime);
}

/** Size of the stripped (non-witness) serialization. */
export function strippedSizeTx(m: TxMessage): number {
  let n = 4 + varintSize(m.inputs.length) + varintSize(m.outputs.length) + 4;
  for (const i of m.inputs) n += 40 + varintSize(i.script.length) + i.script.length;
  for (const o of m.outputs) n += 8 + varintSize(o.script.length) + o.script.length;
  return n;
}

export function encodedSizeTx(m: TxMessage): number {
  let n = strippedSizeTx(m);
  if (witnessForm(m)) {
    n += 2;
    for (const i of m.inputs) {
      n += varintSize(i.witness.length);
      for (const item of i.witness) n += varintSize(item.length) + item.length;
    }
  }
  return n;
}

export function weightTx(m: TxMessage): number {
  return strippedSizeTx(m) * (WITNESS_SCALE_FACTOR - 1) + encodedSizeTx(m);
}

/** The full serialization of `m` in a fresh buffer (witness form when `m` has witnesses). */
export function serializeTx(m: TxMessage): Uint8Array {
  const w = new Writer(encodedSizeTx(m));
  encodeTx(w, m);
  return w.buf;
}

/** The txid of a decoded tx (re-encodes the stripped form; cold path: use txidAt on raw bytes). */
export function txidOf(m: TxMessage): Uint8Array {
  const w = new Writer(strippedSizeTx(m));
  encodeTx(w, { ...m, segwit: false });
  const out = new Uint8Array(32);
  sha256dInto(w.buf, 0, w.buf.length, out, 0);
  return out;
}

/** The wtxid of a decoded tx (re-encodes it). */
export function wtxidOf(m: TxMessage): Uint8Array {
  const b = serializeTx(m);
  const out = new Uint8Array(32);
  sha256dInto(b, 0, b.length, out, 0);
  return out;
}

/**
 * The JSON form: the vector fields (txid, wtxid, size, segwit, vin, vout, version, locktime) then
 * strippedSize, weight and the full inputs and outputs.
 */
export function txToJSON(m: TxMessage): Record<string, unknown> {
  const size = encodedSizeTx(m);
  const stripped = strippedSizeTx(m);
  return {
    txid: hashToHex(txidOf(m)),
    wtxid: hashToHex(wtxidOf(m)),
    size,
    segwit: witnessForm(m),
    vin: m.inputs.length,
    vout: m.outputs.length,
    version: m.version,
    locktime: m.locktime,
    strippedSize: stripped,
    weight: stripped * (WITNESS_SCALE_FACTOR - 1) + size,
    inputs: m.inputs.map((i) => ({
      prevTxid: hashToHex(i.prevTxid),
      prevIndex: i.prevIndex,
      scriptHex: toHex(i.script),
      sequence: i.sequence,
      witnessHex: i.witness.map((x) => toHex(x)),
    })),
    outputs: m.outputs.map((o) => ({ value: o.value.toString(), scriptHex: toHex(o.script) })),
  };
}

export const txCodec: MessageCodec<TxMessage> = {
  command: 'tx',
  decode: decodeTx,
  encode: encodeTx,
  encodedSize: encodedSizeTx,
  toJSON: txToJSON,
};

export const codecs: readonly MessageCodec<any>[] = [txCodec];
