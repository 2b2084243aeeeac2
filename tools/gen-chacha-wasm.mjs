/**
 * Generator for the ChaCha20-Poly1305 WebAssembly module (`npm run build:wasm:v2`): writes
 * src/transport/v2/chacha20poly1305.wat (RFC 8439: the ChaCha20 block with its rounds unrolled; Poly1305 in five
 * 26-bit limbs with 64-bit products, the poly1305-donna-32 layout) and wasm-bytes.ts (the
 * assembled binary as base64 with its memory layout, so runtime, `npm ci` and `tsc` need neither wabt nor this script).
 * Why WebAssembly: 64-bit integer products make Poly1305 25 multiplies a block instead of the
 * 100 a JavaScript float-safe 13-bit layout needs (bench/README.md, v2 section).
 * Build-time only; never imported by the package.
 */
import { WASM_PAGE, assemble, bytesModule, isMain, runGenerator } from './wasm-module.mjs';

const DIR = 'src/transport/v2';

// Memory layout (bytes), emitted into wasm-bytes.ts as CHACHA_LAYOUT for the loader (wasm.ts).
const PAGES = 2; // the loader never grows it, so its views never detach
const LAYOUT = [
  ['KEY', 0, 'The 8 key words.'],
  ['NONCE', 32, 'The 3 nonce words.'],
  ['TAG', 48, 'The tag to check (open) or the tag written (seal), 16 bytes.'],
  ['PKEY', 64, 'The Poly1305 one-time key (keystream block 0).'],
  ['PADBUF', 96, 'A zero-padded partial Poly1305 block.'],
  ['LENS', 112, 'The closing lengths block.'],
  ['TAGCALC', 128, 'The computed tag (open).'],
  ['BLK', 192, 'One keystream block.'],
  ['AAD', 256, 'The AAD, up to DATA - AAD bytes (BIP324: the garbage, at most 4,095).'],
  ['DATA', 8192, "The packet's header and contents, then room for its tag."],
  ['MEM_BYTES', PAGES * WASM_PAGE, `The module's memory (${PAGES} pages, never grown).`],
];
const { KEY, NONCE, TAG, PKEY, PADBUF, LENS, TAGCALC, BLK, AAD, DATA } = Object.fromEntries(LAYOUT);

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];
const g = (n) => `(local.get $${n})`;
const set = (n, v) => `(local.set $${n} ${v})`;

function qr(a, b, c, d) {
  const x = (i) => `x${i}`;
  const add = (p, q) => set(x(p), `(i32.add ${g(x(p))} ${g(x(q))})`);
  const xr = (p, q, r) => set(x(p), `(i32.rotl (i32.xor ${g(x(p))} ${g(x(q))}) (i32.const ${r}))`);
  return [add(a, b), xr(d, a, 16), add(c, d), xr(b, c, 12), add(a, b), xr(d, a, 8), add(c, d), xr(b, c, 7)];
}

function blockFunc() {
  const L = [];
  for (let i = 0; i < 4; i++) L.push(set(`x${i}`, `(i32.const ${SIGMA[i] | 0})`));
  for (let i = 0; i < 8; i++) L.push(set(`x${4 + i}`, `(i32.load offset=${KEY + 4 * i} (i32.const 0))`));
  L.push(set('x12', g('ctr')));
  for (let i = 0; i < 3; i++) L.push(set(`x${13 + i}`, `(i32.load offset=${NONCE + 4 * i} (i32.const 0))`));
  const rounds = [
    ...qr(0, 4, 8, 12), ...qr(1, 5, 9, 13), ...qr(2, 6, 10, 14), ...qr(3, 7, 11, 15),
    ...qr(0, 5, 10, 15), ...qr(1, 6, 11, 12), ...qr(2, 7, 8, 13), ...qr(3, 4, 9, 14),
  ];
  L.push(set('i', '(i32.const 10)'));
  L.push(`(loop $r ${rounds.join(' ')} ${set('i', `(i32.sub ${g('i')} (i32.const 1))`)} (br_if $r ${g('i')}))`);
  const init = (i) =>
    i < 4 ? `(i32.const ${SIGMA[i] | 0})` : i < 12 ? `(i32.load offset=${KEY + 4 * (i - 4)} (i32.const 0))` : i === 12 ? g('ctr') : `(i32.load offset=${NONCE + 4 * (i - 13)} (i32.const 0))`;
  for (let i = 0; i < 16; i++) L.push(`(i32.store offset=${4 * i} ${g('out')} (i32.add ${g(`x${i}`)} ${init(i)}))`);
  const locals = Array.from({ length: 16 }, (_, i) => `(local $x${i} i32)`).join(' ');
  return `(func $block (param $ctr i32) (param $out i32) ${locals} (local $i i32)\n  ${L.join('\n  ')})`;
}

function xorFunc() {
  const words = Array.from({ length: 8 }, (_, i) => `(i64.store offset=${8 * i} ${g('p')} (i64.xor (i64.load offset=${8 * i} ${g('p')}) (i64.load offset=${BLK + 8 * i} (i32.const 0))))`).join(' ');
  return `(func $xor (param $p i32) (param $len i32) (param $ctr i32) (local $j i32)
  (block $done (loop $l
    (br_if $done (i32.lt_s ${g('len')} (i32.const 64)))
    (call $block ${g('ctr')} (i32.const ${BLK}))
    ${words}
    ${set('p', `(i32.add ${g('p')} (i32.const 64))`)}
    ${set('len', `(i32.sub ${g('len')} (i32.const 64))`)}
    ${set('ctr', `(i32.add ${g('ctr')} (i32.const 1))`)}
    (br $l)))
  (if (i32.gt_s ${g('len')} (i32.const 0)) (then
    (call $block ${g('ctr')} (i32.const ${BLK}))
    ${set('j', '(i32.const 0)')}
    (loop $b
      (i32.store8 (i32.add ${g('p')} ${g('j')}) (i32.xor (i32.load8_u (i32.add ${g('p')} ${g('j')})) (i32.load8_u offset=${BLK} ${g('j')})))
      ${set('j', `(i32.add ${g('j')} (i32.const 1))`)}
      (br_if $b (i32.lt_u ${g('j')} ${g('len')}))))))`;
}

const M = '(i64.const 0x3ffffff)';
const mul = (a, b) => `(i64.mul ${g(a)} ${g(b)})`;
const sum = (...t) => t.reduce((acc, v) => `(i64.add ${acc} ${v})`);

function polyInit() {
  const ld = (o) => `(i64.load32_u offset=${PKEY + o} (i32.const 0))`;
  return `(func $poly_init
  (global.set $r0 (i64.and ${ld(0)} (i64.const 0x3ffffff)))
  (global.set $r1 (i64.and (i64.shr_u ${ld(3)} (i64.const 2)) (i64.const 0x3ffff03)))
  (global.set $r2 (i64.and (i64.shr_u ${ld(6)} (i64.const 4)) (i64.const 0x3ffc0ff)))
  (global.set $r3 (i64.and (i64.shr_u ${ld(9)} (i64.const 6)) (i64.const 0x3f03fff)))
  (global.set $r4 (i64.and (i64.shr_u ${ld(12)} (i64.const 8)) (i64.const 0x00fffff)))
  (global.set $h0 (i64.const 0)) (global.set $h1 (i64.const 0)) (global.set $h2 (i64.const 0)) (global.set $h3 (i64.const 0)) (global.set $h4 (i64.const 0))
  (global.set $p0 ${ld(16)}) (global.set $p1 ${ld(20)}) (global.set $p2 ${ld(24)}) (global.set $p3 ${ld(28)}))`;
}

function polyBlocks() {
  const ld = (o) => `(i64.load32_u offset=${o} ${g('p')})`;
  const vars = ['h0', 'h1', 'h2', 'h3', 'h4', 'r0', 'r1', 'r2', 'r3', 'r4', 's1', 's2', 's3', 's4', 'd0', 'd1', 'd2', 'd3', 'd4', 'c'];
  const locals = vars.map((v) => `(local $${v} i64)`).join(' ');
  const load = ['h0', 'h1', 'h2', 'h3', 'h4', 'r0', 'r1', 'r2', 'r3', 'r4'].map((v) => set(v, `(global.get $${v})`)).join(' ');
  const s = [1, 2, 3, 4].map((i) => set(`s${i}`, `(i64.mul ${g(`r${i}`)} (i64.const 5))`)).join(' ');
  const body = [
    set('h0', `(i64.add ${g('h0')} (i64.and ${ld(0)} ${M}))`),
    set('h1', `(i64.add ${g('h1')} (i64.and (i64.shr_u ${ld(3)} (i64.const 2)) ${M}))`),
    set('h2', `(i64.add ${g('h2')} (i64.and (i64.shr_u ${ld(6)} (i64.const 4)) ${M}))`),
    set('h3', `(i64.add ${g('h3')} (i64.and (i64.shr_u ${ld(9)} (i64.const 6)) ${M}))`),
    set('h4', `(i64.add ${g('h4')} (i64.or (i64.shr_u ${ld(12)} (i64.const 8)) (i64.const 0x1000000)))`),
    set('d0', sum(mul('h0', 'r0'), mul('h1', 's4'), mul('h2', 's3'), mul('h3', 's2'), mul('h4', 's1'))),
    set('d1', sum(mul('h0', 'r1'), mul('h1', 'r0'), mul('h2', 's4'), mul('h3', 's3'), mul('h4', 's2'))),
    set('d2', sum(mul('h0', 'r2'), mul('h1', 'r1'), mul('h2', 'r0'), mul('h3', 's4'), mul('h4', 's3'))),
    set('d3', sum(mul('h0', 'r3'), mul('h1', 'r2'), mul('h2', 'r1'), mul('h3', 'r0'), mul('h4', 's4'))),
    set('d4', sum(mul('h0', 'r4'), mul('h1', 'r3'), mul('h2', 'r2'), mul('h3', 'r1'), mul('h4', 'r0'))),
    set('c', `(i64.shr_u ${g('d0')} (i64.const 26))`), set('h0', `(i64.and ${g('d0')} ${M})`),
    set('d1', `(i64.add ${g('d1')} ${g('c')})`), set('c', `(i64.shr_u ${g('d1')} (i64.const 26))`), set('h1', `(i64.and ${g('d1')} ${M})`),
    set('d2', `(i64.add ${g('d2')} ${g('c')})`), set('c', `(i64.shr_u ${g('d2')} (i64.const 26))`), set('h2', `(i64.and ${g('d2')} ${M})`),
    set('d3', `(i64.add ${g('d3')} ${g('c')})`), set('c', `(i64.shr_u ${g('d3')} (i64.const 26))`), set('h3', `(i64.and ${g('d3')} ${M})`),
    set('d4', `(i64.add ${g('d4')} ${g('c')})`), set('c', `(i64.shr_u ${g('d4')} (i64.const 26))`), set('h4', `(i64.and ${g('d4')} ${M})`),
    set('h0', `(i64.add ${g('h0')} (i64.mul ${g('c')} (i64.const 5)))`), set('c', `(i64.shr_u ${g('h0')} (i64.const 26))`), set('h0', `(i64.and ${g('h0')} ${M})`),
    set('h1', `(i64.add ${g('h1')} ${g('c')})`),
    set('p', `(i32.add ${g('p')} (i32.const 16))`),
    set('n', `(i32.sub ${g('n')} (i32.const 1))`),
  ];
  const store = ['h0', 'h1', 'h2', 'h3', 'h4'].map((v) => `(global.set $${v} ${g(v)})`).join(' ');
  return `(func $poly_blocks (param $p i32) (param $n i32) ${locals}
  ${load} ${s}
  (block $done (loop $l (br_if $done (i32.eqz ${g('n')}))
    ${body.join('\n    ')}
    (br $l)))
  ${store})`;
}

function polyPadded() {
  return `(func $poly_padded (param $p i32) (param $len i32) (local $n i32) (local $j i32) (local $q i32)
  ${set('n', `(i32.shr_u ${g('len')} (i32.const 4))`)}
  (if ${g('n')} (then (call $poly_blocks ${g('p')} ${g('n')})))
  ${set('len', `(i32.and ${g('len')} (i32.const 15))`)}
  (if ${g('len')} (then
    (i64.store offset=${PADBUF} (i32.const 0) (i64.const 0)) (i64.store offset=${PADBUF + 8} (i32.const 0) (i64.const 0))
    ${set('q', `(i32.add ${g('p')} (i32.shl ${g('n')} (i32.const 4)))`)}
    ${set('j', '(i32.const 0)')}
    (loop $b
      (i32.store8 offset=${PADBUF} ${g('j')} (i32.load8_u (i32.add ${g('q')} ${g('j')})))
      ${set('j', `(i32.add ${g('j')} (i32.const 1))`)}
      (br_if $b (i32.lt_u ${g('j')} ${g('len')})))
    (call $poly_blocks (i32.const ${PADBUF}) (i32.const 1)))))`;
}

function polyFinish() {
  const L = [];
  const h = (i) => g(`h${i}`);
  for (let i = 0; i < 5; i++) L.push(set(`h${i}`, `(global.get $h${i})`));
  const carry = (i) => [set('c', `(i64.shr_u ${h(i)} (i64.const 26))`), set(`h${i}`, `(i64.and ${h(i)} ${M})`)];
  L.push(...carry(1));
  for (const i of [2, 3, 4]) L.push(set(`h${i}`, `(i64.add ${h(i)} ${g('c')})`), ...carry(i));
  L.push(set('h0', `(i64.add ${h(0)} (i64.mul ${g('c')} (i64.const 5)))`), ...carry(0));
  L.push(set('h1', `(i64.add ${h(1)} ${g('c')})`));
  // g = h + 5 - 2^130: taken when it does not borrow (h >= p).
  L.push(set('g0', `(i64.add ${h(0)} (i64.const 5))`), set('c', `(i64.shr_u ${g('g0')} (i64.const 26))`), set('g0', `(i64.and ${g('g0')} ${M})`));
  for (const i of [1, 2, 3]) L.push(set(`g${i}`, `(i64.add ${h(i)} ${g('c')})`), set('c', `(i64.shr_u ${g(`g${i}`)} (i64.const 26))`), set(`g${i}`, `(i64.and ${g(`g${i}`)} ${M})`));
  L.push(set('g4', `(i64.sub (i64.add ${h(4)} ${g('c')}) (i64.const 0x4000000))`));
  L.push(set('mask', `(i64.xor (i64.shr_s ${g('g4')} (i64.const 63)) (i64.const -1))`));
  for (let i = 0; i < 5; i++) L.push(set(`h${i}`, `(i64.or (i64.and ${h(i)} (i64.xor ${g('mask')} (i64.const -1))) (i64.and ${g(`g${i}`)} ${g('mask')}))`));
  const W = '(i64.const 0xffffffff)';
  L.push(set('f0', `(i64.and (i64.or ${h(0)} (i64.shl ${h(1)} (i64.const 26))) ${W})`));
  L.push(set('f1', `(i64.and (i64.or (i64.shr_u ${h(1)} (i64.const 6)) (i64.shl ${h(2)} (i64.const 20))) ${W})`));
  L.push(set('f2', `(i64.and (i64.or (i64.shr_u ${h(2)} (i64.const 12)) (i64.shl ${h(3)} (i64.const 14))) ${W})`));
  L.push(set('f3', `(i64.and (i64.or (i64.shr_u ${h(3)} (i64.const 18)) (i64.shl ${h(4)} (i64.const 8))) ${W})`));
  L.push(set('f0', `(i64.add ${g('f0')} (global.get $p0))`));
  L.push(set('f1', `(i64.add (i64.add ${g('f1')} (global.get $p1)) (i64.shr_u ${g('f0')} (i64.const 32)))`));
  L.push(set('f2', `(i64.add (i64.add ${g('f2')} (global.get $p2)) (i64.shr_u ${g('f1')} (i64.const 32)))`));
  L.push(set('f3', `(i64.add (i64.add ${g('f3')} (global.get $p3)) (i64.shr_u ${g('f2')} (i64.const 32)))`));
  for (let i = 0; i < 4; i++) L.push(`(i64.store32 offset=${4 * i} ${g('out')} ${g(`f${i}`)})`);
  const vars = ['h0', 'h1', 'h2', 'h3', 'h4', 'g0', 'g1', 'g2', 'g3', 'g4', 'c', 'mask', 'f0', 'f1', 'f2', 'f3'];
  return `(func $poly_finish (param $out i32) ${vars.map((v) => `(local $${v} i64)`).join(' ')}
  ${L.join('\n  ')})`;
}

function mac() {
  return `(func $mac (param $aadLen i32) (param $len i32) (param $out i32)
  (call $block (i32.const 0) (i32.const ${PKEY}))
  (call $poly_init)
  (call $poly_padded (i32.const ${AAD}) ${g('aadLen')})
  (call $poly_padded (i32.const ${DATA}) ${g('len')})
  (i64.store offset=${LENS} (i32.const 0) (i64.extend_i32_u ${g('aadLen')}))
  (i64.store offset=${LENS + 8} (i32.const 0) (i64.extend_i32_u ${g('len')}))
  (call $poly_blocks (i32.const ${LENS}) (i32.const 1))
  (call $poly_finish ${g('out')}))
(func (export "open") (param $aadLen i32) (param $len i32) (result i32) (local $ok i32)
  (call $mac ${g('aadLen')} ${g('len')} (i32.const ${TAGCALC}))
  ${set('ok', `(i64.eqz (i64.or
    (i64.xor (i64.load offset=${TAGCALC} (i32.const 0)) (i64.load offset=${TAG} (i32.const 0)))
    (i64.xor (i64.load offset=${TAGCALC + 8} (i32.const 0)) (i64.load offset=${TAG + 8} (i32.const 0)))))`)}
  (if ${g('ok')} (then (call $xor (i32.const ${DATA}) ${g('len')} (i32.const 1))))
  ${g('ok')})
(func (export "seal") (param $aadLen i32) (param $len i32)
  (call $xor (i32.const ${DATA}) ${g('len')} (i32.const 1))
  (call $mac ${g('aadLen')} ${g('len')} (i32.const ${TAG})))`;
}

const globals = ['r0', 'r1', 'r2', 'r3', 'r4', 'h0', 'h1', 'h2', 'h3', 'h4', 'p0', 'p1', 'p2', 'p3'].map((v) => `(global $${v} (mut i64) (i64.const 0))`).join('\n');
const wat = `;; Generated by tools/gen-chacha-wasm.mjs (npm run build:wasm:v2); do not edit.
;; ChaCha20-Poly1305 (RFC 8439) for BIP324 packets; layout: key ${KEY}, nonce ${NONCE}, tag ${TAG},
;; AAD ${AAD}, data ${DATA} (see wasm-bytes.ts, CHACHA_LAYOUT).
(module
(memory (export "memory") ${PAGES})
${globals}
${blockFunc()}
${xorFunc()}
${polyInit()}
${polyBlocks()}
${polyPadded()}
${polyFinish()}
${mac()}
)
`;

/** The generated files, paths relative to the repo root. */
export async function generate() {
  const bytes = await assemble('chacha20poly1305.wat', wat, {});
  const header = [
    'Generated by tools/gen-chacha-wasm.mjs (npm run build:wasm:v2) from chacha20poly1305.wat; do not edit.',
    `The ChaCha20-Poly1305 WebAssembly module (${bytes.length} bytes) as base64. Pure data, any thread.`,
  ];
  return [
    { path: `${DIR}/chacha20poly1305.wat`, text: wat },
    { path: `${DIR}/wasm-bytes.ts`, text: bytesModule({ header, exportName: 'CHACHA_WASM_BASE64', bytes, layoutName: 'CHACHA_LAYOUT', layout: LAYOUT }) },
  ];
}

if (isMain(import.meta.url)) await runGenerator(generate);
