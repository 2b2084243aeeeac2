import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listenPeers, connectPeer, type Peer } from '../../src/peer/index.js';
import { NETWORKS } from '../../src/protocol/constants.js';
import { hashToHex } from '../../src/protocol/hex.js';
import { parseHostPort, networkForPort } from '../../src/cli/connect.js';
import { until } from '../helpers.js';
import { Session } from './children.js';

const NET = NETWORKS.regtest;

test('parses HOST:PORT forms and picks the network from the port', () => {
  assert.equal(parseHostPort('127.0.0.1:18444'), { host: '127.0.0.1', port: 18444 });
  assert.equal(parseHostPort('[::1]:8333'), { host: '::1', port: 8333 });
  assert.equal(parseHostPort('localhost', 8333), { host: 'localhost', port: 8333 });
  assert.throws(() => parseHostPort('h:99999'), /99999/);
  assert.throws(() => parseHostPort('h'), /no port/);
  assert.is(networkForPort(18444).name, 'regtest');
  assert.is(networkForPort(48333).name, 'testnet4');
  assert.is(networkForPort(12345).name, 'mainnet');
});

test('a first session: handshake printed, typed commands sent, bad lines answered, EOF closes cleanly', async () => {
  const inbound: Peer[] = [];
  const server = await listenPeers({ host: '127.0.0.1', port: 0, network: NET, version: { userAgent: '/remote:9/' } }, (p) => inbound.push(p));
  const port = (server.address() as { port: number }).port;
  const s = new Session([`127.0.0.1:${port}`, '--network', 'regtest']);
  await until(() => s.has((l) => l.event === 'ready'), 'ready', 10_000);
  const ready = s.lines.find((l) => l.event === 'ready');
  assert.is(ready.remote.userAgent, '/remote:9/');
  assert.ok(s.has((l) => l.dir === 'out' && l.command === 'version' && l.relay === 1));
  assert.ok(s.has((l) => l.dir === 'in' && l.command === 'version'));
  // The default transport is auto: a v2 attempt (dropped by this v1-only listener) comes first.
  const remote = inbound.find((p) => p.isReady)!;
  const seen: string[] = [];
  remote.on('message', (cmd) => seen.push(cmd));
  const hash = '00000000000000000002a7c4c1e48d76c5a37902165a270156b7a8d72728a054';
  s.type('ping');
  s.type('getdata tx ' + hash);
  s.type('getheaders ' + hash);
  s.type('raw fancycmd 0102ff');
  s.type('getdata coin ' + hash);
  s.type('frobnicate');
  s.type('getaddr');
  await until(() => seen.includes('getaddr'), 'getaddr at the remote', 10_000);
  assert.equal(seen.filter((c) => c !== 'pong'), ['ping', 'getdata', 'getheaders', 'fancycmd', 'getaddr']);
  await until(() => s.has((l) => l.dir === 'in' && l.command === 'pong'), 'pong printed');
  assert.ok(s.has((l) => l.dir === 'out' && l.command === 'getdata' && l.inventory[0].hash === hash));
  assert.match(s.err, /getdata takes tx, wtx or block/);
  assert.match(s.err, /unknown command "frobnicate"/);
  // The remote talks back: its inv arrives as a JSON line with a receive time.
  remote.send('inv', { inventory: [{ type: 5, hash: new Uint8Array(32).fill(0xab) }] });
  await until(() => s.has((l) => l.dir === 'in' && l.command === 'inv'), 'inv printed');
  const inv = s.lines.find((l) => l.dir === 'in' && l.command === 'inv');
  assert.is(inv.inventory[0].hash, hashToHex(new Uint8Array(32).fill(0xab)));
  assert.ok(inv.t > 1.7e12);
  s.child.stdin.end();
  assert.is(await s.exited, 0);
  assert.ok(s.has((l) => l.event === 'closed' && l.reason === 'local-close'));
  await remote.closed;
  await new Promise((r) => server.close(r));
});

test('Ctrl-C closes the session cleanly', async () => {
  const server = await listenPeers({ host: '127.0.0.1', port: 0, network: NET }, () => {});
  const port = (server.address() as { port: number }).port;
  const s = new Session([`127.0.0.1:${port}`, '--network', 'regtest']);
  await until(() => s.has((l) => l.event === 'ready'), 'ready', 10_000);
  s.child.kill('SIGINT');
  assert.is(await s.exited, 0);
  assert.ok(s.has((l) => l.event === 'closed' && l.detail === 'interrupted'));
  await new Promise((r) => server.close(r));
});

test('--listen waits for one inbound peer and talks to it', async () => {
  const s = new Session(['--listen', '127.0.0.1:0', '--network', 'regtest']);
  await until(() => s.has((l) => l.event === 'listening'), 'listening', 10_000);
  const port = s.lines.find((l) => l.event === 'listening').port;
  const peer = await connectPeer({ host: '127.0.0.1', port, network: NET, localNonces: new Set() });
  await peer.ready;
  await until(() => s.has((l) => l.event === 'ready'), 'ready');
  peer.close();
  assert.is(await s.exited, 1, 'closed by the peer');
  assert.ok(s.has((l) => l.event === 'closed' && l.reason === 'remote-closed'));
});

test('reports a refused connection and exits 1', async () => {
  const server = await listenPeers({ host: '127.0.0.1', port: 0, network: NET }, () => {});
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  const s = new Session([`127.0.0.1:${port}`]);
  assert.is(await s.exited, 1);
  assert.ok(s.has((l) => l.event === 'failed' && l.code === 'ECONNREFUSED'));
});

test('rejects bad arguments before connecting, exit 2', async () => {
  for (const args of [['127.0.0.1:70000'], ['127.0.0.1:1', '--network', 'moon'], [], ['127.0.0.1:1', '--announce', 'smoke']]) {
    const s = new Session(args);
    assert.is(await s.exited, 2, args.join(' '));
    assert.ok(s.err.length > 0);
  }
});

test.run();
