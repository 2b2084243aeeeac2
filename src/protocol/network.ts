/**
 * Network parameters derived at run time: a custom signet's magic from its challenge (BIP325:
 * the first four bytes of SHA256d(CompactSize(len) || challenge)). Pure module, any thread.
 */
import { NETWORKS, type NetworkParams } from './constants.js';
import { sha256d } from './hash.js';
import { Writer, varintSize } from './writer.js';
import { toHex } from './hex.js';

/** Parameters of a signet with the given challenge script (the default signet's port and seeds). */
export function signetMagic(challenge: Uint8Array): NetworkParams {
  const w = new Writer(varintSize(challenge.length) + challenge.length);
  w.varBytes(challenge);
  const h = sha256d(w.buf);
  const magic = (h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24)) >>> 0;
  return { ...NETWORKS.signet, magic, magicHex: toHex(h, 0, 4), dnsSeeds: [], genesisHash: NETWORKS.signet.genesisHash };
}
