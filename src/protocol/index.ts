/**
 * The codec's public surface: constants, errors, reader/writer, hex and hashes, the command
 * registry and every message family. Pure (no sockets, no timers); any thread.
 */
export * from './constants.js';
export * from './errors.js';
export { Reader, MAX_SIZE } from './reader.js';
export { Writer, varintSize, varint64Size } from './writer.js';
export * from './hex.js';
export { sha256, sha256d, bytesEqual } from './hash.js';
export { checksum, checksumBatch, sha256dInto, sha256dBatch } from './checksum.js';
export { lookupCommand, commandBytes, commandString, commandId, isCommandValid, COMMAND_SIZE } from './commands.js';
export { signetMagic } from './network.js';
export type { MessageCodec, EmptyMessage } from './message.js';
export {
  codecOf,
  decodePayload,
  decodeMessage,
  encodeMessage,
  encodeMessageInto,
  encodedSize,
  messageToJSON,
  type MessageMap,
  type RawMessage,
  type AnyMessage,
} from './registry.js';
export * as control from './messages/control.js';
export * as address from './messages/address.js';
export * as inventory from './messages/inventory.js';
export * as locator from './messages/locator.js';
export * as bloom from './messages/bloom.js';
export * as cfilters from './messages/cfilters.js';
export * as tx from './messages/tx.js';
export * as block from './messages/block.js';
export * as headers from './messages/headers.js';
export * as merkleblock from './messages/merkleblock.js';
export * as compact from './messages/compact.js';
export { scanInv, invEntryOffset, invEntryType } from './messages/inventory.js';
export { scanHeaders, headerOffset } from './messages/headers.js';
export { scanTx, computeTxid, computeWtxid } from './messages/tx.js';
export { decodeBlock, blockTxidsInto, BlockMessage } from './messages/block.js';
