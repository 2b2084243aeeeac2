/**
 * The transports' public surface: v1 framing (push decoder, frame writer) and BIP324 v2.
 * Sans-I/O; any thread.
 */
export {
  V1Decoder,
  encodeFrame,
  encodeRawFrame,
  allocFrame,
  sealFrame,
  clearFramePool,
  FRAME_HEADER_SIZE,
  EMPTY_CHECKSUM,
  type V1FrameSink,
  type V1DecoderOptions,
} from './v1.js';
export { V2Transport, V2State, MAX_GARBAGE_LEN, MAX_CONTENTS_LEN, type V2TransportOptions } from './v2/transport.js';
export { Bip324Cipher, FSChaCha20, FSChaCha20Poly1305, REKEY_INTERVAL } from './v2/aead.js';
export { ellswiftCreate, ellswiftDecode, xswiftec, xswiftecInv, v2Ecdh, type EllswiftKey } from './v2/ellswift.js';
export { V2_SHORT_IDS } from './v2/ids.js';
