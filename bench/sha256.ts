/**
 * Benchmark of the v1 frame checksum (SHA256d) per implementation and payload size:
 * node:crypto, generated JS scalar, WebAssembly scalar, WebAssembly SIMD 4-lane, and the
 * dispatching API (checksum, checksumBatch). Run: node dist/bench/sha256.js [--quick].
 * Times are process CPU time (process.cpuUsage), best of several rounds: the machine is shared,
 * and wall time mostly measures who else is running.
 */
import { hash as cryptoHash } from 'node:crypto';
import { CRYPTO_MIN_LEN, X4_MAX_LEN, checksum, checksumBatch } from '../src/protocol/checksum.js';
import { sha256dWordsJs } from './sha256-js-scalar.js';
import {
  WASM_SCALAR_MAX,
  WASM_X4_MAX_BLOCKS,
  blockCount,
  checksumOuterWasm,
  checksumWasm,
  laneChecksum,
  packLane,
  packWords,
  runX4,
} from '../src/protocol/sha256/wasm.js';

const quick = process.argv.includes('--quick');
const SIZES = [0, 37, 61, 100, 200, 500, 1000, 2000, 10_000, 100_000, 1_000_000];
/** Items per batch call: a socket read of small frames holds tens to hundreds. */
const BATCH = 64;
const ROUNDS = quick ? 3 : 9;
const ROUND_NS = quick ? 20e6 : 60e6;

const buf = new Uint8Array(1_000_000 * 2 + 64);
for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24;

let sink = 0;

function cpuNs(fn: (it: number) => void, it: number): number {
  const t = process.cpuUsage();
  fn(it);
  const u = process.cpuUsage(t);
  return (u.user + u.system) * 1000;
}

/** Best ns per operation of `fn(iterations)`, each call doing `opsPerIter` operations per iteration. */
function bestNs(fn: (it: number) => void, opsPerIter: number): number {
  let it = 1;
  // Calibrate to ~ROUND_NS per round (also warms up: tier-up to TurboFan).
  for (;;) {
    const dt = cpuNs(fn, it);
    if (dt > ROUND_NS / 4) {
      it = Math.max(1, Math.round((it * ROUND_NS) / dt));
      break;
    }
    it *= 2;
  }
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const ns = cpuNs(fn, it) / it / opsPerIter;
    if (ns < best) best = ns;
  }
  return best;
}

const jsWords = new Int32Array((1_000_000 + 72) / 4 + 16);
const jsOut = new Int32Array(8);

type Impl = { name: string; max: number; run: (len: number) => number };

const impls: Impl[] = [
  {
    name: 'crypto.hash x2',
    max: Infinity,
    run: (len) =>
      bestNs((it) => {
        for (let i = 0; i < it; i++) sink ^= cryptoHash('sha256', cryptoHash('sha256', buf.subarray(1, 1 + len), 'buffer'), 'buffer')[0]!;
      }, 1),
  },
  {
    name: 'crypto + wasm outer',
    max: Infinity,
    run: (len) =>
      bestNs((it) => {
        for (let i = 0; i < it; i++) sink ^= checksumOuterWasm(cryptoHash('sha256', buf.subarray(1, 1 + len), 'buffer'));
      }, 1),
  },
  {
    name: 'JS scalar',
    max: 1_000_000,
    run: (len) =>
      bestNs((it) => {
        for (let i = 0; i < it; i++) sink ^= sha256dWordsJs(jsWords, 0, packWords(buf, 1, len, jsWords, 0, 1), jsOut);
      }, 1),
  },
  {
    name: 'wasm scalar',
    max: WASM_SCALAR_MAX,
    run: (len) =>
      bestNs((it) => {
        for (let i = 0; i < it; i++) sink ^= checksumWasm(buf, 1, len);
      }, 1),
  },
  {
    name: 'wasm SIMD x4',
    max: WASM_X4_MAX_BLOCKS * 64 - 9,
    run: (len) =>
      bestNs((it) => {
        for (let i = 0; i < it; i++) {
          const nb = blockCount(len);
          for (let l = 0; l < 4; l++) packLane(buf, 1 + l, len, l);
          runX4(nb);
          sink ^= laneChecksum(0) ^ laneChecksum(3);
        }
      }, 4),
  },
  {
    name: 'checksum()',
    max: Infinity,
    run: (len) =>
      bestNs((it) => {
        for (let i = 0; i < it; i++) sink ^= checksum(buf, 1, len);
      }, 1),
  },
];

const offs = new Int32Array(BATCH);
const lens = new Int32Array(BATCH);
const sums = new Uint32Array(BATCH);
impls.push({
  name: `checksumBatch(${BATCH})`,
  max: Infinity,
  run: (len) => {
    for (let i = 0; i < BATCH; i++) {
      offs[i] = 1 + ((i * 24) % 1000);
      lens[i] = len;
    }
    const n = len >= 100_000 ? 4 : BATCH;
    return bestNs((it) => {
      for (let i = 0; i < it; i++) {
        checksumBatch(buf, offs, lens, n, sums);
        sink ^= sums[0]!;
      }
    }, n);
  },
});

// Warm-up: the kernels start in V8's baseline tiers (Liftoff, Sparkplug) and tier up when hot.
for (const m of impls) for (let r = 0; r < 3; r++) m.run(37);

console.log(`SHA256d checksum, ns per checksum (best of ${ROUNDS}); Node ${process.version}, ${process.arch}`);
console.log(`CRYPTO_MIN_LEN ${CRYPTO_MIN_LEN}, X4_MAX_LEN ${X4_MAX_LEN}\n`);
const head = ['bytes', ...impls.map((m) => m.name)];
console.log('| ' + head.join(' | ') + ' |');
console.log('|' + head.map(() => '---:').join('|') + '|');
for (const len of SIZES) {
  const row = [String(len)];
  for (const m of impls) row.push(len <= m.max ? bestOf(m, len) : '-');
  console.log('| ' + row.join(' | ') + ' |');
}

function bestOf(m: Impl, len: number): string {
  const ns = m.run(len);
  return ns >= 10_000 ? (ns / 1000).toFixed(0) + ' us' : ns.toFixed(0);
}

// The frame-loop figure: one inv entry = 37-byte payload.
const single = impls.find((m) => m.name === 'checksum()')!.run(37);
const batched = impls.find((m) => m.name.startsWith('checksumBatch'))!.run(37);
console.log(`\n37-byte payload: checksum() ${(1e9 / single / 1e6).toFixed(2)} M/s, checksumBatch ${(1e9 / batched / 1e6).toFixed(2)} M/s (one thread)`);
if (sink === 0.5) console.log(sink);
