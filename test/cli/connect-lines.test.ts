import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:net';
import { listenPeers, type Peer } from '../../src/peer/index.js';
import { NETWORKS } from '../../src/protocol/constants.js';
import { OrderedOut, rawToJSON } from '../../src/cli/connect-out.js';
import { until } from '../helpers.js';
import { Session } from './children.js';

const NET = NETWORKS.regtest;

test('lines gathered in one turn come out sorted by time', async () => {
  let written = '';
  const out = new OrderedOut((s) => (written += s));
  out.line({ t: 3, a: 1 });
  out.line({ t: 1, a: 2 });
  out.line({ t: 2, a: 3 });
  await new Promise((r) => setImmediate(r));
  assert.equal(
    written.trim().split('\n').map((l) => JSON.parse(l).a),
    [2, 3, 1],
  );
});

test('a raw payload is shown decoded when it decodes, else as hex with what went wrong', () => {
  assert.equal(rawToJSON('ping', Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])), { command: 'ping', nonce: '578437695752307201' });
  assert.equal(rawToJSON('getaddr', new Uint8Array(0)), { command: 'getaddr' });
  assert.equal(rawToJSON('frob', Uint8Array.from([0xab])), { command: 'frob', unknown: true, payloadHex: 'ab' });
  assert.equal(rawToJSON('ping', Uint8Array.from([1])), { command: 'ping', malformed: true, payloadHex: '01' });
});

async function v1Listener(): Promise<{ server: Server; port: number; peers: Peer[] }> {
  const peers: Peer[] = [];
  const server = await listenPeers({ host: '127.0.0.1', port: 0, network: NET }, (p) => peers.push(p));
  return { server, port: (server.address() as { port: number }).port, peers };
}

test('raw works with and without a payload, prints the decoded out line, and a pong carries its round trip', async () => {
  const { server, port, peers } = await v1Listener();
  const s = new Session([`127.0.0.1:${port}`, '--network', 'regtest', '--transport', 'v1']);
  try {
    await until(() => s.has((l) => l.event === 'ready'), 'ready', 20_000);
    const seen: string[] = [];
    peers.find((p) => p.isReady)!.on('message', (cmd) => seen.push(cmd));
    s.type('raw ping 0102030405060708');
    s.type('raw getaddr');
    s.type('raw mempool -');
    s.type('ping');
    await until(() => seen.includes('mempool') && s.has((l) => l.dir === 'in' && l.command === 'pong' && typeof l.rttMs === 'number'), 'raw sent, pong with rtt', 20_000);
    assert.not.match(s.err, /Cannot read properties/);
    assert.not.match(s.err, /usage: raw/);
    assert.ok(s.has((l) => l.dir === 'out' && l.command === 'ping' && l.nonce === '578437695752307201'), 'decoded raw ping');
    assert.ok(s.has((l) => l.dir === 'out' && l.command === 'getaddr' && l.bytes === 24), 'raw getaddr with an empty payload');
    const pong = s.lines.find((l) => l.dir === 'in' && l.command === 'pong' && typeof l.rttMs === 'number');
    assert.ok(pong.rttMs >= 0 && pong.rttMs < 20_000);
  } finally {
    s.child.stdin.end();
    await s.exited;
    server.close();
  }
});

test('lines are in time order, connected comes before ready, and no 0-byte version line precedes a v2 attempt', async () => {
  const { server, port } = await v1Listener();
  // auto: the v2 attempt is dropped by this v1-only listener, then v1.
  const s = new Session([`127.0.0.1:${port}`, '--network', 'regtest']);
  try {
    await until(() => s.has((l) => l.event === 'ready'), 'ready', 20_000);
    await new Promise((r) => setTimeout(r, 200));
    const ts = s.lines.map((l) => l.t);
    for (let i = 1; i < ts.length; i++) assert.ok(ts[i] >= ts[i - 1], `line ${i} is not earlier than line ${i - 1}: ${s.raw[i - 1]} / ${s.raw[i]}`);
    let connected = -1;
    s.lines.forEach((l, i) => void (l.event === 'connected' && (connected = i)));
    const ready = s.lines.findIndex((l) => l.event === 'ready');
    assert.ok(connected >= 0 && connected < ready, 'connected before ready');
    assert.not.ok(s.has((l) => l.dir === 'out' && l.bytes === 0), 'no 0-byte out line');
    assert.ok(s.has((l) => l.event === 'retry-v1'));
    const versions = s.lines.filter((l) => l.dir === 'out' && l.command === 'version');
    assert.is(versions.length, 1, 'one version line: the v2 attempt never sent its version');
  } finally {
    s.child.stdin.end();
    await s.exited;
    server.close();
  }
});

test("connect HOST without a port dials the network's default port", async () => {
  // All of 127.0.0.0/8 is loopback: regtest's 18444 on a random address there is free, even with
  // another test run beside this one (a taken address is tried again elsewhere).
  const peers: Peer[] = [];
  let host = '';
  let server: Awaited<ReturnType<typeof listenPeers>> | null = null;
  for (let attempt = 0; server === null; attempt++) {
    host = `127.${2 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
    try {
      server = await listenPeers({ host, port: NET.defaultPort, network: NET }, (p) => peers.push(p));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw e;
    }
  }
  const s = new Session([host, '--network', 'regtest', '--transport', 'v1']);
  try {
    await until(() => s.has((l) => l.event === 'ready'), 'ready', 20_000);
    assert.ok(s.has((l) => l.event === 'connecting' && l.port === 18444));
  } finally {
    s.child.stdin.end();
    await s.exited;
    server.close();
  }
});

test('a peer that accepts and stays silent ends with a clear handshake-timeout line', async () => {
  const server = createServer(() => {}).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  // v1 only: one attempt; stdin stays open, so the handshake timer is what ends the session.
  const s = new Session([`127.0.0.1:${port}`, '--network', 'regtest', '--transport', 'v1', '--handshake-timeout', '2'], 60_000);
  try {
    const code = await s.exited;
    assert.is(code, 1);
    const line = s.lines.find((l) => l.event === 'handshake-timeout');
    assert.ok(line, s.raw.join('\n'));
    assert.match(line.message, /sent nothing/);
    assert.is(s.lines[s.lines.length - 1].event, 'closed');
  } finally {
    server.close();
  }
});

test.run();
