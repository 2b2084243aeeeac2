/**
 * BIP324's rekeying ciphers: FSChaCha20 for the 3-byte packet lengths and FSChaCha20Poly1305
 * (RFC 8439 AEAD) for packet contents, both rekeyed every 224 packets (BIP324 "Rekeying";
 * Bitcoin Core src/crypto/chacha20poly1305.cpp), and the session's key schedule (HKDF-SHA256
 * with salt "bitcoin_v2_shared_secret" + network magic). Contents below AEAD_NATIVE_MIN go
 * through the WebAssembly kernel (wasm.ts), larger ones through OpenSSL. Hot path: no allocation
 * per packet below AEAD_NATIVE_MIN but views; authentication failure is a boolean, never a throw.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { chachaBlock, keyWords } from './chacha.js';
import { wasmOpen, wasmSeal, WASM_MAX_AAD, WASM_MAX_LEN } from './wasm.js';

/** Packets per key (BIP324 REKEY_INTERVAL). */
export const REKEY_INTERVAL = 224;
/** Poly1305 tag bytes. */
export const TAG_LEN = 16;

/**
 * Contents at or above this many bytes go through OpenSSL (node:crypto), whose per-call setup
 * (a cipher object per packet, several microseconds) is then paid back by its vector code; below
 * it the WebAssembly kernel is faster (measured: bench/README.md, v2 section).
 */
export const AEAD_NATIVE_MIN = 8192;
if (AEAD_NATIVE_MIN > WASM_MAX_LEN) throw new Error('AEAD_NATIVE_MIN must fit the WebAssembly kernel');

const EMPTY = new Uint8Array(0);
const rekeyBlock = new Uint32Array(16);
const scratchBlock = new Uint32Array(16);

/**
 * FSChaCha20: a ChaCha20 keystream consumed 3 bytes per packet; after 224 packets the next 32
 * keystream bytes become the key. One epoch is exactly 224 * 3 + 32 = 704 bytes = 11 blocks,
 * so the whole epoch's keystream is computed at once and each length costs three XORs.
 */
export class FSChaCha20 {
  private readonly key: Uint32Array;
  private readonly stream = new Uint32Array(176);
  private readonly streamBytes = new Uint8Array(this.stream.buffer);
  private epoch = 0;
  private pos = 0;

  constructor(key: Uint8Array) {
    this.key = keyWords(key);
    this.fill();
  }

  private fill(): void {
    for (let b = 0; b < 11; b++) {
      chachaBlock(this.key, b, 0, this.epoch >>> 0, Math.floor(this.epoch / 0x100000000), scratchBlock);
      this.stream.set(scratchBlock, b * 16);
    }
  }

  /** XORs the next 3 keystream bytes into `buf[off..off+3)` (encrypts or decrypts a length). */
  crypt3(buf: Uint8Array, off: number): void {
    const s = this.streamBytes;
    const p = this.pos;
    buf[off] = buf[off]! ^ s[p]!;
    buf[off + 1] = buf[off + 1]! ^ s[p + 1]!;
    buf[off + 2] = buf[off + 2]! ^ s[p + 2]!;
    this.pos = p + 3;
    if (this.pos === REKEY_INTERVAL * 3) {
      keyWords(s.subarray(REKEY_INTERVAL * 3, REKEY_INTERVAL * 3 + 32), this.key);
      this.epoch++;
      this.pos = 0;
      this.fill();
    }
  }
}

/** FSChaCha20Poly1305: the AEAD with nonce (packet % 224, packet / 224) and a rekey per 224. */
export class FSChaCha20Poly1305 {
  private readonly key: Uint32Array;
  /** The key as bytes, for the node:crypto path. */
  private readonly keyBytes = Buffer.alloc(32);
  private readonly nonce = Buffer.alloc(12);
  private counter = 0;
  private epoch = 0;

  constructor(key: Uint8Array) {
    this.key = keyWords(key);
    this.keyBytes.set(key);
  }

  /**
   * Encrypts `buf[off..off+len)` in place and writes the tag after it (`buf` must have 16 bytes
   * of room at off+len). `aad` authenticates the garbage on the first packet.
   */
  encrypt(aad: Uint8Array, buf: Uint8Array, off: number, len: number): void {
    const k = this.key;
    const ep = this.epoch;
    if (len >= AEAD_NATIVE_MIN || aad.length > WASM_MAX_AAD) {
      const c = createCipheriv('chacha20-poly1305', this.keyBytes, this.nonceBytes(), { authTagLength: TAG_LEN });
      if (aad.length) c.setAAD(aad, { plaintextLength: len });
      const out = c.update(buf.subarray(off, off + len));
      c.final();
      buf.set(out, off);
      buf.set(c.getAuthTag(), off + len);
    } else {
      wasmSeal(k, this.counter % REKEY_INTERVAL, ep, 0, aad, buf, off, len);
    }
    this.next();
  }

  /**
   * Checks the tag at `ct[off+len..off+len+16)` and, if it holds, decrypts `ct[off..off+len)` into
   * `out[outOff..)`. Returns false on an authentication failure (nothing is written then).
   */
  decrypt(aad: Uint8Array, ct: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): boolean {
    let ok: boolean;
    if (len >= AEAD_NATIVE_MIN || aad.length > WASM_MAX_AAD) ok = this.decryptNative(aad, ct, off, len, out, outOff);
    else ok = wasmOpen(this.key, this.counter % REKEY_INTERVAL, this.epoch, 0, aad, ct, off, len, out, outOff);
    this.next();
    return ok;
  }

  private decryptNative(aad: Uint8Array, ct: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): boolean {
    const d = createDecipheriv('chacha20-poly1305', this.keyBytes, this.nonceBytes(), { authTagLength: TAG_LEN });
    if (aad.length) d.setAAD(aad, { plaintextLength: len });
    d.setAuthTag(ct.subarray(off + len, off + len + TAG_LEN));
    const pt = d.update(ct.subarray(off, off + len));
    try {
      // OpenSSL reports a bad tag only by throwing from final(): contained here, a status outside.
      d.final();
    } catch {
      return false;
    }
    out.set(pt, outOff);
    return true;
  }

  private nonceBytes(): Buffer {
    const n = this.nonce;
    n.writeUInt32LE(this.counter % REKEY_INTERVAL, 0);
    n.writeUInt32LE(this.epoch >>> 0, 4);
    n.writeUInt32LE(0, 8);
    return n;
  }

  /** Advances the packet counter; every 224th packet the key becomes block 1 of nonce (~0, epoch). */
  private next(): void {
    if ((this.counter + 1) % REKEY_INTERVAL === 0) {
      chachaBlock(this.key, 1, 0xffffffff, this.epoch, 0, rekeyBlock);
      this.key.set(rekeyBlock.subarray(0, 8));
      this.keyBytes.set(new Uint8Array(rekeyBlock.buffer, 0, 32));
      this.epoch++;
    }
    this.counter++;
  }
}

/** Length field, header byte and the ignore bit (BIP324 "Packet encryption"). */
export const LENGTH_LEN = 3;
export const HEADER_LEN = 1;
export const IGNORE_BIT = 0x80;
/** Bytes a packet adds to its contents: length, header, tag. */
export const PACKET_OVERHEAD = LENGTH_LEN + HEADER_LEN + TAG_LEN;

/** A zeroed packet buffer for `contentsLen` bytes of contents. */
export function allocPacket(contentsLen: number): Uint8Array {
  return new Uint8Array(PACKET_OVERHEAD + contentsLen);
}

/** The keys and ciphers of one BIP324 session, for one side. */
export class Bip324Cipher {
  readonly sessionId: Uint8Array;
  readonly sendTerminator: Uint8Array;
  readonly recvTerminator: Uint8Array;
  readonly sendL: FSChaCha20;
  readonly sendP: FSChaCha20Poly1305;
  readonly recvL: FSChaCha20;
  readonly recvP: FSChaCha20Poly1305;
  /** The derived keys, for the test vectors. */
  readonly keys: { initiatorL: Uint8Array; initiatorP: Uint8Array; responderL: Uint8Array; responderP: Uint8Array };

  /** Derives everything from the ECDH secret; `magicBytes` are the network's 4 wire bytes. */
  constructor(secret: Uint8Array, initiating: boolean, magicBytes: Uint8Array) {
    const salt = Buffer.concat([Buffer.from('bitcoin_v2_shared_secret'), magicBytes]);
    const hkdf = (info: string): Uint8Array => new Uint8Array(hkdfSync('sha256', secret, salt, info, 32));
    const initiatorL = hkdf('initiator_L');
    const initiatorP = hkdf('initiator_P');
    const responderL = hkdf('responder_L');
    const responderP = hkdf('responder_P');
    const terms = hkdf('garbage_terminators');
    this.sessionId = hkdf('session_id');
    this.keys = { initiatorL, initiatorP, responderL, responderP };
    const initTerm = terms.slice(0, 16);
    const respTerm = terms.slice(16, 32);
    this.sendTerminator = initiating ? initTerm : respTerm;
    this.recvTerminator = initiating ? respTerm : initTerm;
    this.sendL = new FSChaCha20(initiating ? initiatorL : responderL);
    this.sendP = new FSChaCha20Poly1305(initiating ? initiatorP : responderP);
    this.recvL = new FSChaCha20(initiating ? responderL : initiatorL);
    this.recvP = new FSChaCha20Poly1305(initiating ? responderP : initiatorP);
  }

  /**
   * Encrypts a packet whose contents already sit at `buf[off + 4 .. off + 4 + contentsLen)`:
   * writes the encrypted length at `off`, the header at `off + 3`, and the tag after the contents.
   * `buf` spans at least `off + PACKET_OVERHEAD + contentsLen` bytes.
   */
  encryptInPlace(buf: Uint8Array, off: number, contentsLen: number, ignore: boolean, aad: Uint8Array = EMPTY): void {
    buf[off + LENGTH_LEN] = ignore ? IGNORE_BIT : 0;
    this.sendP.encrypt(aad, buf, off + LENGTH_LEN, HEADER_LEN + contentsLen);
    buf[off] = contentsLen & 0xff;
    buf[off + 1] = (contentsLen >>> 8) & 0xff;
    buf[off + 2] = (contentsLen >>> 16) & 0xff;
    this.sendL.crypt3(buf, off);
  }

  /** A whole packet around `contents` (a fresh buffer). */
  encryptPacket(contents: Uint8Array, ignore = false, aad: Uint8Array = EMPTY): Uint8Array {
    const out = allocPacket(contents.length);
    out.set(contents, LENGTH_LEN + HEADER_LEN);
    this.encryptInPlace(out, 0, contents.length, ignore, aad);
    return out;
  }

  /** Decrypts a 3-byte encrypted length (consumes length keystream: call once per packet). */
  decryptLength(buf: Uint8Array, off: number, scratch: Uint8Array): number {
    scratch[0] = buf[off]!;
    scratch[1] = buf[off + 1]!;
    scratch[2] = buf[off + 2]!;
    this.recvL.crypt3(scratch, 0);
    return scratch[0]! | (scratch[1]! << 8) | (scratch[2]! << 16);
  }
}
