import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkEvidence } from '../../src/cli/network-hint.js';
import { describeMagic, networkByMagic } from '../../src/protocol/network.js';
import { NETWORKS } from '../../src/protocol/constants.js';
import { V1Decoder, encodeFrame } from '../../src/transport/v1.js';
import { Status } from '../../src/protocol/errors.js';
import { BIN, startSimulate } from './children.js';


test('a magic names its network', () => {
  assert.is(networkByMagic(NETWORKS.regtest.magic)!.name, 'regtest');
  assert.is(describeMagic(NETWORKS.regtest.magic), 'fabfb5da regtest');
  assert.is(describeMagic(0x12345678), '78563412');
  assert.is(networkByMagic(0x12345678), undefined);
});

test('the v1 decoder keeps the bytes it found instead of the magic', () => {
  const d = new V1Decoder(NETWORKS.mainnet.magic, { onFrame() {} });
  assert.is(d.push(encodeFrame(NETWORKS.regtest.magic, 'verack', {})), Status.BAD_MAGIC);
  assert.is(d.badMagic >>> 0, NETWORKS.regtest.magic >>> 0);
});

test('the evidence names the network peers answered with, else says none spoke ours', () => {
  const e = new NetworkEvidence();
  assert.is(e.hint(NETWORKS.mainnet), null);
  e.gone('bad-magic', 'fabfb5da regtest', false);
  e.gone('remote-closed', '', false);
  e.gone('bad-magic', 'fabfb5da regtest', true); // after a handshake: not evidence of the network
  assert.match(e.hint(NETWORKS.mainnet)!, /peers speak regtest \(1 session answered with its magic\), not mainnet: use --network regtest/);
  const silent = new NetworkEvidence();
  silent.gone('remote-closed', '', false);
  silent.gone('bad-magic', '78563412', false);
  assert.match(silent.hint(NETWORKS.mainnet)!, /no peer completed a mainnet handshake .* 2 sessions closed or sent unreadable bytes/);
});

test('connect to a node of another network that answers with its magic says which network', async () => {
  // A node that speaks first, with regtest's magic.
  const server = createServer((s) => s.end(encodeFrame(NETWORKS.regtest.magic, 'verack', {}))).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  // stdin stays open: the session ends when the peer's bytes end it.
  const child = spawn(process.execPath, [BIN, 'connect', `127.0.0.1:${port}`, '--network', 'mainnet', '--transport', 'v1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (d) => (stdout += d));
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await new Promise((r) => child.on('exit', r));
  clearTimeout(guard);
  server.close();
  const r = { stdout };
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const hint = lines.find((l) => l.event === 'wrong-network');
  assert.ok(hint, r.stdout);
  assert.match(hint.message, /use --network regtest/);
});

test('observe against a simulated (regtest) network without --network exits 1 and says to check --network', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'invscope-wrongnet-'));
  const sim = await startSimulate(dir, 4, 7, '127.5.0.0');
  try {
    const r = spawnSync(process.execPath, [BIN, 'observe', '--peers', join(dir, 'nodes.txt'), '--out', join(dir, 'run'), '--duration', '3', '--shards', '1'], { encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /no peer completed a mainnet handshake|peers speak regtest/);
    assert.match(r.stderr, /--network/);
    // The hint is in the run's log too (written before the log is closed).
    const logDir = join(dir, 'run', 'log');
    const log = readdirSync(logDir).map((f) => readFileSync(join(logDir, f), 'utf8')).join('');
    assert.match(log, /ERROR .*(no peer completed a mainnet handshake|peers speak regtest)/);
  } finally {
    sim.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
