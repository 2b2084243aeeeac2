import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { Status } from '../../../src/protocol/errors.js';
import { fromHex, hashToHex, toHex } from '../../../src/protocol/hex.js';
import {
  MAX_MERKLEBLOCK_TRANSACTIONS,
  buildPartialMerkleTree,
  codecs,
  decodeMerkleBlock,
  encodeMerkleBlock,
  encodedSizeMerkleBlock,
  extractMatches,
  merkleBlockCodec,
  type MerkleBlockMessage,
} from '../../../src/protocol/messages/merkleblock.js';
import { decodeBlock } from '../../../src/protocol/messages/block.js';
import { fixtureBytes, fixtureJSON, prng, randomBytes } from '../../helpers.js';
import { randomHeader, randomU32 } from './_random.js';

function decode(b: Uint8Array): { m: MerkleBlockMessage; err: number } {
  const r = new Reader(b, 0, b.length);
  const m = decodeMerkleBlock(r);
  r.finish();
  return { m, err: r.err };
}

function encode(m: MerkleBlockMessage): Uint8Array {
  const w = new Writer(encodedSizeMerkleBlock(m));
  encodeMerkleBlock(w, m);
  assert.is(w.pos, w.buf.length);
  return w.buf;
}

const vectors = fixtureJSON<any[]>('messages/messages.json').filter((v) => v.command === 'merkleblock');

function blockTxids(file: string): { txids: Uint8Array; n: number; root: Uint8Array } {
  const b = fixtureBytes(`blocks/${file}`);
  const blk = decodeBlock(new Reader(b, 0, b.length));
  return { txids: blk.txids(), n: blk.txCount, root: blk.header.merkleRoot };
}

test('matches every merkleblock vector of messages.json and re-encodes it exactly', () => {
  assert.ok(vectors.length >= 4);
  for (const v of vectors) {
    const { m, err } = decode(fromHex(v.payloadHex));
    assert.is(err, 0, v.name);
    assert.equal(merkleBlockCodec.toJSON(m), v.fields);
    assert.is(toHex(encode(m)), v.payloadHex);
  }
});

test('extracts each vector tree to its header merkle root', () => {
  for (const v of vectors) {
    const { m } = decode(fromHex(v.payloadHex));
    const res = extractMatches(m);
    assert.is(res.status, 0, v.name);
    assert.is(toHex(res.root), toHex(m.header.merkleRoot), v.name);
    assert.equal(res.indexes.length, res.matches.length);
  }
});

test('finds the two transactions bcoin asserts in the block 300025 merkleblock, at their block positions', () => {
  const v = vectors.find((x) => x.name === 'bcoin-merkleblock-300025')!;
  const res = extractMatches(decode(fromHex(v.payloadHex)).m);
  assert.equal(
    res.matches.map((h) => toHex(h)),
    ['7393f84cd04ca8931975c66282ebf1847c78d8de6c2578d4f9bae23bc6f30857', 'ec8c51de3170301430ec56f6703533d9ea5b05c6fa7068954bcb90eed8c2ee5c'],
  );
  const blk = blockTxids('mainnet-300025.bin');
  for (let k = 0; k < res.matches.length; k++) {
    const i = res.indexes[k]!;
    assert.is(toHex(blk.txids, 32 * i, 32), toHex(res.matches[k]!));
  }
});

test('finds the matches of the block 13b8a merkleblock among that block’s transactions', () => {
  const v = vectors.find((x) => x.name === 'rustbitcoin-merkleblock-13b8a')!;
  const res = extractMatches(decode(fromHex(v.payloadHex)).m);
  const blk = blockTxids('mainnet-block-13b8a.bin');
  assert.is(blk.n, 9);
  for (let k = 0; k < res.matches.length; k++) assert.is(toHex(blk.txids, 32 * res.indexes[k]!, 32), toHex(res.matches[k]!));
});

test('builds and extracts partial trees for random match sets over a real block', () => {
  const rand = prng(300025);
  const blk = blockTxids('mainnet-300025.bin');
  for (let k = 0; k < 40; k++) {
    const p = [0, 0.001, 0.01, 0.1, 1][k % 5]!;
    const match = Array.from({ length: blk.n }, () => rand() < p);
    const { hashes, flags } = buildPartialMerkleTree(blk.txids, blk.n, match);
    const m: MerkleBlockMessage = { header: randomHeader(rand), totalTransactions: blk.n, hashes, flags };
    const again = decode(encode(m));
    assert.is(again.err, 0);
    const res = extractMatches(again.m);
    assert.is(res.status, 0);
    assert.is(toHex(res.root), toHex(blk.root));
    const want = match.flatMap((x, i) => (x ? [i] : []));
    assert.equal(res.indexes, want);
    for (let j = 0; j < want.length; j++) assert.is(toHex(res.matches[j]!), toHex(blk.txids, 32 * want[j]!, 32));
  }
});

test('rejects inconsistent partial trees as Core does', () => {
  const v = vectors.find((x) => x.name === 'rustbitcoin-merkleblock-13b8a')!;
  const { m } = decode(fromHex(v.payloadHex));
  const bad = (x: Partial<MerkleBlockMessage>) => extractMatches({ ...m, ...x }).status;
  assert.is(bad({}), 0);
  assert.is(bad({ totalTransactions: 0 }), Status.BAD_VALUE, 'no transactions');
  assert.is(bad({ totalTransactions: MAX_MERKLEBLOCK_TRANSACTIONS + 1 }), Status.BAD_VALUE, 'too many transactions');
  assert.is(bad({ totalTransactions: 2 }), Status.BAD_VALUE, 'more hashes than transactions');
  assert.is(bad({ hashes: m.hashes.slice(0, -1) }), Status.BAD_VALUE, 'a hash missing');
  assert.is(bad({ hashes: [...m.hashes, m.hashes[0]!] }), Status.BAD_VALUE, 'a hash left over');
  assert.is(bad({ flags: new Uint8Array(0) }), Status.BAD_VALUE, 'no flag bits');
  assert.is(bad({ flags: Uint8Array.of(...m.flags, 0) }), Status.BAD_VALUE, 'a whole unused flag byte');
  // Two identical siblings (CVE-2012-2459): a 2-tx tree whose leaves are the same hash.
  const h = randomBytes(prng(1), 32);
  assert.is(extractMatches({ ...m, totalTransactions: 2, hashes: [h, h], flags: Uint8Array.of(0b111) }).status, Status.BAD_VALUE);
});

test('gives a coded status at every truncation offset and bounds huge counts by the bytes', () => {
  for (const v of vectors) {
    const b = fromHex(v.payloadHex);
    for (let n = 0; n < b.length; n++) {
      const r = new Reader(b, 0, n);
      decodeMerkleBlock(r);
      assert.is(r.err, Status.TRUNCATED, `${v.name} cut at ${n}`);
    }
  }
  const head = fromHex(vectors[0].payloadHex).subarray(0, 84);
  const huge = fromHex(toHex(head) + 'fe00000002' + '00'.repeat(64));
  assert.is(decode(huge).err, Status.TRUNCATED);
  const nonCanon = fromHex(toHex(head) + 'fd0100' + '00'.repeat(64));
  assert.is(decode(nonCanon).err, Status.NON_CANONICAL);
});

test('round-trips random merkleblock messages', () => {
  const rand = prng(11);
  for (let k = 0; k < 300; k++) {
    const m: MerkleBlockMessage = {
      header: randomHeader(rand),
      totalTransactions: randomU32(rand),
      hashes: Array.from({ length: (rand() * 20) | 0 }, () => randomBytes(rand, 32)),
      flags: randomBytes(rand, (rand() * 8) | 0),
    };
    const d = decode(encode(m));
    assert.is(d.err, 0);
    assert.equal(d.m, m);
  }
});

test('lists the merkleblock codec for the registry', () => {
  assert.equal(
    codecs.map((c) => c.command),
    ['merkleblock'],
  );
  assert.is(hashToHex(new Uint8Array(32)), '00'.repeat(32));
});

test.run();
