/**
 * What a Peer counts and learns: per-command message and byte counters, fault counts, times
 * (PeerStats), and what the remote said in its version (RemoteInfo). Any thread; the counters
 * are bumped on the receive path.
 */
import { COMMAND_COUNT, COMMAND_NAMES } from '../protocol/constants.js';
import type { NetAddrV1 } from '../protocol/messages/address.js';
import { now } from '../observe/clock.js';
/** Per-peer counters and times. Arrays are indexed by command id (0 = unknown commands). */
export class PeerStats {
  bytesIn = 0;
  bytesOut = 0;
  readonly msgsInByCommand = new Float64Array(COMMAND_COUNT);
  readonly bytesInByCommand = new Float64Array(COMMAND_COUNT);
  readonly msgsOutByCommand = new Float64Array(COMMAND_COUNT);
  readonly bytesOutByCommand = new Float64Array(COMMAND_COUNT);
  /** Unknown commands received, by name (bounded: at most 64 names, then '<other>'). */
  readonly unknownIn = new Map<string, number>();
  /** Bad-input outcomes by code (ERR_WIRE_CHECKSUM, ERR_WIRE_TRUNCATED, EARLY_MESSAGE ...). */
  readonly faults = new Map<string, number>();
  createdAt = now();
  connectedAt = 0;
  versionAt = 0;
  handshakeAt = 0;
  closedAt = 0;
  closeReason = '';
  closeDetail = '';
  pingsSent = 0;
  pongsReceived = 0;
  lastRttMs = -1;
  minRttMs = -1;
  /** The last 16 round-trip times, oldest first. */
  readonly rttsMs: number[] = [];
  handlerErrors = 0;
  sendRefused = 0;
  /**
   * High-water marks of the memory this peer held (memory per peer within its bound):
   * bytes queued for sending in the I/O after a write (bounded by maxSendBuffer plus one frame:
   * sends are refused over it), and bytes of a partial frame held by the transport after a read
   * (bounded by what arrived, src/transport/README.md "Memory").
   */
  sendBufferedMax = 0;
  recvBufferedMax = 0;

  fault(code: string): void {
    this.faults.set(code, (this.faults.get(code) ?? 0) + 1);
  }

  /** A plain JSON form (per-command maps by name, only non-zero entries). */
  toJSON(): Record<string, unknown> {
    const byName = (a: Float64Array): Record<string, number> => {
      const o: Record<string, number> = {};
      for (let i = 1; i < a.length; i++) if (a[i]) o[COMMAND_NAMES[i]!] = a[i]!;
      if (a[0]) o['<unknown>'] = a[0];
      return o;
    };
    return {
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      msgsIn: byName(this.msgsInByCommand),
      bytesInByCommand: byName(this.bytesInByCommand),
      msgsOut: byName(this.msgsOutByCommand),
      bytesOutByCommand: byName(this.bytesOutByCommand),
      unknownIn: Object.fromEntries(this.unknownIn),
      faults: Object.fromEntries(this.faults),
      createdAt: this.createdAt,
      connectedAt: this.connectedAt,
      handshakeAt: this.handshakeAt,
      closedAt: this.closedAt,
      closeReason: this.closeReason,
      closeDetail: this.closeDetail,
      pingsSent: this.pingsSent,
      pongsReceived: this.pongsReceived,
      lastRttMs: this.lastRttMs,
      minRttMs: this.minRttMs,
      rttsMs: this.rttsMs,
      handlerErrors: this.handlerErrors,
      sendRefused: this.sendRefused,
      sendBufferedMax: this.sendBufferedMax,
      recvBufferedMax: this.recvBufferedMax,
    };
  }
}

/** What the remote peer told us in its version (and the features it negotiated). */
export interface RemoteInfo {
  version: number;
  services: bigint;
  userAgent: string;
  startHeight: number;
  relay: boolean;
  nonce: bigint;
  /** How the peer sees us (its addrRecv). */
  addrRecv: NetAddrV1;
  wtxidRelay: boolean;
  sendAddrV2: boolean;
  sendHeaders: boolean;
  /** BIP152: the peer's sendcmpct, if any. */
  cmpct: { announce: boolean; version: bigint } | null;
  feeFilter: bigint;
}

