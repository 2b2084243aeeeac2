import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { Status, WireError } from '../../../src/protocol/errors.js';
import { fromHex, hashToHex, hexToHash, toHex } from '../../../src/protocol/hex.js';
import { sha256d } from '../../../src/protocol/hash.js';
import {
  BlockMessage,
  BLOCK_HEADER_SIZE,
  WitnessCommitment,
  blockCodec,
  blockTxidsInto,
  codecs,
  decodeBlock,
  decodeBlockChecked,
  decodeHeader,
  encodeBlock,
  encodedSizeBlock,
  headerHash,
  headerHashAt,
  headerToJSON,
  makeBlock,
  merkleRoot,
  serializeHeader,
} from '../../../src/protocol/messages/block.js';
import { serializeTx, txidOf, wtxidOf, encodedSizeTx, weightTx } from '../../../src/protocol/messages/tx.js';
import { fixtureBytes, fixtureJSON, prng, randomBytes } from '../../helpers.js';
import { randomHeader, randomTx, unsignedVersionTxs } from './_random.js';

const manifest = fixtureJSON<any[]>('blocks/manifest.json');

function decode(b: Uint8Array): { blk: BlockMessage; err: number } {
  const r = new Reader(b, 0, b.length);
  const blk = decodeBlock(r);
  r.finish();
  return { blk, err: r.err };
}

function encode(m: BlockMessage): Uint8Array {
  const w = new Writer(encodedSizeBlock(m));
  encodeBlock(w, m);
  assert.is(w.pos, w.buf.length);
  return w.buf;
}

const bitsHex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

test('decodes every real block with its hash, header fields, sizes, weight and exact re-encoding', () => {
  for (const m of manifest) {
    const b = fixtureBytes(`blocks/${m.file}`);
    const { blk, err } = decode(b);
    assert.is(err, 0, m.file);
    assert.is(blk.scan(), 0, `${m.file} scans`);
    assert.is(hashToHex(blk.hash()), m.hash);
    assert.is(hashToHex(headerHash(blk.header)), m.hash);
    assert.is(blk.header.version, m.version);
    assert.is(hashToHex(blk.header.prevBlock), m.prevBlock);
    assert.is(hashToHex(blk.header.merkleRoot), m.merkleRoot);
    assert.is(blk.header.time, m.time);
    assert.is(bitsHex(blk.header.bits), m.bits);
    assert.is(blk.header.nonce, m.nonce);
    assert.is(toHex(b, 0, BLOCK_HEADER_SIZE), m.headerHex);
    assert.is(blk.txCount, m.txCount);
    assert.is(blk.size, m.size);
    assert.is(blk.strippedSize(), m.strippedSize);
    assert.is(blk.weight(), m.weight);
    assert.is(blk.segwitTxCount(), m.segwitTxCount);
    assert.ok(toHex(encode(blk)) === toHex(b), `${m.file} re-encodes exactly`);
  }
});

test('computes every txid, wtxid, size and weight of every real block from the raw bytes', () => {
  for (const m of manifest) {
    const b = fixtureBytes(`blocks/${m.file}`);
    const { blk } = decode(b);
    const expect = fixtureJSON<any[]>(`blocks/txids/${m.file.replace('.bin', '.json')}`);
    assert.is(expect.length, blk.txCount);
    const txids = blk.txids();
    const wtxids = blk.wtxids();
    const offs = blk.txOffsets();
    for (let i = 0; i < blk.txCount; i++) {
      assert.is(hashToHex(txids, 32 * i), expect[i].txid, `${m.file} tx ${i} txid`);
      assert.is(hashToHex(wtxids, 32 * i), expect[i].wtxid, `${m.file} tx ${i} wtxid`);
      assert.is(offs[i + 1]! - offs[i]!, expect[i].size);
    }
    assert.is(hashToHex(txids, 0), m.coinbaseTxid);
    assert.is(hashToHex(wtxids, 0), m.coinbaseWtxid);
    const out = new Uint8Array(32 * blk.txCount);
    assert.is(blockTxidsInto(b, 0, b.length, out), blk.txCount);
    assert.is(toHex(out), toHex(txids), 'the object-free path gives the same txids');
  }
});

test('decodes every transaction of the small and mid-size blocks one by one', () => {
  for (const m of manifest.filter((x) => x.size < 1_100_000)) {
    const b = fixtureBytes(`blocks/${m.file}`);
    const { blk } = decode(b);
    const expect = fixtureJSON<any[]>(`blocks/txids/${m.file.replace('.bin', '.json')}`);
    let i = 0;
    for (const tx of blk.txs()) {
      assert.is(hashToHex(txidOf(tx)), expect[i].txid);
      assert.is(hashToHex(wtxidOf(tx)), expect[i].wtxid);
      assert.is(weightTx(tx), expect[i].weight);
      assert.is(toHex(serializeTx(tx)), toHex(blk.txBytes(i)));
      i++;
    }
    assert.is(i, blk.txCount);
  }
});

test('computes each real block merkle root and checks its witness commitment', () => {
  for (const m of manifest) {
    const { blk } = decode(fixtureBytes(`blocks/${m.file}`));
    const mut = { mutated: true };
    assert.is(hashToHex(blk.computeMerkleRoot(mut)), m.merkleRoot, m.file);
    assert.is(mut.mutated, false);
    const c = blk.witnessCommitment();
    assert.is(c === null ? null : toHex(c), m.witnessCommitment, `${m.file} commitment`);
    assert.is(blk.checkWitnessCommitment(), m.witnessCommitment ? WitnessCommitment.VALID : WitnessCommitment.ABSENT);
  }
});

test('reports a witness commitment that does not match the transactions', () => {
  const m = manifest.find((x) => x.file === 'mainnet-482683.bin')!;
  const b = fixtureBytes(`blocks/${m.file}`).slice();
  const { blk } = decode(b);
  // Corrupt one byte inside the last transaction's witness region: wtxids change, txids do not.
  const offs = blk.txOffsets();
  const wits = blk.witnessStarts();
  const i = [...wits].findIndex((w) => w >= 0 && w > offs[1]!);
  assert.ok(i > 0, 'a non-coinbase segwit tx exists');
  b[wits[i]! + 3] ^= 1;
  const c = decode(b).blk;
  assert.is(c.scan(), 0);
  assert.is(hashToHex(c.computeMerkleRoot()), m.merkleRoot);
  assert.is(c.checkWitnessCommitment(), WitnessCommitment.INVALID);
});

test('decodes the real block headers of headers.json with their hashes', () => {
  for (const h of fixtureJSON<any[]>('blocks/headers.json')) {
    const b = fromHex(h.headerHex);
    const r = new Reader(b, 0, b.length);
    const hdr = decodeHeader(r);
    assert.ok(r.finish(), h.name);
    assert.equal(headerToJSON(hdr), {
      version: h.version,
      prevBlock: h.prevBlock,
      merkleRoot: h.merkleRoot,
      time: h.time,
      bits: h.bits,
      nonce: h.nonce,
      hash: h.hash,
    });
    assert.is(toHex(serializeHeader(hdr)), h.headerHex);
    const out = new Uint8Array(40);
    headerHashAt(b, 0, out, 8);
    assert.is(hashToHex(out, 8), h.hash);
  }
});

test('matches the block vector of messages.json and re-encodes it exactly', () => {
  const vectors = fixtureJSON<any[]>('messages/messages.json').filter((v) => v.command === 'block');
  assert.ok(vectors.length >= 1);
  for (const v of vectors) {
    const { blk, err } = decode(fromHex(v.payloadHex));
    assert.is(err, 0);
    const json = blockCodec.toJSON(blk) as any;
    assert.equal(json.header, v.fields.header);
    assert.is(json.txCount, v.fields.txCount);
    assert.is(json.txs.length, v.fields.txs.length);
    for (let i = 0; i < json.txs.length; i++) {
      for (const [k, val] of Object.entries(v.fields.txs[i])) assert.equal(json.txs[i][k], val, `${v.name} tx ${i} ${k}`);
    }
    assert.is(toHex(encode(blk)), v.payloadHex);
  }
});

test('decodes the bitcoinjs blocks and headers with their ids, merkle roots and witness commitment', () => {
  const fx = fixtureJSON<any>('bitcoinjs/block.json');
  for (const v of fx.valid) {
    const b = fromHex(v.hex);
    const r = new Reader(b, 0, b.length);
    const hdr = decodeHeader(r);
    assert.is(r.err, 0);
    assert.is(hashToHex(headerHash(hdr)), v.id, v.description);
    assert.is(toHex(headerHash(hdr)), v.hash);
    assert.is(hdr.version, v.version);
    assert.is(toHex(hdr.prevBlock), v.prevHash);
    assert.is(toHex(hdr.merkleRoot), v.merkleRoot);
    assert.is(hdr.time, v.timestamp);
    assert.is(hdr.bits, v.bits);
    assert.is(hdr.nonce, v.nonce);
    if (b.length === BLOCK_HEADER_SIZE) {
      // Header-only entries are not block messages: the tx count is missing.
      assert.is(decode(b).err, Status.TRUNCATED);
      continue;
    }
    const { blk, err } = decode(b);
    assert.is(err, 0);
    assert.is(blk.scan(), 0, v.description);
    // "Headers + Coinbase" carries only the coinbase, so its root cannot match the header.
    if (!/Coinbase/.test(v.description)) assert.is(toHex(blk.computeMerkleRoot()), v.merkleRoot, v.description);
    if (v.witnessCommit) {
      assert.is(toHex(blk.witnessCommitment()!), v.witnessCommit);
      assert.is(blk.checkWitnessCommitment(), WitnessCommitment.VALID);
    }
    if (v.size) assert.is(blk.size, v.size);
    if (v.strippedSize) assert.is(blk.strippedSize(), v.strippedSize);
    if (v.weight) assert.is(blk.weight(), v.weight);
    assert.is(toHex(encode(blk)), v.hex);
  }
  for (const v of fx.invalid) assert.is(decode(fromHex(v.hex)).err, Status.TRUNCATED, v.exception);
});

test('decodes the bitcoinjs copies of Core test blocks with their hashes and merkle roots', () => {
  for (const v of fixtureJSON<any[]>('bitcoinjs/core-blocks.json')) {
    const { blk, err } = decode(fromHex(v.hex));
    assert.is(err, 0);
    assert.is(blk.scan(), 0);
    assert.is(hashToHex(blk.hash()), v.id);
    assert.is(blk.txCount, v.transactions);
    assert.is(toHex(blk.computeMerkleRoot()), toHex(blk.header.merkleRoot));
  }
});

test('decodes only the header and count: malformed transactions surface in scan(), not in decode', () => {
  const b = fixtureBytes('blocks/mainnet-block-13b8a.bin').slice();
  b[BLOCK_HEADER_SIZE + 1 + 4] = 0x00; // coinbase vin count 1 -> 0, then its prevout byte 0x00...
  b[BLOCK_HEADER_SIZE + 1 + 5] = 0x05; // ... becomes an unknown segwit flag
  const { blk, err } = decode(b);
  assert.is(err, 0, 'the lazy decode succeeds');
  assert.is(blk.scan(), Status.BAD_VALUE);
  assert.is(blk.errAt, BLOCK_HEADER_SIZE + 1);
  assert.throws(() => blk.txids(), (e: unknown) => e instanceof WireError && e.code === 'ERR_WIRE_BAD_VALUE');
  assert.is(blockTxidsInto(b, 0, b.length, new Uint8Array(0)), -Status.BAD_VALUE);
  assert.is((blockCodec.toJSON(blk) as any).error, 'ERR_WIRE_BAD_VALUE');
});

test('reports bytes after the last transaction as trailing bytes when scanning', () => {
  const b0 = fixtureBytes('blocks/mainnet-000001.bin');
  const b = new Uint8Array(b0.length + 3);
  b.set(b0);
  const { blk, err } = decode(b);
  assert.is(err, 0);
  assert.is(blk.scan(), Status.TRAILING_BYTES);
  assert.is(blockTxidsInto(b, 0, b.length, new Uint8Array(32)), -Status.TRAILING_BYTES);
  assert.is(toHex(encode(blk)), toHex(b), 'encoding still reproduces what was received');
});

test('refuses a tx count that the remaining bytes cannot hold, before allocating', () => {
  const hdr = fixtureBytes('blocks/mainnet-000001.bin').subarray(0, BLOCK_HEADER_SIZE);
  for (const count of ['fe00000002', 'fd0001', '0b']) {
    const b = fromHex(toHex(hdr) + count + '00'.repeat(100));
    assert.is(decode(b).err, Status.TRUNCATED, count);
    assert.is(blockTxidsInto(b, 0, b.length, new Uint8Array(0)), -Status.TRUNCATED);
  }
  const nonCanon = fromHex(toHex(hdr) + 'fd0100' + '00'.repeat(100));
  assert.is(decode(nonCanon).err, Status.NON_CANONICAL);
});

test('gives a coded status at every truncation offset of the small blocks, never an exception', () => {
  for (const m of manifest.filter((x) => x.size <= 10_000)) {
    const b = fixtureBytes(`blocks/${m.file}`);
    for (let n = 0; n < b.length; n++) {
      const r = new Reader(b, 0, n);
      const blk = decodeBlock(r);
      const st = r.err !== 0 ? r.err : blk.scan();
      assert.is(st, Status.TRUNCATED, `${m.file} cut at ${n}`);
      assert.is(blockTxidsInto(b, 0, n, new Uint8Array(0)), -Status.TRUNCATED);
    }
  }
});

test('gives a coded status at sampled truncation offsets of the big blocks', () => {
  const rand = prng(3);
  for (const m of manifest.filter((x) => x.size > 10_000)) {
    const b = fixtureBytes(`blocks/${m.file}`);
    for (let k = 0; k < 25; k++) {
      const n = k < 5 ? BLOCK_HEADER_SIZE + k : (rand() * b.length) | 0;
      const r = new Reader(b, 0, n);
      const blk = decodeBlock(r);
      assert.is(r.err !== 0 ? r.err : blk.scan(), Status.TRUNCATED, `${m.file} cut at ${n}`);
    }
  }
});

test('computes merkle roots with the odd-duplicate rule and flags mutated trees', () => {
  const rand = prng(5);
  const h = randomBytes(rand, 32 * 3);
  const d = (x: Uint8Array) => sha256d(x);
  const cat = (...xs: Uint8Array[]) => {
    const o = new Uint8Array(xs.reduce((n, x) => n + x.length, 0));
    let p = 0;
    for (const x of xs) (o.set(x, p), (p += x.length));
    return o;
  };
  const [a, b, c] = [h.subarray(0, 32), h.subarray(32, 64), h.subarray(64, 96)];
  assert.is(toHex(merkleRoot(h, 0)), '00'.repeat(32));
  assert.is(toHex(merkleRoot(h, 1)), toHex(a));
  assert.is(toHex(merkleRoot(h, 2)), toHex(d(cat(a, b))));
  const three = d(cat(d(cat(a, b)), d(cat(c, c))));
  assert.is(toHex(merkleRoot(h, 3)), toHex(three));
  // CVE-2012-2459: [a, b, c, c] has the same root as [a, b, c], and is flagged.
  const four = cat(a, b, c, c);
  const mut = { mutated: false };
  assert.is(toHex(merkleRoot(four, 4, mut)), toHex(three));
  assert.ok(mut.mutated);
  merkleRoot(h, 3, mut);
  assert.not.ok(mut.mutated);
});

test('round-trips random blocks built from random transactions', () => {
  const rand = prng(77);
  for (let k = 0; k < 60; k++) {
    const txs = Array.from({ length: 1 + ((rand() * 12) | 0) }, () => randomTx(rand));
    const hdr = randomHeader(rand);
    const blk = makeBlock(hdr, txs);
    assert.is(blk.scan(), 0);
    assert.is(blk.txCount, txs.length);
    assert.equal(blk.header, hdr);
    const ids = blk.txids();
    const wids = blk.wtxids();
    let size = BLOCK_HEADER_SIZE;
    for (let i = 0; i < txs.length; i++) {
      assert.equal(blk.tx(i), txs[i]);
      assert.is(toHex(ids.subarray(32 * i, 32 * i + 32)), toHex(txidOf(txs[i]!)));
      assert.is(toHex(wids.subarray(32 * i, 32 * i + 32)), toHex(wtxidOf(txs[i]!)));
      size += encodedSizeTx(txs[i]!);
    }
    assert.ok(blk.size > size);
    const again = decode(encode(blk));
    assert.is(again.err, 0);
    assert.is(toHex(encode(again.blk)), toHex(encode(blk)));
    assert.is(toHex(again.blk.hash()), toHex(headerHash(hdr)));
  }
});

test('carries transactions of version 2^31 and above unsigned, byte for byte, with their txids', () => {
  const fx = unsignedVersionTxs();
  const hdr = randomHeader(prng(15));
  const body = fx.map((f) => f.hex).join('');
  const bytes = fromHex(toHex(serializeHeader(hdr)) + fx.length.toString(16).padStart(2, '0') + body);
  const { blk, err } = decode(bytes);
  assert.is(err, 0);
  assert.is(blk.scan(), 0);
  assert.is(toHex(encode(blk)), toHex(bytes), 're-encodes byte for byte');
  const ids = blk.txids();
  const wids = blk.wtxids();
  const json = blockCodec.toJSON(blk) as { txs: { version: number; txid: string; wtxid: string }[] };
  fx.forEach((f, i) => {
    assert.is(blk.tx(i).version, f.version, f.name);
    assert.is(toHex(serializeTx(blk.tx(i))), f.hex, `${f.name} re-encodes`);
    assert.is(hashToHex(ids.subarray(32 * i, 32 * i + 32)), f.txid, `${f.name} txid`);
    assert.is(hashToHex(wids.subarray(32 * i, 32 * i + 32)), f.wtxid, `${f.name} wtxid`);
    assert.is(json.txs[i]!.version, f.version, `${f.name} JSON version`);
  });
  assert.is(toHex(encode(makeBlock(hdr, [...blk.txs()]))), toHex(bytes), 'a block built from the decoded txs is the same bytes');
});

test('lists the block codec for the registry', () => {
  assert.equal(
    codecs.map((c) => c.command),
    ['block'],
  );
  assert.is(blockCodec.decode, decodeBlockChecked);
  assert.is(hexToHash(manifest[0].hash).length, 32);
});

test.run();
