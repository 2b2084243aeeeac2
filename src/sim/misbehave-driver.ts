/**
 * Drives a misbehaving simulated node's connection: after the handshake, the bad bytes of its
 * mode (src/sim/misbehave.ts builds them) written behind whatever the peer has queued; before it,
 * the modes that never complete a handshake (slow drip, no handshake, no verack) on the raw
 * socket. Each misbehaviour goes to the truth. Simulator process, main thread; cold.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import type { NetworkParams } from '../protocol/constants.js';
import { ipV1FromString } from '../protocol/messages/address.js';
import { encodeFrame } from '../transport/v1.js';
import { now } from '../observe/clock.js';
import type { Rng } from './rng.js';
import type { Conn, SimServerStats, SimTruthSink } from './conn.js';
import type { Misbehaviour, SimNodeInfo } from './types.js';
import { MISBEHAVE, badChecksumFrame, badMagicFrame, floodChunks, garbageBytes, invFloodFrame, oversizeHeader, pump, tinyFlood, truncatedFrame } from './misbehave.js';

/** The modes that answer without a Peer: the handshake never completes. */
export type RawMode = 'slow-drip' | 'no-handshake' | 'no-verack';

export function isRawMode(mode: Misbehaviour | null): mode is RawMode {
  return mode === 'slow-drip' || mode === 'no-handshake' || mode === 'no-verack';
}

export interface MisbehaveDeps {
  network: NetworkParams;
  stats: SimServerStats;
  truth: SimTruthSink | null;
  /** The server's seeded stream (garbage bytes). */
  rng: Rng;
  badChecksumIntervalMs: number;
  dripIntervalMs: number;
  /** The node's height for its version's start height. */
  heightOf(node: number): number;
}

export class MisbehaveDriver {
  private readonly d: MisbehaveDeps;
  private readonly rand: () => number;

  constructor(deps: MisbehaveDeps) {
    this.d = deps;
    this.rand = () => deps.rng.float();
  }

  private record(node: number, what: Misbehaviour): void {
    this.d.stats.misbehaviours++;
    this.d.truth?.misbehave(node, what, now());
  }

  /** Writes bad bytes straight to the socket, behind whatever the peer has queued (one stream). */
  private writeRaw(c: Conn, bytes: Uint8Array): void {
    if (!c.closed && !c.socket.destroyed) c.socket.write(bytes);
  }

  /** Repeats `fn` every `ms` until the connection closes (the interval dies with it). */
  private every(c: Conn, ms: number, fn: () => void): ReturnType<typeof setInterval> {
    const h = setInterval(fn, ms);
    h.unref();
    c.timers.push(h as unknown as ReturnType<typeof setTimeout>);
    return h;
  }

  /** The bad bytes of a mode that misbehaves after a completed handshake. */
  afterHandshake(c: Conn, mode: Misbehaviour): void {
    if (c.closed) return;
    const magic = this.d.network.magic;
    switch (mode) {
      case 'bad-checksum': {
        let nonce = 1;
        const once = (): void => {
          if (c.closed) return;
          this.record(c.node, mode);
          this.writeRaw(c, badChecksumFrame(magic, nonce++));
        };
        once();
        this.every(c, this.d.badChecksumIntervalMs, once);
        return;
      }
      case 'bad-magic':
        this.record(c.node, mode);
        return this.writeRaw(c, badMagicFrame(magic));
      case 'oversize':
        this.record(c.node, mode);
        return this.writeRaw(c, oversizeHeader(magic));
      case 'garbage':
        this.record(c.node, mode);
        return this.writeRaw(c, garbageBytes(magic, MISBEHAVE.GARBAGE_BYTES, this.rand));
      case 'truncated':
        this.record(c.node, mode);
        c.socket.end(truncatedFrame(magic));
        return;
      case 'inv-flood': {
        this.record(c.node, mode);
        const f = invFloodFrame(magic);
        for (let i = 0; i < MISBEHAVE.INV_FLOOD_FRAMES; i++) this.writeRaw(c, f);
        return;
      }
      case 'tiny-flood':
        this.record(c.node, mode);
        return this.writeRaw(c, tinyFlood(magic));
      case 'never-reads':
      case 'checksum-flood':
      case 'inv-storm':
      case 'addr-flood':
      case 'ping-flood':
      case 'command-flood':
        this.record(c.node, mode);
        // never-reads stops reading first: the observer's pongs pile up in its send buffer.
        if (mode === 'never-reads') c.socket.pause();
        void pump(c.socket, floodChunks(mode, this.d.network), () => c.closed);
        return;
      default:
        return;
    }
  }

  /** Nodes that never complete a handshake: no Peer, only the raw socket. */
  raw(c: Conn, info: SimNodeInfo, mode: RawMode): void {
    const socket = c.socket;
    socket.on('error', () => {});
    socket.on('data', () => {}); // read and ignore what the observer sends
    this.record(c.node, mode);
    if (mode === 'no-handshake') return;
    const version = encodeFrame(this.d.network.magic, 'version', {
      version: info.protocolVersion,
      services: info.services,
      timestamp: BigInt(Math.floor(Date.now() / 1000)),
      addrRecv: { services: 0n, ip: ipV1FromString(socket.remoteAddress ?? '') ?? ipV1FromString('127.0.0.1')!, port: socket.remotePort ?? 0 },
      addrFrom: { services: 0n, ip: new Uint8Array(16), port: 0 },
      nonce: cryptoRandomBytes(8).readBigUInt64LE(0),
      userAgent: info.userAgent,
      startHeight: this.d.heightOf(c.node),
      relay: true,
    });
    if (mode === 'no-verack') {
      // The whole version at once, then nothing: the handshake never completes.
      socket.write(version);
      return;
    }
    let i = 0;
    const drip = (): void => {
      if (c.closed || i >= version.length) {
        clearInterval(h);
        return;
      }
      socket.write(version.subarray(i, i + 1));
      i++;
    };
    const h = this.every(c, this.d.dripIntervalMs, drip);
    drip();
  }
}
