import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { listenPeers, type Peer } from '../../src/peer/index.js';
import { NETWORKS } from '../../src/protocol/constants.js';
import { hashToHex } from '../../src/protocol/hex.js';
import { headerHash, type BlockHeader } from '../../src/protocol/messages/block.js';
import { now } from '../../src/observe/clock.js';
import { Coordinator, type Observation, type PeerEvent } from '../../src/pool/index.js';
import { until, sleep } from '../helpers.js';

const NET = NETWORKS.regtest;
const LISTENERS = 22;

/** In-process invscope listeners on loopback: the latest ready inbound peer per listener address. */
const servers: Server[] = [];
const addresses: string[] = [];
const inbound = new Map<string, Peer>();
const allInbound: Peer[] = [];
let refused = '';

/** A background consumer: every observation with the time it reached the test. */
interface Seen extends Observation {
  arrived: number;
}

async function listeners(): Promise<void> {
  for (let i = 0; i < LISTENERS; i++) {
    let address = '';
    const server = await listenPeers({ network: NET, host: '127.0.0.1', port: 0 }, (peer) => {
      allInbound.push(peer);
      peer.on('ready', () => inbound.set(address, peer));
    });
    address = `127.0.0.1:${(server.address() as { port: number }).port}`;
    servers.push(server);
    addresses.push(address);
  }
  // A port nobody listens on: connects are refused.
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  refused = `127.0.0.1:${(s.address() as { port: number }).port}`;
  await new Promise<void>((r) => s.close(() => r()));
}

function consume(pool: Coordinator): { seen: Seen[]; ended: Promise<void> } {
  const seen: Seen[] = [];
  const ended = (async () => {
    for await (const o of pool.observations()) seen.push({ ...o, arrived: now() });
  })();
  return { seen, ended };
}

function track(pool: Coordinator): { ready: Map<string, PeerEvent & { type: 'ready' }>; gone: (PeerEvent & { type: 'gone' })[] } {
  const ready = new Map<string, PeerEvent & { type: 'ready' }>();
  const gone: (PeerEvent & { type: 'gone' })[] = [];
  pool.on('peer', (e: PeerEvent) => {
    if (e.type === 'ready') ready.set(e.address, e);
    else if (e.type === 'gone') {
      gone.push(e);
      if (ready.get(e.address)?.peer === e.peer) ready.delete(e.address);
    }
  });
  return { ready, gone };
}

function hashes(n: number): Uint8Array[] {
  return Array.from({ length: n }, () => new Uint8Array(randomBytes(32)));
}

function header(nonce: number): BlockHeader {
  return { version: 0x20000000, prevBlock: new Uint8Array(randomBytes(32)), merkleRoot: new Uint8Array(randomBytes(32)), time: 1_700_000_000, bits: 0x207fffff, nonce };
}

let pool: Coordinator;
let obs: { seen: Seen[]; ended: Promise<void> };
let peers: ReturnType<typeof track>;
let firstSend = 0;

test.before(async () => {
  await listeners();
});

test.after(async () => {
  await pool?.stop();
  for (const p of allInbound) p.close();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
});

test('reaches its target of 20 peers over 2 shards', async () => {
  pool = new Coordinator({
    network: 'regtest',
    peers: 20,
    shards: 2,
    addresses: [refused, ...addresses],
    backoffBaseMs: 200,
    retryAfterDropMs: 20,
    maintainIntervalMs: 20,
    statsIntervalMs: 200,
  });
  peers = track(pool);
  obs = consume(pool);
  const t0 = Date.now();
  await pool.start();
  await until(() => pool.stats().peers.ready === 20, '20 ready peers', 10_000);
  const s = pool.stats();
  assert.is(s.peers.connected, 20);
  assert.is(s.shards.length, 2);
  // Least-loaded assignment: the two shards hold 10 each.
  assert.equal(
    s.shards.map((x) => x.peers),
    [10, 10],
  );
  await until(() => [...peers.ready.keys()].every((a) => inbound.get(a)?.isReady === true), 'inbound sides ready');
  assert.ok(Date.now() - t0 < 10_000);
});

test('every inv entry sent by every inbound peer arrives with its hash, peer and receive time', async () => {
  const expected = new Map<string, { peer: number; address: string; invType: number; entry: number }>();
  firstSend = now();
  const tSend = now();
  for (const [address, ev] of peers.ready) {
    const hs = hashes(3);
    const inv = hs.map((hash, i) => ({ type: i === 0 ? 1 : 5 | (i === 2 ? 1 << 30 : 0), hash }));
    inv.forEach((e, i) => expected.set(hashToHex(e.hash), { peer: ev.peer, address, invType: e.type >>> 0, entry: i }));
    assert.ok(inbound.get(address)!.send('inv', { inventory: inv }));
  }
  assert.is(expected.size, 60);
  await until(() => obs.seen.length >= 60, '60 observations', 5_000);
  assert.is(obs.seen.length, 60);
  for (const o of obs.seen) {
    const e = expected.get(o.hash);
    assert.ok(e, `unexpected hash ${o.hash}`);
    assert.is(o.kind, 'inv');
    assert.is(o.peer, e!.peer);
    assert.is(o.address, e!.address);
    assert.is(o.invType, e!.invType);
    assert.is(o.entry, e!.entry);
    assert.is(o.shard, peers.ready.get(o.address)!.shard);
    assert.ok(o.time >= tSend && o.time <= o.arrived, `receive time ${o.time} within [${tSend}, ${o.arrived}]`);
  }
  assert.is(pool.stats().observations, 60);
});

test('headers and cmpctblock announcements arrive as block hashes', async () => {
  const [a, b] = [...peers.ready.keys()];
  const h1 = header(1);
  const h2 = header(2);
  const h3 = header(3);
  const before = obs.seen.length;
  inbound.get(a!)!.send('headers', { headers: [h1, h2] });
  inbound.get(b!)!.send('cmpctblock', { header: h3, nonce: 7n, shortIds: new Uint8Array(12), prefilled: [] });
  await until(() => obs.seen.length >= before + 3, '3 block observations');
  const got = obs.seen.slice(before);
  const byHash = new Map(got.map((o) => [o.hash, o]));
  const o1 = byHash.get(hashToHex(headerHash(h1)));
  const o2 = byHash.get(hashToHex(headerHash(h2)));
  const o3 = byHash.get(hashToHex(headerHash(h3)));
  assert.ok(o1 && o2 && o3, 'all three block hashes');
  assert.is(o1!.kind, 'headers');
  assert.is(o1!.entry, 0);
  assert.is(o2!.entry, 1);
  assert.is(o1!.address, a);
  assert.is(o1!.invType, 2);
  assert.is(o3!.kind, 'cmpctblock');
  assert.is(o3!.address, b);
  assert.is(o3!.invType, 2);
});

test('records() is refused while observations() is consumed (one consumer)', () => {
  assert.throws(() => pool.records(), /records\(\) while observations\(\) is being consumed/);
});

test('a refused address backs off exponentially and records its outcome', async () => {
  const rec = pool.book.get(refused)!;
  assert.ok(rec, 'in the book');
  await until(() => rec.failures >= 1, 'a refusal');
  assert.is(rec.lastOutcome, 'ECONNREFUSED');
  assert.is(rec.state, 'idle');
  assert.ok(rec.nextAttemptAt > rec.lastOutcomeAt, 'waits before the next attempt');
  // 200 ms base, doubling, jittered down to at most half: far fewer attempts than maintain ticks.
  const elapsed = Date.now() - firstSend + 2_000;
  assert.ok(rec.attempts <= Math.log2(elapsed / 100) + 2, `${rec.attempts} attempts`);
  assert.ok((pool.stats().connectFailures['ECONNREFUSED'] ?? 0) >= 1);
  assert.is(pool.stats().peers.ready, 20);
});

test('a peer dropped by the remote is replaced', async () => {
  const [address, ev] = [...peers.ready.entries()][0]!;
  const goneBefore = peers.gone.filter((g) => g.reason !== 'connect-failed').length;
  inbound.get(address)!.close();
  await until(() => peers.gone.some((g) => g.peer === ev.peer), 'the gone event');
  const g = peers.gone.find((x) => x.peer === ev.peer)!;
  assert.is(g.reason, 'remote-closed');
  assert.ok(g.wasReady);
  assert.ok(g.stats && typeof g.stats['bytesIn'] === 'number');
  await until(() => pool.stats().peers.ready === 20 && peers.ready.size === 20, 'back to 20', 5_000);
  assert.ok(peers.gone.filter((x) => x.reason !== 'connect-failed').length > goneBefore);
  assert.ok((pool.stats().disconnectReasons['remote-closed'] ?? 0) >= 1);
});

test('addr messages are forwarded to tap("addr") and learned by the book', async () => {
  const got: { peer: number; msg: any }[] = [];
  pool.tap('addr', (peer, msg) => got.push({ peer, msg }));
  const [address, ev] = [...peers.ready.entries()][0]!;
  const ip = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 1, 2, 3]);
  inbound.get(address)!.send('addr', { addrs: [{ time: 1_700_000_000, services: 9n, ip, port: 18444 }] });
  await until(() => got.length >= 1, 'the addr tap');
  assert.is(got[0]!.peer, ev.peer);
  assert.equal(got[0]!.msg.addrs, [{ address: '10.1.2.3:18444', network: 'ipv4', services: '9', time: 1_700_000_000 }]);
  assert.is(pool.book.get('10.1.2.3:18444')?.source, 'addr');
});

test('stop() drains every ring, closes every socket and ends observations()', async () => {
  // Sent right before stop: must still come out of the rings.
  const hs = hashes(2);
  const [address] = [...peers.ready.keys()];
  inbound.get(address!)!.send('inv', { inventory: hs.map((hash) => ({ type: 1, hash })) });
  await until(() => pool.stats().shards.reduce((n, s) => n + s.ringAvailable, 0) + obs.seen.length >= 65, 'records in the ring', 2_000).catch(() => {});
  await pool.stop();
  await obs.ended;
  const seen = new Set(obs.seen.map((o) => o.hash));
  for (const h of hs) assert.ok(seen.has(hashToHex(h)), 'sent just before stop, still observed');
  const s = pool.stats();
  assert.is(s.peers.connected + s.peers.pending, 0);
  assert.ok(s.shards.every((x) => x.drops === 0 && x.ringAvailable === 0));
  await until(() => allInbound.every((p) => !p.isOpen), 'every inbound side closed');
});

test('killing a shard mid-run loses nothing that reached its ring, and its peers are reconnected', async () => {
  // Drain only on demand (a 60 s timer, no wakeup on publish): the records sit in the ring when the thread dies.
  const b = new Coordinator({ network: 'regtest', peers: 6, shards: 2, addresses, drainIntervalMs: 60_000, drainOnPublish: false, retryAfterDropMs: 20, maintainIntervalMs: 20 });
  pool = b;
  const ev = track(b);
  const o = consume(b);
  await b.start();
  // Settled: 6 peers ready on both ends and no stale inbound side of a dead connection still open
  // (a shard's death closes its sockets, but the listener notices a little later).
  const settled = (): boolean =>
    b.stats().peers.ready === 6 &&
    ev.ready.size === 6 &&
    allInbound.filter((p) => p.isOpen).length === 6 &&
    [...ev.ready.keys()].every((a) => inbound.get(a)?.isReady === true && inbound.get(a)!.isOpen);
  await until(settled, '6 ready', 5_000);
  let total = 0;
  for (const how of ['throw', 'exit'] as const) {
    const victim = how === 'throw' ? 0 : 1;
    // After the first crash the replaced peers went to whichever shard was alive: take what is there.
    const onVictim = [...ev.ready.values()].filter((e) => e.shard === victim);
    assert.ok(onVictim.length >= 1, `peers on shard ${victim}`);
    const sent: string[] = [];
    for (const e of onVictim) {
      await until(() => inbound.get(e.address)?.isReady === true, 'inbound ready');
      const hs = hashes(4);
      hs.forEach((h) => sent.push(hashToHex(h)));
      inbound.get(e.address)!.send('inv', { inventory: hs.map((hash) => ({ type: 5, hash })) });
    }
    total += sent.length;
    await until(() => b.stats().shards[victim]!.ringAvailable === sent.length, `${sent.length} records waiting in the ring`);
    assert.ok(sent.every((h) => !o.seen.some((x) => x.hash === h)), 'not drained yet');
    b.crashShard(victim, how);
    await until(() => b.stats().shards[victim]!.restarts === 1, `shard ${victim} restarted (${how})`, 5_000);
    await sleep(0);
    const seen = new Set(o.seen.map((x) => x.hash));
    for (const h of sent) assert.ok(seen.has(h), `${h} survived the ${how} (${sent.filter((x) => seen.has(x)).length}/${sent.length} seen, ${JSON.stringify(b.stats().shards)})`);
    const died = ev.gone.filter((g) => g.reason === 'shard-died' && g.shard === victim);
    assert.is(died.length, onVictim.length);
    await until(() => settled() && b.stats().shards[victim]!.alive, 'reconnected', 5_000);
  }
  // New connections go to the restarted shard again, and it writes to the same ring.
  const last = [...ev.ready.values()][0]!;
  b.closePeer(last.peer);
  await until(() => settled() && ev.gone.some((g) => g.peer === last.peer), 'replaced', 5_000);
  const s1 = b.stats().shards.map((x) => x.peers);
  assert.ok(s1[0]! + s1[1]! === 6, `${s1}`);
  const targets = [...ev.ready.values()];
  const hs = hashes(targets.length);
  for (let i = 0; i < targets.length; i++) {
    await until(() => inbound.get(targets[i]!.address)?.isReady === true, 'inbound ready');
    inbound.get(targets[i]!.address)!.send('inv', { inventory: [{ type: 1, hash: hs[i]! }] });
  }
  total += targets.length;
  await until(() => b.stats().shards.reduce((n, x) => n + x.ringAvailable, 0) === targets.length, 'records from the new threads');
  await b.stop();
  await o.ended;
  for (let i = 0; i < targets.length; i++) assert.ok(o.seen.some((x) => x.hash === hashToHex(hs[i]!) && x.address === targets[i]!.address));
  assert.is(o.seen.length, total);
  assert.ok(b.stats().shards.every((x) => x.drops === 0));
});

test('records() gives raw batches with every field; beyond maxQueuedObservations records are counted as consumer drops', async () => {
  const c = new Coordinator({ network: 'regtest', peers: 2, shards: 1, addresses: addresses.slice(0, 2), maxQueuedObservations: 4 });
  pool = c;
  const ev = track(c);
  const it = c.records();
  await c.start();
  await until(() => ev.ready.size === 2 && [...ev.ready.keys()].every((a) => inbound.get(a)?.isReady === true && inbound.get(a)!.isOpen), '2 ready');
  const [address, e] = [...ev.ready.entries()][0]!;
  const hs = hashes(10);
  const tSend = now();
  inbound.get(address)!.send('inv', { inventory: hs.map((hash, i) => ({ type: i % 2 ? 5 : 1, hash })) });
  await until(() => c.stats().observations === 10, '10 records drained');
  const s = c.stats();
  assert.is(s.queued, 4);
  assert.is(s.consumerDrops, 6, 'the six beyond the bound');
  const b = (await it.next()).value!;
  assert.is(b.length, 4);
  for (let i = 0; i < 4; i++) {
    assert.is(b.hashHex(i), hashToHex(hs[i]!));
    assert.is(b.peer(i), e.peer);
    assert.is(b.address(i), address);
    assert.is(b.kind(i), 1);
    assert.is(b.invType(i), i % 2 ? 5 : 1);
    assert.is(b.entry(i), i);
    assert.ok(b.time(i) >= tSend && b.time(i) <= now());
  }
  assert.is(b.seq(0), b.seq(3), 'one message, one sequence number');
  assert.is(c.stats().queued, 0);
  await c.stop();
  assert.equal(await it.next(), { value: undefined, done: true });
});

test.run();
