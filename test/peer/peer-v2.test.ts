import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Peer, CoarseTimer, attachStream, connectPeer, listenPeers, transportFactory, type PeerOptions } from '../../src/peer/index.js';
import { NETWORKS, Command } from '../../src/protocol/constants.js';
import { V2Transport } from '../../src/transport/v2/transport.js';
import { duplexPair, until } from '../helpers.js';

const NET = NETWORKS.regtest;
const keepAlive = setInterval(() => {}, 1000);
test.after(() => clearInterval(keepAlive));

function opts(direction: 'outbound' | 'inbound', kind: 'v1' | 'v2', extra: Partial<PeerOptions> = {}): PeerOptions {
  return {
    network: NET,
    direction,
    localNonces: new Set(),
    timer: new CoarseTimer(20),
    transport: transportFactory(kind, direction, NET.magic, { decoyEvery: 2 }),
    ...extra,
  };
}

function pair(aKind: 'v1' | 'v2', bKind: 'v1' | 'v2'): { a: Peer; b: Peer } {
  const [sa, sb] = duplexPair();
  const a = new Peer(opts('outbound', aKind, { remoteHost: '127.0.0.2', remotePort: 18444 }));
  const b = new Peer(opts('inbound', bKind, { remoteHost: '127.0.0.1', remotePort: 50000 }));
  attachStream(b, sb);
  attachStream(a, sa);
  return { a, b };
}

const INV = { inventory: [{ type: 1, hash: new Uint8Array(32).fill(9) }] };

test('two peers complete the handshake over v2, then exchange inv and ping/pong with decoys in between', async () => {
  const { a, b } = pair('v2', 'v2');
  await Promise.all([a.ready, b.ready]);
  assert.is(a.transport.kind, 'v2');
  assert.is(b.transport.kind, 'v2');
  const got: number[] = [];
  b.on('inv', (m) => got.push(m.inventory.length));
  for (let i = 0; i < 5; i++) a.send('inv', INV);
  assert.ok(a.ping());
  await until(() => got.length === 5 && a.stats.pongsReceived === 1, 'inv and pong');
  assert.ok((b.transport as V2Transport).decoys > 0, 'decoys were skipped');
  assert.is(a.stats.faults.size, 0);
  assert.is(b.stats.faults.size, 0);
  assert.ok(a.stats.bytesOut > 64, 'handshake bytes are counted as sent');
  a.close();
  await b.closed;
});

test('a v1 peer connecting to a v2 responder is served in v1', async () => {
  const { a, b } = pair('v1', 'v2');
  await Promise.all([a.ready, b.ready]);
  assert.is(b.transport.kind, 'v1');
  const got: number[] = [];
  b.on('inv', (m) => got.push(m.inventory.length));
  a.send('inv', INV);
  await until(() => got.length === 1, 'inv over v1');
  a.close();
});

test('a v2 initiator meeting a v1-only peer is dropped and asks for a v1 retry', async () => {
  const { a, b } = pair('v2', 'v1');
  const [ra, rb] = await Promise.all([a.closed, b.closed]);
  assert.is(rb, 'bad-magic', 'the v1 side sees a random key as a bad magic');
  assert.is(ra, 'remote-closed');
  assert.ok(a.transport.shouldReconnectV1);
});

test('over loopback TCP: connectPeer and listenPeers speak v2, every message type', async () => {
  const seen: string[] = [];
  const server = await listenPeers(
    { host: '127.0.0.1', port: 0, network: NET, localNonces: new Set(), transport: transportFactory('v2', 'inbound', NET.magic) },
    (p) => p.on('message', (name) => seen.push(name)),
  );
  const port = (server.address() as { port: number }).port;
  const a = await connectPeer({ host: '127.0.0.1', port, network: NET, localNonces: new Set(), transport: transportFactory('v2', 'outbound', NET.magic) });
  await a.ready;
  a.send('getheaders', { version: 70016, locator: [], hashStop: new Uint8Array(32) });
  a.send('inv', INV);
  a.send('getdata', INV);
  a.send('notfound', INV);
  a.send('feefilter', { feerate: 1000n });
  a.send('sendtxrcncl', { version: 1, salt: 5n } as never);
  a.sendRaw('nonsense', new Uint8Array([1, 2, 3]));
  await until(() => seen.includes('nonsense'), 'the last message');
  assert.ok(['version', 'verack', 'getheaders', 'inv', 'getdata', 'notfound', 'feefilter', 'nonsense'].every((n) => seen.includes(n)), seen.join(','));
  assert.is(a.transport.kind, 'v2');
  a.close();
  server.close();
});

void Command;
test.run();
