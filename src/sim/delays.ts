/**
 * The simulated network's fixed delays in real (scaled) ms: each adjacency slot's link latency
 * with the slot of the same link seen from its other end, and each node's validation delay for
 * a transaction and for a block. Drawn once when the model is built. Simulator process; cold.
 */
import type { Rng } from './rng.js';
import type { Topology } from './topology.js';

/** Block validation costs this many times a node's tx validation delay. */
const BLOCK_VALIDATION_FACTOR = 10;
/** Lognormal shape of the per-node validation delay (fast and slow machines). */
const VALIDATION_SIGMA = 0.5;

/** Per adjacency slot: scaled latency (latS) and the reverse slot of the same link (revSlot). */
export function slotLatencies(topo: Topology, timeScale: number): { latS: Float64Array; revSlot: Int32Array } {
  const slots = topo.adjNode.length;
  const latS = new Float64Array(slots);
  const revSlot = new Int32Array(slots);
  const firstSlot = new Int32Array(topo.linkA.length).fill(-1);
  for (let s = 0; s < slots; s++) {
    const l = topo.adjLink[s]!;
    latS[s] = topo.latencyMs[l]! / timeScale;
    if (firstSlot[l]! < 0) firstSlot[l] = s;
    else {
      revSlot[s] = firstSlot[l]!;
      revSlot[firstSlot[l]!] = s;
    }
  }
  return { latS, revSlot };
}

/** Per node: scaled validation delay of a transaction (valTx) and of a block (valBlock). */
export function validationDelays(n: number, validationMs: number, timeScale: number, rng: Rng): { valTx: Float64Array; valBlock: Float64Array } {
  const valTx = new Float64Array(n);
  const valBlock = new Float64Array(n);
  for (let u = 0; u < n; u++) {
    const v = validationMs > 0 ? rng.lognormal(validationMs, VALIDATION_SIGMA) / timeScale : 0;
    valTx[u] = v;
    valBlock[u] = v * BLOCK_VALIDATION_FACTOR;
  }
  return { valTx, valBlock };
}
