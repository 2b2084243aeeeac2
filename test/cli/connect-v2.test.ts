import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { listenPeers, connectPeer, transportFactory, type Peer } from '../../src/peer/index.js';
import { NETWORKS } from '../../src/protocol/constants.js';
import { ROOT, until } from '../helpers.js';

const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const NET = NETWORKS.regtest;

/** `invscope connect ARGS` with its JSON lines collected; stdin stays open until `end`. */
function session(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'connect', ...args], { stdio: 'pipe' });
  const lines: any[] = [];
  let err = '';
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(JSON.parse(l)));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
  return { lines, exited, end: () => child.stdin.end(), err: () => err };
}

async function listener(kind: 'v1' | 'v2'): Promise<{ port: number; close: () => Promise<void>; peers: Peer[] }> {
  const peers: Peer[] = [];
  const server = await listenPeers({ host: '127.0.0.1', port: 0, network: NET, localNonces: new Set(), transport: transportFactory(kind, 'inbound', NET.magic) }, (p) => peers.push(p));
  return { port: (server.address() as { port: number }).port, peers, close: () => new Promise((r) => server.close(() => r())) };
}

test('connect --transport v2 speaks BIP324 with a v2 node', async () => {
  const l = await listener('v2');
  const s = session([`127.0.0.1:${l.port}`, '--network', 'regtest', '--transport', 'v2']);
  await until(() => s.lines.some((x) => x.event === 'ready'), 'ready', 10_000);
  assert.is(s.lines.find((x) => x.event === 'ready').transport, 'v2');
  assert.is(l.peers[0]!.transport.kind, 'v2');
  s.end();
  assert.is(await s.exited, 0);
  await l.close();
});

test('connect (auto) to a v1-only node: the v2 key is dropped, the retry in v1 succeeds', async () => {
  const l = await listener('v1');
  const s = session([`127.0.0.1:${l.port}`, '--network', 'regtest']);
  await until(() => s.lines.some((x) => x.event === 'ready'), 'ready', 10_000);
  const retry = s.lines.findIndex((x) => x.event === 'retry-v1');
  assert.ok(retry >= 0, 'a retry-v1 line');
  assert.ok(retry < s.lines.findIndex((x) => x.event === 'ready'));
  assert.is(s.lines.find((x) => x.event === 'ready').transport, 'v1');
  s.end();
  assert.is(await s.exited, 0);
  await l.close();
});

test('connect --transport v1 to a v2 node is answered in v1; --listen serves a v2 initiator in v2', async () => {
  const l = await listener('v2');
  const s = session([`127.0.0.1:${l.port}`, '--network', 'regtest', '--transport', 'v1']);
  await until(() => s.lines.some((x) => x.event === 'ready'), 'ready', 10_000);
  assert.is(s.lines.find((x) => x.event === 'ready').transport, 'v1');
  s.end();
  assert.is(await s.exited, 0);
  await l.close();

  const srv = session(['--listen', '127.0.0.1:0', '--network', 'regtest']);
  await until(() => srv.lines.some((x) => x.event === 'listening'), 'listening', 10_000);
  const port = srv.lines.find((x) => x.event === 'listening').port;
  const peer = await connectPeer({ host: '127.0.0.1', port, network: NET, localNonces: new Set(), transport: transportFactory('v2', 'outbound', NET.magic) });
  await peer.ready;
  await until(() => srv.lines.some((x) => x.event === 'ready'), 'ready');
  assert.is(srv.lines.find((x) => x.event === 'ready').transport, 'v2');
  peer.close();
  assert.is(await srv.exited, 1);
});

test('connect --transport takes v1, v2 or auto only', async () => {
  const s = session(['127.0.0.1:1', '--transport', 'v3']);
  assert.is(await s.exited, 2);
  assert.match(s.err(), /--transport takes v1, v2 or auto/);
});

test.run();
