/**
 * The transports' public surface: v1 framing (push decoder, frame writer). BIP324 v2 joins here.
 * Sans-I/O; any thread.
 */
export {
  V1Decoder,
  encodeFrame,
  encodeRawFrame,
  allocFrame,
  sealFrame,
  clearFramePool,
  HEADER_SIZE,
  EMPTY_CHECKSUM,
  type V1FrameSink,
  type V1DecoderOptions,
} from './v1.js';
