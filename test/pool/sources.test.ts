/**
 * Pool phase 2: address sources (DNS seeds through a fake resolver, getaddr crawling with its
 * bound), SOCKS5 dialling of an onion address through a tiny in-test proxy, and the inbound
 * listening shard. Loopback only: no real DNS name is ever resolved, no outside address dialled.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { connectPeer, listenPeers, type Peer } from '../../src/peer/index.js';
import { NETWORKS, type NetworkParams } from '../../src/protocol/constants.js';
import { hashToHex } from '../../src/protocol/hex.js';
import { ipV1FromString, onionV3ToString } from '../../src/protocol/messages/address.js';
import { Coordinator, type Observation, type PeerEvent, type SeedResolver } from '../../src/pool/index.js';
import { until } from '../helpers.js';

const NET = NETWORKS.regtest;
const servers: Server[] = [];
const peersToClose: Peer[] = [];
let pool: Coordinator | null = null;

interface Listener {
  address: string;
  port: number;
  inbound: Peer[];
}

/** An invscope listener on loopback; `onPeer` may register handlers (e.g. answer getaddr). */
async function listener(host = '127.0.0.1', onPeer?: (p: Peer) => void): Promise<Listener> {
  const l: Listener = { address: '', port: 0, inbound: [] };
  const server = await listenPeers({ network: NET, host, port: 0 }, (peer) => {
    l.inbound.push(peer);
    peersToClose.push(peer);
    onPeer?.(peer);
  });
  servers.push(server);
  l.port = (server.address() as { port: number }).port;
  l.address = host.includes(':') ? `[${host}]:${l.port}` : `${host}:${l.port}`;
  return l;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function ipv6Loopback(): Promise<boolean> {
  const s = createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

function track(p: Coordinator): { ready: Map<string, PeerEvent>; events: PeerEvent[] } {
  const ready = new Map<string, PeerEvent>();
  const events: PeerEvent[] = [];
  p.on('peer', (e: PeerEvent) => {
    events.push(e);
    if (e.type === 'ready') ready.set(e.address, e);
  });
  return { ready, events };
}

async function stopPool(): Promise<void> {
  const p = pool;
  pool = null;
  await p?.stop();
}

test.after.each(async () => {
  await stopPool();
});

test.after(async () => {
  for (const p of peersToClose) p.close();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
});

test('DNS seeds: IPv4 and IPv6 answers enter the book as source dns, failures are counted, not fatal', async () => {
  const v6 = await ipv6Loopback();
  // Seeded addresses take the network's default port: point it at one listener port, bound on
  // 127.0.0.1 and (when the host has IPv6) on ::1.
  const a = await listener('127.0.0.1');
  if (v6) {
    const s = await listenPeers({ network: NET, host: '::1', port: a.port }, (p) => peersToClose.push(p)).catch(() => null);
    if (s) servers.push(s);
  }
  const net: NetworkParams = { ...NET, defaultPort: a.port, dnsSeeds: ['seed.one.invalid', 'seed.two.invalid', 'seed.down.invalid'] };
  const asked: string[] = [];
  const err = (code: string): Error => Object.assign(new Error(code), { code });
  const resolver: SeedResolver = {
    async resolve4(name) {
      asked.push(`4 ${name}`);
      if (name === 'seed.one.invalid') return ['127.0.0.1', '127.0.0.2'];
      if (name === 'seed.two.invalid') return ['127.0.0.1', '127.0.0.3'];
      throw err('ETIMEOUT');
    },
    async resolve6(name) {
      asked.push(`6 ${name}`);
      if (name === 'seed.one.invalid') return ['::1'];
      if (name === 'seed.two.invalid') throw err('ENODATA');
      throw err('ESERVFAIL');
    },
  };
  pool = new Coordinator({ network: net, peers: v6 ? 2 : 1, shards: 1, resolver, maintainIntervalMs: 20, backoffBaseMs: 60_000 });
  const ev = track(pool);
  const seedEvents: any[] = [];
  pool.on('seed', (r) => seedEvents.push(r));
  await pool.start();
  const results = await pool.seeding;
  assert.is(asked.length, 6, 'A and AAAA for each of the network seeds (dnsSeeds defaults on with no addresses)');
  assert.is(results.length, 6);
  assert.is(seedEvents.length, 6);
  const s = pool.stats();
  assert.is(s.seeds.lookups, 6);
  assert.is(s.seeds.failed, 3);
  assert.equal(s.seeds.errors, { ETIMEOUT: 1, ENODATA: 1, ESERVFAIL: 1 });
  assert.is(s.seeds.addresses, 5);
  const book = pool.addresses();
  assert.equal(book.map((x) => x.address).sort(), [`127.0.0.1:${a.port}`, `127.0.0.2:${a.port}`, `127.0.0.3:${a.port}`, `[::1]:${a.port}`].sort());
  assert.ok(book.every((x) => x.source === 'dns'));
  assert.is(book.find((x) => x.address === `[::1]:${a.port}`)!.network, 'ipv6');
  assert.is(s.addresses.bySource['dns'], 4);
  // Seeded addresses are dialled: the listener's (and ::1's) handshakes complete.
  await until(() => ev.ready.has(`127.0.0.1:${a.port}`) && (!v6 || ev.ready.has(`[::1]:${a.port}`)), 'seeded peers ready', 5_000);
  const seedFail = results.find((r) => r.seed === 'seed.down.invalid' && r.family === 4)!;
  assert.is(seedFail.error, 'ETIMEOUT');
  assert.is(seedFail.addresses, 0);
});

test('DNS seeds are off when addresses are given, and a resolver that always fails is not fatal', async () => {
  let calls = 0;
  const failing: SeedResolver = {
    resolve4: async () => (calls++, Promise.reject(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))),
    resolve6: async () => (calls++, Promise.reject(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))),
  };
  const net: NetworkParams = { ...NET, dnsSeeds: ['a.invalid'] };
  pool = new Coordinator({ network: net, peers: 1, shards: 1, addresses: ['127.0.0.1:1'], resolver: failing, backoffBaseMs: 60_000 });
  await pool.start();
  assert.equal(await pool.seeding, []);
  assert.is(calls, 0);
  await stopPool();
  pool = new Coordinator({ network: net, peers: 1, shards: 1, resolver: failing, dnsSeeds: true });
  await pool.start();
  const r = await pool.seeding;
  assert.is(r.length, 2);
  assert.is(pool.stats().seeds.failed, 2);
  assert.equal(pool.stats().seeds.errors, { ENOTFOUND: 2 });
  assert.is(pool.addresses().length, 0);
});

test('DNS seeds are resolved again every reseedIntervalMs: new answers dialled, known ones not added twice, a failing round not fatal', async () => {
  // Two listeners on one port (the seeded addresses take the network's default port).
  const a = await listener('127.0.0.1');
  const b = await listenPeers({ network: NET, host: '127.0.0.2', port: a.port }, (p) => peersToClose.push(p));
  servers.push(b);
  const net: NetworkParams = { ...NET, defaultPort: a.port, dnsSeeds: ['seed.reseed.invalid'] };
  let rounds = 0;
  const err = (code: string): Error => Object.assign(new Error(code), { code });
  const resolver: SeedResolver = {
    // Round 1: one address; round 2: the seed fails; from round 3 on: that address and a new one.
    async resolve4() {
      rounds++;
      if (rounds === 1) return ['127.0.0.1'];
      if (rounds === 2) throw err('ETIMEOUT');
      return ['127.0.0.1', '127.0.0.2'];
    },
    resolve6: async () => Promise.reject(err('ENODATA')),
  };
  pool = new Coordinator({ network: net, peers: 2, shards: 1, resolver, reseedIntervalMs: 50, maintainIntervalMs: 20, backoffBaseMs: 60_000 });
  const ev = track(pool);
  const seedEvents: { family: number; addresses: number; added: number; error?: string }[] = [];
  pool.on('seed', (r) => seedEvents.push(r));
  await pool.start();
  await until(() => ev.ready.has(`127.0.0.1:${a.port}`), 'the first round\'s address ready', 5_000);
  await until(() => ev.ready.has(`127.0.0.2:${a.port}`), 'the address of a later round dialled and ready', 5_000);
  await until(() => rounds >= 4, 'a round after the new address came', 5_000);
  const v4 = seedEvents.filter((e) => e.family === 4);
  assert.equal(v4[0], { seed: 'seed.reseed.invalid', family: 4, addresses: 1, added: 1 });
  assert.is(v4[1]!.error, 'ETIMEOUT');
  assert.equal(v4[2], { seed: 'seed.reseed.invalid', family: 4, addresses: 2, added: 1 });
  assert.is(v4[3]!.added, 0, 'known addresses are not added again');
  const book = pool.addresses();
  assert.equal(book.map((x) => x.address).sort(), [`127.0.0.1:${a.port}`, `127.0.0.2:${a.port}`]);
  assert.ok(book.every((x) => x.source === 'dns' && x.attempts === 1), 'each address dialled once: a known one is not redialled by a reseed');
  const s = pool.stats().seeds;
  assert.ok(s.lookups >= 8, String(s.lookups));
  assert.is(s.errors['ETIMEOUT'], 1);
  assert.is(s.errors['ENODATA'], s.lookups / 2);
  await stopPool();
  const after = rounds;
  await new Promise((r) => setTimeout(r, 150));
  assert.is(rounds, after, 'no lookup after stop()');
});

test('reseedIntervalMs 0: the seeds are resolved at start only', async () => {
  let calls = 0;
  const resolver: SeedResolver = { resolve4: async () => (calls++, []), resolve6: async () => (calls++, []) };
  pool = new Coordinator({ network: { ...NET, dnsSeeds: ['a.invalid'] }, peers: 1, shards: 1, resolver, reseedIntervalMs: 0 });
  await pool.start();
  await pool.seeding;
  await new Promise((r) => setTimeout(r, 150));
  assert.is(calls, 2);
  assert.is(pool.stats().seeds.lookups, 2);
});

test('crawl: getaddr to each ready peer, learned addresses dialled, at most maxLearnedAddresses kept', async () => {
  // Leaves are asked too (every ready peer is): they count it and answer nothing.
  let leafGetaddr = 0;
  const countGetaddr = (p: Peer): void => void p.on('message', (c: string) => c === 'getaddr' && leafGetaddr++);
  const leaves = [await listener('127.0.0.1', countGetaddr), await listener('127.0.0.1', countGetaddr), await listener('127.0.0.1', countGetaddr)];
  const refusedA = await freePort();
  const refusedB = await freePort();
  const getaddrs: number[] = [];
  const addr = (host: string, port: number) => ({ time: 1_700_000_000, services: 1033n, ip: ipV1FromString(host)!, port });
  const hub = await listener('127.0.0.1', (peer) => {
    peer.on('message', (command: string) => {
      if (command !== 'getaddr') return;
      getaddrs.push(Date.now());
      // Three reachable leaves, then two addresses beyond the bound (never kept).
      peer.send('addr', { addrs: [...leaves.map((l) => addr('127.0.0.1', l.port)), addr('127.0.0.1', refusedA), addr('127.0.0.1', refusedB)] });
    });
  });
  pool = new Coordinator({ network: 'regtest', peers: 10, shards: 2, addresses: [hub.address], crawl: true, maxLearnedAddresses: 3, maintainIntervalMs: 20, backoffBaseMs: 60_000 });
  const ev = track(pool);
  await pool.start();
  await until(() => ev.ready.size === 4, 'hub and 3 learned leaves ready', 5_000);
  for (const l of leaves) assert.ok(ev.ready.has(l.address), `${l.address} dialled`);
  const s = pool.stats();
  assert.is(s.addresses.learned, 3);
  assert.is(s.addresses.learnedDropped, 2);
  assert.is(s.addresses.known, 4);
  assert.is(getaddrs.length, 1, 'the hub was asked once');
  assert.is(s.crawl.getaddrSent, 4, 'every ready peer asked once');
  assert.is(s.crawl.addressesReceived, 5);
  const learned = pool.addresses().filter((x) => x.source === 'addr');
  assert.is(learned.length, 3);
  assert.ok(learned.every((x) => x.services === '1033' && x.lastOutcome === 'ready'));
  assert.is(pool.book.get(`127.0.0.1:${refusedA}`), undefined);
  // Nothing more to dial: 4 of the 10 wanted, no attempts to unknown addresses.
  await new Promise((r) => setTimeout(r, 100));
  assert.is(pool.stats().peers.ready, 4);
  await until(() => leafGetaddr === 3, 'each leaf asked once');
});

test('without crawl, learned addresses are kept but not dialled', async () => {
  const leaf = await listener();
  const hub = await listener('127.0.0.1', (peer) => {
    peer.on('ready', () => peer.send('addr', { addrs: [{ time: 1, services: 1n, ip: ipV1FromString('127.0.0.1')!, port: leaf.port }] }));
  });
  pool = new Coordinator({ network: 'regtest', peers: 5, shards: 1, addresses: [hub.address], maintainIntervalMs: 20 });
  const ev = track(pool);
  await pool.start();
  await until(() => pool!.book.get(leaf.address) !== undefined, 'leaf learned');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal([...ev.ready.keys()], [hub.address]);
  assert.is(pool.book.get(leaf.address)!.attempts, 0);
  assert.is(pool.stats().crawl.getaddrSent, 0);
});

/** A minimal SOCKS5 server (RFC 1928: no auth, CONNECT to a domain name) forwarding every connection to `target`. */
async function socks5(targetPort: number): Promise<{ address: string; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer((client: Socket) => {
    let buf = Buffer.alloc(0);
    let stage = 0;
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      if (stage === 0) {
        if (buf.length < 2 || buf.length < 2 + buf[1]!) return;
        assert.is(buf[0], 5);
        buf = buf.subarray(2 + buf[1]!);
        client.write(Buffer.from([5, 0])); // no authentication
        stage = 1;
      }
      if (stage === 1) {
        if (buf.length < 5) return;
        const [ver, cmd, , atyp] = buf;
        if (ver !== 5 || cmd !== 1 || atyp !== 3) {
          client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
          return;
        }
        const n = buf[4]!;
        if (buf.length < 5 + n + 2) return;
        const name = buf.subarray(5, 5 + n).toString('latin1');
        const port = buf.readUInt16BE(5 + n);
        asked.push(`${name}:${port}`);
        const rest = buf.subarray(5 + n + 2);
        stage = 2;
        client.off('data', onData);
        const upstream = netConnect({ host: '127.0.0.1', port: targetPort }, () => {
          client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
          if (rest.length) upstream.write(rest);
          client.pipe(upstream);
          upstream.pipe(client);
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      }
    };
    client.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { address: `127.0.0.1:${(server.address() as { port: number }).port}`, asked };
}

test('an onion address is kept but not dialled without a proxy', async () => {
  const onion = `${onionV3ToString(new Uint8Array(randomBytes(32)))}:8333`;
  pool = new Coordinator({ network: 'regtest', peers: 1, shards: 1, addresses: [onion], maintainIntervalMs: 20 });
  await pool.start();
  await new Promise((r) => setTimeout(r, 80));
  const [rec] = pool.addresses();
  assert.is(rec!.network, 'torv3');
  assert.is(rec!.attempts, 0);
  assert.is(pool.stats().peers.pending + pool.stats().peers.connected, 0);
});

test('an onion address is dialled through the SOCKS5 proxy and its inv observed', async () => {
  const target = await listener();
  const proxy = await socks5(target.port);
  const onionHost = onionV3ToString(new Uint8Array(randomBytes(32)));
  const onion = `${onionHost}:8333`;
  pool = new Coordinator({ network: 'regtest', peers: 1, shards: 1, addresses: [onion], proxy: proxy.address, maintainIntervalMs: 20 });
  const ev = track(pool);
  const seen: Observation[] = [];
  const ended = (async () => {
    for await (const o of pool!.observations()) seen.push(o);
  })();
  await pool.start();
  await until(() => ev.ready.has(onion), 'onion peer ready through the proxy', 5_000);
  assert.equal(proxy.asked, [onion], 'the proxy was asked for the onion name (resolved by the proxy)');
  await until(() => target.inbound.some((p) => p.isReady), 'listener side ready');
  const hash = new Uint8Array(randomBytes(32));
  target.inbound.find((p) => p.isReady)!.send('inv', { inventory: [{ type: 1, hash }] });
  await until(() => seen.length >= 1, 'the inv observed');
  assert.is(seen[0]!.hash, hashToHex(hash));
  assert.is(seen[0]!.address, onion);
  assert.is(pool.addresses()[0]!.lastOutcome, 'ready');
  await stopPool();
  await ended;
});

test('a dead proxy is a counted connect failure with backoff', async () => {
  const dead = await freePort();
  const onion = `${onionV3ToString(new Uint8Array(randomBytes(32)))}:8333`;
  pool = new Coordinator({ network: 'regtest', peers: 1, shards: 1, addresses: [onion], proxy: `127.0.0.1:${dead}`, maintainIntervalMs: 20, backoffBaseMs: 60_000 });
  await pool.start();
  await until(() => pool!.book.get(onion)!.failures === 1, 'the failure');
  const rec = pool.book.get(onion)!;
  assert.ok(rec.lastOutcome === 'ECONNREFUSED' || rec.lastOutcome === 'ERR_SOCKS', String(rec.lastOutcome));
  assert.ok(rec.nextAttemptAt > Date.now() + 10_000);
});

test('inbound: a peer connecting to the listening shard is observed like the rest', async () => {
  pool = new Coordinator({ network: 'regtest', peers: 0, shards: 2, listen: '127.0.0.1:0', maxInbound: 1, dnsSeeds: false });
  const ev = track(pool);
  const seen: Observation[] = [];
  const ended = (async () => {
    for await (const o of pool!.observations()) seen.push(o);
  })();
  await pool.start();
  const at = pool.listenAddress;
  assert.ok(at && /^127\.0\.0\.1:\d+$/.test(at), String(at));
  const port = Number(at!.split(':')[1]);
  const peer = await connectPeer({ network: NET, host: '127.0.0.1', port });
  peersToClose.push(peer);
  await peer.ready;
  await until(() => ev.events.some((e) => e.type === 'ready'), 'inbound ready event');
  const conn = ev.events.find((e) => e.type === 'connected')!;
  assert.is((conn as any).inbound, true);
  assert.is(conn.shard, 0, 'on the listening shard');
  assert.ok(conn.peer >= 0x8000_0000);
  assert.is(pool.stats().peers.inbound, 1);
  assert.is(pool.stats().peers.ready, 1);
  // maxInbound 1: a second one is refused at accept.
  const second = await connectPeer({ network: NET, host: '127.0.0.1', port });
  peersToClose.push(second);
  await second.closed;
  assert.is(pool.stats().peers.inbound, 1);
  const hash = new Uint8Array(randomBytes(32));
  peer.send('inv', { inventory: [{ type: 1, hash }] });
  await until(() => seen.length >= 1, 'the inbound inv observed');
  assert.is(seen[0]!.hash, hashToHex(hash));
  assert.is(seen[0]!.peer, conn.peer);
  assert.is(seen[0]!.address, conn.address);
  assert.is(seen[0]!.shard, 0);
  assert.is(pool.addresses().length, 0, 'inbound addresses are not put in the book');
  peer.close();
  await until(() => ev.events.some((e) => e.type === 'gone'), 'gone');
  assert.is(pool.stats().peers.inbound, 0);
  await stopPool();
  await ended;
});

test.run();
