/**
 * The pool against the simulated network's ground truth: every announcement the simulator sent to
 * a connected peer (transactions by inv, blocks by inv, headers or cmpctblock) is in the
 * observations exactly once, with the node's address, the right hash, kind and type, and a receive
 * time after the send; and nothing is observed that the truth does not have. No timing margin: the
 * model is paused, then a ping to every peer is a barrier (TCP keeps order, so a peer's pong comes
 * after everything the node sent before it) before the pool stops.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSimulation } from '../../src/sim/index.js';
import { Coordinator, type Observation, type PeerEvent } from '../../src/pool/index.js';
import { InvType } from '../../src/protocol/constants.js';
import { now } from '../../src/observe/clock.js';
import { sleep, until } from '../helpers.js';

const KIND: Record<string, Observation['kind']> = { inv: 'inv', headers: 'headers', cmpctblock: 'cmpctblock' };

async function run(shards: number, blockAnnounce: 'inv' | 'headers' | 'cmpct', api: 'observations' | 'records'): Promise<void> {
  // 40 nodes, 20x faster than real time: a tx every ~7 ms, a block every ~0.5 s.
  const sim = await startSimulation({ nodes: 40, seed: 3 + shards, timeScale: 20, blockIntervalMs: 10_000, port: 0, truthInMemory: true });
  const nodeOf = new Map(sim.nodes.map((n) => [`${n.host}:${n.port}`, n.index]));
  const pool = new Coordinator({ network: sim.network, peers: 40, shards, blockAnnounce, addresses: [...nodeOf.keys()], reconnect: false });
  const ready = new Map<number, string>();
  const wtxidRelay = new Map<string, boolean>();
  const gone: PeerEvent[] = [];
  pool.on('peer', (e: PeerEvent) => {
    if (e.type === 'ready') {
      ready.set(e.peer, e.address);
      wtxidRelay.set(e.address, e.remote.wtxidRelay);
    }
    if (e.type === 'gone') gone.push(e);
  });
  const pongs = new Map<number, bigint>();
  pool.tap('pong', (peer, msg) => pongs.set(peer, msg.nonce));
  const seen: Observation[] = [];
  const reading = (async () => {
    if (api === 'observations') for await (const o of pool.observations()) seen.push(o);
    else
      for await (const b of pool.records())
        for (let i = 0; i < b.length; i++) {
          const kind = (['', 'inv', 'headers', 'cmpctblock', 'notfound'] as const)[b.kind(i)]!;
          seen.push({ time: b.time(i), peer: b.peer(i), address: b.address(i), kind: kind as Observation['kind'], invType: b.invType(i), entry: b.entry(i), hash: b.hashHex(i), shard: b.shard });
        }
  })();
  await pool.start();
  await until(() => ready.size === 40, '40 peers ready', 15_000);
  await sleep(2_500);
  // Pause the model (no new items, no new learns) and let the nodes' last trickles go out.
  sim.model.stop();
  await sleep(600);
  // The barrier: announcements sent before the ping reached the node arrive before its pong.
  const tBarrier = now();
  for (const peer of ready.keys()) assert.ok(pool.send(peer, 'ping', { nonce: 0x5eed_0000n + BigInt(peer) }));
  await until(() => [...ready.keys()].every((p) => pongs.get(p) === 0x5eed_0000n + BigInt(p)), 'a pong from every peer', 10_000);
  const lostBeforeStop = gone.length;
  await pool.stop();
  await reading;
  const truth = sim.truth!.records;
  await sim.stop();

  assert.is(lostBeforeStop, 0, `no peer lost during the run: ${JSON.stringify(gone.slice(0, 3))}`);
  const items = new Map(truth.items.map((it) => [it.id, it]));
  const itemOfHash = new Map<string, number>();
  for (const it of truth.items) {
    itemOfHash.set(it.hash, it.id);
    itemOfHash.set(it.wtxid, it.id);
  }
  const wanted = new Map<string, (typeof truth.announces)[number]>();
  const late = new Set<string>();
  for (const a of truth.announces) {
    const key = `${a.node}/${a.item}`;
    if (a.t >= tBarrier) late.add(key);
    else wanted.set(key, a);
  }
  const kinds = new Set([...wanted.values()].map((a) => a.how));
  assert.ok(wanted.size > 1000, `${wanted.size} announcements in the truth`);
  assert.ok(truth.items.some((it) => it.kind === 'block') && [...wanted.values()].some((a) => items.get(a.item)!.kind === 'block'), 'blocks were announced too');
  const found = new Set<string>();
  for (const o of seen) {
    const node = nodeOf.get(o.address);
    assert.ok(node !== undefined, `an observation from ${o.address}`);
    const key = `${node}/${itemOfHash.get(o.hash)}`;
    const a = wanted.get(key);
    if (!a) {
      // Sent after the barrier started (a straggling trickle): allowed, but it must be in the truth.
      assert.ok(late.has(key), `observation ${key} (${o.kind}, ${o.invType}, ${o.hash}) is not in the truth`);
      continue;
    }
    assert.not.ok(found.has(key), `${key} observed once`);
    found.add(key);
    const it = items.get(a.item)!;
    assert.is(o.kind, KIND[a.how], `${key}: kind`);
    // Transactions by wtxid (MSG_WTX) where the node negotiated wtxidrelay (BIP339), else by txid.
    const byWtxid = wtxidRelay.get(o.address) === true;
    assert.is(o.invType, it.kind === 'block' ? InvType.MSG_BLOCK : byWtxid ? InvType.MSG_WTX : InvType.MSG_TX, `${key}: inv type`);
    assert.is(o.hash, it.kind === 'tx' && byWtxid ? it.wtxid : it.hash, `${key}: hash`);
    // Causality on one clock (threads compute it alike; 1 ms of slack for their float rounding).
    assert.ok(o.time >= a.t - 1, `${key}: received ${o.time - a.t} ms after the send`);
  }
  const missing = [...wanted.keys()].filter((k) => !found.has(k));
  assert.is(missing.length, 0, `missing: ${missing.slice(0, 5).join(', ')} (${missing.length} of ${wanted.size}; ${late.size} sent after the barrier; block announcements as ${[...kinds]})`);
}

test('2 shards, blocks by inv, observations(): every announcement in the truth is observed exactly once', async () => {
  await run(2, 'inv', 'observations');
});

test('1 shard, blocks by cmpctblock, records(): the same, blocks as cmpctblock', async () => {
  await run(1, 'cmpct', 'records');
});

test('2 shards, blocks by headers, records(): the same, blocks as headers', async () => {
  await run(2, 'headers', 'records');
});

test.run();
