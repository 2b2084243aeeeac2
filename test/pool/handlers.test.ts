/**
 * User handler modules inside the shards (src/pool/shard/handlers.ts): the pool's shards import
 * handlers-fixture.js; in-process listeners on loopback play the remote peers and send what the
 * handlers react to. Also the host's registration rules without threads, and modules that fail.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:net';
import { listenPeers, type Peer } from '../../src/peer/index.js';
import { NETWORKS } from '../../src/protocol/constants.js';
import { hashToHex } from '../../src/protocol/hex.js';
import { now } from '../../src/observe/clock.js';
import { Coordinator, type HandlerEvent, type HandlerErrorEvent, type Observation, type PeerEvent } from '../../src/pool/index.js';
import { HandlerHost, MAX_REPORTED_HANDLER_ERRORS } from '../../src/pool/shard/handlers.js';
import { until } from '../helpers.js';

const NET = NETWORKS.regtest;
const FIXTURE = new URL('./handlers-fixture.js', import.meta.url);

const servers: Server[] = [];
const addresses: string[] = [];
/** The remote side of each pool connection, by listener address. */
const remote = new Map<string, Peer>();
const getaddrs = new Map<string, number>();

let pool: Coordinator;
const posts: HandlerEvent[] = [];
const errors: HandlerErrorEvent[] = [];
const ready = new Map<string, PeerEvent & { type: 'ready' }>();
const gone: (PeerEvent & { type: 'gone' })[] = [];
const seen: Observation[] = [];
let reading: Promise<void>;

const postsOf = (what: string): any[] => posts.map((p) => p.value as any).filter((v) => v.what === what);

test.before(async () => {
  for (let i = 0; i < 4; i++) {
    let address = '';
    const server = await listenPeers({ network: NET, host: '127.0.0.1', port: 0 }, (peer) => {
      peer.on('ready', () => remote.set(address, peer));
      peer.on('getaddr', () => getaddrs.set(address, (getaddrs.get(address) ?? 0) + 1));
    });
    address = `127.0.0.1:${(server.address() as { port: number }).port}`;
    servers.push(server);
    addresses.push(address);
  }
});

test.after(async () => {
  await pool?.stop();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
});

test('every shard loads the handler module: ready handlers run there and answer the peer', async () => {
  pool = new Coordinator({ network: 'regtest', peers: 4, shards: 2, addresses, handlers: FIXTURE, handlerOptions: { tag: 'from the test' }, statsIntervalMs: 100 });
  pool.on('handler', (e: HandlerEvent) => posts.push(e));
  pool.on('handlerError', (e: HandlerErrorEvent) => errors.push(e));
  pool.on('peer', (e: PeerEvent) => {
    if (e.type === 'ready') ready.set(e.address, e);
    if (e.type === 'gone') gone.push(e);
  });
  reading = (async () => {
    for await (const o of pool.observations()) seen.push(o);
  })();
  await pool.start();
  await until(() => ready.size === 4 && postsOf('ready').length === 4 && remote.size === 4, '4 ready peers and 4 ready handler calls');
  for (const r of postsOf('ready')) {
    const ev = [...ready.values()].find((e) => e.peer === r.peer);
    assert.ok(ev, `peer ${r.peer} is a pool peer`);
    assert.is(r.shard, ev!.shard, 'the handler ran in the peer’s shard');
    assert.is(r.userAgent, '/invscope:0.1.0/');
  }
  // ctx.send from the ready handler: every remote got a getaddr.
  await until(() => addresses.every((a) => getaddrs.get(a) === 1), 'a getaddr at every remote');
});

test('inv handlers get the decoded message and the raw payload with the receive time, and the ring still gets every entry', async () => {
  const address = addresses[0]!;
  const ev = ready.get(address)!;
  const hs = [1, 2, 3].map(() => new Uint8Array(randomBytes(32)));
  hs.forEach((h) => (h[0] = 0x11)); // never 0xee: the raw handler throws on those
  const t0 = now();
  remote.get(address)!.send('inv', { inventory: hs.map((hash) => ({ type: 1, hash })) });
  await until(() => postsOf('inv').length >= 1 && postsOf('raw-inv').length >= 1, 'both inv handlers');
  const d = postsOf('inv')[0];
  assert.is(d.peer, ev.peer);
  assert.is(d.shard, ev.shard);
  assert.is(d.address, address);
  assert.equal(d.hashes, hs.map((h) => hashToHex(h)));
  assert.ok(d.rxTime >= t0 && d.rxTime <= now(), 'receive time within the send and now');
  const r = postsOf('raw-inv')[0];
  assert.is(r.peer, ev.peer);
  assert.is(r.length, 1 + 3 * 36);
  assert.is(r.count, 3);
  assert.is(r.rxTime, d.rxTime, 'both handlers see the same read time');
  await until(() => seen.length >= 3, 'the ring records');
  assert.equal(
    seen.map((o) => o.hash),
    hs.map((h) => hashToHex(h)),
  );
  assert.is(seen[0]!.time, d.rxTime, 'the ring record carries the same receive time');
});

test('a decoded handler of a command the peer decodes itself (feefilter) sees it', async () => {
  const ev = ready.get(addresses[1]!)!;
  remote.get(addresses[1]!)!.send('feefilter', { feerate: 1234n });
  await until(() => postsOf('feefilter').length === 1, 'the feefilter handler');
  assert.is(postsOf('feefilter')[0].peer, ev.peer);
  assert.is(postsOf('feefilter')[0].feerate, '1234');
});

test('errors thrown or rejected by handlers, bad posts and bad sends are counted per shard; the shard and its peers go on', async () => {
  const address = addresses[2]!;
  const ev = ready.get(address)!;
  const peer = remote.get(address)!;
  const bad = new Uint8Array(randomBytes(32));
  bad[0] = 0xee;
  peer.send('inv', { inventory: [{ type: 1, hash: bad }] });
  peer.send('mempool', {});
  peer.send('sendheaders', {});
  peer.send('getheaders', { version: 70016, locator: [], hashStop: new Uint8Array(32) });
  await until(() => errors.length >= 4 && postsOf('bad-send').length === 1, 'four handler errors');
  const byCommand = new Map(errors.map((e) => [e.command, e]));
  assert.match(byCommand.get('inv')!.message, /boom from a raw inv handler/);
  assert.is(byCommand.get('inv')!.peer, ev.peer);
  assert.is(byCommand.get('inv')!.shard, ev.shard);
  assert.match(byCommand.get('mempool')!.message, /async boom/);
  assert.ok(byCommand.has('post'), 'the uncloneable post');
  assert.ok(byCommand.has('send ping'), `the bad send (${[...byCommand.keys()]})`);
  assert.is(postsOf('bad-send')[0].sent, false);
  assert.is(postsOf('cloneable').length, 1, 'a good post from the same handler went through');
  // Still alive, still observing: the bad inv went to the ring too, and a later one arrives.
  await until(() => seen.some((o) => o.hash === hashToHex(bad)), 'the inv whose raw handler threw, in the ring');
  const good = new Uint8Array(randomBytes(32));
  good[0] = 0x22;
  peer.send('inv', { inventory: [{ type: 5, hash: good }] });
  await until(() => seen.some((o) => o.hash === hashToHex(good)), 'a later inv');
  const st = pool.stats();
  await until(() => pool.stats().shards[ev.shard]!.handlerErrors === 4, 'counted in stats', 2_000).catch(() => {});
  assert.is(pool.stats().shards[ev.shard]!.handlerErrors, 4, JSON.stringify(st.shards));
  assert.ok(st.shards.every((s) => s.alive && s.restarts === 0));
  assert.is(st.peers.ready, 4);
  await until(() => (pool.stats().shards[ev.shard]!.last?.handlerCalls ?? 0) > 0, 'calls counted');
});

test('a handler can close its peer (reason "handler"), and sees the close', async () => {
  const address = addresses[3]!;
  const ev = ready.get(address)!;
  remote.get(address)!.send('notfound', { inventory: [] });
  await until(() => gone.some((g) => g.peer === ev.peer), 'the gone event');
  const g = gone.find((x) => x.peer === ev.peer)!;
  assert.is(g.reason, 'handler');
  assert.is(g.detail, 'told to');
  await until(() => postsOf('close').some((c) => c.peer === ev.peer), 'the close handler');
  assert.is(postsOf('close').find((c) => c.peer === ev.peer).reason, 'handler');
});

test('stop runs every shard’s stop handlers before it returns, with handlerOptions as ctx.options', async () => {
  await pool.stop();
  await reading;
  const stops = postsOf('stop');
  assert.equal(stops.map((s) => s.shard).sort(), [0, 1]);
  for (const s of stops) assert.equal(s.options, { tag: 'from the test' });
  assert.is(stops.reduce((n, s) => n + s.invs, 0), postsOf('inv').length);
});

test('start() rejects, naming the module, when it cannot be imported, has no setup or its setup throws', async () => {
  const cases: [string | URL, RegExp][] = [
    [new URL('./no-such-module.js', import.meta.url), /could not be imported/],
    ['data:text/javascript,export const x = 1', /exports no setup function/],
    ['data:text/javascript,export default function (ctx) { ctx.on("nosuchcommand", () => {}) }', /setup threw: handlers: no such command or event "nosuchcommand"/],
  ];
  for (const [handlers, why] of cases) {
    const p = new Coordinator({ network: 'regtest', peers: 1, shards: 1, addresses: [addresses[0]!], handlers });
    let err = null as Error | null;
    await p.start().catch((e: Error) => (err = e));
    assert.ok(err, `start() rejected for ${handlers}`);
    assert.match(err!.message, why);
    assert.ok(err!.message.includes(String(handlers).slice(0, 20)), err!.message);
    assert.is(p.stats().peers.connected + p.stats().peers.pending, 0, 'nothing was connected');
  }
});

test('the host refuses unknown names and raw event handlers; reports at most a few errors but counts all', async () => {
  const posted: any[] = [];
  const host = new HandlerHost({ shard: 3, peer: () => null, post: (m) => posted.push(m) }, { a: 1 });
  const ctx = host.context;
  assert.is(ctx.shard, 3);
  assert.equal(ctx.options, { a: 1 });
  assert.throws(() => ctx.on('nope' as never, () => {}), /no such command or event "nope"/);
  assert.throws(() => ctx.on('unknown' as never, () => {}), /no such command/);
  assert.throws(() => (ctx.on as any)('ready', () => {}, { raw: true }), /raw: true/);
  assert.throws(() => ctx.on('inv', 5 as never), /not a function/);
  assert.is(ctx.send(1, 'getaddr', {}), false, 'no such peer');
  assert.is(ctx.close(1), false);
  assert.is(ctx.address(1), undefined);
  ctx.on('ready', () => {
    throw new Error('x');
  });
  for (let i = 0; i < MAX_REPORTED_HANDLER_ERRORS + 10; i++) host.peerReady(i, {} as never, 0);
  assert.is(host.errors, MAX_REPORTED_HANDLER_ERRORS + 10);
  assert.is(host.calls, MAX_REPORTED_HANDLER_ERRORS + 10);
  assert.is(posted.length, MAX_REPORTED_HANDLER_ERRORS);
  assert.equal(posted[0], { type: 'handlerError', peer: 0, command: 'ready', message: 'x', errors: 1 });
});

test.run();
