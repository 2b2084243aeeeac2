/**
 * The simulated network's graph: every node opens `outbound` links to distinct random others
 * (Core's 8 full-relay outbound slots), inbound capped at `maxInbound`, one link per pair, the
 * graph checked connected and repaired by rewiring if not; per-link one-way latency drawn once
 * from a lognormal. Stored as CSR typed arrays for the gossip loop. Simulator process; built once
 * (cold), read on the hot path.
 */
import type { Rng } from './rng.js';

export interface Topology {
  n: number;
  /** Outbound links per node actually opened (the option, clamped to (n - 1) / 2 for tiny networks). */
  outbound: number;
  /** Undirected links; link l was opened by linkA[l] (outbound side) to linkB[l] (inbound side). */
  linkA: Int32Array;
  linkB: Int32Array;
  /** One-way latency of each link in model milliseconds (before the time scale). */
  latencyMs: Float64Array;
  /** CSR adjacency: node u's neighbours are adjNode[adjStart[u] .. adjStart[u + 1]). */
  adjStart: Int32Array;
  adjNode: Int32Array;
  adjLink: Int32Array;
  /** 1 when adjNode[s] is an outbound peer of the slot's owner (the owner opened the link). */
  adjOut: Uint8Array;
  inbound: Int32Array;
  /** Links rewired to make the graph connected (0 almost always at 8 outbound). */
  repairs: number;
}

/** Random tries for a peer before the linear fallback scan. */
const PICK_TRIES = 64;

/**
 * Builds the graph. Throws a RangeError naming the values when it cannot exist
 * (outbound > maxInbound: not enough inbound slots in the whole network).
 */
export function buildTopology(
  n: number,
  outboundOpt: number,
  maxInbound: number,
  latencyMedianMs: number,
  latencySigma: number,
  rng: Rng,
): Topology {
  if (n < 1) throw new RangeError(`nodes must be at least 1, got ${n}`);
  // A node has at most n - 1 neighbours and each opens k while accepting k on average: 2k <= n - 1.
  const k = Math.max(0, Math.min(outboundOpt, Math.floor((n - 1) / 2)));
  if (k > maxInbound) throw new RangeError(`outbound ${outboundOpt} exceeds maxInbound ${maxInbound}: not enough inbound slots`);
  const out = new Int32Array(n * k).fill(-1);
  const inbound = new Int32Array(n);
  const linked = (u: number, v: number): boolean => {
    for (let j = 0; j < k; j++) if (out[u * k + j] === v || out[v * k + j] === u) return true;
    return false;
  };
  const ok = (u: number, v: number): boolean => v !== u && inbound[v]! < maxInbound && !linked(u, v);

  // A dense small network (2k close to n - 1) can paint itself into a corner: then start over,
  // with the seed's stream where it is (the first attempt, which almost always succeeds, draws
  // exactly what it did before). Returns -1 when every node has its k links, else the stuck node.
  const place = (): number => {
    for (let u = 0; u < n; u++) {
      for (let j = 0; j < k; j++) {
        let v = -1;
        for (let t = 0; t < PICK_TRIES && v < 0; t++) {
          const c = rng.int(n);
          if (ok(u, c)) v = c;
        }
        if (v < 0) {
          const s = rng.int(n);
          for (let i = 0; i < n && v < 0; i++) if (ok(u, (s + i) % n)) v = (s + i) % n;
        }
        if (v < 0) {
          // Stuck (late nodes of a small network): take an existing link a->b that touches neither
          // u nor its neighbours and split it into a->u and u->b: a keeps its outbound count, b its
          // inbound count, u gains one of each.
          for (let t = 0; t < n * k * 4 && v < 0; t++) {
            const a = rng.int(n);
            const jj = rng.int(k);
            const b = out[a * k + jj]!;
            if (b < 0 || a === u || b === u || inbound[u]! >= maxInbound || linked(u, a) || linked(u, b)) continue;
            out[a * k + jj] = u;
            inbound[u]!++;
            inbound[b]!--;
            v = b;
          }
        }
        if (v < 0) return u;
        out[u * k + j] = v;
        inbound[v]!++;
      }
    }
    return -1;
  };
  const ATTEMPTS = 4;
  for (let attempt = 0; ; attempt++) {
    if (place() < 0) break;
    out.fill(-1);
    inbound.fill(0);
    if (attempt === ATTEMPTS - 1) {
      circulant(n, k, out, inbound, rng);
      break;
    }
  }

  const repairs = connect(n, k, out, inbound, maxInbound, rng);

  return { n, outbound: k, ...links(n, k, out, inbound, latencyMedianMs, latencySigma, rng), inbound, repairs };
}

/**
 * Near-complete graphs (2k close to n - 1, e.g. 17 to 19 nodes at 8 outbound) defeat random
 * placement: a circulant instead, node i -> i+1 .. i+k (mod n) under a random relabelling. Every
 * node gets k out and k in, and no pair twice, whenever 2k <= n - 1.
 */
function circulant(n: number, k: number, out: Int32Array, inbound: Int32Array, rng: Rng): void {
  const label = Array.from({ length: n }, (_, i) => i);
  rng.shuffle(label);
  for (let i = 0; i < n; i++) {
    for (let d = 1; d <= k; d++) {
      const u = label[i]!;
      const v = label[(i + d) % n]!;
      out[u * k + d - 1] = v;
      inbound[v]!++;
    }
  }
}

/** The links of the placed graph with their latencies, and each node's adjacency (CSR). */
function links(n: number, k: number, out: Int32Array, inbound: Int32Array, latencyMedianMs: number, latencySigma: number, rng: Rng): Pick<Topology, 'linkA' | 'linkB' | 'latencyMs' | 'adjStart' | 'adjNode' | 'adjLink' | 'adjOut'> {
  const L = n * k;
  const linkA = new Int32Array(L);
  const linkB = new Int32Array(L);
  const latencyMs = new Float64Array(L);
  const adjStart = new Int32Array(n + 1);
  for (let u = 0; u < n; u++) adjStart[u + 1] = adjStart[u]! + k + inbound[u]!;
  const adjNode = new Int32Array(2 * L);
  const adjLink = new Int32Array(2 * L);
  const adjOut = new Uint8Array(2 * L);
  const fill = Int32Array.from(adjStart.subarray(0, n));
  for (let u = 0, l = 0; u < n; u++) {
    for (let j = 0; j < k; j++, l++) {
      const v = out[u * k + j]!;
      linkA[l] = u;
      linkB[l] = v;
      latencyMs[l] = rng.lognormal(latencyMedianMs, latencySigma);
      let s = fill[u]!++;
      adjNode[s] = v;
      adjLink[s] = l;
      adjOut[s] = 1;
      s = fill[v]!++;
      adjNode[s] = u;
      adjLink[s] = l;
      adjOut[s] = 0;
    }
  }
  return { linkA, linkB, latencyMs, adjStart, adjNode, adjLink, adjOut };
}

/** The neighbours of `node`: all of them, those it opened links to ('out'), or those that opened links to it ('in'). */
export function peersOf(t: Topology, node: number, dir: 'all' | 'out' | 'in'): number[] {
  const out: number[] = [];
  for (let s = t.adjStart[node]!; s < t.adjStart[node + 1]!; s++) if (dir === 'all' || (t.adjOut[s] === 1) === (dir === 'out')) out.push(t.adjNode[s]!);
  return out;
}

/** Component label of every node (BFS over the undirected graph in `out`). Returns the count. */
function components(n: number, k: number, out: Int32Array, label: Int32Array): number {
  // Undirected adjacency on the fly: outbound lists plus a reverse index.
  const revStart = new Int32Array(n + 1);
  for (let i = 0; i < n * k; i++) revStart[out[i]! + 1]!++;
  for (let u = 0; u < n; u++) revStart[u + 1]! += revStart[u]!;
  const rev = new Int32Array(n * k);
  const pos = Int32Array.from(revStart.subarray(0, n));
  for (let u = 0; u < n; u++) for (let j = 0; j < k; j++) rev[pos[out[u * k + j]!]!++] = u;
  label.fill(-1);
  const queue = new Int32Array(n);
  let c = 0;
  for (let s = 0; s < n; s++) {
    if (label[s] !== -1) continue;
    let h = 0;
    let t = 0;
    queue[t++] = s;
    label[s] = c;
    while (h < t) {
      const u = queue[h++]!;
      for (let j = 0; j < k; j++) {
        const v = out[u * k + j]!;
        if (label[v] === -1) {
          label[v] = c;
          queue[t++] = v;
        }
      }
      for (let i = revStart[u]!; i < revStart[u + 1]!; i++) {
        const v = rev[i]!;
        if (label[v] === -1) {
          label[v] = c;
          queue[t++] = v;
        }
      }
    }
    c++;
  }
  return c;
}

/**
 * Makes the graph connected: while there is more than one component, a node x outside the
 * largest one rewires one of its outbound links to a node of the largest component (keeping
 * outbound counts exact and inbound within the cap). Each round grows the largest component.
 */
function connect(n: number, k: number, out: Int32Array, inbound: Int32Array, maxInbound: number, rng: Rng): number {
  if (k === 0) return 0;
  const label = new Int32Array(n);
  let repairs = 0;
  for (let round = 0; round < n; round++) {
    const c = components(n, k, out, label);
    if (c <= 1) return repairs;
    const size = new Int32Array(c);
    for (let u = 0; u < n; u++) size[label[u]!]!++;
    let main = 0;
    for (let i = 1; i < c; i++) if (size[i]! > size[main]!) main = i;
    let x = -1;
    for (let u = 0; u < n && x < 0; u++) if (label[u] !== main) x = u;
    let z = -1;
    const s = rng.int(n);
    for (let i = 0; i < n && z < 0; i++) {
      const cand = (s + i) % n;
      if (label[cand] === main && inbound[cand]! < maxInbound) z = cand;
    }
    if (z < 0) throw new RangeError('cannot connect the topology: every node of the main component is at maxInbound');
    const y = out[x * k]!;
    out[x * k] = z;
    inbound[y]!--;
    inbound[z]!++;
    repairs++;
  }
  throw new RangeError('cannot connect the topology');
}
