import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { signetMagic } from '../../src/protocol/network.js';
import { NETWORKS, DEFAULT_SIGNET_CHALLENGE, type NetworkName } from '../../src/protocol/constants.js';
import { fromHex } from '../../src/protocol/hex.js';
import { fixtureJSON } from '../helpers.js';

const nets = fixtureJSON<{ networks: any[]; bip325Example: any }>('networks.json');

test('has the magic, port and genesis of every network as chainparams.cpp and BIP94 give them', () => {
  for (const n of nets.networks) {
    const p = NETWORKS[n.network as NetworkName];
    assert.ok(p, n.network);
    assert.is(p.magicHex, n.magicHex);
    assert.is(p.magic, n.magicUint32LE);
    assert.is(p.defaultPort, n.defaultPort);
    assert.is(p.genesisHash, n.genesisHash);
  }
});

test('derives the default signet magic from its challenge (BIP325)', () => {
  assert.is(signetMagic(fromHex(DEFAULT_SIGNET_CHALLENGE)).magicHex, '0a03cf40');
  assert.is(signetMagic(fromHex(DEFAULT_SIGNET_CHALLENGE)).magic, NETWORKS.signet.magic);
});

test('derives the BIP325 worked example magic 7ec653a5', () => {
  assert.is(signetMagic(fromHex(nets.bip325Example.challengeHex)).magicHex, nets.bip325Example.messageStartHex);
});

test.run();
