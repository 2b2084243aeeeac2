/**
 * Wire bytes a scripted remote node sends in the socket-glue tests (test/peer/flow.test.ts,
 * test/transport/socket.test.ts): its version and verack, and floods of pings. Test-only.
 */
import { encodeFrame, encodeRawFrame } from '../../src/transport/v1.js';
import { NETWORKS, Command } from '../../src/protocol/constants.js';

export const NET = NETWORKS.regtest;
export const MAGIC = NET.magic;

export const version = encodeFrame(MAGIC, 'version', {
  version: 70016,
  services: 9n,
  timestamp: 1_700_000_000n,
  addrRecv: { services: 0n, ip: new Uint8Array(16), port: 0 },
  addrFrom: { services: 0n, ip: new Uint8Array(16), port: 0 },
  nonce: 0x5151n,
  userAgent: '/Satoshi:28.0.0/',
  startHeight: 1,
  relay: true,
});
export const verack = encodeFrame(MAGIC, 'verack', {});

/** `n` pings (32 bytes each on the wire) with nonces from `first`. */
export function pings(n: number, first = 1): Buffer {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const p = new Uint8Array(8);
    new DataView(p.buffer).setUint32(0, first + i, true);
    parts.push(encodeRawFrame(MAGIC, Command.ping, p));
  }
  return Buffer.concat(parts);
}

/** One turn of the event loop. */
export const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
