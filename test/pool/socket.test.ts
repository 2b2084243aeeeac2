import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Server } from 'node:net';
import { listenPeers, type Peer } from '../../src/peer/index.js';
import { connectShardPeer } from '../../src/pool/shard/socket.js';
import { V1Transport } from '../../src/peer/transport.js';
import { NETWORKS } from '../../src/protocol/constants.js';
import { until } from '../helpers.js';

const network = NETWORKS.regtest;

test('a shard socket reads a large frame straight into its own buffer, and the frame arrives whole (checksum verified)', async () => {
  const big = new Uint8Array(1_500_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 131 + 7) & 0xff;
  let remote = null as Peer | null;
  const server: Server = await listenPeers({ host: '127.0.0.1', port: 0, network, localNonces: new Set() }, (p) => {
    remote = p;
  });
  const port = (server.address() as { port: number }).port;
  const peer = await connectShardPeer({ host: '127.0.0.1', port, network });
  try {
    await until(() => peer.isReady && remote !== null && remote.isReady, 'handshake');
    // (its own nonce set: both ends live in this process, and a shared set reads as a self-connection)
  // Three frames: the decoder must see each whole, the reads after the first chunk landing in place.
    for (let k = 0; k < 3; k++) remote!.sendRaw('bigframe', big);
    await until(() => (peer.stats.unknownIn.get('bigframe') ?? 0) === 3, 'three large frames counted');
    const dec = (peer.transport as V1Transport).decoder;
    assert.ok(dec.inPlaceBytes > big.length, `bytes read in place: ${dec.inPlaceBytes}`);
    // An unknown command is counted only once its checksum verified: a byte out of place would
    // have shown as a checksum fault instead.
    assert.equal([...peer.stats.faults.keys()], ['ERR_WIRE_UNKNOWN_COMMAND'], 'no fault but the unknown command');
    assert.is(peer.stats.faults.get('ERR_WIRE_UNKNOWN_COMMAND'), 3);
  } finally {
    peer.close();
    remote?.close();
    await new Promise((r) => server.close(r));
  }
});

test.run();
