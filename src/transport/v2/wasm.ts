/**
 * The ChaCha20-Poly1305 WebAssembly kernel (chacha20poly1305.wat, from tools/gen-chacha-wasm.mjs)
 * behind two calls, seal and open, for FSChaCha20Poly1305. One instance per thread, made at load;
 * each call copies the packet in, runs, and copies it out (two memcpys, cheap next to the
 * cipher). Hot path: no allocation but subarray views; a bad tag is a false return, never a throw.
 */
import { CHACHA_LAYOUT, CHACHA_WASM_BASE64 } from './wasm-bytes.js';

// lib ES2022 without DOM has no WebAssembly types, and @types/node 20 does not add them.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

// Memory layout in bytes, from the generated module (each field documented there). The memory
// is never grown, so the views below never detach.
const { KEY, NONCE, TAG, AAD, DATA, MEM_BYTES } = CHACHA_LAYOUT;
const KEY_WORD = KEY >> 2;
const NONCE_WORD = NONCE >> 2;
/** Largest AAD the layout holds (BIP324's is the garbage: at most 4,095 bytes). */
export const WASM_MAX_AAD = DATA - AAD;
/** Largest packet region (header + contents) the layout holds; larger ones go to OpenSSL. */
export const WASM_MAX_LEN = MEM_BYTES - DATA - 16;

interface Kernel {
  memory: { buffer: ArrayBuffer };
  open(aadLen: number, len: number): number;
  seal(aadLen: number, len: number): void;
}

const kernel = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(CHACHA_WASM_BASE64, 'base64')), {}).exports as unknown as Kernel;
const m8 = new Uint8Array(kernel.memory.buffer);
const m32 = new Uint32Array(kernel.memory.buffer);

/** Key, nonce and AAD into the kernel's memory (the caller keeps len <= WASM_MAX_LEN, aad <= WASM_MAX_AAD). */
function load(k: Uint32Array, n0: number, n1: number, n2: number, aad: Uint8Array): void {
  m32.set(k, KEY_WORD);
  m32[NONCE_WORD] = n0;
  m32[NONCE_WORD + 1] = n1;
  m32[NONCE_WORD + 2] = n2;
  if (aad.length > 0) m8.set(aad, AAD);
}

/** Encrypts `buf[off..off+len)` in place and writes the 16-byte tag after it. */
export function wasmSeal(k: Uint32Array, n0: number, n1: number, n2: number, aad: Uint8Array, buf: Uint8Array, off: number, len: number): void {
  load(k, n0, n1, n2, aad);
  m8.set(buf.subarray(off, off + len), DATA);
  kernel.seal(aad.length, len);
  buf.set(m8.subarray(DATA, DATA + len), off);
  buf.set(m8.subarray(TAG, TAG + 16), off + len);
}

/**
 * Checks the tag at `ct[off+len..off+len+16)`; if it holds, writes the plaintext to
 * `out[outOff..)` and returns true. False (nothing written) on an authentication failure.
 */
export function wasmOpen(k: Uint32Array, n0: number, n1: number, n2: number, aad: Uint8Array, ct: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): boolean {
  load(k, n0, n1, n2, aad);
  m8.set(ct.subarray(off, off + len + 16), DATA);
  m8.copyWithin(TAG, DATA + len, DATA + len + 16);
  if (kernel.open(aad.length, len) === 0) return false;
  out.set(m8.subarray(DATA, DATA + len), outOff);
  return true;
}
