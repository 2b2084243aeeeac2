/**
 * Fuzz target `v2`: the BIP324 receive path of an established session. The input
 * describes plaintext packets, which the initiator's ciphers encrypt exactly as a peer would, so
 * the fuzzer steers the header byte, message types, long commands and contents; one byte of the
 * ciphertext may then be flipped. Registered in targets.ts; shared by the fuzzer and the replay suite.
 */
import { Status, statusCode } from '../../src/protocol/errors.js';
import { fromHex } from '../../src/protocol/hex.js';
import { V2Transport } from '../../src/transport/v2/transport.js';
import { Bip324Cipher, IGNORE_BIT, PACKET_OVERHEAD } from '../../src/transport/v2/aead.js';
import { ellswiftCreate } from '../../src/transport/v2/ellswift.js';
import { Finding, bounded, MAINNET_MAGIC } from './targets.js';

const SECRET = new Uint8Array(32).fill(7);
const MAGIC_BYTES = Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9);
const EMPTY = new Uint8Array(0);
/**
 * One key for every run, made at load: key creation is not what is fuzzed, and its first call
 * builds noble's tables (megabytes), which the memory bound would charge to the first input.
 */
const key = ellswiftCreate();

interface Record_ {
  header: number;
  contents: Uint8Array;
}

/** Input: byte 0 flags (bit 0: flip one ciphertext bit), bytes 1-2 where; then [len u16 LE][header][contents]... */
function parse(data: Uint8Array): Record_[] {
  const out: Record_[] = [];
  let p = 3;
  while (p + 3 <= data.length && out.length < 64) {
    const len = Math.min(data[p]! | (data[p + 1]! << 8), data.length - p - 3);
    out.push({ header: data[p + 2]!, contents: data.subarray(p + 3, p + 3 + len) });
    p += 3 + len;
  }
  return out;
}

/** The wire bytes of the records, encrypted by a fresh initiator session (deterministic). */
function encrypt(records: Record_[]): Uint8Array {
  const c = new Bip324Cipher(SECRET, true, MAGIC_BYTES);
  const parts = records.map((r) => {
    const buf = new Uint8Array(PACKET_OVERHEAD + r.contents.length);
    buf[3] = r.header;
    buf.set(r.contents, 4);
    c.sendP.encrypt(EMPTY, buf, 3, 1 + r.contents.length);
    buf[0] = r.contents.length & 0xff;
    buf[1] = (r.contents.length >>> 8) & 0xff;
    buf[2] = 0;
    c.sendL.crypt3(buf, 0);
    return buf;
  });
  return Buffer.concat(parts);
}

function receive(chunks: Uint8Array[]): { frames: string[]; status: number; t: V2Transport } {
  const frames: string[] = [];
  const t = new V2Transport({ initiator: false, magic: MAINNET_MAGIC, key, garbageLen: 0 }, {
    onFrame(cmd, buf, off, len, ok) {
      if (!ok) throw new Finding('V2Transport: delivered a frame marked bad');
      frames.push(`${cmd}:${Buffer.from(buf.subarray(off, off + len)).toString('hex')}`);
    },
  });
  t.resume(new Bip324Cipher(SECRET, false, MAGIC_BYTES));
  let status = 0;
  for (const c of chunks) {
    status = t.push(c);
    if (status !== 0) break;
  }
  return { frames, status, t };
}

export function v2Target(data: Uint8Array): void {
  if (data.length < 3) return;
  const records = parse(data);
  const stream = encrypt(records);
  const n = stream.length;
  const clean = bounded('V2Transport (clean)', n, () => receive([stream]));
  if (clean.status !== 0) throw new Finding(`V2Transport: a well-encrypted stream failed with ${statusCode(clean.status)}`);
  // Every packet is accounted for exactly once: delivered, skipped as a decoy, or dropped for its type.
  const t = clean.t;
  if (t.packets + t.decoys + t.badTypes !== records.length) {
    throw new Finding(`V2Transport: ${records.length} packets but ${t.packets} delivered + ${t.decoys} decoys + ${t.badTypes} bad types`);
  }
  if (t.decoys !== records.filter((r) => (r.header & IGNORE_BIT) !== 0).length) throw new Finding('V2Transport: decoys miscounted');
  if (t.bufferedBytes !== 0) throw new Finding(`V2Transport: holds ${t.bufferedBytes} bytes after whole packets`);

  // The same bytes in three chunks give the same frames.
  const a = n === 0 ? 0 : (data[1]! * 131) % (n + 1);
  const b = n === 0 ? 0 : a + ((data[2]! * 257) % (n - a + 1));
  const split = bounded('V2Transport (split)', n, () => receive([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]));
  if (split.status !== 0 || split.frames.join() !== clean.frames.join()) throw new Finding(`V2Transport: split at ${a},${b} differs from whole`);

  // One flipped bit: fatal (authentication or length) or waiting for more, and never a frame
  // that was not in the clean run.
  if ((data[0]! & 1) === 0 || n === 0) return;
  const bad = stream.slice();
  const at = ((data[1]! << 8) | data[2]!) % n;
  bad[at]! ^= 1 << (data[0]! >> 5);
  const r = bounded('V2Transport (corrupt)', n, () => receive([bad]));
  if (r.status !== 0 && r.status !== Status.V2_AUTH && r.status !== Status.V2_OVERSIZE) {
    throw new Finding(`V2Transport: a flipped bit gave ${statusCode(r.status)}`);
  }
  if (r.frames.some((f, i) => f !== clean.frames[i])) throw new Finding('V2Transport: a corrupted stream delivered a frame the clean one did not');
}

/** Seeds: a handful of sessions (inv, tx, ping, long verack, decoys, reserved header bits, bad types). */
export function v2Seeds(): Uint8Array[] {
  const rec = (header: number, hex: string): Uint8Array => {
    const c = fromHex(hex);
    return Uint8Array.of(c.length & 0xff, c.length >> 8, header, ...c);
  };
  const cat = (...p: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(p));
  const inv = '0e01' + '01000000' + 'ab'.repeat(32);
  const verack = '00' + Buffer.from('verack\0\0\0\0\0\0').toString('hex');
  return [
    cat(Uint8Array.of(0, 1, 2), rec(0, inv), rec(0, '120102030405060708'), rec(0, verack)),
    cat(Uint8Array.of(1, 9, 200), rec(0x80, '00'.repeat(20)), rec(0, inv), rec(0, '1d0102'), rec(0, '')),
    cat(Uint8Array.of(0x61, 3, 77), rec(0, '15' + '00'.repeat(300)), rec(0, '00' + Buffer.from('utreexo\0\0\0\0\0').toString('hex') + 'ff')),
    cat(Uint8Array.of(0, 40, 40), ...Array.from({ length: 20 }, (_, i) => rec(i % 4 === 3 ? 0x80 : 0, i % 2 ? inv : '13' + '0a'.repeat(8)))),
    cat(Uint8Array.of(0xa1, 0, 5), rec(0x7f, inv), rec(0, '00' + '41'.repeat(12)), rec(0, '00' + '4100'.repeat(6)), rec(0, '0041')),
  ];
}
