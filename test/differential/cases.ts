/**
 * The differential cases shared by the bcoin tests: for every command invscope and bcoin 1.0.2
 * both implement, a generator of random valid invscope messages and the conversions to and from
 * bcoin's packet classes (`bcoin/lib/net/packets`, loaded in-process). Test code, main thread,
 * not a hot path.
 */
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { randomBytes } from '../helpers.js';
import { randomHeader, randomTx, randomU32 } from '../protocol/messages/_random.js';
import { hashes as randomHashes, u64 } from '../protocol/messages/harness.js';
import { codecOf, type MessageMap } from '../../src/protocol/registry.js';
import { Command, type CommandName } from '../../src/protocol/constants.js';
import { makeBlock, headerHash, type BlockHeader, type BlockMessage } from '../../src/protocol/messages/block.js';
import { txidOf, wtxidOf, type TxMessage } from '../../src/protocol/messages/tx.js';
import { toHex, fromHex } from '../../src/protocol/hex.js';


const require = createRequire(import.meta.url);
// bcoin ships no types.
/* eslint-disable @typescript-eslint/no-explicit-any */
export const packets: any = require('bcoin/lib/net/packets');
const bip152: any = require('bcoin/lib/net/bip152');
const NetAddress: any = require('bcoin/lib/net/netaddress');
const TX: any = require('bcoin/lib/primitives/tx');
const Block: any = require('bcoin/lib/primitives/block');
const Headers: any = require('bcoin/lib/primitives/headers');
const InvItem: any = require('bcoin/lib/primitives/invitem');
const MerkleBlock: any = require('bcoin/lib/primitives/merkleblock');
const BloomFilter: any = new packets.FilterLoadPacket().filter.constructor;

/** Valid cases per command (blocks: fewer, each holds up to 20 transactions). */
export const N = 300;

// ---------------------------------------------------------------------------------------------
// Value conversions between invscope's types and bcoin's (bcoin keeps hashes as wire-order hex,
// 64-bit values as JS numbers or 8-byte buffers, services as 32-bit numbers).

export const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const hex = (b: Uint8Array): string => toHex(b);
const bytesOfHex = (h: string | Buffer): Uint8Array => (typeof h === 'string' ? fromHex(h) : new Uint8Array(h));
export const u64le = (b: Buffer): bigint => b.readBigUInt64LE(0);
const le8 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b;
};

function printable(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(0x20 + ((rand() * 95) | 0));
  return s;
}

/** A safe non-negative integer below 2^53 (bcoin reads 64-bit fields as JS numbers). */
function safeU53(rand: () => number): bigint {
  return BigInt(Math.floor(rand() * 2 ** 21)) * 2n ** 32n + BigInt(randomU32(rand));
}

function netAddrToBcoin(a: { services: bigint; ip: Uint8Array; port: number; time?: number }): any {
  const na = new NetAddress();
  na.services = Number(a.services);
  na.raw = Buffer.from(a.ip);
  na.port = a.port;
  na.time = a.time ?? 0;
  return na;
}

function netAddrFromBcoin(na: any): { services: bigint; ip: Uint8Array; port: number } {
  return { services: BigInt(na.services), ip: new Uint8Array(na.raw), port: na.port };
}

function headerToBcoin(h: BlockHeader, into: any): any {
  into.version = h.version;
  into.prevBlock = hex(h.prevBlock);
  into.merkleRoot = hex(h.merkleRoot);
  into.time = h.time;
  into.bits = h.bits;
  into.nonce = h.nonce;
  return into;
}

function headerFromBcoin(b: any): BlockHeader {
  return {
    version: b.version | 0,
    prevBlock: bytesOfHex(b.prevBlock),
    merkleRoot: bytesOfHex(b.merkleRoot),
    time: b.time >>> 0,
    bits: b.bits >>> 0,
    nonce: b.nonce >>> 0,
  };
}

function txToBcoin(t: TxMessage): any {
  return new TX({
    version: t.version >>> 0,
    inputs: t.inputs.map((i) => ({
      prevout: { hash: hex(i.prevTxid), index: i.prevIndex },
      script: Buffer.from(i.script),
      sequence: i.sequence,
      witness: i.witness.map((w) => Buffer.from(w)),
    })),
    outputs: t.outputs.map((o) => ({ value: Number(o.value), script: Buffer.from(o.script) })),
    locktime: t.locktime,
  });
}

function txFromBcoin(tx: any): TxMessage {
  return {
    version: tx.version >>> 0,
    inputs: tx.inputs.map((i: any) => ({
      prevTxid: bytesOfHex(i.prevout.hash),
      prevIndex: i.prevout.index >>> 0,
      script: new Uint8Array(i.script.toRaw()),
      sequence: i.sequence >>> 0,
      witness: i.witness.items.map((w: Buffer) => new Uint8Array(w)),
    })),
    outputs: tx.outputs.map((o: any) => ({ value: BigInt(o.value), script: new Uint8Array(o.script.toRaw()) })),
    locktime: tx.locktime >>> 0,
    segwit: tx.hasWitness(),
  };
}

/** A random transaction whose output values bcoin can hold (0 .. 21,000,000 BTC in satoshis). */
function randomTxInRange(rand: () => number, maxIo = 4): TxMessage {
  const t = randomTx(rand, maxIo);
  for (const o of t.outputs) o.value = BigInt(Math.floor(rand() * 2_100_000_000_000_000));
  return t;
}

// ---------------------------------------------------------------------------------------------
// One case per command: a generator of random valid invscope messages, and the two conversions.

export interface Case<K extends CommandName> {
  command: K;
  count?: number;
  gen(rand: () => number): MessageMap[K];
  /** bcoin's decoded packet as an invscope message. */
  fromBcoin(p: any): MessageMap[K];
  /** A bcoin packet carrying the same message, built from bcoin's classes. */
  toBcoin(m: MessageMap[K]): any;
  /** Further comparisons (hashes computed by both). */
  extra?(m: MessageMap[K], p: any): void;
}

const empty = (command: 'verack' | 'getaddr' | 'sendheaders' | 'mempool' | 'filterclear', P: any): Case<typeof command> => ({
  command,
  count: 3,
  gen: () => ({}),
  fromBcoin: () => ({}),
  toBcoin: () => new P(),
});

function invCase(command: 'inv' | 'getdata' | 'notfound', P: any): Case<typeof command> {
  return {
    command,
    gen: (rand) => ({
      inventory: Array.from({ length: (rand() * 40) | 0 }, () => ({
        // Known types mostly (with and without the witness flag), sometimes any u32.
        type: rand() < 0.8 ? [1, 2, 3, 4, 5, 0x40000001, 0x40000002, 0x40000003][(rand() * 8) | 0]! : randomU32(rand),
        hash: randomBytes(rand, 32),
      })),
    }),
    fromBcoin: (p) => ({ inventory: p.items.map((it: any) => ({ type: it.type >>> 0, hash: bytesOfHex(it.hash) })) }),
    toBcoin: (m) => new P(m.inventory.map((e) => new InvItem(e.type, hex(e.hash)))),
  };
}

function locatorCase(command: 'getblocks' | 'getheaders', P: any): Case<typeof command> {
  return {
    command,
    gen: (rand) => ({
      version: randomU32(rand),
      locator: randomHashes(rand, (rand() * 30) | 0),
      hashStop: rand() < 0.3 ? new Uint8Array(32) : randomBytes(rand, 32),
    }),
    fromBcoin: (p) => ({
      version: p.version >>> 0,
      locator: p.locator.map((h: string) => bytesOfHex(h)),
      // bcoin turns an all-zero stop hash into null.
      hashStop: p.stop === null ? new Uint8Array(32) : bytesOfHex(p.stop),
    }),
    toBcoin: (m) => {
      const p = new P(m.locator.map(hex), m.hashStop.every((b) => b === 0) ? null : hex(m.hashStop));
      p.version = m.version;
      return p;
    },
  };
}

function randomBlock(rand: () => number): BlockMessage {
  const txs = Array.from({ length: 1 + ((rand() * 20) | 0) }, () => randomTxInRange(rand, 3));
  const draft = makeBlock(randomHeader(rand), txs);
  // The header commits to the transactions, as in a real block.
  return makeBlock({ ...draft.header, merkleRoot: draft.computeMerkleRoot() }, txs);
}

export const cases: Case<any>[] = [
  {
    command: 'version',
    gen: (rand) => ({
      // bcoin refuses a negative version or timestamp and maps 10300 to 300 (see the tests below).
      version: 1 + (randomU32(rand) % 0x7ffffffe) || 70016,
      services: BigInt(randomU32(rand)),
      timestamp: safeU53(rand),
      addrRecv: { services: BigInt(randomU32(rand)), ip: randomBytes(rand, 16), port: (rand() * 65536) | 0 },
      addrFrom: { services: BigInt(randomU32(rand)), ip: randomBytes(rand, 16), port: (rand() * 65536) | 0 },
      nonce: u64(rand),
      userAgent: printable(rand, (rand() * 257) | 0),
      startHeight: randomU32(rand) >>> 1,
      relay: rand() < 0.5,
    }),
    fromBcoin: (p) => ({
      version: p.version,
      services: BigInt(p.services),
      timestamp: BigInt(p.time),
      addrRecv: netAddrFromBcoin(p.remote),
      addrFrom: netAddrFromBcoin(p.local),
      nonce: u64le(p.nonce),
      userAgent: p.agent,
      startHeight: p.height,
      relay: !p.noRelay,
    }),
    toBcoin: (m) => {
      const p = new packets.VersionPacket({
        version: m.version,
        services: Number(m.services),
        time: Number(m.timestamp),
        nonce: le8(m.nonce),
        agent: m.userAgent,
        height: m.startHeight,
        noRelay: !m.relay,
      });
      // fromOptions skips a falsy agent (''), and its `remote`/`local` options take a host string:
      // those are set directly.
      p.agent = m.userAgent;
      p.remote = netAddrToBcoin(m.addrRecv);
      p.local = netAddrToBcoin(m.addrFrom);
      return p;
    },
  },
  empty('verack', packets.VerackPacket),
  empty('getaddr', packets.GetAddrPacket),
  empty('sendheaders', packets.SendHeadersPacket),
  empty('mempool', packets.MempoolPacket),
  empty('filterclear', packets.FilterClearPacket),
  {
    command: 'ping',
    gen: (rand) => ({ nonce: u64(rand) }),
    fromBcoin: (p) => ({ nonce: u64le(p.nonce) }),
    toBcoin: (m) => new packets.PingPacket(le8(m.nonce)),
  },
  {
    command: 'pong',
    gen: (rand) => ({ nonce: u64(rand) }),
    fromBcoin: (p) => ({ nonce: u64le(p.nonce) }),
    toBcoin: (m) => new packets.PongPacket(le8(m.nonce)),
  },
  {
    command: 'addr',
    gen: (rand) => ({
      addrs: Array.from({ length: (rand() * 30) | 0 }, () => ({
        time: randomU32(rand),
        services: BigInt(randomU32(rand)),
        ip: randomBytes(rand, 16),
        port: (rand() * 65536) | 0,
      })),
    }),
    fromBcoin: (p) => ({ addrs: p.items.map((na: any) => ({ time: na.time >>> 0, ...netAddrFromBcoin(na) })) }),
    toBcoin: (m) => new packets.AddrPacket(m.addrs.map(netAddrToBcoin)),
  },
  invCase('inv', packets.InvPacket),
  invCase('getdata', packets.GetDataPacket),
  invCase('notfound', packets.NotFoundPacket),
  locatorCase('getblocks', packets.GetBlocksPacket),
  locatorCase('getheaders', packets.GetHeadersPacket),
  {
    command: 'headers',
    gen: (rand) => ({ headers: Array.from({ length: (rand() * 40) | 0 }, () => randomHeader(rand)) }),
    fromBcoin: (p) => ({ headers: p.items.map(headerFromBcoin) }),
    toBcoin: (m) => new packets.HeadersPacket(m.headers.map((h: BlockHeader) => headerToBcoin(h, new Headers()))),
    extra: (m, p) => {
      m.headers.forEach((h: BlockHeader, i: number) => assert.is(p.items[i].hash('hex'), hex(headerHash(h)), 'block hash'));
    },
  },
  {
    command: 'tx',
    gen: (rand) => randomTxInRange(rand),
    fromBcoin: (p) => txFromBcoin(p.tx),
    toBcoin: (m) => new packets.TXPacket(txToBcoin(m), true),
    extra: (m, p) => {
      assert.is(p.tx.hash('hex'), hex(txidOf(m)), 'txid');
      assert.is(p.tx.witnessHash('hex'), hex(wtxidOf(m)), 'wtxid');
    },
  },
  {
    command: 'block',
    count: 60,
    gen: randomBlock,
    fromBcoin: (p) => {
      const b = p.block.toBlock();
      return makeBlock(headerFromBcoin(b), b.txs.map(txFromBcoin));
    },
    toBcoin: (m) => {
      const b = headerToBcoin(m.header, new Block());
      for (let i = 0; i < m.txCount; i++) b.txs.push(txToBcoin(m.tx(i)));
      return new packets.BlockPacket(b, true);
    },
    extra: (m, p) => {
      const b = p.block.toBlock();
      assert.is(b.hash('hex'), hex(m.hash()), 'block hash');
      assert.is(b.createMerkleRoot('hex'), hex(m.computeMerkleRoot()), 'merkle root');
      assert.is(b.createMerkleRoot('hex'), hex(m.header.merkleRoot), 'the header commits to the txs');
      const txids = m.txids();
      const wtxids = m.wtxids();
      b.txs.forEach((t: any, i: number) => {
        assert.is(t.hash('hex'), hex(txids.subarray(32 * i, 32 * i + 32)), `txid ${i}`);
        // bcoin's witnessHash of the coinbase is its real hash, as ours (not the zero of BIP141).
        assert.is(t.witnessHash('hex'), hex(wtxids.subarray(32 * i, 32 * i + 32)), `wtxid ${i}`);
      });
    },
  },
  {
    command: 'reject',
    gen: (rand) => {
      const message = rand() < 0.6 ? (rand() < 0.5 ? 'tx' : 'block') : printable(rand, (rand() * 13) | 0);
      return {
        message,
        ccode: (rand() * 256) | 0,
        reason: printable(rand, (rand() * 112) | 0),
        // BIP61: the hash follows for tx and block rejects only (bcoin reads it only for those).
        data: message === 'tx' || message === 'block' ? randomBytes(rand, 32) : new Uint8Array(0),
      };
    },
    fromBcoin: (p) => ({ message: p.message, ccode: p.code, reason: p.reason, data: p.hash ? bytesOfHex(p.hash) : new Uint8Array(0) }),
    toBcoin: (m) => {
      const p = new packets.RejectPacket();
      p.message = m.message;
      p.code = m.ccode;
      p.reason = m.reason;
      p.hash = m.data.length === 32 ? hex(m.data) : null;
      return p;
    },
  },
  {
    command: 'filterload',
    gen: (rand) => ({
      filter: randomBytes(rand, rand() < 0.1 ? 36_000 : (rand() * 500) | 0),
      nHashFuncs: (rand() * 51) | 0,
      nTweak: randomU32(rand),
      nFlags: (rand() * 3) | 0,
    }),
    fromBcoin: (p) => ({ filter: new Uint8Array(p.filter.filter), nHashFuncs: p.filter.n, nTweak: p.filter.tweak >>> 0, nFlags: p.filter.update }),
    toBcoin: (m) => {
      const f = new BloomFilter();
      f.filter = Buffer.from(m.filter);
      f.size = m.filter.length * 8;
      f.n = m.nHashFuncs;
      f.tweak = m.nTweak;
      f.update = m.nFlags;
      return new packets.FilterLoadPacket(f);
    },
  },
  {
    command: 'filteradd',
    gen: (rand) => ({ data: randomBytes(rand, (rand() * 521) | 0) }),
    fromBcoin: (p) => ({ data: new Uint8Array(p.data) }),
    toBcoin: (m) => new packets.FilterAddPacket(Buffer.from(m.data)),
  },
  {
    command: 'merkleblock',
    gen: (rand) => ({
      header: randomHeader(rand),
      totalTransactions: randomU32(rand),
      hashes: randomHashes(rand, (rand() * 20) | 0),
      flags: randomBytes(rand, (rand() * 8) | 0),
    }),
    fromBcoin: (p) => ({
      header: headerFromBcoin(p.block),
      totalTransactions: p.block.totalTX >>> 0,
      hashes: p.block.hashes.map((h: string | Buffer) => bytesOfHex(h)),
      flags: new Uint8Array(p.block.flags),
    }),
    toBcoin: (m) => {
      const b = headerToBcoin(m.header, new MerkleBlock());
      b.totalTX = m.totalTransactions;
      b.hashes = m.hashes.map((h: Uint8Array) => Buffer.from(h));
      b.flags = Buffer.from(m.flags);
      return new packets.MerkleBlockPacket(b);
    },
  },
  {
    command: 'feefilter',
    gen: (rand) => ({ feerate: rand() < 0.5 ? BigInt((rand() * 100_000) | 0) : safeU53(rand) }),
    fromBcoin: (p) => ({ feerate: BigInt(p.rate) }),
    toBcoin: (m) => new packets.FeeFilterPacket(Number(m.feerate)),
  },
  {
    command: 'sendcmpct',
    gen: (rand) => ({ announce: rand() < 0.5, version: rand() < 0.5 ? BigInt(1 + ((rand() * 2) | 0)) : safeU53(rand) }),
    fromBcoin: (p) => ({ announce: p.mode !== 0, version: BigInt(p.version) }),
    // bcoin's constructor turns a version of 0 into 1 (`version || 1`): set the fields directly.
    toBcoin: (m) => {
      const p = new packets.SendCmpctPacket();
      p.mode = m.announce ? 1 : 0;
      p.version = Number(m.version);
      return p;
    },
  },
  {
    command: 'cmpctblock',
    gen: (rand) => {
      // A block of `total` transactions, `nPre` of them prefilled at distinct random positions
      // (any valid set of indexes, the coinbase's 0 included or not) and the rest as short ids.
      const total = 1 + ((rand() * 40) | 0);
      const positions = new Set<number>();
      for (let want = Math.min(total, (rand() * 5) | 0); positions.size < want; ) positions.add((rand() * total) | 0);
      const prefilled = [...positions].sort((x, y) => x - y).map((index) => ({ index, tx: randomTxInRange(rand, 2) }));
      const shortIds = randomBytes(rand, 6 * (total - prefilled.length));
      return { header: randomHeader(rand), nonce: u64(rand), shortIds, prefilled };
    },
    fromBcoin: (p) => {
      const b = p.block;
      const ids = new Uint8Array(6 * b.ids.length);
      b.ids.forEach((id: number, i: number) => {
        const lo = id % 0x100000000;
        const v = new DataView(ids.buffer);
        v.setUint32(6 * i, lo, true);
        v.setUint16(6 * i + 4, (id - lo) / 0x100000000, true);
      });
      // bcoin keeps the wire's differential prefilled indexes; absolute = last + diff + 1.
      let last = -1;
      const prefilled = b.ptx.map(([diff, tx]: [number, any]) => {
        last += diff + 1;
        return { index: last, tx: txFromBcoin(tx) };
      });
      return { header: headerFromBcoin(b), nonce: u64le(b.keyNonce), shortIds: ids, prefilled };
    },
    toBcoin: (m) => {
      const b = headerToBcoin(m.header, new bip152.CompactBlock());
      b.keyNonce = le8(m.nonce);
      const v = new DataView(m.shortIds.buffer, m.shortIds.byteOffset, m.shortIds.byteLength);
      for (let i = 0; i < m.shortIds.length / 6; i++) b.ids.push(v.getUint16(6 * i + 4, true) * 0x100000000 + v.getUint32(6 * i, true));
      let last = -1;
      for (const p of m.prefilled) {
        b.ptx.push([p.index - last - 1, txToBcoin(p.tx)]);
        last = p.index;
      }
      return new packets.CmpctBlockPacket(b, true);
    },
  },
  {
    command: 'getblocktxn',
    gen: (rand) => {
      const indexes: number[] = [];
      let last = -1;
      for (let i = (rand() * 50) | 0; i > 0 && last < 0xffff; i--) {
        last = Math.min(0xffff, last + 1 + ((rand() < 0.2 ? rand() * 5000 : rand() * 3) | 0));
        indexes.push(last);
      }
      return { blockHash: randomBytes(rand, 32), indexes };
    },
    fromBcoin: (p) => ({ blockHash: bytesOfHex(p.request.hash), indexes: [...p.request.indexes] }),
    toBcoin: (m) => {
      const r = new bip152.TXRequest();
      r.hash = hex(m.blockHash);
      r.indexes = [...m.indexes];
      return new packets.GetBlockTxnPacket(r);
    },
  },
  {
    command: 'blocktxn',
    gen: (rand) => ({ blockHash: randomBytes(rand, 32), txs: Array.from({ length: (rand() * 5) | 0 }, () => randomTxInRange(rand, 3)) }),
    fromBcoin: (p) => ({ blockHash: bytesOfHex(p.response.hash), txs: p.response.txs.map(txFromBcoin) }),
    toBcoin: (m) => {
      const r = new bip152.TXResponse();
      r.hash = hex(m.blockHash);
      r.txs = m.txs.map(txToBcoin);
      return new packets.BlockTxnPacket(r, true);
    },
  },
];

/** The commands covered here (README.md lists them too). */
export const COVERED = cases.map((c) => c.command);

/** The codec's JSON form of a message (every field, bigints and bytes as strings). */
export function json(command: string, m: unknown): unknown {
  return codecOf(Command[command as CommandName])!.toJSON(m);
}
