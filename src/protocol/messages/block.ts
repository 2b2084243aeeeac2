/**
 * block: the 80-byte header codec (shared with headers, merkleblock, cmpctblock) and the LAZY
 * block message: `decodeBlock` reads the header and tx count only; transactions are located on
 * demand with scanTx, so announcement workloads never decode a transaction. Merkle root (Core
 * consensus/merkle.cpp, odd-duplicate rule) and BIP141 witness commitment helpers.
 * Pure module, any thread; scan/txids are the hot path, tx(i) and toJSON are cold.
 */
import { Status, WireError } from '../errors.js';
import { MAX_SIZE, Reader } from '../reader.js';
import { Writer, varintSize } from '../writer.js';
import type { MessageCodec } from '../message.js';
import { sha256dInto } from '../checksum.js';
import { sha256d, bytesEqual } from '../hash.js';
import { hashToHex } from '../hex.js';
import {
  MIN_TX_SIZE,
  WITNESS_SCALE_FACTOR,
  decodeTx,
  newTxLayout,
  scanTx,
  strippedSizeOf,
  txToJSON,
  txidsBatch,
  type TxMessage,
  encodeTx,
  encodedSizeTx,
} from './tx.js';

// ---------------------------------------------------------------------------------------------
// Header

export const BLOCK_HEADER_SIZE = 80;

export interface BlockHeader {
  version: number;
  /** Wire order. */
  prevBlock: Uint8Array;
  /** Wire order. */
  merkleRoot: Uint8Array;
  time: number;
  /** The compact target (nBits). */
  bits: number;
  nonce: number;
}

export function decodeHeader(r: Reader): BlockHeader {
  const version = r.i32();
  const prevBlock = r.hash();
  const merkleRoot = r.hash();
  const time = r.u32();
  const bits = r.u32();
  const nonce = r.u32();
  return { version, prevBlock, merkleRoot, time, bits, nonce };
}

export function encodeHeader(w: Writer, h: BlockHeader): void {
  w.i32(h.version);
  w.bytes(h.prevBlock);
  w.bytes(h.merkleRoot);
  w.u32(h.time);
  w.u32(h.bits);
  w.u32(h.nonce);
}

/** The 80 header bytes in a fresh buffer. */
export function serializeHeader(h: BlockHeader): Uint8Array {
  const w = new Writer(BLOCK_HEADER_SIZE);
  encodeHeader(w, h);
  return w.buf;
}

/** Block hash of a decoded header (re-encodes it; from raw bytes use headerHashAt). Wire order. */
export function headerHash(h: BlockHeader): Uint8Array {
  return sha256d(serializeHeader(h));
}

/** Block hash of the 80 header bytes at `buf[off..)` into `out[outOff..outOff+32)`, wire order. */
export function headerHashAt(buf: Uint8Array, off: number, out: Uint8Array, outOff = 0): void {
  sha256dInto(buf, off, BLOCK_HEADER_SIZE, out, outOff);
}

/** The header's JSON form with its hash (the fields of the vectors: bits as 8 hex digits). */
export function headerToJSON(h: BlockHeader): Record<string, unknown> {
  return {
    version: h.version,
    prevBlock: hashToHex(h.prevBlock),
    merkleRoot: hashToHex(h.merkleRoot),
    time: h.time,
    bits: (h.bits >>> 0).toString(16).padStart(8, '0'),
    nonce: h.nonce,
    hash: hashToHex(headerHash(h)),
  };
}

// ---------------------------------------------------------------------------------------------
// Merkle trees

/**
 * Core consensus/merkle.cpp ComputeMerkleRoot over `n` 32-byte hashes packed in `hashes` (wire
 * order): pairs are hashed with SHA256d, an odd last entry is paired with itself. `mutated`, when
 * given, reports Core's CVE-2012-2459 check (two equal adjacent hashes at some level). Zero hashes
 * give 32 zero bytes, as in Core.
 */
export function merkleRoot(hashes: Uint8Array, n: number, mutated?: { mutated: boolean }): Uint8Array {
  const out = new Uint8Array(32);
  if (mutated) mutated.mutated = false;
  if (n === 0) return out;
  // One work buffer with room for the duplicated odd entry; levels are hashed in place
  // (pair i at [64i, 64i+64) goes to [32i, 32i+32), never ahead of the unread pairs).
  const work = new Uint8Array(32 * (n + 1));
  work.set(hashes.subarray(0, 32 * n));
  let m = n;
  while (m > 1) {
    if (mutated) {
      for (let i = 0; i + 1 < m; i += 2) {
        if (bytesEqual(work.subarray(32 * i, 32 * i + 32), work.subarray(32 * i + 32, 32 * i + 64))) mutated.mutated = true;
      }
    }
    if (m & 1) {
      work.copyWithin(32 * m, 32 * (m - 1), 32 * m);
      m++;
    }
    const pairs = m >> 1;
    for (let i = 0; i < pairs; i++) sha256dInto(work, 64 * i, 64, work, 32 * i);
    m = pairs;
  }
  out.set(work.subarray(0, 32));
  return out;
}

/** The BIP141 commitment header in a coinbase output: OP_RETURN, push 36, 0xaa21a9ed. */
const COMMITMENT_HEADER = [0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];

/**
 * Core validation.cpp GetWitnessCommitmentIndex: the LAST coinbase output whose script is at
 * least 38 bytes and starts with the commitment header. Returns the output index or -1.
 */
export function witnessCommitmentIndex(coinbase: TxMessage): number {
  let idx = -1;
  for (let o = 0; o < coinbase.outputs.length; o++) {
    const s = coinbase.outputs[o]!.script;
    if (s.length < 38) continue;
    let ok = true;
    for (let k = 0; k < 6; k++) if (s[k] !== COMMITMENT_HEADER[k]) ok = false;
    if (ok) idx = o;
  }
  return idx;
}

export const WitnessCommitment = {
  /** No commitment and no witness data anywhere: fine (pre-segwit style block). */
  ABSENT: 0,
  /** The commitment matches the witness merkle root and the coinbase's reserved value. */
  VALID: 1,
  /** A commitment that does not match, a bad reserved value, or witness data with no commitment. */
  INVALID: 2,
} as const;

// ---------------------------------------------------------------------------------------------
// Lazy block

/**
 * A block whose transactions stay raw bytes until asked for. Offsets are absolute into `buf`.
 * `scan()` walks every transaction once (scanTx, no decoding) and caches where each starts and
 * where its witness starts; everything else (txids, wtxids, tx(i), sizes) uses that table.
 */
export class BlockMessage {
  readonly header: BlockHeader;
  readonly txCount: number;
  /** The buffer holding the block; [start, end) is the whole block, [txStart, end) its transactions. */
  readonly buf: Uint8Array;
  readonly start: number;
  readonly txStart: number;
  readonly end: number;
  private status = -1;
  private statusAt = -1;
  private offs: Int32Array | null = null;
  private wits: Int32Array | null = null;

  constructor(header: BlockHeader, txCount: number, buf: Uint8Array, start: number, txStart: number, end: number) {
    this.header = header;
    this.txCount = txCount;
    this.buf = buf;
    this.start = start;
    this.txStart = txStart;
    this.end = end;
  }

  /** Total serialized size (with witnesses). */
  get size(): number {
    return this.end - this.start;
  }

  /**
   * Locates every transaction. Returns 0, or a Status: the first malformed tx's status, or
   * TRAILING_BYTES when bytes follow the last transaction. Cached; allocates two Int32Arrays of
   * txCount + 1 entries (bounded by the bytes: txCount <= bytes / 10).
   */
  scan(): number {
    if (this.status >= 0) return this.status;
    const n = this.txCount;
    const offs = new Int32Array(n + 1);
    const wits = new Int32Array(n);
    const buf = this.buf;
    const end = this.end;
    const lay = scanLayout;
    let p = this.txStart;
    let status = 0;
    for (let i = 0; i < n; i++) {
      offs[i] = p;
      const e = scanTx(buf, p, end, lay);
      if (e < 0) {
        status = -e;
        break;
      }
      wits[i] = lay.witnessStart;
      p = e;
    }
    if (status === 0 && p !== end) status = Status.TRAILING_BYTES;
    this.statusAt = p - this.start;
    offs[n] = p;
    this.status = status;
    if (status === 0) {
      this.offs = offs;
      this.wits = wits;
    }
    return status;
  }

  /** Offset (relative to the block's start) of the first malformed tx after a failed scan(). */
  get errAt(): number {
    return this.status > 0 ? this.statusAt : -1;
  }

  private ensure(): void {
    const s = this.scan();
    if (s !== 0) throw new WireError(s, 'block', this.statusAt);
  }

  /**
   * txCount + 1 absolute offsets into `buf`: tx i is [offs[i], offs[i+1]). Throws a WireError on
   * malformed bytes (hot code calls scan() first and checks its status).
   */
  txOffsets(): Int32Array {
    this.ensure();
    return this.offs!;
  }

  /** Absolute offset of each tx's witness section, -1 for legacy transactions. */
  witnessStarts(): Int32Array {
    this.ensure();
    return this.wits!;
  }

  /** The raw bytes of tx i (a view). */
  txBytes(i: number): Uint8Array {
    const o = this.txOffsets();
    if (!(i >= 0 && i < this.txCount)) throw new RangeError(`block: no transaction ${i} of ${this.txCount}`);
    return this.buf.subarray(o[i]!, o[i + 1]!);
  }

  /** Decodes tx i (byte fields are views into `buf`). */
  tx(i: number): TxMessage {
    const b = this.txBytes(i);
    const r = new Reader(b, 0, b.length);
    const tx = decodeTx(r);
    if (!r.finish()) throw new WireError(r.err, 'block.tx', r.errAt);
    return tx;
  }

  /** Decodes the transactions one at a time. */
  *txs(): IterableIterator<TxMessage> {
    for (let i = 0; i < this.txCount; i++) yield this.tx(i);
  }

  /** Every txid, packed 32 bytes each in wire order, into `out` (or a fresh array). */
  txids(out?: Uint8Array): Uint8Array {
    const offs = this.txOffsets();
    const wits = this.wits!;
    const n = this.txCount;
    const o = out ?? new Uint8Array(32 * n);
    txidsBatch(this.buf, offs, wits, offs, 1, n, o, 0);
    return o;
  }

  /** Every wtxid, packed 32 bytes each in wire order (the coinbase's is its real hash, not zeros). */
  wtxids(out?: Uint8Array): Uint8Array {
    const offs = this.txOffsets();
    const n = this.txCount;
    const o = out ?? new Uint8Array(32 * n);
    for (let i = 0; i < n; i++) sha256dInto(this.buf, offs[i]!, offs[i + 1]! - offs[i]!, o, 32 * i);
    return o;
  }

  /** The block hash, wire order. */
  hash(): Uint8Array {
    const out = new Uint8Array(32);
    sha256dInto(this.buf, this.start, BLOCK_HEADER_SIZE, out, 0);
    return out;
  }

  /** Size without witness data (BIP141). */
  strippedSize(): number {
    const offs = this.txOffsets();
    const wits = this.wits!;
    let n = this.txStart - this.start;
    for (let i = 0; i < this.txCount; i++) n += strippedSizeOf(offs[i]!, wits[i]!, offs[i + 1]!);
    return n;
  }

  /** BIP141 block weight: stripped size x 3 + size. */
  weight(): number {
    return this.strippedSize() * (WITNESS_SCALE_FACTOR - 1) + this.size;
  }

  /** Number of transactions serialized with witnesses. */
  segwitTxCount(): number {
    const wits = this.witnessStarts();
    let n = 0;
    for (let i = 0; i < wits.length; i++) if (wits[i]! >= 0) n++;
    return n;
  }

  /** The merkle root computed from the transactions (compare with header.merkleRoot). */
  computeMerkleRoot(mutated?: { mutated: boolean }): Uint8Array {
    return merkleRoot(this.txids(), this.txCount, mutated);
  }

  /** The 32-byte witness commitment from the coinbase (a view), or null when there is none. */
  witnessCommitment(): Uint8Array | null {
    if (this.txCount === 0) return null;
    const cb = this.tx(0);
    const idx = witnessCommitmentIndex(cb);
    return idx < 0 ? null : cb.outputs[idx]!.script.subarray(6, 38);
  }

  /**
   * BIP141 check (Core validation.cpp CheckWitnessMalleation): with a commitment, the coinbase's
   * witness must be one 32-byte reserved value and SHA256d(witness root || reserved value) must
   * equal it (the witness root uses zeros for the coinbase wtxid); without one, no tx may carry
   * witness data.
   */
  checkWitnessCommitment(): (typeof WitnessCommitment)[keyof typeof WitnessCommitment] {
    const commitment = this.witnessCommitment();
    if (commitment === null) return this.segwitTxCount() === 0 ? WitnessCommitment.ABSENT : WitnessCommitment.INVALID;
    const stack = this.tx(0).inputs[0]?.witness;
    if (!stack || stack.length !== 1 || stack[0]!.length !== 32) return WitnessCommitment.INVALID;
    const w = this.wtxids();
    w.fill(0, 0, 32);
    const pre = new Uint8Array(64);
    pre.set(merkleRoot(w, this.txCount), 0);
    pre.set(stack[0]!, 32);
    return bytesEqual(sha256d(pre), commitment) ? WitnessCommitment.VALID : WitnessCommitment.INVALID;
  }
}

const scanLayout = newTxLayout();

/** Offset tables of blockTxidsInto, reused across calls (grown, never shrunk). */
let hotOffs = new Int32Array(4096);
let hotWits = new Int32Array(4096);

/**
 * Hot path without per-call objects: scans the block at `buf[off..end)` (header, count, every
 * tx) and writes each txid into `out` (32 bytes each, wire order; when `out` is shorter than
 * 32 x txCount nothing is hashed and only the count is returned). Returns the tx count, or a
 * negated Status (TRAILING_BYTES when bytes follow the last tx). Scan first, then one batched
 * hash over all txids (see txidsBatch).
 */
export function blockTxidsInto(buf: Uint8Array, off: number, end: number, out: Uint8Array): number {
  let p = off + BLOCK_HEADER_SIZE;
  if (p >= end) return -Status.TRUNCATED;
  const r = countReader.reset(buf, p, end - p);
  const n = r.count(MAX_SIZE, MIN_TX_SIZE);
  if (r.err !== 0) return -r.err;
  p = r.pos;
  if (hotOffs.length < n + 1) {
    hotOffs = new Int32Array(Math.max(n + 1, hotOffs.length * 2));
    hotWits = new Int32Array(hotOffs.length);
  }
  const offs = hotOffs;
  const wits = hotWits;
  const lay = scanLayout;
  for (let i = 0; i < n; i++) {
    offs[i] = p;
    const e = scanTx(buf, p, end, lay);
    if (e < 0) return e;
    wits[i] = lay.witnessStart;
    p = e;
  }
  offs[n] = p;
  if (p !== end) return -Status.TRAILING_BYTES;
  if (out.length >= 32 * n) txidsBatch(buf, offs, wits, offs, 1, n, out, 0);
  return n;
}

const countReader = new Reader();

/**
 * Reads the header and the tx count, then takes the rest of the reader's range as the
 * transactions (moving `r.pos` to `r.end`): a lazy block cannot know where its last tx ends
 * without scanning, so bytes after it are reported by `scan()` as TRAILING_BYTES instead of by
 * `r.finish()`. The count is bounded by the bytes present (a tx is at least 10 bytes).
 */
export function decodeBlock(r: Reader): BlockMessage {
  const start = r.pos;
  const header = decodeHeader(r);
  const txCount = r.count(MAX_SIZE, MIN_TX_SIZE);
  const txStart = r.pos;
  const end = r.end;
  if (r.err === 0) r.pos = end;
  return new BlockMessage(header, txCount, r.buf, start, txStart, end);
}

/** Writes the block's bytes as they are (re-encoding reproduces the received bytes exactly). */
export function encodeBlock(w: Writer, m: BlockMessage): void {
  encodeHeader(w, m.header);
  w.varint(m.txCount);
  w.bytes(m.buf.subarray(m.txStart, m.end));
}

export function encodedSizeBlock(m: BlockMessage): number {
  return BLOCK_HEADER_SIZE + varintSize(m.txCount) + (m.end - m.txStart);
}

/** Builds a block from decoded parts (serializes them into one fresh buffer). */
export function makeBlock(header: BlockHeader, txs: readonly TxMessage[]): BlockMessage {
  let size = BLOCK_HEADER_SIZE + varintSize(txs.length);
  for (const t of txs) size += encodedSizeTx(t);
  const w = new Writer(size);
  encodeHeader(w, header);
  w.varint(txs.length);
  for (const t of txs) encodeTx(w, t);
  const r = new Reader(w.buf, 0, size);
  return decodeBlock(r);
}

/**
 * The JSON form: header{..., hash}, txCount, size, and txs (decoded one by one). Malformed
 * transactions end the list with an `error` code instead of throwing.
 */
export function blockToJSON(m: BlockMessage): Record<string, unknown> {
  const status = m.scan();
  const out: Record<string, unknown> = { header: headerToJSON(m.header), txCount: m.txCount, size: m.size };
  if (status !== 0) {
    out.error = new WireError(status, 'block', m.errAt).code;
    return out;
  }
  out.strippedSize = m.strippedSize();
  out.weight = m.weight();
  const txs: Record<string, unknown>[] = [];
  for (let i = 0; i < m.txCount; i++) txs.push(txToJSON(m.tx(i)));
  out.txs = txs;
  return out;
}

/**
 * decodeBlock plus a structural scan of every transaction (boundaries only: no tx objects, no
 * hashing; GB/s): the registry's strict entry point, so a truncated or padded block is a coded
 * error like any other malformed payload. Hot code that wants only the header calls decodeBlock.
 */
export function decodeBlockChecked(r: Reader): BlockMessage {
  const start = r.pos;
  const m = decodeBlock(r);
  if (r.err === 0) {
    const s = m.scan();
    if (s !== 0) {
      r.pos = start + m.errAt;
      r.fail(s);
    }
  }
  return m;
}

export const blockCodec: MessageCodec<BlockMessage> = {
  command: 'block',
  decode: decodeBlockChecked,
  encode: encodeBlock,
  encodedSize: encodedSizeBlock,
  toJSON: blockToJSON,
};

export const codecs: readonly MessageCodec<any>[] = [blockCodec];
