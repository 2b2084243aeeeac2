/**
 * The drain of a shard's ring into the observation queue: every published record taken as one
 * batch (one copy, no object per record), each record's peer address resolved at drain time (the
 * peer may be forgotten before the consumer reads it). Main thread, warm path: runs whenever a
 * shard publishes. Never blocks and never waits on the consumer.
 */
import { RingReader, RECORD_SIZE, R_PEER } from '../../observe/ring.js';
import { RecordBatch } from '../../observe/batch.js';
import type { ObservationQueue } from './queue.js';

export class RecordSink {
  /** Records taken from all rings (queued, discarded for want of a consumer, or dropped). */
  observations = 0;
  /** Records discarded because the queue was full (a slow consumer). */
  consumerDrops = 0;

  constructor(
    private readonly queue: ObservationQueue,
    /** The address of a coordinator-wide peer index ('' if unknown). */
    private readonly addressOf: (peer: number) => string,
  ) {}

  /**
   * Takes every published record of one shard's ring. Without a consumer records are only
   * counted; beyond the queue's room they are counted as consumerDrops. True if it took any.
   */
  drain(shard: number, reader: RingReader): boolean {
    const q = this.queue;
    if (!q.active) {
      const n = reader.discard(Infinity);
      this.observations += n;
      return n > 0;
    }
    const bytes = reader.take(q.room);
    if (bytes !== null) {
      const n = bytes.length / RECORD_SIZE;
      this.observations += n;
      q.push(new RecordBatch(shard, bytes, this.addresses(bytes, n)));
    }
    if (q.room === 0) {
      const dropped = reader.discard(Infinity);
      this.observations += dropped;
      this.consumerDrops += dropped;
    }
    return bytes !== null;
  }

  /** The peer address of each record (a peer's records come in runs: one lookup per run). */
  private addresses(bytes: Uint8Array, n: number): string[] {
    const addrs = new Array<string>(n);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let last = -1;
    let address = '';
    for (let i = 0; i < n; i++) {
      const peer = dv.getUint32(i * RECORD_SIZE + R_PEER, true);
      if (peer !== last) {
        last = peer;
        address = this.addressOf(peer);
      }
      addrs[i] = address;
    }
    return addrs;
  }
}
