/**
 * The transport seam between a peer and its bytes: v1 framing today, BIP324 v2 slots in behind
 * the same interface. A transport turns received chunks into frames for a sink and messages into
 * wire bytes; it never touches a socket. Runs on the thread that owns the peer; hot path on receive.
 */
import { V1Decoder, encodeFrame, encodeRawFrame, type V1FrameSink } from '../transport/v1.js';
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
}

export class V1Transport implements PeerTransport {
  readonly kind = 'v1' as const;
  readonly decoder: V1Decoder;
  readonly magic: number;

  constructor(magic: number, sink: FrameSink) {
    this.magic = magic;
    this.decoder = new V1Decoder(magic, sink);
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
}
