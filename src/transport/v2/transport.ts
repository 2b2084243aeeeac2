/**
 * The BIP324 v2 transport, sans-I/O, for both roles (Bitcoin Core net.cpp V2Transport is the
 * reference for the state machine): key exchange, garbage and terminators, the version packet,
 * decoys, short and long message types, and the responder's fallback to v1 when the first 16
 * bytes are a v1 `version` header. Bytes the transport sends on its own (key, garbage,
 * terminator, version packet, messages queued during the handshake, decoys) go out through the
 * writer given to `start`; messages encoded once the session is up are returned to the caller.
 * Runs on the thread that owns the peer; the receive path is hot: no throw, no allocation per
 * packet inside a chunk (the handshake allocates, once per connection).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { Status } from '../../protocol/errors.js';
import { lookupCommand, commandBytes, COMMAND_BYTES, COMMAND_SIZE } from '../../protocol/commands.js';
import { Command, MAX_PROTOCOL_MESSAGE_LENGTH, type CommandName } from '../../protocol/constants.js';
import { Writer } from '../../protocol/writer.js';
import { encodedSize, encodeMessageInto, type MessageMap } from '../../protocol/registry.js';
import { V1Decoder, encodeRawFrame, type V1FrameSink } from '../v1.js';
import { Bip324Cipher, allocPacket, PACKET_OVERHEAD, LENGTH_LEN, HEADER_LEN, TAG_LEN, IGNORE_BIT } from './aead.js';
import { ellswiftCreate, v2Ecdh, type EllswiftKey } from './ellswift.js';
import { COMMAND_TO_SHORT, SHORT_TO_COMMAND, V2_MAX_SHORT_ID } from './ids.js';

/** ElligatorSwift public key bytes (BIP324). */
export const ELLSWIFT_LEN = 64;
/** Garbage terminator bytes (BIP324). */
export const TERMINATOR_LEN = 16;
/** Most garbage either side may send (BIP324 MAX_GARBAGE_LEN). */
export const MAX_GARBAGE_LEN = 4095;
/** Largest contents accepted: header type byte + 12-byte command + payload (Core MAX_CONTENTS_LEN). */
export const MAX_CONTENTS_LEN = 1 + COMMAND_SIZE + MAX_PROTOCOL_MESSAGE_LENGTH;
/** Bytes of a v1 `version` header a responder compares before deciding (Core V1_PREFIX_LEN). */
export const V1_PREFIX_LEN = 16;
/** Sent bytes after which a dropped v2 attempt means "retry with v1" (a v1 header's worth, Core). */
export const V1_HEADER_WORTH = 24;

/** Receive states, in order (Core V2Transport::RecvState, plus V1 after a fallback). */
export const V2State = {
  /** Responder only: the first 16 bytes may still be a v1 version header. */
  MAYBE_V1: 0,
  /** Reading the other side's 64-byte key. */
  KEY: 1,
  /** Reading garbage until their terminator. */
  GARBAGE: 2,
  /** Reading packets until the version packet (decoys may come first). */
  VERSION: 3,
  /** Reading application packets. */
  APP: 4,
  /** Fell back to v1 framing (responder). */
  V1: 5,
} as const;

export interface V2TransportOptions {
  /** True for the side that opened the connection. */
  initiator: boolean;
  /** The network's message start as a uint32 read little-endian from its wire bytes. */
  magic: number;
  /** Responder: a peer whose first 16 bytes are a v1 version header is served in v1. @default true */
  allowV1?: boolean;
  /** Garbage bytes to send, 0..4,095. @default uniform in 0..4,095 (Core) */
  garbageLen?: number;
  /** Our key. @default a fresh random one */
  key?: EllswiftKey;
  /** Decoy packets sent before the version packet (the first carries the garbage as AAD). @default 0 */
  decoysBeforeVersion?: number;
  /** A decoy packet goes before every Nth application message; 0 never. @default 0 */
  decoyEvery?: number;
  /** Decoy contents length is uniform in 0..decoyMaxLen. @default 64 */
  decoyMaxLen?: number;
  /** Contents of our version packet (peers ignore it; BIP324 sends none). @default empty */
  versionContents?: Uint8Array;
}

const EMPTY = new Uint8Array(0);
/** Payload offset inside the plaintext buffer minus the bytes before it (see `deliver`). */
const PLAIN_OFF = 8;
const MIN_PART = 4096;
const V1_VERSION_CMD = COMMAND_BYTES[Command.version]!;

/** Offset of the contents in an unencrypted packet buffer: length + header. */
const CONTENTS_OFF = LENGTH_LEN + HEADER_LEN;

export class V2Transport {
  readonly initiator: boolean;
  readonly magic: number;
  sink: V1FrameSink;

  /** 0 while healthy, else the fatal status. */
  fatal = 0;
  state: number;
  /** Application packets delivered, decoys skipped, packets dropped for their message type. */
  packets = 0;
  decoys = 0;
  badTypes = 0;
  /** Garbage bytes the other side sent. */
  garbageReceived = -1;
  /** Bytes sent (own writes and returned encodings) and received, for `shouldReconnectV1`. */
  sentBytes = 0;
  receivedBytes = 0;

  /** Made on first use: a responder that turns out to serve a v1 peer never pays for a key (~5 ms). */
  private keyCache: EllswiftKey | null;
  private readonly garbageLen: number;
  private garbageCache: Uint8Array | null = null;
  private readonly magicBytes: Uint8Array;
  private readonly allowV1: boolean;
  private readonly decoysBeforeVersion: number;
  private readonly decoyEvery: number;
  private readonly decoyMaxLen: number;
  private readonly versionContents: Uint8Array;
  private out: ((bytes: Uint8Array) => void) | null = null;
  private cipher: Bip324Cipher | null = null;
  /** Ready to send packets (their key arrived and the terminator went out). */
  private sendReady = false;
  /** AAD for the next packet we send (our garbage, once), and for the next we receive. */
  private sendAad: Uint8Array = EMPTY;
  private recvAad: Uint8Array = EMPTY;
  /** Packets built before the session was up: contents in place, not yet encrypted. */
  private queue: { buf: Uint8Array; contentsLen: number; ignore: boolean }[] = [];
  private msgCount = 0;
  private v1: V1Decoder | null = null;

  // Handshake receive buffers: their key (and the maybe-v1 prefix), then garbage + terminator.
  private readonly hs = new Uint8Array(ELLSWIFT_LEN);
  private hsLen = 0;
  private garb: Uint8Array = EMPTY;
  private garbLen = 0;

  // Packet receive state: the decrypted length of the current packet (-1: not read yet), its
  // length bytes when they straddle chunks, and its ciphertext when it straddles.
  private curLen = -1;
  private readonly lenBuf = new Uint8Array(LENGTH_LEN);
  private lenHave = 0;
  private readonly lenScratch = new Uint8Array(LENGTH_LEN);
  private part: Uint8Array = EMPTY;
  private partLen = 0;
  private plain: Uint8Array = new Uint8Array(MIN_PART);

  constructor(options: V2TransportOptions, sink: V1FrameSink) {
    this.initiator = options.initiator;
    this.magic = options.magic >>> 0;
    this.sink = sink;
    this.magicBytes = new Uint8Array(4);
    new DataView(this.magicBytes.buffer).setUint32(0, this.magic, true);
    this.allowV1 = options.allowV1 ?? true;
    const gl = options.garbageLen ?? randomInt(0, MAX_GARBAGE_LEN + 1);
    if (!(gl >= 0 && gl <= MAX_GARBAGE_LEN)) throw new RangeError(`garbageLen must be 0..${MAX_GARBAGE_LEN}`);
    this.garbageLen = gl;
    this.keyCache = options.key ?? null;
    this.decoysBeforeVersion = options.decoysBeforeVersion ?? 0;
    this.decoyEvery = options.decoyEvery ?? 0;
    this.decoyMaxLen = options.decoyMaxLen ?? 64;
    this.versionContents = options.versionContents ?? EMPTY;
    this.state = this.initiator || !this.allowV1 ? V2State.KEY : V2State.MAYBE_V1;
  }

  private get key(): EllswiftKey {
    return (this.keyCache ??= ellswiftCreate());
  }

  private get garbage(): Uint8Array {
    return (this.garbageCache ??= this.garbageLen > 0 ? new Uint8Array(randomBytes(this.garbageLen)) : EMPTY);
  }

  get kind(): 'v1' | 'v2' {
    return this.state === V2State.V1 ? 'v1' : 'v2';
  }

  /** Our 64-byte ElligatorSwift key. */
  get publicKey(): Uint8Array {
    return this.key.pub;
  }

  /** The session id (32 bytes) once keys are derived, for out-of-band comparison. */
  get sessionId(): Uint8Array | null {
    return this.cipher ? this.cipher.sessionId : null;
  }

  /** True once the version packet arrived: application messages flow both ways. */
  get established(): boolean {
    return this.state === V2State.APP;
  }

  get bufferedBytes(): number {
    if (this.v1) return this.v1.bufferedBytes;
    return this.hsLen + this.garbLen + this.lenHave + this.partLen;
  }

  /**
   * Bitcoin Core V2Transport::ShouldReconnectV1: an initiator that received nothing at all but
   * sent at least a v1 header's worth, so a v1-only peer would have dropped it for bad magic.
   */
  get shouldReconnectV1(): boolean {
    return this.initiator && this.state === V2State.KEY && this.receivedBytes === 0 && this.sentBytes >= V1_HEADER_WORTH;
  }

  /** Attaches the writer for the transport's own bytes; the initiator sends its key and garbage now. */
  start(out: (bytes: Uint8Array) => void): void {
    this.out = out;
    if (this.initiator) this.sendKey();
  }

  private write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.sentBytes += bytes.length;
    this.out?.(bytes);
  }

  private sendKey(): void {
    const b = new Uint8Array(ELLSWIFT_LEN + this.garbage.length);
    b.set(this.key.pub, 0);
    b.set(this.garbage, ELLSWIFT_LEN);
    this.write(b);
  }

  /**
   * Takes over a session whose handshake happened elsewhere (benchmarks, tests, a handshake run
   * by another component): application packets flow at once under `cipher`.
   */
  resume(cipher: Bip324Cipher): void {
    this.cipher = cipher;
    this.state = V2State.APP;
    this.sendReady = true;
    this.hsLen = 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  /** The wire bytes of a message: a packet now, or empty while the handshake runs (queued). */
  encode<K extends CommandName>(command: K, msg: MessageMap[K]): Uint8Array {
    const id = Command[command];
    const size = encodedSize(command, msg);
    const { buf, payOff, contentsLen } = this.packetBuffer(id, COMMAND_BYTES[id]!, size);
    const w = new Writer(buf, payOff);
    encodeMessageInto(w, command, msg);
    return this.seal(buf, contentsLen, false);
  }

  /** The wire bytes of a raw payload under any command string (at most 12 bytes). */
  encodeRaw(command: string, payload: Uint8Array): Uint8Array {
    const id = Object.hasOwn(Command, command) && command !== 'unknown' ? (Command as Record<string, number>)[command]! : 0;
    const { buf, payOff, contentsLen } = this.packetBuffer(id, commandBytes(command), payload.length);
    buf.set(payload, payOff);
    return this.seal(buf, contentsLen, false);
  }

  /** A decoy packet (ignore bit set) of `len` zero bytes of contents; queued during the handshake. */
  encodeDecoy(len: number): Uint8Array {
    return this.seal(allocPacket(len), len, true);
  }

  private packetBuffer(id: number, cmd: Uint8Array, payloadSize: number): { buf: Uint8Array; payOff: number; contentsLen: number } {
    const sid = id > 0 ? COMMAND_TO_SHORT[id]! : 0;
    const typeLen = sid !== 0 ? 1 : 1 + COMMAND_SIZE;
    const contentsLen = typeLen + payloadSize;
    const buf = allocPacket(contentsLen);
    if (sid !== 0) buf[CONTENTS_OFF] = sid;
    else buf.set(cmd, CONTENTS_OFF + 1);
    return { buf, payOff: CONTENTS_OFF + typeLen, contentsLen };
  }

  private seal(buf: Uint8Array, contentsLen: number, ignore: boolean): Uint8Array {
    if (this.v1) return ignore ? EMPTY : this.v1Frame(buf, contentsLen);
    if (!this.sendReady) {
      this.queue.push({ buf, contentsLen, ignore });
      return EMPTY;
    }
    if (!ignore && this.decoyEvery > 0 && ++this.msgCount % this.decoyEvery === 0) {
      this.write(this.encrypt(allocPacket(randomInt(0, this.decoyMaxLen + 1)), -1, true));
    }
    const b = this.encrypt(buf, contentsLen, ignore);
    this.sentBytes += b.length;
    return b;
  }

  /** Encrypts a packet buffer in place (contentsLen -1: the buffer's own size). */
  private encrypt(buf: Uint8Array, contentsLen: number, ignore: boolean): Uint8Array {
    const len = contentsLen >= 0 ? contentsLen : buf.length - PACKET_OVERHEAD;
    this.cipher!.encryptInPlace(buf, 0, len, ignore, this.sendAad);
    this.sendAad = EMPTY;
    return buf;
  }

  /** The v1 frame of a message built as an unencrypted v2 packet (after a fallback). */
  private v1Frame(buf: Uint8Array, contentsLen: number): Uint8Array {
    const sid = buf[CONTENTS_OFF]!;
    const cmd = sid !== 0 ? COMMAND_BYTES[SHORT_TO_COMMAND[sid]!]! : buf.subarray(CONTENTS_OFF + 1, CONTENTS_OFF + 1 + COMMAND_SIZE);
    const payOff = CONTENTS_OFF + (sid !== 0 ? 1 : 1 + COMMAND_SIZE);
    return encodeRawFrame(this.magic, cmd, buf.subarray(payOff, CONTENTS_OFF + contentsLen));
  }

  /** Their key arrived: derive the session, send terminator, decoys, version packet and the queue. */
  private completeKey(): void {
    const theirs = this.hs.slice(0, ELLSWIFT_LEN);
    const secret = v2Ecdh(this.key.priv, theirs, this.key.pub, this.initiator);
    this.cipher = new Bip324Cipher(secret, this.initiator, this.magicBytes);
    this.hsLen = 0;
    this.state = V2State.GARBAGE;
    this.garb = new Uint8Array(MAX_GARBAGE_LEN + TERMINATOR_LEN);
    this.sendAad = this.garbage;
    const parts: Uint8Array[] = [this.cipher.sendTerminator];
    for (let i = 0; i < this.decoysBeforeVersion; i++) parts.push(this.encrypt(allocPacket(randomInt(0, this.decoyMaxLen + 1)), -1, true));
    const vp = allocPacket(this.versionContents.length);
    vp.set(this.versionContents, CONTENTS_OFF);
    parts.push(this.encrypt(vp, -1, false));
    for (const q of this.queue) parts.push(this.encrypt(q.buf, q.contentsLen, q.ignore));
    this.queue = [];
    this.sendReady = true;
    this.write(Buffer.concat(parts));
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  /** Feeds received bytes; returns 0 or a fatal status (the caller disconnects). */
  push(chunk: Uint8Array): number {
    if (this.fatal !== 0) return this.fatal;
    if (this.v1) return this.v1.push(chunk);
    this.receivedBytes += chunk.length;
    let pos = 0;
    const end = chunk.length;
    if (this.state === V2State.MAYBE_V1) {
      pos = this.maybeV1(chunk);
      if (this.v1 || this.fatal !== 0) return this.fatal;
    }
    if (this.state === V2State.KEY && pos < end) pos = this.readKey(chunk, pos);
    if (this.state === V2State.GARBAGE && pos < end) pos = this.readGarbage(chunk, pos);
    if (this.state >= V2State.VERSION && pos < end && this.fatal === 0) this.readPackets(chunk, pos);
    return this.fatal;
  }

  /** Compares the first bytes with a v1 version header; on a mismatch goes v2, on 16 goes v1. */
  private maybeV1(chunk: Uint8Array): number {
    const hs = this.hs;
    let pos = 0;
    while (pos < chunk.length && this.hsLen < V1_PREFIX_LEN) {
      const b = chunk[pos]!;
      const i = this.hsLen;
      const want = i < 4 ? this.magicBytes[i]! : V1_VERSION_CMD[i - 4]!;
      hs[this.hsLen++] = b;
      pos++;
      if (b !== want) {
        // Not v1: what arrived so far is the start of their key; ours goes out now (Core).
        this.state = V2State.KEY;
        this.sendKey();
        return pos;
      }
    }
    if (this.hsLen < V1_PREFIX_LEN) return pos;
    this.fallBackToV1(chunk, pos);
    return chunk.length;
  }

  private fallBackToV1(chunk: Uint8Array, pos: number): void {
    this.state = V2State.V1;
    const v1 = new V1Decoder(this.magic, this.sink);
    this.v1 = v1;
    const prefix = this.hs.slice(0, V1_PREFIX_LEN);
    this.hsLen = 0;
    // Messages encoded before the decision were queued as v2 packets: they go out as v1 frames.
    const q = this.queue;
    this.queue = [];
    for (const m of q) if (!m.ignore) this.write(this.v1Frame(m.buf, m.contentsLen));
    let st = v1.push(prefix);
    if (st === 0 && pos < chunk.length) st = v1.push(chunk.subarray(pos));
    this.fatal = st;
  }

  private readKey(chunk: Uint8Array, pos: number): number {
    const take = Math.min(ELLSWIFT_LEN - this.hsLen, chunk.length - pos);
    this.hs.set(chunk.subarray(pos, pos + take), this.hsLen);
    this.hsLen += take;
    pos += take;
    if (!this.initiator && this.hsLen >= V1_PREFIX_LEN) {
      // Core: bytes 4..16 of a v1 version header under another network's magic (with our magic
      // it would have been v1 already): a peer of another network, dropped with its own reason.
      let same = true;
      for (let i = 0; i < COMMAND_SIZE && same; i++) same = this.hs[4 + i] === V1_VERSION_CMD[i];
      if (same) {
        this.fatal = Status.V2_WRONG_NETWORK;
        return chunk.length;
      }
    }
    if (this.hsLen === ELLSWIFT_LEN) this.completeKey();
    return pos;
  }

  private readGarbage(chunk: Uint8Array, pos: number): number {
    const g = this.garb;
    const term = this.cipher!.recvTerminator;
    const last = term[TERMINATOR_LEN - 1]!;
    while (pos < chunk.length) {
      const b = chunk[pos++]!;
      g[this.garbLen++] = b;
      if (b === last && this.garbLen >= TERMINATOR_LEN) {
        const s = this.garbLen - TERMINATOR_LEN;
        let i = 0;
        while (i < TERMINATOR_LEN - 1 && g[s + i] === term[i]) i++;
        if (i === TERMINATOR_LEN - 1) {
          this.recvAad = g.slice(0, s);
          this.garbageReceived = s;
          this.garb = EMPTY;
          this.garbLen = 0;
          this.state = V2State.VERSION;
          return pos;
        }
      }
      if (this.garbLen === g.length) {
        this.fatal = Status.V2_NO_TERMINATOR;
        return chunk.length;
      }
    }
    return pos;
  }

  /** Packets: lengths, then whole packets decrypted from the chunk or from the straddle buffer. */
  private readPackets(chunk: Uint8Array, pos: number): void {
    const end = chunk.length;
    const cipher = this.cipher!;
    while (pos < end) {
      if (this.curLen < 0) {
        let len: number;
        if (this.lenHave === 0 && end - pos >= LENGTH_LEN) {
          len = cipher.decryptLength(chunk, pos, this.lenScratch);
          pos += LENGTH_LEN;
        } else {
          while (this.lenHave < LENGTH_LEN && pos < end) this.lenBuf[this.lenHave++] = chunk[pos++]!;
          if (this.lenHave < LENGTH_LEN) return;
          this.lenHave = 0;
          len = cipher.decryptLength(this.lenBuf, 0, this.lenScratch);
        }
        if (len > MAX_CONTENTS_LEN) {
          this.fatal = Status.V2_OVERSIZE;
          return;
        }
        this.curLen = len;
      }
      const need = HEADER_LEN + this.curLen + TAG_LEN;
      if (this.partLen === 0 && end - pos >= need) {
        if (!this.open(chunk, pos)) return;
        pos += need;
        continue;
      }
      const take = Math.min(need - this.partLen, end - pos);
      this.append(chunk, pos, take, need);
      pos += take;
      if (this.partLen < need) return;
      const buf = this.part;
      this.partLen = 0;
      if (buf.length > MIN_PART) this.part = EMPTY; // an idle peer holds no large buffer
      if (!this.open(buf, 0)) return;
    }
  }

  /** Copies straddling ciphertext, growing the buffer to at most twice what arrived (as v1). */
  private append(src: Uint8Array, pos: number, n: number, total: number): void {
    const need = this.partLen + n;
    if (need > this.part.length) {
      let cap = Math.max(this.part.length * 2, need, MIN_PART);
      if (cap > total) cap = total;
      const grown = new Uint8Array(cap);
      grown.set(this.part.subarray(0, this.partLen));
      this.part = grown;
    }
    this.part.set(src.subarray(pos, pos + n), this.partLen);
    this.partLen = need;
  }

  /** Authenticates and decrypts the packet at `buf[off..)` (length already read) and delivers it. */
  private open(buf: Uint8Array, off: number): boolean {
    const len = this.curLen;
    this.curLen = -1;
    const ptLen = HEADER_LEN + len;
    if (this.plain.length < PLAIN_OFF + ptLen) this.plain = new Uint8Array(Math.max(PLAIN_OFF + ptLen, this.plain.length * 2));
    const plain = this.plain;
    const ok = this.cipher!.recvP.decrypt(this.recvAad, buf, off, ptLen, plain, PLAIN_OFF);
    // The garbage is authenticated by the first packet only, decoy or not (Core m_recv_aad).
    this.recvAad = EMPTY;
    if (!ok) {
      this.fatal = Status.V2_AUTH;
      return false;
    }
    if ((plain[PLAIN_OFF]! & IGNORE_BIT) !== 0) this.decoys++;
    else if (this.state === V2State.VERSION) this.state = V2State.APP; // contents ignored (BIP324)
    else this.deliver(plain, len);
    if (plain.length > 1 << 20) this.plain = new Uint8Array(MIN_PART);
    return true;
  }

  /**
   * Hands one application message to the sink. The sink reads an unknown command's 12 bytes at
   * payload offset - 20 (the v1 header layout), so a long type is moved 8 bytes down first: the
   * plaintext sits at PLAIN_OFF = 8 for exactly that room.
   */
  private deliver(plain: Uint8Array, len: number): void {
    const t = PLAIN_OFF + HEADER_LEN;
    if (len === 0) {
      this.badTypes++;
      return;
    }
    const sid = plain[t]!;
    if (sid !== 0) {
      if (sid > V2_MAX_SHORT_ID) {
        this.badTypes++;
        return;
      }
      this.packets++;
      this.sink.onFrame(SHORT_TO_COMMAND[sid]!, plain, t + 1, len - 1, true);
      return;
    }
    if (len < 1 + COMMAND_SIZE) {
      this.badTypes++;
      return;
    }
    const cmd = lookupCommand(new DataView(plain.buffer, plain.byteOffset, plain.byteLength), t + 1);
    if (cmd < 0) {
      this.badTypes++;
      return;
    }
    const payOff = t + 1 + COMMAND_SIZE;
    if (cmd === 0) plain.copyWithin(payOff - 20, t + 1, payOff);
    this.packets++;
    this.sink.onFrame(cmd, plain, payOff, len - 1 - COMMAND_SIZE, true);
  }
}
