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

/** The known network whose wire magic (little-endian uint32, as NetworkParams.magic) this is. */
export function networkByMagic(magic: number): NetworkParams | undefined {
  const m = magic >>> 0;
  return Object.values(NETWORKS).find((n) => n.magic >>> 0 === m);
}

/**
 * The close detail for a peer whose bytes had another magic: the magic as wire hex, and the
 * network it belongs to when it is a known one ("fabfb5da regtest").
 */
export function describeMagic(magic: number): string {
  const b = [magic & 0xff, (magic >>> 8) & 0xff, (magic >>> 16) & 0xff, magic >>> 24];
  const hex = b.map((x) => x.toString(16).padStart(2, '0')).join('');
  const net = networkByMagic(magic);
  return net ? `${hex} ${net.name}` : hex;
}
