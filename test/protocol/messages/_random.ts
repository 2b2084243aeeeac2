/**
 * Random chain-data generators shared by the chain-message suites (deterministic through the
 * PRNG of test/helpers.ts), and the loader of the unsigned-version transaction fixture they all
 * check. Not a suite itself.
 */
import type { TxMessage } from '../../../src/protocol/messages/tx.js';
import type { BlockHeader } from '../../../src/protocol/messages/block.js';
import { fixtureJSON, randomBytes } from '../../helpers.js';

/** One transaction of transactions/unsigned-version.json (version at or above 2^31 - 1). */
export interface UnsignedVersionTx {
  name: string;
  version: number;
  hex: string;
  /** Display order. */
  txid: string;
  wtxid: string;
}

/** The transactions of transactions/unsigned-version.json: versions 0x7fffffff, 0x80000000, 0xffffffff, legacy and segwit. */
export function unsignedVersionTxs(): UnsignedVersionTx[] {
  return fixtureJSON<{ txs: UnsignedVersionTx[] }>('transactions/unsigned-version.json').txs;
}

export function randomU32(rand: () => number): number {
  return (rand() * 0x100000000) >>> 0;
}

/** A random transaction that encodes canonically (at least one input, witnesses when segwit). */
export function randomTx(rand: () => number, maxIo = 4): TxMessage {
  const segwit = rand() < 0.5;
  const nIn = 1 + ((rand() * maxIo) | 0);
  const nOut = (rand() * (maxIo + 1)) | 0;
  const u32 = () => randomU32(rand);
  const inputs = [];
  for (let i = 0; i < nIn; i++) {
    const witness: Uint8Array[] = [];
    if (segwit) {
      const items = i === 0 ? 1 + ((rand() * 3) | 0) : (rand() * 3) | 0;
      for (let j = 0; j < items; j++) witness.push(randomBytes(rand, (rand() * 80) | 0));
    }
    inputs.push({
      prevTxid: randomBytes(rand, 32),
      prevIndex: u32(),
      script: randomBytes(rand, (rand() * 300) | 0),
      sequence: u32(),
      witness,
    });
  }
  const outputs = [];
  for (let i = 0; i < nOut; i++) {
    const value = BigInt.asIntN(64, (BigInt(u32()) << 32n) | BigInt(u32()));
    outputs.push({ value, script: randomBytes(rand, (rand() * 60) | 0) });
  }
  return { version: u32(), inputs, outputs, locktime: u32(), segwit };
}

export function randomHeader(rand: () => number): BlockHeader {
  return {
    version: randomU32(rand) | 0,
    prevBlock: randomBytes(rand, 32),
    merkleRoot: randomBytes(rand, 32),
    time: randomU32(rand),
    bits: randomU32(rand),
    nonce: randomU32(rand),
  };
}
