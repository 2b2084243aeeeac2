/**
 * A batch of observation records as the coordinator drained them from one shard's ring: the raw
 * record bytes (ring layout, README.md here) copied out in one piece, with accessors per field and
 * the peer's address resolved at drain time. The cheap way to consume the pool (`pool.records()`):
 * no object and no hex string per record; `hashHex(i)` makes the display-order hex only on request.
 * Main thread; accessors are warm (called per record by consumers). Imports only the ring layout.
 */
import { RECORD_SIZE, R_TIME, R_PEER, R_KIND, R_ENTRY, R_INV_TYPE, R_SEQ, R_HASH } from './ring.js';
import { hashToHex } from '../protocol/hex.js';

export class RecordBatch {
  /** The shard whose ring the records came from. */
  readonly shard: number;
  /** Number of records. */
  readonly length: number;
  /** The records, `RECORD_SIZE` bytes each, in ring order. */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** The peer's address (host:port) per record, as known when the batch was drained ('' if unknown). */
  readonly addresses: readonly string[];

  constructor(shard: number, bytes: Uint8Array, addresses: readonly string[]) {
    this.shard = shard;
    this.bytes = bytes;
    this.length = bytes.length / RECORD_SIZE;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.addresses = addresses;
  }

  /** Receive time, epoch ms (taken when the socket read arrived, before parsing). */
  time(i: number): number {
    return this.view.getFloat64(i * RECORD_SIZE + R_TIME, true);
  }
  peer(i: number): number {
    return this.view.getUint32(i * RECORD_SIZE + R_PEER, true);
  }
  address(i: number): string {
    return this.addresses[i] ?? '';
  }
  /** Kind (src/observe/kinds.ts: 1 inv, 2 headers, 3 cmpctblock). */
  kind(i: number): number {
    return this.bytes[i * RECORD_SIZE + R_KIND]!;
  }
  entry(i: number): number {
    return this.view.getUint16(i * RECORD_SIZE + R_ENTRY, true);
  }
  invType(i: number): number {
    return this.view.getUint32(i * RECORD_SIZE + R_INV_TYPE, true);
  }
  /** The shard's message sequence number (records of one message share it). */
  seq(i: number): number {
    return this.view.getUint32(i * RECORD_SIZE + R_SEQ, true);
  }
  /** Byte offset of record i's 32-byte hash (wire order) in `bytes`: for HashIndex, comparisons, copies. */
  hashOffset(i: number): number {
    return i * RECORD_SIZE + R_HASH;
  }
  /** The hash in wire order, a view into the batch (copy it to keep it past the batch). */
  hash(i: number): Uint8Array {
    const o = i * RECORD_SIZE + R_HASH;
    return this.bytes.subarray(o, o + 32);
  }
  /** The hash as display-order hex (as RPC and explorers show it). */
  hashHex(i: number): string {
    return hashToHex(this.bytes, i * RECORD_SIZE + R_HASH);
  }
}
