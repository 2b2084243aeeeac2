import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as lib from '../src/index.js';
import { ROOT } from './helpers.js';

test('exports the codec, the transport and the peer from the package root', () => {
  for (const name of ['decodeMessage', 'encodeMessage', 'V1Decoder', 'encodeFrame', 'Peer', 'connectPeer', 'listenPeers', 'NETWORKS', 'scanInv', 'now']) {
    assert.ok(name in lib, name);
  }
});

test('resolves invscope, invscope/protocol, invscope/transport and invscope/peer by package name', () => {
  const code = `Promise.all(['invscope','invscope/protocol','invscope/transport','invscope/peer'].map((m) => import(m))).then((ms) => console.log(ms.map((m) => Object.keys(m).length).join(',')))`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.trim().split(',').every((n) => Number(n) > 5), r.stdout);
});

test('round-trips a ping through the root exports', () => {
  const frame = lib.encodeFrame(lib.NETWORKS.mainnet.magic, 'ping', { nonce: 42n });
  const got: bigint[] = [];
  const dec = new lib.V1Decoder(lib.NETWORKS.mainnet.magic, {
    onFrame(cmd, buf, off, len) {
      got.push((lib.decodePayload(cmd, buf, off, len) as { nonce: bigint }).nonce);
    },
  });
  dec.push(frame);
  assert.equal(got, [42n]);
});

test.run();
