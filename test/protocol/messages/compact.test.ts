import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { Status } from '../../../src/protocol/errors.js';
import { fromHex, hashToHex, toHex } from '../../../src/protocol/hex.js';
import {
  SHORTTXID_LENGTH,
  blockTxnCodec,
  cmpctBlockCodec,
  codecs,
  decodeBlockTxn,
  decodeCmpctBlock,
  decodeGetBlockTxn,
  getBlockTxnCodec,
  shortIdHex,
  shortIdInto,
  shortIdKey,
  shortIds,
  type BlockTxnMessage,
  type CmpctBlockMessage,
  type GetBlockTxnMessage,
} from '../../../src/protocol/messages/compact.js';
import { decodeBlock } from '../../../src/protocol/messages/block.js';
import { txidOf } from '../../../src/protocol/messages/tx.js';
import type { MessageCodec } from '../../../src/protocol/message.js';
import { fixtureBytes, fixtureJSON, prng, randomBytes } from '../../helpers.js';
import { randomHeader, randomTx, randomU32, unsignedVersionTxs } from './_random.js';

function decodeWith<T>(c: MessageCodec<T>, b: Uint8Array): { m: T; err: number } {
  const r = new Reader(b, 0, b.length);
  const m = c.decode(r);
  r.finish();
  return { m, err: r.err };
}

function encodeWith<T>(c: MessageCodec<T>, m: T): Uint8Array {
  const w = new Writer(c.encodedSize(m));
  c.encode(w, m);
  assert.is(w.pos, w.buf.length, 'encodedSize matches the bytes written');
  return w.buf;
}

const vectors = fixtureJSON<any[]>('messages/messages.json');
const cmpctVectors = vectors.filter((v) => v.command === 'cmpctblock');

test('matches every cmpctblock vector of messages.json and re-encodes it exactly', () => {
  assert.ok(cmpctVectors.length >= 3);
  for (const v of cmpctVectors) {
    const { m, err } = decodeWith(cmpctBlockCodec, fromHex(v.payloadHex));
    assert.is(err, 0, v.name);
    const json = cmpctBlockCodec.toJSON(m) as any;
    assert.equal(json.header, v.fields.header);
    assert.is(json.nonce, v.fields.nonce);
    assert.equal(json.shortIds, v.fields.shortIds);
    assert.is(json.prefilledTxs.length, v.fields.prefilledTxs.length);
    for (let i = 0; i < json.prefilledTxs.length; i++) {
      for (const [k, val] of Object.entries(v.fields.prefilledTxs[i])) assert.equal(json.prefilledTxs[i][k], val, `${v.name} ${k}`);
    }
    assert.is(toHex(encodeWith(cmpctBlockCodec, m)), v.payloadHex);
  }
});

test('recomputes the short ids of the cmpctblock vectors from their full blocks', () => {
  for (const [name, file] of [
    ['bcoin-cmpctblock-426884', 'mainnet-426884.bin'],
    ['bcoin-cmpctblock-898352', 'testnet3-898352.bin'],
  ] as const) {
    const v = cmpctVectors.find((x) => x.name === name)!;
    const { m } = decodeWith(cmpctBlockCodec, fromHex(v.payloadHex));
    const b = fixtureBytes(`blocks/${file}`);
    const blk = decodeBlock(new Reader(b, 0, b.length));
    assert.is(hashToHex(blk.hash()), v.fields.header.hash);
    // The short ids cover every tx except the prefilled ones, in block order. These blocks have
    // no witness data, so wtxid (version 2) and txid (version 1) ids are the same.
    const pre = new Set(m.prefilled.map((p) => p.index));
    const wtxids = blk.wtxids();
    const key = shortIdKey(m.header, m.nonce);
    const all = shortIds(key, wtxids, blk.txCount);
    const rest: string[] = [];
    for (let i = 0; i < blk.txCount; i++) if (!pre.has(i)) rest.push(toHex(all, SHORTTXID_LENGTH * i, SHORTTXID_LENGTH));
    const got: string[] = [];
    for (let i = 0; i < m.shortIds.length / SHORTTXID_LENGTH; i++) got.push(toHex(m.shortIds, SHORTTXID_LENGTH * i, SHORTTXID_LENGTH));
    assert.equal(got, rest, name);
    for (const p of m.prefilled) assert.is(toHex(txidOf(p.tx)), toHex(blk.txids().subarray(32 * p.index, 32 * p.index + 32)));
  }
});

test('finds the prefilled coinbase of the one-transaction regtest cmpctblock at its merkle root', () => {
  const v = cmpctVectors.find((x) => x.name === 'rustbitcoin-cmpctblock')!;
  const { m } = decodeWith(cmpctBlockCodec, fromHex(v.payloadHex));
  assert.is(m.shortIds.length, 0);
  assert.is(m.prefilled.length, 1);
  assert.is(m.prefilled[0]!.index, 0);
  assert.is(toHex(txidOf(m.prefilled[0]!.tx)), toHex(m.header.merkleRoot));
});

test('computes SipHash-2-4 as Core does (SipHashUint256 test vector)', () => {
  // Core hash_tests.cpp: SipHashUint256(0x0706050403020100, 0x0F0E0D0C0B0A0908, 00..1f) = 0x7127512f72f27cce.
  const key = Uint32Array.of(0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c);
  const msg = Uint8Array.from({ length: 32 }, (_, i) => i);
  const out = new Uint8Array(8).fill(0xee);
  shortIdInto(key, msg, 0, out, 1);
  assert.is(toHex(out), 'ee' + 'ce7cf2722f51' + 'ee', 'the low 48 bits, little-endian, and nothing else written');
});

test('matches the blocktxn vector of messages.json and re-encodes it exactly', () => {
  const list = vectors.filter((v) => v.command === 'blocktxn');
  assert.ok(list.length >= 1);
  for (const v of list) {
    const { m, err } = decodeWith(blockTxnCodec, fromHex(v.payloadHex));
    assert.is(err, 0);
    const json = blockTxnCodec.toJSON(m) as any;
    assert.is(json.blockHash, v.fields.blockHash);
    assert.is(json.txs.length, v.fields.txs.length);
    for (let i = 0; i < json.txs.length; i++) {
      for (const [k, val] of Object.entries(v.fields.txs[i])) assert.equal(json.txs[i][k], val, `${v.name} ${k}`);
    }
    assert.is(toHex(encodeWith(blockTxnCodec, m)), v.payloadHex);
  }
});

test('encodes getblocktxn indexes differentially and decodes them back to absolute positions', () => {
  const hash = randomBytes(prng(4), 32);
  const m: GetBlockTxnMessage = { blockHash: hash, indexes: [0, 1, 5, 300, 0xffff] };
  const b = encodeWith(getBlockTxnCodec, m);
  // 0 -> 0, 1 -> 0, 5 -> 3, 300 -> 294 (fd2601), 65535 -> 65234 (fdd2fe)
  assert.is(toHex(b), toHex(hash) + '05' + '00' + '00' + '03' + 'fd2601' + 'fdd2fe');
  const d = decodeWith(getBlockTxnCodec, b);
  assert.is(d.err, 0);
  assert.equal(d.m.indexes, m.indexes);
  assert.equal(getBlockTxnCodec.toJSON(d.m), { blockHash: hashToHex(hash), indexes: m.indexes });
});

test('rejects getblocktxn indexes that overflow 16 bits as a bad value', () => {
  const h = '00'.repeat(32);
  // 0xffff then one more: the second index would be 0x10000.
  assert.is(decodeWith(getBlockTxnCodec, fromHex(h + '02' + 'fdffff' + '00')).err, Status.BAD_VALUE);
  assert.is(decodeWith(getBlockTxnCodec, fromHex(h + '01' + 'fe00000100')).err, Status.BAD_VALUE);
  assert.is(decodeWith(getBlockTxnCodec, fromHex(h + '01' + 'fdffff')).err, 0, '0xffff itself is allowed');
  // Many small diffs that add up past 0xffff.
  const many = h + 'fe01000100' + '00'.repeat(0x10001);
  assert.is(decodeWith(getBlockTxnCodec, fromHex(many)).err, Status.TOO_MANY_ITEMS);
  const over = h + 'fd0003' + 'fdff00'.repeat(0x300);
  assert.is(decodeWith(getBlockTxnCodec, fromHex(over)).err, Status.BAD_VALUE);
  // A huge count with few bytes.
  assert.is(decodeWith(getBlockTxnCodec, fromHex(h + 'fd0010' + '00'.repeat(10))).err, Status.TRUNCATED);
});

/** The payload of a cmpctblock vector rebuilt with other short id and prefilled sections. */
function cmpctWith(idsHex: string, prefilledHex: string): Uint8Array {
  const v = cmpctVectors.find((x) => x.name === 'bcoin-cmpctblock-898352')!;
  return fromHex(v.payloadHex.slice(0, 2 * 88) + idsHex + prefilledHex);
}

test('rejects cmpctblock prefilled indexes that overflow or point past the block', () => {
  const v = cmpctVectors.find((x) => x.name === 'bcoin-cmpctblock-898352')!;
  const { m } = decodeWith(cmpctBlockCodec, fromHex(v.payloadHex));
  const tx = toHex(encodeWith(blockTxnCodec, { blockHash: new Uint8Array(32), txs: [m.prefilled[0]!.tx] }).subarray(33));
  const ids = '02' + 'aa'.repeat(12);
  assert.is(decodeWith(cmpctBlockCodec, cmpctWith(ids, '01' + '00' + tx)).err, 0);
  // Index 2 is the last position of a 3-tx block (2 short ids + 1 prefilled): fine; 3 is past it.
  assert.is(decodeWith(cmpctBlockCodec, cmpctWith(ids, '01' + '02' + tx)).err, 0);
  assert.is(decodeWith(cmpctBlockCodec, cmpctWith(ids, '01' + '03' + tx)).err, Status.BAD_VALUE);
  // Differential overflow past 0xffff.
  assert.is(decodeWith(cmpctBlockCodec, cmpctWith(ids, '02' + 'fdffff' + tx + '00' + tx)).err, Status.BAD_VALUE);
  assert.is(decodeWith(cmpctBlockCodec, cmpctWith(ids, '01' + 'fe00000100' + tx)).err, Status.BAD_VALUE);
  // Short ids and prefilled together above 0xffff positions.
  const manyIds = 'fdffff' + '00'.repeat(6 * 0xffff);
  assert.is(decodeWith(cmpctBlockCodec, cmpctWith(manyIds, '01' + '00' + tx)).err, Status.BAD_VALUE);
  assert.is(decodeWith(cmpctBlockCodec, cmpctWith('fe00000100' + '00'.repeat(60), '00')).err, Status.TOO_MANY_ITEMS);
  // A big short id count with few bytes is refused before allocating.
  assert.is(decodeWith(cmpctBlockCodec, cmpctWith('fd0010' + '00'.repeat(60), '00')).err, Status.TRUNCATED);
});

test('carries prefilled and blocktxn transactions of version 2^31 and above unsigned, byte for byte', () => {
  const fx = unsignedVersionTxs();
  // Prefilled at absolute positions 0, 2, 4, ... of a block with one short id between each.
  const ids = fx.length.toString(16).padStart(2, '0') + 'bb'.repeat(6 * fx.length);
  const prefilled = fx.length.toString(16).padStart(2, '0') + fx.map((f, i) => (i === 0 ? '00' : '01') + f.hex).join('');
  const payload = cmpctWith(ids, prefilled);
  const c = decodeWith(cmpctBlockCodec, payload);
  assert.is(c.err, 0);
  assert.is(toHex(encodeWith(cmpctBlockCodec, c.m)), toHex(payload), 'cmpctblock re-encodes byte for byte');
  const cj = cmpctBlockCodec.toJSON(c.m) as { prefilledTxs: { version: number; txid: string; wtxid: string; index: number }[] };
  fx.forEach((f, i) => {
    assert.is(c.m.prefilled[i]!.tx.version, f.version, f.name);
    assert.is(cj.prefilledTxs[i]!.version, f.version, `${f.name} JSON version`);
    assert.is(cj.prefilledTxs[i]!.txid, f.txid);
    assert.is(cj.prefilledTxs[i]!.wtxid, f.wtxid);
    assert.is(cj.prefilledTxs[i]!.index, 2 * i, 'absolute index');
    assert.is((cj.prefilledTxs[i] as unknown as { indexDiff: number }).indexDiff, i === 0 ? 0 : 1, 'wire (differential) value');
  });
  // Short ids print most significant byte first: the wire bytes reversed.
  assert.is(shortIdHex(fromHex('010203040506'), 0), '060504030201');

  const btx = fromHex('11'.repeat(32) + fx.length.toString(16).padStart(2, '0') + fx.map((f) => f.hex).join(''));
  const b = decodeWith(blockTxnCodec, btx);
  assert.is(b.err, 0);
  assert.is(toHex(encodeWith(blockTxnCodec, b.m)), toHex(btx), 'blocktxn re-encodes byte for byte');
  const bj = blockTxnCodec.toJSON(b.m) as { txs: { version: number; txid: string }[] };
  fx.forEach((f, i) => {
    assert.is(b.m.txs[i]!.version, f.version, f.name);
    assert.is(bj.txs[i]!.version, f.version, `${f.name} JSON version`);
    assert.is(bj.txs[i]!.txid, f.txid);
  });
});

test('gives a coded status at every truncation offset of every compact block vector', () => {
  for (const v of vectors.filter((x) => x.command === 'cmpctblock' || x.command === 'blocktxn')) {
    const c = v.command === 'cmpctblock' ? cmpctBlockCodec : blockTxnCodec;
    const b = fromHex(v.payloadHex);
    for (let n = 0; n < b.length; n++) {
      const r = new Reader(b, 0, n);
      c.decode(r);
      assert.is(r.err, Status.TRUNCATED, `${v.name} cut at ${n}`);
    }
  }
  const g = encodeWith(getBlockTxnCodec, { blockHash: new Uint8Array(32), indexes: [1, 2, 700, 70, 9000].sort((a, b) => a - b) });
  for (let n = 0; n < g.length; n++) {
    const r = new Reader(g, 0, n);
    decodeGetBlockTxn(r);
    assert.is(r.err, Status.TRUNCATED);
  }
});

test('round-trips random cmpctblock, getblocktxn and blocktxn messages', () => {
  const rand = prng(152);
  for (let k = 0; k < 150; k++) {
    const nShort = (rand() * 30) | 0;
    const prefilled = [];
    let idx = -1;
    const nPre = (rand() * 4) | 0;
    for (let i = 0; i < nPre; i++) {
      idx = Math.min(nShort + i, idx + 1 + ((rand() * 3) | 0));
      prefilled.push({ index: idx, tx: randomTx(rand, 2) });
    }
    const c: CmpctBlockMessage = {
      header: randomHeader(rand),
      nonce: (BigInt(randomU32(rand)) << 32n) | BigInt(randomU32(rand)),
      shortIds: randomBytes(rand, SHORTTXID_LENGTH * nShort),
      prefilled,
    };
    const dc = decodeWith(cmpctBlockCodec, encodeWith(cmpctBlockCodec, c));
    assert.is(dc.err, 0);
    assert.equal(dc.m, c);

    const indexes: number[] = [];
    let last = -1;
    for (let i = (rand() * 50) | 0; i > 0 && last < 0xffff; i--) {
      last = Math.min(0xffff, last + 1 + ((rand() < 0.2 ? rand() * 5000 : rand() * 3) | 0));
      indexes.push(last);
    }
    const g: GetBlockTxnMessage = { blockHash: randomBytes(rand, 32), indexes };
    const dg = decodeWith(getBlockTxnCodec, encodeWith(getBlockTxnCodec, g));
    assert.is(dg.err, 0);
    assert.equal(dg.m, g);

    const t: BlockTxnMessage = { blockHash: randomBytes(rand, 32), txs: Array.from({ length: (rand() * 4) | 0 }, () => randomTx(rand, 3)) };
    const dt = decodeWith(blockTxnCodec, encodeWith(blockTxnCodec, t));
    assert.is(dt.err, 0);
    assert.equal(dt.m, t);
  }
});

test('refuses a blocktxn transaction count that the bytes cannot hold', () => {
  const b = fromHex('00'.repeat(32) + 'fe00000002' + '00'.repeat(40));
  const r = new Reader(b, 0, b.length);
  decodeBlockTxn(r);
  assert.is(r.err, Status.TRUNCATED);
  const r2 = new Reader(b, 0, 10);
  decodeCmpctBlock(r2);
  assert.is(r2.err, Status.TRUNCATED);
});

test('lists the compact block codecs for the registry', () => {
  assert.equal(
    codecs.map((c) => c.command),
    ['cmpctblock', 'getblocktxn', 'blocktxn'],
  );
});

test.run();
