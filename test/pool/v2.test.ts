import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Server } from 'node:net';
import { listenPeers, connectPeer, transportFactory, type Peer } from '../../src/peer/index.js';
import { NETWORKS, Services } from '../../src/protocol/constants.js';
import { hashToHex } from '../../src/protocol/hex.js';
import { Coordinator, type PeerEvent } from '../../src/pool/index.js';
import { startSimulation } from '../../src/sim/index.js';
import { NODE_P2P_V2 } from '../../src/sim/identity.js';
import { until } from '../helpers.js';

const NET = NETWORKS.regtest;
const servers: Server[] = [];
const peersToClose: Peer[] = [];

test.after(async () => {
  for (const p of peersToClose) p.close();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** An invscope listener on loopback (v1 only, or a v2 responder); `onPeer` sees each inbound peer. */
async function listener(kind: 'v1' | 'v2', services: bigint, onPeer: (p: Peer) => void = () => {}): Promise<string> {
  const server = await listenPeers(
    { network: NET, host: '127.0.0.1', port: 0, version: { services }, localNonces: new Set(), transport: transportFactory(kind, 'inbound', NET.magic) },
    (p) => {
      peersToClose.push(p);
      onPeer(p);
    },
  );
  servers.push(server);
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

function events(pool: Coordinator): PeerEvent[] {
  const out: PeerEvent[] = [];
  pool.on('peer', (e: PeerEvent) => out.push(e));
  return out;
}

const quick = { network: NET, shards: 1, maintainIntervalMs: 20, retryAfterDropMs: 20, backoffBaseMs: 20, backoffMaxMs: 50, dnsSeeds: false } as const;

test("auto: a v1 node whose version advertises NODE_P2P_V2 is next dialled in v2; dropped unanswered, it is retried at once in v1", async () => {
  // A v1-only node that claims bit 11, and closes every peer once its handshake is done.
  const address = await listener('v1', Services.NODE_NETWORK | Services.NODE_P2P_V2, (p) => p.on('ready', () => setTimeout(() => p.close(), 30)));
  const pool = new Coordinator({ ...quick, peers: 1, addresses: [address] });
  const ev = events(pool);
  await pool.start();
  try {
    await until(() => ev.filter((e) => e.type === 'ready').length >= 2, 'two handshakes', 10_000);
    const ready = ev.filter((e): e is PeerEvent & { type: 'ready' } => e.type === 'ready');
    assert.equal(ready.slice(0, 2).map((e) => e.transport), ['v1', 'v1']);
    const gone = ev.filter((e): e is PeerEvent & { type: 'gone' } => e.type === 'gone');
    const v2 = gone.find((e) => e.transport === 'v2');
    assert.ok(v2, 'a v2 attempt was made and dropped');
    assert.not.ok(v2!.wasReady);
    assert.ok(pool.stats().transports.v1Retries >= 1);
    assert.is(pool.stats().transports.v2, 0);
    // Once marked v1-only, the address is never tried in v2 again.
    assert.is(gone.filter((e) => e.transport === 'v2').length, 1);
  } finally {
    await pool.stop();
  }
});

test("transport 'v2' does not fall back: a v1-only node fails every attempt", async () => {
  const address = await listener('v1', Services.NODE_NETWORK);
  const pool = new Coordinator({ ...quick, peers: 1, addresses: [address], transport: 'v2' });
  const ev = events(pool);
  await pool.start();
  try {
    await until(() => ev.filter((e) => e.type === 'gone').length >= 2, 'two failed attempts', 10_000);
    assert.ok(ev.filter((e) => e.type === 'gone').every((e) => (e as { transport?: string }).transport === 'v2'));
    assert.is(ev.filter((e) => e.type === 'ready').length, 0);
    assert.is(pool.stats().transports.v1Retries, 0);
  } finally {
    await pool.stop();
  }
});

test("transport 'v1' to a v2 node: it answers in v1; 'v2' to it: a v2 session", async () => {
  const address = await listener('v2', Services.NODE_NETWORK | Services.NODE_P2P_V2);
  for (const transport of ['v1', 'v2'] as const) {
    const pool = new Coordinator({ ...quick, peers: 1, addresses: [address], transport });
    const ev = events(pool);
    await pool.start();
    try {
      await until(() => ev.some((e) => e.type === 'ready'), 'ready', 10_000);
      assert.is((ev.find((e) => e.type === 'ready') as { transport: string }).transport, transport);
      assert.is(pool.stats().transports[transport], 1);
    } finally {
      await pool.stop();
    }
    const gone = ev.filter((e) => e.type === 'gone') as (PeerEvent & { type: 'gone' })[];
    assert.is(gone.at(-1)!.transport, transport, "the 'gone' event records the transport");
  }
});

test('the listening shard serves a v2 initiator in v2 and a v1 one in v1', async () => {
  const pool = new Coordinator({ ...quick, peers: 0, listen: '127.0.0.1:0' });
  const ev = events(pool);
  await pool.start();
  try {
    const at = pool.stats().listening!;
    const port = Number(at.slice(at.lastIndexOf(':') + 1));
    for (const kind of ['v2', 'v1'] as const) {
      const p = await connectPeer({ host: '127.0.0.1', port, network: NET, localNonces: new Set(), transport: transportFactory(kind, 'outbound', NET.magic) });
      peersToClose.push(p);
      await p.ready;
      assert.is(p.transport.kind, kind);
    }
    await until(() => ev.filter((e) => e.type === 'ready').length === 2, 'two inbound handshakes');
    assert.equal(
      ev.filter((e) => e.type === 'ready').map((e) => (e as { transport: string }).transport),
      ['v2', 'v1'],
    );
  } finally {
    await pool.stop();
  }
});

test('end to end: a crawling pool against a simulation where half the nodes speak v2 dials them in v2 and observes every announcement', async () => {
  const sim = await startSimulation({
    nodes: 24,
    seed: 4,
    outbound: 4,
    port: 0,
    timeScale: 20,
    txRate: 0,
    blockIntervalMs: 0,
    v2Fraction: 0.5,
    truthInMemory: true,
    server: { trickleMeanMs: 50 },
  });
  const byAddress = new Map(sim.nodes.map((n) => [`${n.host}:${sim.port}`, n]));
  const v2Nodes = sim.nodes.filter((n) => (n.services & NODE_P2P_V2) !== 0n).length;
  assert.ok(v2Nodes >= 6 && v2Nodes <= 18, `about half the nodes speak v2 (${v2Nodes})`);
  const seed = sim.nodes.find((n) => (n.services & NODE_P2P_V2) === 0n)!;
  const pool = new Coordinator({ ...quick, peers: sim.nodes.length, crawl: true, addresses: [`${seed.host}:${sim.port}`] });
  const ev = events(pool);
  const seen = new Map<string, Set<string>>();
  const reading = (async () => {
    for await (const o of pool.observations()) {
      let s = seen.get(o.address);
      if (!s) seen.set(o.address, (s = new Set()));
      s.add(o.hash);
    }
  })();
  await pool.start();
  try {
    const ready = (): (PeerEvent & { type: 'ready' })[] => ev.filter((e): e is PeerEvent & { type: 'ready' } => e.type === 'ready');
    await until(() => ready().length >= sim.nodes.length - 2, 'most nodes ready', 20_000);
    await until(() => sim.stats.ready >= ready().length, 'the simulation sees them ready');
    // Every peer speaks what its node advertises: v2 to the nodes with bit 11 (learned from addr).
    for (const e of ready()) {
      const node = byAddress.get(e.address)!;
      const advertised = (node.services & NODE_P2P_V2) !== 0n;
      if (e.address !== `${seed.host}:${sim.port}`) assert.is(e.transport, advertised ? 'v2' : 'v1', e.address);
    }
    assert.ok(ready().some((e) => e.transport === 'v2'));
    assert.ok(ready().some((e) => e.transport === 'v1'));
    assert.is(pool.stats().transports.v1Retries, 0, 'no v2 attempt was dropped');

    const overV2 = (address: string): boolean => ready().find((e) => e.address === address)?.transport === 'v2';
    for (let i = 0; i < 6; i++) sim.model.inject('tx', (i * 5) % sim.nodes.length);
    const truth = (): { address: string; hash: string }[] =>
      sim.truth!.records.announces.map((a) => {
        const item = sim.model.item(a.item)!;
        return { address: `${sim.nodes[a.node]!.host}:${sim.port}`, hash: hashToHex(item.wtxid) };
      });
    try {
      // Until a v2 node's announcement is in the truth too (the first ones may all come from v1
      // nodes), and every announcement so far was observed.
      await until(() => truth().some((t) => overV2(t.address)) && truth().every((t) => seen.get(t.address)?.has(t.hash)), 'every announcement observed, some from v2 nodes', 20_000);
    } catch (e) {
      const miss = truth().filter((t) => !seen.get(t.address)?.has(t.hash));
      const gone = ev.filter((x) => x.type === 'gone').map((x) => `${x.address} ${(x as { reason: string }).reason}`);
      throw new Error(`${(e as Error).message}: ${miss.length} of ${truth().length} missing, e.g. ${JSON.stringify(miss.slice(0, 3))}; gone: ${gone.join(', ')}`);
    }
    const viaV2 = truth().filter((t) => overV2(t.address));
    assert.ok(viaV2.length > 0, 'some announcements came over v2 sessions');
  } finally {
    await pool.stop();
    await reading;
    await sim.stop();
  }
});

test.run();
