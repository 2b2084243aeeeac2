/**
 * Option parsing shared by the subcommands: networks (with BIP325 custom signets), host:port.
 * Every failure is a UsageError naming the offending value. Main thread, cold path.
 */
import { NETWORKS, type NetworkName, type NetworkParams } from '../protocol/constants.js';
import { signetMagic } from '../protocol/network.js';
import { fromHex } from '../protocol/hex.js';
import { UsageError } from './decode.js';

export function parseNetwork(name: string, signetChallenge?: string): NetworkParams {
  if (!Object.hasOwn(NETWORKS, name)) {
    throw new UsageError(`unknown network ${JSON.stringify(name)} (one of: ${Object.keys(NETWORKS).join(', ')})`);
  }
  const net = NETWORKS[name as NetworkName];
  if (signetChallenge === undefined) return net;
  if (name !== 'signet') throw new UsageError(`--signet-challenge needs --network signet, not ${name}`);
  let challenge: Uint8Array;
  try {
    challenge = fromHex(signetChallenge);
  } catch (e) {
    throw new UsageError(`--signet-challenge is not hex: ${(e as Error).message}`);
  }
  if (challenge.length === 0) throw new UsageError('--signet-challenge is empty');
  return signetMagic(challenge);
}
