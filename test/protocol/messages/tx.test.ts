import { test } from 'uvu';
import { PerformanceObserver } from 'node:perf_hooks';
import * as assert from 'uvu/assert';
import { Reader, MAX_SIZE } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { Status } from '../../../src/protocol/errors.js';
import { fromHex, hashToHex, toHex } from '../../../src/protocol/hex.js';
import {
  codecs,
  computeTxid,
  computeWtxid,
  decodeTx,
  encodeTx,
  encodedSizeTx,
  newTxLayout,
  scanTx,
  serializeTx,
  strippedSizeOf,
  strippedSizeTx,
  txCodec,
  txidAt,
  txidOf,
  weightOf,
  weightTx,
  wtxidOf,
  type TxMessage,
} from '../../../src/protocol/messages/tx.js';
import { fixtureBytes, fixtureJSON, prng } from '../../helpers.js';
import { randomTx, unsignedVersionTxs } from './_random.js';

function decode(b: Uint8Array): { tx: TxMessage; err: number } {
  const r = new Reader(b, 0, b.length);
  const tx = decodeTx(r);
  r.finish();
  return { tx, err: r.err };
}

function encode(m: TxMessage): Uint8Array {
  const w = new Writer(encodedSizeTx(m));
  encodeTx(w, m);
  assert.is(w.pos, w.buf.length, 'encodedSize matches the bytes written');
  return w.buf;
}

interface TxFixture {
  name: string;
  txid: string;
  wtxid: string;
  size: number;
  strippedSize: number;
  weight: number;
  vsize: number;
  segwit: boolean;
  version: number;
  locktime: number;
  inputs: number;
  outputs: number;
  witnessItemCounts: number[] | null;
  hex?: string;
  file?: string;
}

const txFixtures = fixtureJSON<TxFixture[]>('transactions/transactions.json');
const bytesOf = (f: TxFixture): Uint8Array => (f.hex ? fromHex(f.hex) : fixtureBytes(`transactions/${f.file}`));

/** Checks one raw transaction against what its fixture states, through both layers. */
function checkTx(b: Uint8Array, f: TxFixture): void {
  const { tx, err } = decode(b);
  assert.is(err, 0, `${f.name} decodes`);
  assert.is(hashToHex(txidOf(tx)), f.txid, `${f.name} txid`);
  assert.is(hashToHex(wtxidOf(tx)), f.wtxid, `${f.name} wtxid`);
  assert.is(encodedSizeTx(tx), f.size);
  assert.is(strippedSizeTx(tx), f.strippedSize);
  assert.is(weightTx(tx), f.weight);
  assert.is(tx.segwit, f.segwit);
  assert.is(tx.version, f.version);
  assert.is(tx.locktime, f.locktime);
  assert.is(tx.inputs.length, f.inputs);
  assert.is(tx.outputs.length, f.outputs);
  if (f.witnessItemCounts) assert.equal(tx.inputs.map((i) => i.witness.length), f.witnessItemCounts);
  assert.ok(toHex(encode(tx)) === toHex(b), `${f.name} re-encodes to the same bytes`);

  const lay = newTxLayout();
  assert.is(scanTx(b, 0, b.length, lay), b.length, `${f.name} scans to its end`);
  assert.is(lay.witnessStart >= 0, f.segwit);
  assert.is(lay.inputs, f.inputs);
  assert.is(lay.outputs, f.outputs);
  assert.is(strippedSizeOf(0, lay.witnessStart, lay.end), f.strippedSize);
  assert.is(weightOf(0, lay.witnessStart, lay.end), f.weight);
  const id = new Uint8Array(64);
  txidAt(b, 0, lay.witnessStart, lay.end, id, 0);
  assert.is(hashToHex(id), f.txid);
  assert.is(computeTxid(b, 0, b.length, id, 32), b.length);
  assert.is(hashToHex(id, 32), f.txid);
  assert.is(computeWtxid(b, 0, b.length, id, 0), b.length);
  assert.is(hashToHex(id), f.wtxid);
}

test('decodes every transaction of transactions.json with its txid, wtxid, sizes and weight', () => {
  for (const f of txFixtures.filter((x) => x.hex)) checkTx(bytesOf(f), f);
});

test('decodes the 999 KB megatx with 5569 inputs', () => {
  const f = txFixtures.find((x) => x.file === 'mainnet-tx-bb41a757-megatx.bin')!;
  checkTx(bytesOf(f), f);
});

test('decodes the 998-of-999 tapscript spend with a 1001-item witness', () => {
  const f = txFixtures.find((x) => x.file === 'mainnet-tx-7393096d-998of999.bin')!;
  checkTx(bytesOf(f), f);
});

test('decodes the transaction whose witness has 500,003 items', () => {
  const f = txFixtures.find((x) => x.file === 'mainnet-tx-73be398c-huge-witness.bin')!;
  const b = bytesOf(f);
  checkTx(b, f);
  assert.is(decode(b).tx.inputs[0]!.witness.length, 500_003);
});

test('matches every tx vector of messages.json field by field and re-encodes it exactly', () => {
  const vectors = fixtureJSON<any[]>('messages/messages.json').filter((v) => v.command === 'tx');
  assert.ok(vectors.length >= 2);
  for (const v of vectors) {
    const b = fromHex(v.payloadHex);
    const { tx, err } = decode(b);
    assert.is(err, 0, v.name);
    const json = txCodec.toJSON(tx);
    for (const [k, val] of Object.entries(v.fields)) assert.equal(json[k], val, `${v.name} ${k}`);
    assert.is(toHex(encode(tx)), v.payloadHex);
  }
});

test('decodes the bitcoinjs valid transactions with their ids, weights and virtual sizes', () => {
  const fx = fixtureJSON<any>('bitcoinjs/transaction.json');
  for (const v of fx.valid) {
    const b = fromHex(v.whex || v.hex);
    const { tx, err } = decode(b);
    assert.is(err, 0, v.description);
    assert.is(hashToHex(txidOf(tx)), v.id, v.description);
    assert.is(weightTx(tx), v.weight, v.description);
    assert.is(Math.ceil(weightTx(tx) / 4), v.virtualSize);
    assert.is(toHex(encode(tx)), v.whex || v.hex);
    assert.is(tx.inputs.length, v.raw.ins.length);
    assert.is(tx.outputs.length, v.raw.outs.length);
    if (v.whex) {
      // The stripped form (bitcoinjs `hex`) is the same transaction without witnesses.
      const s = decode(fromHex(v.hex));
      assert.is(s.err, 0);
      assert.is(hashToHex(txidOf(s.tx)), v.id);
      assert.is(toHex(encode({ ...tx, segwit: false })), v.hex);
    }
  }
});

test('gives coded statuses for the bitcoinjs invalid transactions', () => {
  const fx = fixtureJSON<any>('bitcoinjs/transaction.json');
  const [unexpected, superfluous] = fx.invalid.fromBuffer;
  assert.match(unexpected.exception, /unexpected data/);
  assert.is(decode(fromHex(unexpected.hex)).err, Status.TRAILING_BYTES);
  assert.match(superfluous.exception, /superfluous witness/);
  const b = fromHex(superfluous.hex);
  assert.is(decode(b).err, Status.BAD_VALUE);
  assert.is(scanTx(b, 0, b.length), -Status.BAD_VALUE);
});

// A minimal one-input one-output transaction, with and without a witness.
const LEGACY = fromHex('01000000' + '01' + '11'.repeat(32) + '00000000' + '00' + 'ffffffff' + '01' + '0000000000000000' + '00' + '00000000');
const SEGWIT = fromHex(
  '01000000' + '0001' + '01' + '11'.repeat(32) + '00000000' + '00' + 'ffffffff' + '01' + '0000000000000000' + '00' + '0101aa' + '00000000',
);

test('rejects a segwit flag other than 1 as a bad value', () => {
  for (const flag of [2, 3, 0x80, 0xff]) {
    const b = SEGWIT.slice();
    b[5] = flag;
    assert.is(decode(b).err, Status.BAD_VALUE, `flag ${flag}`);
    assert.is(scanTx(b, 0, b.length), -Status.BAD_VALUE);
  }
});

test('rejects a witness-flagged transaction whose witnesses are all empty (superfluous witness record)', () => {
  const b = fromHex('01000000' + '0001' + '01' + '11'.repeat(32) + '00000000' + '00' + 'ffffffff' + '01' + '0000000000000000' + '00' + '00' + '00000000');
  assert.is(decode(b).err, Status.BAD_VALUE);
  assert.is(scanTx(b, 0, b.length), -Status.BAD_VALUE);
  // Witness flag with no inputs at all is the same fault in Core.
  const c = fromHex('01000000' + '0001' + '00' + '00' + '00000000');
  assert.is(decode(c).err, Status.BAD_VALUE);
  assert.is(scanTx(c, 0, c.length), -Status.BAD_VALUE);
});

test('reads an empty vin followed by a zero flag byte as an empty transaction, as Core does', () => {
  const b = fromHex('02000000' + '00' + '00' + '00000000');
  const { tx, err } = decode(b);
  assert.is(err, 0);
  assert.is(tx.inputs.length, 0);
  assert.is(tx.outputs.length, 0);
  assert.is(scanTx(b, 0, b.length), 10);
  assert.is(toHex(encode(tx)), toHex(b));
});

test('hashes a segwit txid over version, stripped body and locktime without decoding', () => {
  const lay = newTxLayout();
  assert.is(scanTx(SEGWIT, 0, SEGWIT.length, lay), SEGWIT.length);
  const a = new Uint8Array(32);
  const b = new Uint8Array(32);
  txidAt(SEGWIT, 0, lay.witnessStart, lay.end, a, 0);
  txidAt(LEGACY, 0, -1, LEGACY.length, b, 0);
  assert.is(toHex(a), toHex(b), 'the witness does not change the txid');
  assert.is.not(hashToHex(wtxidOf(decode(SEGWIT).tx)), hashToHex(a));
});

test('scans a transaction in the middle of a larger buffer without reading past its end', () => {
  const buf = new Uint8Array(5 + SEGWIT.length + 7).fill(0xee);
  buf.set(SEGWIT, 5);
  assert.is(scanTx(buf, 5, 5 + SEGWIT.length), 5 + SEGWIT.length);
  assert.is(scanTx(buf, 5, 5 + SEGWIT.length - 1), -Status.TRUNCATED);
});

test('rejects non-canonical and oversized counts and lengths', () => {
  const nonCanonIn = fromHex('01000000' + 'fd0100' + '11'.repeat(64));
  assert.is(decode(nonCanonIn).err, Status.NON_CANONICAL);
  assert.is(scanTx(nonCanonIn, 0, nonCanonIn.length), -Status.NON_CANONICAL);
  const bigScript = fromHex('01000000' + '01' + '11'.repeat(36) + 'fe00000004' + '00'.repeat(16));
  assert.is(decode(bigScript).err, Status.SIZE_TOO_LARGE);
  assert.is(scanTx(bigScript, 0, bigScript.length), -Status.SIZE_TOO_LARGE);
  const huge64 = fromHex('01000000' + 'ff0000000001000000' + '00'.repeat(16));
  assert.is(decode(huge64).err, Status.SIZE_TOO_LARGE);
  assert.is(scanTx(huge64, 0, huge64.length), -Status.SIZE_TOO_LARGE);
  const nonCanon64 = fromHex('01000000' + 'ff0100000000000000' + '00'.repeat(16));
  assert.is(decode(nonCanon64).err, Status.NON_CANONICAL);
  assert.is(scanTx(nonCanon64, 0, nonCanon64.length), -Status.NON_CANONICAL);
});

test('refuses huge counts backed by few bytes before allocating anything', () => {
  // MAX_SIZE inputs, then MAX_SIZE outputs, then MAX_SIZE witness items, each with a few bytes.
  const maxHex = 'fe' + toHex(new Uint8Array(new Uint32Array([MAX_SIZE]).buffer));
  for (const hex of [
    '01000000' + maxHex + '00'.repeat(50),
    '01000000' + '01' + '11'.repeat(36) + '00' + 'ffffffff' + maxHex + '00'.repeat(50),
    '01000000' + '0001' + '01' + '11'.repeat(36) + '00' + 'ffffffff' + '00' + maxHex + '00'.repeat(50),
  ]) {
    const b = fromHex(hex);
    const r = new Reader(b, 0, b.length);
    decodeTx(r);
    assert.is(r.err, Status.TRUNCATED);
    assert.is(scanTx(b, 0, b.length), -Status.TRUNCATED);
  }
});

test('gives a coded status at every truncation offset of every small fixture, never an exception', () => {
  const all = txFixtures.filter((x) => x.hex).map(bytesOf);
  all.push(LEGACY, SEGWIT);
  for (const b of all) {
    // Every offset up to 4 KB; past that (the 62 KB bcoin tx5) every 97th, which still lands in
    // every field kind many times.
    const step = b.length <= 4096 ? 1 : 97;
    for (let n = 0; n < b.length; n += step) {
      const r = new Reader(b, 0, n);
      decodeTx(r);
      assert.is(r.err, Status.TRUNCATED, `cut at ${n}`);
      assert.is(scanTx(b, 0, n), -Status.TRUNCATED, `scan cut at ${n}`);
    }
  }
});

test('gives a coded status at sampled truncation offsets of the big transactions', () => {
  const rand = prng(7);
  for (const f of txFixtures.filter((x) => x.file)) {
    const b = bytesOf(f);
    for (let k = 0; k < 40; k++) {
      const n = k < 8 ? k * 7 : (rand() * b.length) | 0;
      assert.is(scanTx(b, 0, n), -Status.TRUNCATED, `${f.name} scan cut at ${n}`);
      if (k % 8 === 0) {
        const r = new Reader(b, 0, n);
        decodeTx(r);
        assert.is(r.err, Status.TRUNCATED);
      }
    }
  }
});

test('agrees between scanner and decoder on randomly corrupted transactions', () => {
  const rand = prng(99);
  const all = txFixtures.filter((x) => x.hex).map(bytesOf);
  for (let k = 0; k < 3000; k++) {
    const b = all[k % all.length]!.slice();
    const flips = 1 + ((rand() * 3) | 0);
    for (let j = 0; j < flips; j++) b[(rand() * b.length) | 0] = (rand() * 256) | 0;
    const r = new Reader(b, 0, b.length);
    decodeTx(r);
    const e = scanTx(b, 0, b.length);
    if (r.err === 0) assert.is(e, r.pos, 'both accept, same end');
    else assert.ok(e < 0, 'both reject');
  }
});

test('round-trips random transactions through encode, decode and the scanner', () => {
  const rand = prng(1234);
  for (let k = 0; k < 500; k++) {
    const m = randomTx(rand);
    const b = serializeTx(m);
    assert.is(b.length, encodedSizeTx(m));
    const { tx, err } = decode(b);
    assert.is(err, 0);
    assert.equal(tx, m);
    const lay = newTxLayout();
    assert.is(scanTx(b, 0, b.length, lay), b.length);
    assert.is(strippedSizeOf(0, lay.witnessStart, lay.end), strippedSizeTx(m));
    const id = new Uint8Array(32);
    txidAt(b, 0, lay.witnessStart, lay.end, id, 0);
    assert.is(toHex(id), toHex(txidOf(m)));
  }
});

test('scans a whole real block of transactions 200 times without a garbage collection', async () => {
  const b = fixtureBytes('blocks/mainnet-757922.bin');
  const lay = newTxLayout();
  for (let k = 0, p = 83; k < 2215; k++) p = scanTx(b, p, b.length, lay); // warm-up (compilation allocates)
  await new Promise((r) => setTimeout(r, 20));
  let gcs = 0;
  const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
  // A full collection first (the test command runs node with --expose-gc): garbage left by earlier
  // suites in this process must not be collected inside the measured window.
  (globalThis as { gc?: () => void }).gc?.();
  obs.observe({ entryTypes: ['gc'] });
  let txs = 0;
  for (let k = 0; k < 200; k++) {
    let p = 80 + 3; // header, then the 3-byte count 0xfd 0x08a7 (2215)
    while (p < b.length) {
      p = scanTx(b, p, b.length, lay);
      txs++;
    }
    assert.is(p, b.length);
  }
  await new Promise((r) => setTimeout(r, 20));
  obs.disconnect();
  assert.is(txs, 200 * 2215);
  assert.is(gcs, 0);
});

test('lists the tx codec for the registry', () => {
  assert.equal(
    codecs.map((c) => c.command),
    ['tx'],
  );
  assert.is(txCodec.decode, decodeTx);
});

test('reads and writes the version as unsigned 32-bit (Core uint32_t): 0x7fffffff, 0x80000000, 0xffffffff', () => {
  const fx = unsignedVersionTxs();
  assert.is(fx.length, 6);
  for (const f of fx) {
    const b = fromHex(f.hex);
    const { tx, err } = decode(b);
    assert.is(err, 0, f.name);
    assert.is(tx.version, f.version, `${f.name} version`);
    assert.ok(tx.version >= 0x7fffffff, `${f.name} not negative`);
    assert.is(toHex(encode(tx)), f.hex, `${f.name} re-encodes byte for byte`);
    assert.is(hashToHex(txidOf(tx)), f.txid, `${f.name} txid from the decoded form`);
    assert.is(hashToHex(wtxidOf(tx)), f.wtxid, `${f.name} wtxid from the decoded form`);
    const id = new Uint8Array(32);
    assert.is(computeTxid(b, 0, b.length, id), b.length);
    assert.is(hashToHex(id), f.txid, `${f.name} txid from the raw bytes`);
    assert.is(computeWtxid(b, 0, b.length, id), b.length);
    assert.is(hashToHex(id), f.wtxid, `${f.name} wtxid from the raw bytes`);
    const json = txCodec.toJSON(tx);
    assert.is(json.version, f.version, `${f.name} JSON version`);
    assert.is(json.txid, f.txid);
  }
});

test.run();
