/**
 * Generator for the SHA-256 WebAssembly module (`npm run build:wasm`): writes
 * src/protocol/sha256/sha256.wat (unrolled FIPS 180-4 rounds, scalar and 4-lane SIMD128),
 * src/protocol/sha256/wasm-bytes.ts (the binary as base64 and its memory layout, so runtime,
 * `npm ci` and `tsc` need neither wabt nor this script) and the same rounds in plain JavaScript
 * for the benchmark (bench/sha256-js-scalar.ts). Build-time only; never imported by the package.
 */
import { writeFileSync } from 'node:fs';
import { WASM_PAGE, assemble, bytesModule, isMain, runGenerator } from './wasm-module.mjs';

const DIR = 'src/protocol/sha256';
// GEN_OUT=file: write only the binary (and file.wat) there, for experiments.
const OPT = { out: process.env.GEN_OUT };

// FIPS 180-4 section 4.2.2 round constants and section 5.3.3 initial hash value.
const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

// Memory layout (bytes), emitted into wasm-bytes.ts as SHA256_LAYOUT for the loader (wasm.ts).
const PAGES = 2; // fixed: no grow, so the loader's views never detach
const LAYOUT = [
  ['OUT', 0, 'Scalar kernel: the 8 final digest words (as numbers: word i holds bytes 4i..4i+3 big-endian).'],
  ['OUT4', 256, 'SIMD kernel: digest word i of the 4 lanes at OUT4 + 16i, then the 4 checksums at OUT4 + 128.'],
  ['CNT', 512, 'SIMD kernel: per-lane block counts, i32x4.'],
  ['PAD4', 768, "SIMD kernel: the outer hash's message block, 8 digest words, then fixed padding (data segment)."],
  ['SCALAR_IN', 4096, 'Scalar kernel input: padded words, contiguous.'],
  ['SIMD_IN', 65536, 'SIMD kernel input: padded words, lane-interleaved (word t of lane l at SIMD_IN + 16t + 4l).'],
  ['MEM_BYTES', PAGES * WASM_PAGE, `The module's fixed memory (${PAGES} pages, never grown).`],
];
const { OUT, OUT4, CNT, PAD4, SCALAR_IN, SIMD_IN } = Object.fromEntries(LAYOUT);

const i32 = (v) => v | 0;
const rotr = (x, n) => ((x >>> n) | (x << (32 - n))) | 0;
const s0c = (x) => rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3);
const s1c = (x) => rotr(x, 17) ^ rotr(x, 19) ^ (x >>> 10);

/** Expression builders for one lane type; every operand passed twice must be a local.get. */
function ops(simd) {
  if (JS) {
    return {
      t: 'js',
      add: (a, b) => `((${a} + ${b}) | 0)`,
      xor: (a, b) => `(${a} ^ ${b})`,
      and: (a, b) => `(${a} & ${b})`,
      rotr: (x, n) => `((${x} >>> ${n}) | (${x} << ${32 - n}))`,
      shr: (x, n) => `(${x} >>> ${n})`,
      k: (v) => `${i32(v)}`,
      load: (p, off) => `m[${p} + ${off / 4}]!`,
    };
  }
  if (!simd) {
    return {
      t: 'i32',
      add: (a, b) => `(i32.add ${a} ${b})`,
      xor: (a, b) => `(i32.xor ${a} ${b})`,
      and: (a, b) => `(i32.and ${a} ${b})`,
      rotr: (x, n) => `(i32.rotr ${x} (i32.const ${n}))`,
      shr: (x, n) => `(i32.shr_u ${x} (i32.const ${n}))`,
      k: (v) => `(i32.const ${i32(v)})`,
      load: (p, off) => `(i32.load offset=${off} ${p})`,
    };
  }
  return {
    t: 'v128',
    add: (a, b) => `(i32x4.add ${a} ${b})`,
    xor: (a, b) => `(v128.xor ${a} ${b})`,
    and: (a, b) => `(v128.and ${a} ${b})`,
    // SIMD128 has no rotate: shift both ways and OR (3 ops instead of 1, the main SIMD tax).
    rotr: (x, n) => `(v128.or (i32x4.shr_u ${x} (i32.const ${n})) (i32x4.shl ${x} (i32.const ${32 - n})))`,
    shr: (x, n) => `(i32x4.shr_u ${x} (i32.const ${n}))`,
    k: (v) => `(v128.const i32x4 ${i32(v)} ${i32(v)} ${i32(v)} ${i32(v)})`,
    load: (p, off) => `(v128.load offset=${off} ${p})`,
  };
}

let JS = false; // emit JavaScript statements instead of WebAssembly text (for the JS scalar variant)
const g = (n) => (JS ? n : `(local.get $${n})`);
const set = (n, e) => (JS ? `${n} = ${e};` : `(local.set $${n} ${e})`);

/**
 * 64 unrolled rounds over working variables a..h (renamed, never moved). `W` holds 16 slots,
 * each {c, e}: a constant part and an optional local name; the constant-padding block of the
 * second hash folds its known words into the round constants.
 */
function rounds(o, W, code) {
  let S = [...VARS];
  const sig = (x, r1, r2, r3) => o.xor(o.xor(o.rotr(g(x), r1), o.rotr(g(x), r2)), o.rotr(g(x), r3));
  const ss = (x, r1, r2, s) => o.xor(o.xor(o.rotr(g(x), r1), o.rotr(g(x), r2)), o.shr(g(x), s));
  // Maj(a,b,c) = b ^ ((a^b) & (b^c)); this round's b^c is the previous round's a^b.
  let ab = 'x0';
  let bc = 'x1';
  code.push(set(bc, o.xor(g(S[1]), g(S[2]))));
  for (let t = 0; t < 64; t++) {
    if (t >= 16) {
      const terms = [];
      let c = 0;
      // Slots are either constant (e null) or a plain local (c 0), so sigma of a slot folds exactly.
      const add = (w, f, fc) => {
        if (w.e === null) c = (c + fc(w.c)) | 0;
        else terms.push(f(w.e));
      };
      const id = (x) => g(x);
      add(W[(t - 2) & 15], (x) => ss(x, 17, 19, 10), s1c);
      add(W[(t - 7) & 15], id, (x) => x);
      add(W[(t - 15) & 15], (x) => ss(x, 7, 18, 3), s0c);
      add(W[(t - 16) & 15], id, (x) => x);
      let e = terms.reduce((acc, x) => (acc ? o.add(acc, x) : x), null);
      if (c !== 0) e = o.add(e, o.k(c));
      const slot = `w${t & 15}`;
      code.push(set(slot, e));
      W[t & 15] = { c: 0, e: slot };
    }
    const w = W[t & 15];
    // Round constants as immediates: a splatted table in memory measured no faster for SIMD.
    const kw = w.e === null ? o.k(K[t] + w.c) : o.add(g(w.e), o.k(K[t] + w.c));
    const [a, b, , d, e, f, gg, h] = S;
    const ch = o.xor(g(gg), o.and(g(e), o.xor(g(f), g(gg))));
    code.push(set('t1', o.add(o.add(o.add(g(h), sig(e, 6, 11, 25)), ch), kw)));
    code.push(set(d, o.add(g(d), g('t1'))));
    code.push(set(ab, o.xor(g(a), g(b))));
    const maj = o.xor(g(b), o.and(g(ab), g(bc)));
    code.push(set(h, o.add(g('t1'), o.add(sig(a, 2, 13, 22), maj))));
    [ab, bc] = [bc, ab];
    S = [h, a, b, S[2], d, e, f, gg];
  }
}

function locals(t, names) {
  return names.map((n) => `(local $${n} ${t})`).join(' ');
}

const VARS = ['va', 'vb', 'vc', 'vd', 've', 'vf', 'vg', 'vh'];
const HS = VARS.map((_, i) => `h${i}`);
const WS = Array.from({ length: 16 }, (_, i) => `w${i}`);

/** Second compression of SHA256d: the 32-byte digest in h0..h7 plus fixed padding (bit length 256). */
function secondBlock(o, code) {
  const W = [];
  for (let i = 0; i < 8; i++) W.push({ c: 0, e: `h${i}` });
  W.push({ c: 0x80000000 | 0, e: null });
  for (let i = 9; i < 15; i++) W.push({ c: 0, e: null });
  W.push({ c: 256, e: null });
  for (let i = 0; i < 8; i++) code.push(set(VARS[i], o.k(IV[i])));
  rounds(o, W, code);
  for (let i = 0; i < 8; i++) code.push(set(`h${i}`, o.add(g(VARS[i]), o.k(IV[i]))));
}

function firstBlockLoads(o, ptr, stride, code) {
  const W = [];
  for (let i = 0; i < 16; i++) {
    code.push(set(`w${i}`, o.load(g(ptr), i * stride)));
    W.push({ c: 0, e: `w${i}` });
  }
  return W;
}

function scalarFunc() {
  const o = ops(false);
  const code = [];
  for (let i = 0; i < 8; i++) code.push(set(`h${i}`, o.k(IV[i])));
  code.push(set('p', `(i32.const ${SCALAR_IN})`));
  code.push('(loop $blk');
  for (let i = 0; i < 8; i++) code.push(set(VARS[i], g(`h${i}`)));
  rounds(o, firstBlockLoads(o, 'p', 4, code), code);
  for (let i = 0; i < 8; i++) code.push(set(`h${i}`, o.add(g(`h${i}`), g(VARS[i]))));
  code.push(set('p', `(i32.add ${g('p')} (i32.const 64))`));
  code.push(set('n', `(i32.sub ${g('n')} (i32.const 1))`));
  code.push(`(br_if $blk ${g('n')}))`);
  secondBlock(o, code);
  for (let i = 0; i < 8; i++) code.push(`(i32.store offset=${OUT + 4 * i} (i32.const 0) ${g(`h${i}`)})`);
  // Checksum = the first four digest bytes read little-endian = byte-swapped word 0.
  code.push(BSWAP_H0);
  return `  ;; SHA256d of n >= 1 padded blocks at ${SCALAR_IN}; digest words to ${OUT}; returns the checksum.
  (func (export "sha256d") (param $n i32) (result i32)
    (local $p i32) ${locals('i32', [...HS, ...VARS, 't1', 'x0', 'x1', ...WS])}
    ${code.join('\n    ')})`;
}

const BSWAP_H0 =
  `(i32.rotl (i32.or (i32.and (i32.shr_u ${g('h0')} (i32.const 8)) (i32.const 0x00ff00ff)) ` +
  `(i32.shl (i32.and ${g('h0')} (i32.const 0x00ff00ff)) (i32.const 8))) (i32.const 16))`;

/** The outer hash alone, when node:crypto did the inner one over a long message. */
function outerFunc() {
  const o = ops(false);
  const code = [];
  for (let i = 0; i < 8; i++) code.push(set(`h${i}`, o.load(`(i32.const 0)`, SCALAR_IN + 4 * i)));
  secondBlock(o, code);
  for (let i = 0; i < 8; i++) code.push(`(i32.store offset=${OUT + 4 * i} (i32.const 0) ${g(`h${i}`)})`);
  code.push(BSWAP_H0);
  return `  ;; SHA-256 of the 32-byte digest whose 8 words are at ${SCALAR_IN}; digest words to ${OUT}; returns the checksum.
  (func (export "sha256_32") (result i32)
    ${locals('i32', [...HS, ...VARS, 't1', 'x0', 'x1', ...WS])}
    ${code.join('\n    ')})`;
}

/**
 * The 4-lane kernel runs the outer hash as one more trip round the same loop, over a block at
 * PAD4 (the inner digests plus the fixed padding from a data segment): a second unrolled copy
 * of the rounds measured ~2x slower than a loop trip, its ~12 KB of cold code refetched per call.
 */
function simdFunc() {
  const o = ops(true);
  const code = [];
  code.push(set('cnt', `(v128.load (i32.const ${CNT}))`));
  for (let i = 0; i < 8; i++) code.push(set(`h${i}`, o.k(IV[i])));
  code.push(set('p', `(i32.const ${SIMD_IN})`));
  code.push('(loop $blk');
  for (let i = 0; i < 8; i++) code.push(set(VARS[i], g(`h${i}`)));
  rounds(o, firstBlockLoads(o, 'p', 16, code), code);
  // Lanes whose message has fewer blocks keep their state: lanes of different lengths share a run.
  code.push(set('m', `(i32x4.gt_s ${g('cnt')} (i32x4.splat ${g('b')}))`));
  for (let i = 0; i < 8; i++) {
    code.push(set(`h${i}`, `(v128.bitselect ${o.add(g(`h${i}`), g(VARS[i]))} ${g(`h${i}`)} ${g('m')})`));
  }
  code.push(set('p', `(i32.add ${g('p')} (i32.const 256))`));
  code.push(set('b', `(i32.add ${g('b')} (i32.const 1))`));
  code.push(`(br_if $blk (i32.lt_u ${g('b')} ${g('n')}))`);
  code.push(`(if (i32.eqz ${g('fin')}) (then`);
  code.push(set('fin', '(i32.const 1)'));
  for (let i = 0; i < 8; i++) code.push(`(v128.store offset=${PAD4 + 16 * i} (i32.const 0) ${g(`h${i}`)})`);
  for (let i = 0; i < 8; i++) code.push(set(`h${i}`, o.k(IV[i])));
  code.push(set('p', `(i32.const ${PAD4})`));
  code.push(set('n', `(i32.add ${g('b')} (i32.const 1))`));
  code.push(set('cnt', o.k(0x7fffffff)));
  code.push('(br $blk))))');
  for (let i = 0; i < 8; i++) code.push(`(v128.store offset=${OUT4 + 16 * i} (i32.const 0) ${g(`h${i}`)})`);
  code.push(
    `(v128.store offset=${OUT4 + 128} (i32.const 0) (i8x16.shuffle 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12 ${g('h0')} ${g('h0')}))`,
  );
  return `  ;; SHA256d of 4 messages in the lanes; n = the largest block count, per-lane counts at ${CNT}.
  ;; Digest word i of all lanes to ${OUT4} + 16i, the 4 checksums to ${OUT4 + 128}.
  (func (export "sha256d_x4") (param $n i32)
    (local $p i32) (local $b i32) (local $fin i32) (local $cnt v128) (local $m v128) ${locals('v128', [...HS, ...VARS, 't1', 'x0', 'x1', ...WS])}
    ${code.join('\n    ')})`;
}

const wat = `;; Generated by tools/gen-sha256-wasm.mjs (npm run build:wasm); do not edit.
;; SHA-256 (FIPS 180-4) double hash: a scalar kernel and a 4-lane SIMD128 multi-buffer kernel.
(module
  ;; ${PAGES} fixed pages: layout in wasm-bytes.ts (SHA256_LAYOUT).
  (memory (export "mem") ${PAGES} ${PAGES})
  ;; Outer-hash padding for the SIMD kernel, words 8..15 of the block at PAD4, 4 lanes each.
  (data (i32.const ${PAD4 + 128}) "${[0x80000000, 0, 0, 0, 0, 0, 0, 256].map((w) => Array.from({ length: 4 }, () => [0, 1, 2, 3].map((j) => '\\' + ((w >>> (8 * j)) & 255).toString(16).padStart(2, '0')).join('')).join('')).join('')}")
${scalarFunc()}
${outerFunc()}
${simdFunc()}
)
`;

function jsFunc() {
  JS = true;
  const o = ops(false);
  const code = [];
  code.push('do {');
  for (let i = 0; i < 8; i++) code.push(set(VARS[i], g(`h${i}`)));
  rounds(o, firstBlockLoads(o, 'p', 4, code), code);
  for (let i = 0; i < 8; i++) code.push(set(`h${i}`, o.add(g(`h${i}`), g(VARS[i]))));
  code.push('p += 16;');
  code.push('} while (--n > 0);');
  secondBlock(o, code);
  for (let i = 0; i < 8; i++) code.push(`out[${i}] = h${i};`);
  JS = false;
  return `/**
 * Generated by tools/gen-sha256-wasm.mjs (npm run build:wasm); do not edit.
 * SHA256d in plain JavaScript over padded big-endian message words, the same unrolled rounds as
 * the WebAssembly kernel; kept for the benchmark comparison. Pure module, any thread.
 */
/* eslint-disable */
export function sha256dWordsJs(m: Int32Array, p: number, n: number, out: Int32Array): number {
  let ${IV.map((v, i) => `h${i} = ${i32(v)}`).join(', ')};
  let ${[...VARS, 't1', 'x0', 'x1', ...WS].map((v) => `${v} = 0`).join(', ')};
  ${code.join('\n  ')}
  return ((((h0 >>> 8) & 0x00ff00ff) | ((h0 & 0x00ff00ff) << 8)) >>> 16 | (((h0 >>> 8) & 0x00ff00ff) | ((h0 & 0x00ff00ff) << 8)) << 16) >>> 0;
}
`;
}
/** The generated files, paths relative to the repo root. */
export async function generate() {
  const bytes = await assemble('sha256.wat', wat, { simd: true });
  const header = [
    'Generated by tools/gen-sha256-wasm.mjs (npm run build:wasm) from sha256.wat; do not edit.',
    `The SHA-256 WebAssembly module (${bytes.length} bytes) as base64, so no build step at run time.`,
    'Pure data, any thread.',
  ];
  return [
    { path: `${DIR}/sha256.wat`, text: wat },
    { path: `${DIR}/wasm-bytes.ts`, text: bytesModule({ header, exportName: 'SHA256_WASM_BASE64', bytes, layoutName: 'SHA256_LAYOUT', layout: LAYOUT }) },
    // The plain-JavaScript kernel is only a benchmark baseline: it lives with the benchmarks.
    { path: 'bench/sha256-js-scalar.ts', text: jsFunc() },
  ];
}

if (isMain(import.meta.url)) {
  if (OPT.out) {
    writeFileSync(OPT.out + '.wat', wat);
    writeFileSync(OPT.out, await assemble('sha256.wat', wat, { simd: true }));
  } else {
    await runGenerator(generate);
  }
}
