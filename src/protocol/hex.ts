/**
 * Hex conversions: raw bytes (wire order) and hashes (display order, the reverse of the wire).
 * Cold path (JSON output, CLI, tests). Pure module, any thread.
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Bytes to lowercase hex, in the order given. */
export function toHex(b: Uint8Array, off = 0, len = b.length - off): string {
  let s = '';
  for (let i = off; i < off + len; i++) s += HEX[b[i]!];
  return s;
}

/** Lowercase or uppercase hex to bytes; throws TypeError on odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new TypeError(`hex string has odd length ${hex.length}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const v = parseInt(hex.substr(i * 2, 2), 16);
    if (Number.isNaN(v) || !/^[0-9a-fA-F]{2}$/.test(hex.substr(i * 2, 2))) {
      throw new TypeError(`not a hex digit at position ${i * 2}: ${JSON.stringify(hex.substr(i * 2, 2))}`);
    }
    out[i] = v;
  }
  return out;
}

/** A 32-byte hash in wire order to display-order hex (as RPC and explorers show it). */
export function hashToHex(hash: Uint8Array, off = 0): string {
  let s = '';
  for (let i = off + 31; i >= off; i--) s += HEX[hash[i]!];
  return s;
}

/** Display-order hex (64 digits) to a 32-byte hash in wire order. */
export function hexToHash(hex: string): Uint8Array {
  if (hex.length !== 64) throw new TypeError(`a hash is 64 hex digits, got ${hex.length}`);
  return fromHex(hex).reverse();
}
