/**
 * Real items for the simulated network: well-formed mainnet-like transactions (segwit mostly,
 * 200-600 bytes, random signatures and keys that no one can verify) and real blocks (a BIP34
 * coinbase with a valid BIP141 witness commitment, merkle root over its txs, prevBlock chaining,
 * proof of work valid under regtest's nBits). Hashes come from the codec (computeTxid etc.).
 * Simulator process; cold path (a few items per second), imports only the protocol codec.
 */
import { Writer, varintSize } from '../protocol/writer.js';
import { sha256dInto } from '../protocol/checksum.js';
import { computeTxid, computeWtxid, encodeTx, encodedSizeTx, type TxMessage } from '../protocol/messages/tx.js';
import { BLOCK_HEADER_SIZE, merkleRoot } from '../protocol/messages/block.js';
import type { Rng } from './rng.js';

/** Size window of generated transactions (bytes, full serialization). */
export const TX_MIN_SIZE = 200;
export const TX_MAX_SIZE = 600;

/** Regtest's nBits (chainparams.cpp: powLimit 7fffff...): half of all hashes meet it, so grinding is cheap. */
export const REGTEST_BITS = 0x207fffff;
/** BIP9 version bits top mask: what Core miners put in nVersion. */
export const BLOCK_VERSION = 0x20000000;
/** Subsidy at heights 840,000-1,049,999 (3.125 BTC), in satoshis. */
export const SUBSIDY_SATS = 312_500_000n;
/** BIP141 MAX_BLOCK_WEIGHT: blocks take pending txs up to it, as a miner would. */
export const MAX_BLOCK_WEIGHT = 4_000_000;

/** A generated transaction: its bytes and codec-computed hashes (wire order). */
export interface RawTx {
  raw: Uint8Array;
  txid: Uint8Array;
  wtxid: Uint8Array;
  /** BIP141 weight (for filling blocks). */
  weight: number;
}

type InKind = 'p2wpkh' | 'p2tr' | 'p2sh-p2wpkh' | 'p2pkh';
type OutKind = 'p2wpkh' | 'p2tr' | 'p2pkh' | 'p2sh' | 'p2wsh';

// Rough mainnet mixes (2024-2025 inputs and outputs by type); exactness does not matter, only
// that the sizes and segwit share look like mainnet traffic.
const SEGWIT_INPUTS: readonly (readonly [number, InKind])[] = [
  [0.6, 'p2wpkh'],
  [0.25, 'p2tr'],
  [0.1, 'p2sh-p2wpkh'],
  [0.05, 'p2pkh'],
];
const OUTPUTS: readonly (readonly [number, OutKind])[] = [
  [0.45, 'p2wpkh'],
  [0.25, 'p2tr'],
  [0.1, 'p2pkh'],
  [0.1, 'p2sh'],
  [0.1, 'p2wsh'],
];
const N_INPUTS: readonly (readonly [number, number])[] = [
  [0.6, 1],
  [0.25, 2],
  [0.15, 3],
];
const N_OUTPUTS: readonly (readonly [number, number])[] = [
  [0.2, 1],
  [0.7, 2],
  [0.1, 3],
];
/** Share of transactions with only legacy (p2pkh) inputs, serialized without witness. */
const LEGACY_TX_SHARE = 0.1;

/** A DER ECDSA signature plus SIGHASH_ALL: 71-73 bytes, as Core's signer makes them (low S). */
function derSig(rng: Rng): Uint8Array {
  const rlen = rng.chance(0.5) ? 33 : 32; // high bit of r set: a 0x00 pad byte
  const slen = rng.chance(0.99) ? 32 : 31;
  const out = new Uint8Array(6 + rlen + slen + 1);
  let p = 0;
  out[p++] = 0x30;
  out[p++] = 4 + rlen + slen;
  out[p++] = 0x02;
  out[p++] = rlen;
  if (rlen === 33) {
    out[p++] = 0x00;
    rng.fill(out, p, 32);
    out[p] = out[p]! | 0x80;
    p += 32;
  } else {
    rng.fill(out, p, 32);
    out[p] = (out[p]! & 0x7f) | 1;
    p += 32;
  }
  out[p++] = 0x02;
  out[p++] = slen;
  rng.fill(out, p, slen);
  out[p] = (out[p]! & 0x7f) | 1; // low S
  p += slen;
  out[p] = 0x01; // SIGHASH_ALL
  return out;
}

function pubkey(rng: Rng): Uint8Array {
  const k = rng.bytes(33);
  k[0] = rng.chance(0.5) ? 0x02 : 0x03;
  return k;
}

function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function outputScript(kind: OutKind, rng: Rng): Uint8Array {
  switch (kind) {
    case 'p2wpkh':
      return concat([0x00, 0x14], rng.bytes(20));
    case 'p2tr':
      return concat([0x51, 0x20], rng.bytes(32));
    case 'p2pkh':
      return concat([0x76, 0xa9, 0x14], rng.bytes(20), [0x88, 0xac]);
    case 'p2sh':
      return concat([0xa9, 0x14], rng.bytes(20), [0x87]);
    case 'p2wsh':
      return concat([0x00, 0x20], rng.bytes(32));
  }
}

function input(kind: InKind, rng: Rng): TxMessage['inputs'][number] {
  const prevTxid = rng.bytes(32);
  const prevIndex = rng.chance(0.7) ? rng.int(2) : rng.int(20);
  // BIP125 opt-in RBF is what most wallets signal today.
  const sequence = rng.chance(0.7) ? 0xfffffffd : 0xffffffff;
  switch (kind) {
    case 'p2pkh': {
      const sig = derSig(rng);
      const pk = pubkey(rng);
      return { prevTxid, prevIndex, script: concat([sig.length], sig, [33], pk), sequence, witness: [] };
    }
    case 'p2wpkh':
      return { prevTxid, prevIndex, script: new Uint8Array(0), sequence, witness: [derSig(rng), pubkey(rng)] };
    case 'p2sh-p2wpkh':
      return {
        prevTxid,
        prevIndex,
        script: concat([0x16, 0x00, 0x14], rng.bytes(20)),
        sequence,
        witness: [derSig(rng), pubkey(rng)],
      };
    case 'p2tr':
      // BIP341 key path spend: one 64-byte Schnorr signature (SIGHASH_DEFAULT).
      return { prevTxid, prevIndex, script: new Uint8Array(0), sequence, witness: [rng.bytes(64)] };
  }
}

function randomTx(rng: Rng): TxMessage {
  const legacy = rng.chance(LEGACY_TX_SHARE);
  const nIn = rng.weighted(N_INPUTS);
  const nOut = rng.weighted(N_OUTPUTS);
  const inputs: TxMessage['inputs'] = [];
  for (let i = 0; i < nIn; i++) inputs.push(input(legacy ? 'p2pkh' : rng.weighted(SEGWIT_INPUTS), rng));
  const outputs: TxMessage['outputs'] = [];
  for (let i = 0; i < nOut; i++) {
    // 546 sats (the p2pkh dust limit) to ~1 BTC, log-uniform.
    const value = BigInt(Math.floor(546 * Math.pow(1e8 / 546, rng.float())));
    outputs.push({ value, script: outputScript(rng.weighted(OUTPUTS), rng) });
  }
  return {
    version: rng.chance(0.9) ? 2 : 1,
    inputs,
    outputs,
    // Core's wallet sets nLockTime to the tip height (anti fee sniping); others leave 0.
    locktime: rng.chance(0.5) ? 0 : 880_000 + rng.int(20_000),
    segwit: !legacy,
  };
}

/** Serializes `m` and computes its hashes with the codec's scanner. */
export function rawTx(m: TxMessage): RawTx {
  const size = encodedSizeTx(m);
  const w = new Writer(size);
  encodeTx(w, m);
  const raw = w.buf;
  const txid = new Uint8Array(32);
  const wtxid = new Uint8Array(32);
  const e = computeTxid(raw, 0, size, txid, 0);
  if (e !== size) throw new Error(`generated tx does not scan (status ${e})`);
  computeWtxid(raw, 0, size, wtxid, 0);
  let stripped = size;
  if (m.segwit) {
    stripped = 4 + varintSize(m.inputs.length) + varintSize(m.outputs.length) + 4;
    for (const i of m.inputs) stripped += 40 + varintSize(i.script.length) + i.script.length;
    for (const o of m.outputs) stripped += 8 + varintSize(o.script.length) + o.script.length;
  }
  return { raw, txid, wtxid, weight: stripped * 3 + size };
}

/** A mainnet-like transaction of TX_MIN_SIZE..TX_MAX_SIZE bytes (draws again when outside). */
export function makeTx(rng: Rng): RawTx {
  for (;;) {
    const m = randomTx(rng);
    const size = encodedSizeTx(m);
    if (size >= TX_MIN_SIZE && size <= TX_MAX_SIZE) return rawTx(m);
  }
}

/** A built block: its bytes, 80-byte header (a view into raw) and hash (wire order). */
export interface RawBlock {
  raw: Uint8Array;
  header: Uint8Array;
  hash: Uint8Array;
  txCount: number;
}

/** Minimal little-endian CScriptNum push of a height, as BIP34 requires in the coinbase. */
function heightPush(height: number): number[] {
  const bytes: number[] = [];
  let h = height;
  while (h > 0) {
    bytes.push(h & 0xff);
    h = Math.floor(h / 256);
  }
  if (bytes.length > 0 && (bytes[bytes.length - 1]! & 0x80) !== 0) bytes.push(0); // keep it positive
  return [bytes.length, ...bytes];
}

const TAG = new TextEncoder().encode('/invscope-sim/');

/**
 * The block at `height` on top of `prev` holding `txs` after a coinbase: witness commitment over
 * the wtxids (coinbase as zeros, reserved value zero, BIP141), merkle root over the txids, nonce
 * ground until the hash meets REGTEST_BITS (about two tries).
 */
export function makeRawBlock(prev: Uint8Array, height: number, timeSec: number, txs: readonly RawTx[], rng: Rng): RawBlock {
  const n = txs.length + 1;
  // Witness root with the coinbase's wtxid as zeros.
  const w = new Uint8Array(32 * n);
  for (let i = 0; i < txs.length; i++) w.set(txs[i]!.wtxid, 32 * (i + 1));
  const reserved = new Uint8Array(32);
  const commitPre = new Uint8Array(64);
  commitPre.set(merkleRoot(w, n), 0);
  commitPre.set(reserved, 32);
  const commitment = new Uint8Array(32);
  sha256dInto(commitPre, 0, 64, commitment, 0);

  const cbScript = concat(heightPush(height), [8], rng.bytes(8), [TAG.length], TAG);
  const coinbase = rawTx({
    version: 2,
    inputs: [
      { prevTxid: new Uint8Array(32), prevIndex: 0xffffffff, script: cbScript, sequence: 0xffffffff, witness: [reserved] },
    ],
    outputs: [
      { value: SUBSIDY_SATS + BigInt(txs.length) * 2_000n, script: outputScript('p2wpkh', rng) },
      { value: 0n, script: concat([0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed], commitment) },
    ],
    locktime: 0,
    segwit: true,
  });

  const ids = new Uint8Array(32 * n);
  ids.set(coinbase.txid, 0);
  for (let i = 0; i < txs.length; i++) ids.set(txs[i]!.txid, 32 * (i + 1));
  const root = merkleRoot(ids, n);

  let size = BLOCK_HEADER_SIZE + varintSize(n) + coinbase.raw.length;
  for (const t of txs) size += t.raw.length;
  const out = new Writer(size);
  out.i32(BLOCK_VERSION);
  out.bytes(prev);
  out.bytes(root);
  out.u32(timeSec);
  out.u32(REGTEST_BITS);
  out.u32(rng.u32());
  out.varint(n);
  out.bytes(coinbase.raw);
  for (const t of txs) out.bytes(t.raw);
  const raw = out.buf;

  // Regtest target 0x7fffff << 8*29: the hash read as a little-endian uint256 is below it when its
  // top byte (wire index 31) is below 0x7f (slightly stricter than the target; about 1 in 2).
  const hash = new Uint8Array(32);
  for (;;) {
    sha256dInto(raw, 0, BLOCK_HEADER_SIZE, hash, 0);
    if (hash[31]! < 0x7f) break;
    const nonce = (out.view.getUint32(76, true) + 1) >>> 0;
    out.view.setUint32(76, nonce, true);
  }
  return { raw, header: raw.subarray(0, BLOCK_HEADER_SIZE), hash, txCount: n };
}
