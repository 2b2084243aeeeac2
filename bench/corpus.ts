/**
 * Deterministic corpus of mainnet-like v1 byte streams for the parse benchmarks (no downloads).
 * The same generator and seeds as the team's anchor-bench (xoshiro128** through splitmix32), so
 * `bench/corpus/*.bin` matches the byte streams the other JavaScript parsers are measured on.
 * Streams: small (1-entry inv), announce (relay mix), blocks (~1.5 MB segwit blocks), and the
 * -legacy variants without segwit. Cold code: runs once, before timing.
 *
 *   node dist/bench/corpus.js [outDir] [--scale=1]
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng as SimRng } from '../src/sim/rng.js';

export const MAGIC_MAIN = 0xd9b4bef9;

/**
 * The corpus draws from the simulator's generator (xoshiro128** through splitmix32, the same
 * as anchor-bench's) with anchor-bench's 32-bit derived draws, so the streams stay byte-identical.
 */
export class Rng {
  private readonly core: SimRng;
  constructor(seed: number) {
    this.core = new SimRng(seed);
  }
  u32(): number {
    return this.core.u32();
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  weighted<T>(pairs: [number, T][]): T {
    let tot = 0;
    for (const [w] of pairs) tot += w;
    let x = this.float() * tot;
    for (const [w, v] of pairs) if ((x -= w) < 0) return v;
    return pairs[pairs.length - 1]![1];
  }
  fill(buf: Buffer, off: number, n: number): void {
    let i = 0;
    for (; i + 4 <= n; i += 4) buf.writeUInt32LE(this.u32(), off + i);
    if (i < n) {
      const r = this.u32();
      for (let k = 0; i < n; i++, k++) buf[off + i] = (r >>> (8 * k)) & 0xff;
    }
  }
}

class W {
  buf: Buffer;
  len = 0;
  constructor(cap = 1 << 16) {
    this.buf = Buffer.allocUnsafe(cap);
  }
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = Buffer.allocUnsafe(cap);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }
  u16le(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.len);
    this.len += 2;
  }
  u16be(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
  }
  u32le(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }
  i32le(v: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(v | 0, this.len);
    this.len += 4;
  }
  u64le(v: number): void {
    this.ensure(8);
    this.buf.writeUInt32LE(v % 4294967296, this.len);
    this.buf.writeUInt32LE(Math.floor(v / 4294967296), this.len + 4);
    this.len += 8;
  }
  varint(v: number): void {
    if (v < 0xfd) this.u8(v);
    else if (v <= 0xffff) {
      this.u8(0xfd);
      this.u16le(v);
    } else if (v <= 0xffffffff) {
      this.u8(0xfe);
      this.u32le(v);
    } else {
      this.u8(0xff);
      this.u64le(v);
    }
  }
  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }
  rand(rng: Rng, n: number): void {
    this.ensure(n);
    rng.fill(this.buf, this.len, n);
    this.len += n;
  }
  zeros(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
  }
  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
function hash256(...parts: Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return sha256(h.digest());
}

export function frame(magic: number, command: string, payload: Buffer): Buffer {
  const m = Buffer.allocUnsafe(24 + payload.length);
  m.writeUInt32LE(magic >>> 0, 0);
  m.fill(0, 4, 16);
  m.write(command, 4, 'ascii');
  m.writeUInt32LE(payload.length, 16);
  hash256(payload).copy(m, 20, 0, 4);
  payload.copy(m, 24);
  return m;
}

const INV = { TX: 1, BLOCK: 2, WTX: 5 };

function derSig(w: W, rng: Rng): void {
  const rlen = rng.chance(0.5) ? 33 : 32;
  const slen = rng.chance(0.99) ? 32 : 31;
  const total = 7 + rlen + slen;
  w.u8(total);
  w.u8(0x30);
  w.u8(4 + rlen + slen);
  w.u8(0x02);
  w.u8(rlen);
  if (rlen === 33) {
    w.u8(0x00);
    w.u8(0x80 | (rng.u32() & 0x7f));
    w.rand(rng, 31);
  } else {
    w.u8((rng.u32() & 0x7f) | 1);
    w.rand(rng, 31);
  }
  w.u8(0x02);
  w.u8(slen);
  w.u8((rng.u32() & 0x7f) | 1);
  w.rand(rng, slen - 1);
  w.u8(0x01);
}
function pubkey(w: W, rng: Rng): void {
  w.u8(33);
  w.u8(rng.chance(0.5) ? 0x02 : 0x03);
  w.rand(rng, 32);
}

interface InKind {
  segwit: boolean;
  script(w: W, rng: Rng): void;
  witness: ((w: W, rng: Rng) => void) | null;
}
const IN: Record<string, InKind> = {
  p2pkh: {
    segwit: false,
    script(w, rng) {
      const s = new W(128);
      derSig(s, rng);
      pubkey(s, rng);
      const b = s.result();
      w.varint(b.length);
      w.bytes(b);
    },
    witness: null,
  },
  p2sh_multisig_legacy: {
    segwit: false,
    script(w, rng) {
      const s = new W(300);
      s.u8(0x00);
      derSig(s, rng);
      derSig(s, rng);
      const red = new W(128);
      red.u8(0x52);
      for (let i = 0; i < 3; i++) pubkey(red, rng);
      red.u8(0x53);
      red.u8(0xae);
      const rb = red.result();
      s.u8(0x4c);
      s.u8(rb.length);
      s.bytes(rb);
      const b = s.result();
      w.varint(b.length);
      w.bytes(b);
    },
    witness: null,
  },
  p2wpkh: {
    segwit: true,
    script(w) {
      w.varint(0);
    },
    witness(w, rng) {
      w.varint(2);
      derSig(w, rng);
      pubkey(w, rng);
    },
  },
  p2sh_p2wpkh: {
    segwit: true,
    script(w, rng) {
      w.varint(23);
      w.u8(0x16);
      w.u8(0x00);
      w.u8(0x14);
      w.rand(rng, 20);
    },
    witness(w, rng) {
      w.varint(2);
      derSig(w, rng);
      pubkey(w, rng);
    },
  },
  p2tr_key: {
    segwit: true,
    script(w) {
      w.varint(0);
    },
    witness(w, rng) {
      w.varint(1);
      w.varint(64);
      w.rand(rng, 64);
    },
  },
  p2wsh_multisig: {
    segwit: true,
    script(w) {
      w.varint(0);
    },
    witness(w, rng) {
      w.varint(4);
      w.varint(0);
      derSig(w, rng);
      derSig(w, rng);
      w.varint(105);
      w.u8(0x52);
      for (let i = 0; i < 3; i++) pubkey(w, rng);
      w.u8(0x53);
      w.u8(0xae);
    },
  },
};

function outScript(w: W, rng: Rng): void {
  const kind = rng.weighted<string>([
    [40, 'p2wpkh'],
    [20, 'p2tr'],
    [15, 'p2pkh'],
    [15, 'p2sh'],
    [8, 'p2wsh'],
    [2, 'opret'],
  ]);
  switch (kind) {
    case 'p2wpkh':
      w.varint(22);
      w.u8(0x00);
      w.u8(0x14);
      w.rand(rng, 20);
      break;
    case 'p2tr':
      w.varint(34);
      w.u8(0x51);
      w.u8(0x20);
      w.rand(rng, 32);
      break;
    case 'p2pkh':
      w.varint(25);
      w.u8(0x76);
      w.u8(0xa9);
      w.u8(0x14);
      w.rand(rng, 20);
      w.u8(0x88);
      w.u8(0xac);
      break;
    case 'p2sh':
      w.varint(23);
      w.u8(0xa9);
      w.u8(0x14);
      w.rand(rng, 20);
      w.u8(0x87);
      break;
    case 'p2wsh':
      w.varint(34);
      w.u8(0x00);
      w.u8(0x20);
      w.rand(rng, 32);
      break;
    case 'opret': {
      const n = rng.int(8, 75);
      w.varint(n + 2);
      w.u8(0x6a);
      w.u8(n);
      w.rand(rng, n);
      break;
    }
  }
}
const outValue = (rng: Rng): number => Math.floor(546 * Math.pow(10, rng.float() * 7));

interface BuiltTx {
  raw: Buffer;
  stripped: Buffer[];
  segwit: boolean;
  nIn: number;
  nOut: number;
}

function buildTx(rng: Rng, nIn: number, nOut: number, segwitAllowed: boolean): BuiltTx {
  const txKinds: [number, string][] = segwitAllowed
    ? [
        [45, 'p2wpkh'],
        [18, 'p2tr_key'],
        [14, 'p2pkh'],
        [12, 'p2sh_p2wpkh'],
        [8, 'p2wsh_multisig'],
        [3, 'p2sh_multisig_legacy'],
      ]
    : [
        [85, 'p2pkh'],
        [15, 'p2sh_multisig_legacy'],
      ];
  const mainKind = rng.weighted(txKinds);
  const kinds: string[] = [];
  for (let i = 0; i < nIn; i++) kinds.push(rng.chance(0.9) ? mainKind : rng.weighted(txKinds));
  const segwit = kinds.some((k) => IN[k]!.segwit);
  const version = rng.chance(0.85) ? 2 : 1;
  const body = new W(512);
  body.varint(nIn);
  for (let i = 0; i < nIn; i++) {
    body.rand(rng, 32);
    body.u32le(rng.chance(0.7) ? rng.int(0, 1) : rng.int(0, 30));
    IN[kinds[i]!]!.script(body, rng);
    body.u32le(
      rng.weighted([
        [60, 0xfffffffd],
        [30, 0xffffffff],
        [10, 0xfffffffe],
      ]),
    );
  }
  body.varint(nOut);
  for (let i = 0; i < nOut; i++) {
    body.u64le(outValue(rng));
    outScript(body, rng);
  }
  const bodyB = body.result();
  const ver = Buffer.allocUnsafe(4);
  ver.writeInt32LE(version, 0);
  const lock = Buffer.allocUnsafe(4);
  lock.writeUInt32LE(rng.chance(0.6) ? rng.int(870000, 900000) : 0, 0);
  let wit: Buffer | null = null;
  if (segwit) {
    const ww = new W(512);
    for (let i = 0; i < nIn; i++) {
      const k = IN[kinds[i]!]!;
      if (k.witness) k.witness(ww, rng);
      else ww.varint(0);
    }
    wit = ww.result();
  }
  const raw = segwit ? Buffer.concat([ver, Buffer.from([0x00, 0x01]), bodyB, wit!, lock]) : Buffer.concat([ver, bodyB, lock]);
  return { raw, stripped: [ver, bodyB, lock], segwit, nIn, nOut };
}

function randomTxShape(rng: Rng, forBlock: boolean): [number, number] {
  if (forBlock && rng.chance(0.04)) return [rng.int(5, 20), rng.int(1, 2)];
  if (forBlock && rng.chance(0.03)) return [1, rng.int(10, 40)];
  return [
    rng.weighted([
      [60, 1],
      [25, 2],
      [10, 3],
      [5, 4],
    ]),
    rng.weighted([
      [25, 1],
      [60, 2],
      [15, 3],
    ]),
  ];
}

function relayTx(rng: Rng, segwitAllowed: boolean): BuiltTx {
  for (;;) {
    const [nIn, nOut] = randomTxShape(rng, false);
    const tx = buildTx(rng, nIn, nOut, segwitAllowed);
    if (tx.raw.length >= 200 && tx.raw.length <= 600) return tx;
  }
}

function merkleRoot(hashes: Buffer[]): Buffer {
  if (hashes.length === 0) return Buffer.alloc(32);
  let level = hashes;
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i]!;
      const b = i + 1 < level.length ? level[i + 1]! : a;
      next.push(hash256(a, b));
    }
    level = next;
  }
  return level[0]!;
}

function coinbaseTx(rng: Rng, height: number, witnessCommitment: Buffer | null): BuiltTx {
  const segwit = witnessCommitment !== null;
  const body = new W(256);
  body.varint(1);
  body.zeros(32);
  body.u32le(0xffffffff);
  const ss = new W(100);
  ss.u8(3);
  ss.u8(height & 0xff);
  ss.u8((height >> 8) & 0xff);
  ss.u8((height >> 16) & 0xff);
  const tagLen = rng.int(20, 60);
  ss.u8(tagLen);
  ss.rand(rng, tagLen);
  const ssb = ss.result();
  body.varint(ssb.length);
  body.bytes(ssb);
  body.u32le(0xffffffff);
  const nOut = segwit ? 2 : 1;
  body.varint(nOut);
  body.u64le(312500000 + rng.int(0, 30000000));
  body.varint(22);
  body.u8(0x00);
  body.u8(0x14);
  body.rand(rng, 20);
  if (segwit) {
    body.u64le(0);
    body.varint(38);
    body.bytes(Buffer.from('6a24aa21a9ed', 'hex'));
    body.bytes(witnessCommitment!);
  }
  const bodyB = body.result();
  const ver = Buffer.from([2, 0, 0, 0]);
  const lock = Buffer.alloc(4);
  if (!segwit) return { raw: Buffer.concat([ver, bodyB, lock]), stripped: [ver, bodyB, lock], segwit: false, nIn: 1, nOut };
  const wit = Buffer.concat([Buffer.from([1, 32]), Buffer.alloc(32)]);
  return { raw: Buffer.concat([ver, Buffer.from([0, 1]), bodyB, wit, lock]), stripped: [ver, bodyB, lock], segwit: true, nIn: 1, nOut };
}

function blockHeader(version: number, prev: Buffer, merkle: Buffer, time: number, bits: number, nonce: number): Buffer {
  const h = Buffer.allocUnsafe(80);
  h.writeInt32LE(version | 0, 0);
  prev.copy(h, 4);
  merkle.copy(h, 36);
  h.writeUInt32LE(time >>> 0, 68);
  h.writeUInt32LE(bits >>> 0, 72);
  h.writeUInt32LE(nonce >>> 0, 76);
  return h;
}

function buildBlock(rng: Rng, height: number, prevHash: Buffer, time: number, segwitAllowed: boolean) {
  const targetWeight = rng.int(3900000, 3993000);
  const txs: BuiltTx[] = [];
  let weight = 4 * (80 + 3) + 4 * 250;
  for (;;) {
    const [nIn, nOut] = randomTxShape(rng, true);
    const tx = buildTx(rng, nIn, nOut, segwitAllowed);
    const base = tx.stripped[0]!.length + tx.stripped[1]!.length + tx.stripped[2]!.length;
    const w = 3 * base + tx.raw.length;
    if (weight + w > targetWeight) break;
    txs.push(tx);
    weight += w;
  }
  let commitment: Buffer | null = null;
  if (txs.some((t) => t.segwit)) {
    const wtxids: Buffer[] = [Buffer.alloc(32)];
    for (const t of txs) wtxids.push(hash256(t.raw));
    commitment = hash256(merkleRoot(wtxids), Buffer.alloc(32));
  }
  txs.unshift(coinbaseTx(rng, height, commitment));
  const root = merkleRoot(txs.map((t) => hash256(...t.stripped)));
  const version = rng.weighted([
    [70, 0x20000000],
    [20, 0x2000e000 | 0],
    [10, 0x3fffe000 | 0],
  ]);
  const header = blockHeader(version, prevHash, root, time, 0x17027726, rng.u32());
  const w = new W(2000000);
  w.bytes(header);
  w.varint(txs.length);
  for (const t of txs) w.bytes(t.raw);
  return { payload: w.result(), hash: hash256(header), txs };
}

export interface StreamMeta {
  name: string;
  seed: number;
  messages: number;
  bytes: number;
  byCommand: Record<string, { count: number; bytes: number }>;
  stats: { invEntries: number; addrEntries: number; headersEntries: number; blockTxs: number; txMessages: number };
  sha256?: string;
}

class Stream {
  parts: Buffer[] = [];
  meta: StreamMeta;
  constructor(name: string, seed: number) {
    this.meta = {
      name,
      seed,
      messages: 0,
      bytes: 0,
      byCommand: {},
      stats: { invEntries: 0, addrEntries: 0, headersEntries: 0, blockTxs: 0, txMessages: 0 },
    };
  }
  push(cmd: string, payload: Buffer): void {
    const m = frame(MAGIC_MAIN, cmd, payload);
    this.parts.push(m);
    this.meta.bytes += m.length;
    this.meta.messages++;
    const b = (this.meta.byCommand[cmd] ??= { count: 0, bytes: 0 });
    b.count++;
    b.bytes += m.length;
  }
}

function genInv(rng: Rng, s: Stream): void {
  let type: number;
  let n: number;
  if (rng.chance(0.02)) {
    type = INV.BLOCK;
    n = 1;
  } else {
    type = rng.chance(0.8) ? INV.WTX : INV.TX;
    n = Math.min(35, 1 + Math.floor(35 * Math.pow(rng.float(), 2)));
  }
  const w = new W(16 + 36 * n);
  w.varint(n);
  for (let i = 0; i < n; i++) {
    w.u32le(type);
    w.rand(rng, 32);
  }
  s.meta.stats.invEntries += n;
  s.push('inv', w.result());
}

function genAddr(rng: Rng, s: Stream, now: number): void {
  const n = rng.chance(0.85) ? rng.int(1, 10) : rng.chance(0.3) ? 1000 : rng.int(100, 1000);
  const w = new W(8 + 30 * n);
  w.varint(n);
  for (let i = 0; i < n; i++) {
    w.u32le(now - rng.int(0, 3 * 86400));
    w.u64le(
      rng.weighted([
        [60, 0x409],
        [25, 0xc09],
        [15, 0x40d],
      ]),
    );
    if (rng.chance(0.9)) {
      w.zeros(10);
      w.u8(0xff);
      w.u8(0xff);
      w.rand(rng, 4);
    } else {
      w.u8(0x20);
      w.u8(0x01);
      w.rand(rng, 14);
    }
    w.u16be(rng.chance(0.9) ? 8333 : rng.int(1024, 65535));
  }
  s.meta.stats.addrEntries += n;
  s.push('addr', w.result());
}

function genHeaders(rng: Rng, s: Stream, chain: { prev: Buffer; time: number }): void {
  const n = rng.chance(0.95) ? 1 : rng.chance(0.5) ? 2000 : rng.int(2, 2000);
  const w = new W(4 + 81 * n);
  w.varint(n);
  for (let i = 0; i < n; i++) {
    // Draw order matters for byte-identical output with anchor-bench: version, merkle, time, nonce.
    const version = 0x20000000 | (rng.u32() & 0x1fffe000);
    const merkle = Buffer.allocUnsafe(32);
    rng.fill(merkle, 0, 32);
    const h = blockHeader(version, chain.prev, merkle, (chain.time += rng.int(60, 1200)), 0x17027726, rng.u32());
    chain.prev = hash256(h);
    w.bytes(h);
    w.u8(0);
  }
  s.meta.stats.headersEntries += n;
  s.push('headers', w.result());
}

export function genAnnounce(name: string, seed: number, nMessages: number, segwitAllowed: boolean): Stream {
  const rng = new Rng(seed);
  const s = new Stream(name, seed);
  const chain = { prev: sha256(Buffer.from('anchor-bench headers chain')), time: 1735689600 };
  const now = 1735689600;
  while (s.meta.messages < nMessages) {
    const kind = rng.weighted<string>([
      [75, 'inv'],
      [15, 'tx'],
      [2.5, 'ping'],
      [2.5, 'pong'],
      [2, 'addr'],
      [3, 'headers'],
    ]);
    switch (kind) {
      case 'inv':
        genInv(rng, s);
        break;
      case 'tx': {
        const tx = relayTx(rng, segwitAllowed);
        s.meta.stats.txMessages++;
        s.push('tx', tx.raw);
        break;
      }
      case 'ping':
      case 'pong': {
        const b = Buffer.allocUnsafe(8);
        rng.fill(b, 0, 8);
        s.push(kind, b);
        break;
      }
      case 'addr':
        genAddr(rng, s, now);
        break;
      case 'headers':
        genHeaders(rng, s, chain);
        break;
    }
  }
  return s;
}

export function genBlocks(name: string, seed: number, nBlocks: number, segwitAllowed: boolean): Stream {
  const rng = new Rng(seed);
  const s = new Stream(name, seed);
  let prev = sha256(Buffer.from('anchor-bench block chain'));
  let time = 1735689600;
  for (let i = 0; i < nBlocks; i++) {
    const b = buildBlock(rng, 880000 + i, prev, (time += rng.int(60, 1200)), segwitAllowed);
    prev = b.hash;
    s.meta.stats.blockTxs += b.txs.length;
    s.push('block', b.payload);
  }
  return s;
}

export function genSmall(name: string, seed: number, nMessages: number): Stream {
  const rng = new Rng(seed);
  const s = new Stream(name, seed);
  for (let i = 0; i < nMessages; i++) {
    const w = new W(40);
    w.varint(1);
    w.u32le(rng.chance(0.8) ? INV.WTX : INV.TX);
    w.rand(rng, 32);
    s.meta.stats.invEntries += 1;
    s.push('inv', w.result());
  }
  return s;
}

export const STREAMS: Record<string, (scale: number) => Stream> = {
  small: (k) => genSmall('small', 0x5a11, Math.round(500000 * k)),
  announce: (k) => genAnnounce('announce', 0xa11ce, Math.round(100000 * k), true),
  blocks: (k) => genBlocks('blocks', 0xb10c5, Math.max(2, Math.round(24 * k)), true),
  'announce-legacy': (k) => genAnnounce('announce-legacy', 0xa11ce, Math.round(100000 * k), false),
  'blocks-legacy': (k) => genBlocks('blocks-legacy', 0xb10c5, Math.max(2, Math.round(24 * k)), false),
};

/** Loads `dir/name.bin`, generating (and caching) it first when missing or of another scale. */
export function loadOrMake(dir: string, name: string, scale = 1): { data: Buffer; meta: StreamMeta } {
  const bin = join(dir, `${name}.bin`);
  const json = join(dir, `${name}.json`);
  if (existsSync(bin) && existsSync(json)) {
    const meta = JSON.parse(readFileSync(json, 'utf8')) as StreamMeta & { scale?: number };
    const data = readFileSync(bin);
    if ((meta.scale ?? 1) === scale && data.length === meta.bytes) return { data, meta };
  }
  const make = STREAMS[name];
  if (!make) throw new Error(`unknown stream ${name}`);
  const s = make(scale);
  const data = Buffer.concat(s.parts, s.meta.bytes);
  s.meta.sha256 = createHash('sha256').update(data).digest('hex');
  mkdirSync(dir, { recursive: true });
  writeFileSync(bin, data);
  writeFileSync(json, JSON.stringify({ ...s.meta, scale }, null, 2) + '\n');
  return { data, meta: s.meta };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/dist\//, '/dist/'))) {
  const args = process.argv.slice(2);
  const outDir = args.find((a) => !a.startsWith('--')) ?? 'bench/corpus';
  const scale = Number(args.find((a) => a.startsWith('--scale='))?.split('=')[1] ?? 1);
  for (const name of Object.keys(STREAMS)) {
    const t0 = Date.now();
    const { meta } = loadOrMake(outDir, name, scale);
    console.log(`${name.padEnd(16)} ${String(meta.messages).padStart(8)} msgs ${(meta.bytes / 1e6).toFixed(2).padStart(8)} MB  sha256 ${meta.sha256?.slice(0, 16)}  (${Date.now() - t0} ms)`);
  }
}
