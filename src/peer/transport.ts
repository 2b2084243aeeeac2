/**
 * The transport seam between a peer and its bytes: v1 framing, or BIP324 v2 behind the same
 * interface. A transport turns received chunks into frames for a sink and messages into wire
 * bytes; it never touches a socket. v2 also sends bytes of its own (key, garbage, handshake,
 * messages queued during it) through the writer `start` receives. Runs on the thread that owns
 * the peer; hot path on receive.
 */
import { V1Decoder, encodeFrame, encodeRawFrame, type V1FrameSink, type V1DecoderOptions } from '../transport/v1.js';
import { V2Transport, type V2TransportOptions } from '../transport/v2/transport.js';
import type { CommandName } from '../protocol/constants.js';
import type { MessageMap } from '../protocol/registry.js';

export type FrameSink = V1FrameSink;

export interface PeerTransport {
  /** Recorded per peer: 'v1' or 'v2'. */
  readonly kind: 'v1' | 'v2';
  /** Feeds received bytes; frames go to the sink. Returns 0 or a fatal status (disconnect). */
  push(chunk: Uint8Array): number;
  /** The wire bytes of a message. */
  encode<K extends CommandName>(command: K, msg: MessageMap[K]): Uint8Array;
  /** The wire bytes of a raw payload under any command string. */
  encodeRaw(command: string, payload: Uint8Array): Uint8Array;
  /** Bytes held for a frame that has not fully arrived. */
  readonly bufferedBytes: number;
  /**
   * Attaches the writer for bytes the transport sends by itself (v2: its key and garbage, the
   * terminator and version packet, messages encoded before the session was up, decoys). The peer
   * calls it once, when attached, before it sends anything. v1 sends nothing of its own.
   */
  start?(out: (bytes: Uint8Array) => void): void;
  /**
   * v2 initiator: true while nothing was received but a v1 header's worth was sent, so a drop
   * now means "the peer may only speak v1: retry with v1" (Core ShouldReconnectV1).
   */
  readonly shouldReconnectV1?: boolean;
  /** v1, after a BAD_MAGIC status: the four bytes found instead of the magic (V1Decoder.badMagic). */
  readonly badMagic?: number;
}

/** Which transport a connection uses: 'auto' is decided per address by the pool. */
export type TransportKind = 'v1' | 'v2';

/**
 * The factory a Peer takes for a transport kind and direction. An inbound v2 transport is a
 * responder that serves v1 peers too (it detects a v1 version header).
 */
export function transportFactory(
  kind: TransportKind,
  direction: 'outbound' | 'inbound',
  magic: number,
  v2Options: Partial<V2TransportOptions> = {},
): (sink: FrameSink) => PeerTransport {
  if (kind === 'v1') return (sink) => new V1Transport(magic, sink);
  return (sink) => new V2Transport({ ...v2Options, initiator: direction === 'outbound', magic }, sink);
}

export class V1Transport implements PeerTransport {
  readonly kind = 'v1' as const;
  readonly decoder: V1Decoder;
  readonly magic: number;

  /** `decoder`: options of the V1Decoder (the pool's shards pass a smaller checksum batch). */
  constructor(magic: number, sink: FrameSink, decoder?: V1DecoderOptions) {
    this.magic = magic;
    this.decoder = new V1Decoder(magic, sink, decoder);
  }

  push(chunk: Uint8Array): number {
    return this.decoder.push(chunk);
  }

  encode<K extends CommandName>(command: K, msg: MessageMap[K]): Uint8Array {
    return encodeFrame(this.magic, command, msg);
  }

  encodeRaw(command: string, payload: Uint8Array): Uint8Array {
    return encodeRawFrame(this.magic, command, payload);
  }

  get bufferedBytes(): number {
    return this.decoder.bufferedBytes;
  }

  get badMagic(): number {
    return this.decoder.badMagic;
  }
}
