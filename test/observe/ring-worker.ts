/**
 * Test helper run in a worker thread: the producer side of a ring, writing `count` records whose
 * hash encodes their number, publishing every `batch` records (one publish per "socket read").
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RingWriter, Kind } from '../../src/observe/ring.js';
import { now } from '../../src/observe/clock.js';

const { sab, count, batch } = workerData as { sab: SharedArrayBuffer; count: number; batch: number };
const w = new RingWriter(sab);
const hash = new Uint8Array(32);
const dv = new DataView(hash.buffer);
let accepted = 0;
for (let i = 0; i < count; i++) {
  dv.setUint32(0, i, true);
  dv.setUint32(28, i ^ 0xa5a5a5a5, true);
  if (w.push(now(), 7, Kind.INV, i & 0xffff, 5, i, hash, 0)) accepted++;
  if ((i + 1) % batch === 0) w.publish();
}
w.publish();
parentPort!.postMessage({ accepted });
