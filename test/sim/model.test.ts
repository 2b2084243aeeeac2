/**
 * SimModel: topology, trickle statistics, ground-truth completeness and consistency,
 * determinism, real items through the codec, churn, retention, options and the real-time loop.
 * Driven by a manual clock (runUntil) so nothing depends on the machine's speed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimModel, type SimOptions } from '../../src/sim/model.js';
import { TruthWriter } from '../../src/sim/truth.js';
import { Rng } from '../../src/sim/rng.js';
import { MISBEHAVIOURS } from '../../src/sim/types.js';
import { nodeAddresses } from '../../src/sim/identity.js';
import { decodeMessage, bytesEqual, hashToHex } from '../../src/protocol/index.js';
import { txidOf, wtxidOf } from '../../src/protocol/messages/tx.js';
import { WitnessCommitment } from '../../src/protocol/messages/block.js';
import { sleep } from '../helpers.js';

/** A model on a manual clock starting at `t0` (epoch-like, positive). */
function manual(opts: Partial<SimOptions>, t0 = 1e12, truth?: TruthWriter): { m: SimModel; clock: { t: number } } {
  const clock = { t: t0 };
  const m = new SimModel({ txRate: 0, blockIntervalMs: 0, ...opts, clock: () => clock.t }, truth);
  return { m, clock };
}

/** Advances the clock by `ms` and runs the model up to it. */
function advance(x: { m: SimModel; clock: { t: number } }, ms: number): void {
  x.clock.t += ms;
  x.m.runUntil(x.clock.t);
}

/** Kolmogorov-Smirnov statistic of `xs` against Exp(mean). */
function ksExp(xs: number[], mean: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = 1 - Math.exp(-s[i]! / mean);
    d = Math.max(d, f - i / n, (i + 1) / n - f);
  }
  return d;
}

/** Critical KS value at alpha = 0.001 (asymptotic 1.949 / sqrt(n)): conservative for a fixed seed. */
const ksCrit = (n: number): number => 1.949 / Math.sqrt(n);

function assertExp(xs: number[], mean: number, what: string): void {
  const n = xs.length;
  const d = ksExp(xs, mean);
  assert.ok(d < ksCrit(n), `${what}: KS D = ${d.toFixed(4)} >= ${ksCrit(n).toFixed(4)} (n = ${n})`);
  const avg = xs.reduce((a, b) => a + b, 0) / n;
  // The standard error of an exponential sample mean is mean / sqrt(n): allow four.
  assert.ok(Math.abs(avg - mean) < (4 * mean) / Math.sqrt(n), `${what}: mean ${avg.toFixed(1)} vs ${mean} (n = ${n})`);
}

function connected(m: SimModel): boolean {
  const n = m.nodes.length;
  const seen = new Uint8Array(n);
  const stack = [0];
  seen[0] = 1;
  let k = 1;
  while (stack.length) {
    const u = stack.pop()!;
    for (const v of m.neighbors(u)) {
      if (!seen[v]) {
        seen[v] = 1;
        k++;
        stack.push(v);
      }
    }
  }
  return k === n;
}

test('builds a connected graph where every node opens exactly `outbound` links and accepts at most maxInbound', () => {
  for (const [nodes, outbound, maxInbound] of [
    [400, 8, 117],
    [300, 8, 10],
    [60, 4, 5],
  ] as const) {
    const { m } = manual({ nodes, outbound, maxInbound, seed: 7 });
    assert.is(m.topology.outbound, outbound);
    const pairs = new Set<string>();
    for (let u = 0; u < nodes; u++) {
      const out = m.outboundPeers(u);
      assert.is(out.length, outbound, `node ${u} outbound`);
      assert.ok(m.inboundPeers(u).length <= maxInbound, `node ${u} inbound ${m.inboundPeers(u).length}`);
      for (const v of out) {
        assert.is.not(v, u);
        const key = u < v ? `${u}-${v}` : `${v}-${u}`;
        assert.not.ok(pairs.has(key), `duplicate link ${key}`);
        pairs.add(key);
        assert.ok(m.latency(u, v) > 0 && m.latency(u, v) === m.latency(v, u));
      }
    }
    assert.is(pairs.size, nodes * outbound);
    assert.ok(connected(m), `${nodes} nodes connected`);
  }
});

test('clamps outbound links for a network too small for them and still connects it', () => {
  const { m } = manual({ nodes: 5, outbound: 8 });
  assert.is(m.topology.outbound, 2);
  for (let u = 0; u < 5; u++) assert.is(m.outboundPeers(u).length, 2);
  assert.ok(connected(m));
  const one = manual({ nodes: 1 }).m;
  assert.is(one.neighbors(0).length, 0);
  const it = one.inject('tx');
  assert.ok(one.knows(0, it.id));
});

test('draws exponential intervals with the requested mean from the seeded PRNG', () => {
  const r = new Rng(42);
  const xs: number[] = [];
  for (let i = 0; i < 50_000; i++) xs.push(r.exp(2000));
  assertExp(xs, 2000, 'Rng.exp');
});

test('trickles tx announcements on Exp(2 s) per outbound link and Exp(5 s) per node towards inbound peers', () => {
  const x = manual({ nodes: 300, seed: 3 });
  const outSet = x.m.nodes.map((n) => new Set(x.m.outboundPeers(n.index)));
  const outbound: number[] = [];
  const inbound = new Map<string, number>();
  x.m.on('offer', (from, to, item, learnedAt, announceAt) => {
    if (outSet[from]!.has(to)) outbound.push(announceAt - learnedAt);
    else inbound.set(`${from}:${item}`, announceAt - learnedAt); // one timer per node: one sample per node and item
  });
  // Items 200 s apart: each link's trickle is queried once per item and long after the last
  // firing, so the samples are independent.
  for (let i = 0; i < 12; i++) {
    x.m.inject('tx');
    advance(x, 200_000);
  }
  assert.ok(outbound.length > 5000, `outbound samples ${outbound.length}`);
  assert.ok(inbound.size > 2000, `inbound samples ${inbound.size}`);
  assertExp(outbound, 2000, 'outbound trickle');
  assertExp([...inbound.values()], 5000, 'inbound trickle');
});

test('scales every interval by timeScale', () => {
  const x = manual({ nodes: 200, seed: 3, timeScale: 10 });
  const outSet = x.m.nodes.map((n) => new Set(x.m.outboundPeers(n.index)));
  const outbound: number[] = [];
  x.m.on('offer', (from, to, _item, learnedAt, announceAt) => {
    if (outSet[from]!.has(to)) outbound.push(announceAt - learnedAt);
  });
  for (let i = 0; i < 12; i++) {
    x.m.inject('tx');
    advance(x, 20_000);
  }
  assertExp(outbound, 200, 'outbound trickle at timeScale 10');
  const raw = manual({ nodes: 200, seed: 3 }).m;
  assert.ok(Math.abs(x.m.latency(0, x.m.neighbors(0)[0]!) * 10 - raw.latency(0, raw.neighbors(0)[0]!)) < 1e-9);
});

test('delivers every item to every node, each learn after its origin and after the neighbour it came from', () => {
  const truth = new TruthWriter(null);
  const x = manual({ nodes: 300, seed: 11 }, 1e12, truth);
  const emitted: [number, number, number][] = [];
  x.m.on('learn', (node, item, t) => emitted.push([node, item.id, t]));
  const items = [];
  for (let i = 0; i < 8; i++) {
    items.push(x.m.inject(i % 4 === 3 ? 'block' : 'tx'));
    advance(x, 1_500); // overlapping propagations share trickle timers
  }
  advance(x, 300_000);
  const n = 300;
  const rec = truth.records;
  assert.is(rec.items.length, items.length);
  assert.is(rec.learns.length, items.length * n);
  assert.is(emitted.length, rec.learns.length);
  const seen = new Set<string>();
  for (const l of rec.learns) {
    const key = `${l.node}:${l.item}`;
    assert.not.ok(seen.has(key), `learned twice: ${key}`);
    seen.add(key);
    const it = x.m.item(l.item)!;
    assert.is(x.m.learnedAt(l.node, l.item), l.t);
    assert.ok(l.t >= it.createdAt);
    if (l.from < 0) {
      assert.is(l.node, it.origin);
      assert.is(l.t, it.createdAt);
      continue;
    }
    assert.ok(x.m.neighbors(l.node).includes(l.from), `${l.from} is a neighbour of ${l.node}`);
    const parent = x.m.learnedAt(l.from, l.item);
    const floor = parent + 3 * x.m.latency(l.from, l.node) + x.m.validation(l.node, it.kind);
    assert.ok(l.t >= floor - 1e-6, `learn ${l.t} before ${floor}`);
    if (it.kind === 'block') assert.ok(Math.abs(l.t - floor) < 1e-6, 'blocks are announced at once');
  }
  for (const it of items) for (let u = 0; u < n; u++) assert.ok(x.m.knows(u, it.id));
  // Learn times are shortest paths: no neighbour could have delivered earlier than the recorded one
  // for blocks (no trickle, so the bound is exact).
  for (const it of items.filter((i) => i.kind === 'block')) {
    for (let v = 0; v < n; v++) {
      if (v === it.origin) continue;
      let best = Infinity;
      for (const u of x.m.neighbors(v)) {
        best = Math.min(best, x.m.learnedAt(u, it.id) + 3 * x.m.latency(u, v) + x.m.validation(v, 'block'));
      }
      assert.ok(Math.abs(best - x.m.learnedAt(v, it.id)) < 1e-6, `block reaches ${v} by its fastest neighbour`);
    }
  }
  assert.is(x.m.stats.queued, 0);
});

test('is deterministic: same seed, same topology, items and learn times relative to the start', () => {
  const run = (t0: number, seed: number) => {
    const x = manual({ nodes: 150, seed, txRate: 3, blockIntervalMs: 20_000 }, t0);
    const order: string[] = [];
    const rel: number[] = [];
    x.m.on('learn', (node, item, t) => {
      order.push(`${node}:${item.id}`);
      rel.push(t - t0);
    });
    x.m.runUntil(t0);
    x.m.inject('tx', 5);
    for (let i = 0; i < 60; i++) advance(x, 1000);
    const hashes = [];
    for (let i = 0; i < x.m.itemCount; i++) hashes.push(hashToHex(x.m.item(i)!.hash));
    const nodes = x.m.nodes.map((n) => `${n.userAgent}|${n.services}|${n.startHeight}`).join(',');
    return { nodes, adj: x.m.topology.adjNode.join(','), hashes: hashes.join(','), n: hashes.length, order: order.join(','), rel };
  };
  const a = run(1e12, 9);
  const b = run(1e12, 9);
  assert.ok(a.n > 100, `items ${a.n}`);
  // Joined strings: a mismatch reports without diffing ten thousand entries.
  assert.ok(a.adj === b.adj && a.nodes === b.nodes, 'same topology and identities');
  assert.ok(a.hashes === b.hashes, 'same items');
  assert.ok(a.order === b.order, 'same learns in the same order');
  assert.ok(a.rel.every((r, i) => r === b.rel[i]), 'same learn times');
  // Another start time: the same run, up to the float resolution of epoch milliseconds
  // (2^-13 ms near 1.7e12) accumulated over a few additions.
  const c = run(1.7e12 + 0.25, 9);
  assert.ok(a.adj === c.adj, 'same topology from another start');
  assert.ok(a.hashes === c.hashes, 'same items from another start');
  // Learns of different items can tie (a trickle firing carries both) and near-ties may swap
  // with the rounding of another start time: compare per (node, item), not by position.
  const byKey = (r: { order: string; rel: number[] }) => {
    const m = new Map<string, number>();
    r.order.split(',').forEach((k, i) => m.set(k, r.rel[i]!));
    return m;
  };
  const ka = byKey(a);
  const kc = byKey(c);
  assert.is(ka.size, kc.size);
  let worst = 0;
  for (const [k, r] of ka) worst = Math.max(worst, Math.abs(r - (kc.get(k) ?? Infinity)));
  // Each hop rounds to the epoch's float resolution (2.4e-4 ms near 1.7e12): microseconds over a path.
  assert.ok(worst < 0.01, `relative learn times differ by ${worst} ms`);
  const d = run(1e12, 10);
  assert.ok(d.adj !== a.adj && d.hashes.slice(0, 64) !== a.hashes.slice(0, 64), 'another seed, another network');
});

test('originates real transactions and blocks that decode with the codec to their own hashes', () => {
  const x = manual({ nodes: 60, seed: 5, txRate: 20, blockIntervalMs: 5_000 });
  x.m.runUntil(x.clock.t);
  for (let i = 0; i < 40; i++) advance(x, 1000);
  let txs = 0;
  let segwit = 0;
  let blocks = 0;
  let prev: Uint8Array | null = null;
  const txIds = new Map<string, number>();
  for (let id = 0; id < x.m.itemCount; id++) {
    const it = x.m.item(id)!;
    assert.is(it.id, id);
    if (it.kind === 'tx') {
      txs++;
      assert.ok(it.raw.length >= 200 && it.raw.length <= 600, `tx size ${it.raw.length}`);
      const m = decodeMessage('tx', it.raw);
      assert.ok(bytesEqual(txidOf(m), it.hash), 'txid');
      assert.ok(bytesEqual(wtxidOf(m), it.wtxid), 'wtxid');
      if (m.segwit) segwit++;
      else assert.ok(bytesEqual(it.hash, it.wtxid), 'legacy: wtxid = txid');
      assert.is(x.m.itemByHash(it.hash), it);
      assert.is(x.m.itemByHash(it.wtxid), it);
      txIds.set(hashToHex(it.hash), id);
    } else {
      blocks++;
      const b = decodeMessage('block', it.raw);
      assert.ok(bytesEqual(b.hash(), it.hash), 'block hash');
      assert.ok(bytesEqual(it.header!, it.raw.subarray(0, 80)));
      assert.ok(bytesEqual(b.computeMerkleRoot(), b.header.merkleRoot), 'merkle root');
      assert.is(b.checkWitnessCommitment(), WitnessCommitment.VALID);
      assert.ok(it.hash[31]! < 0x7f, 'regtest proof of work');
      if (prev) assert.ok(bytesEqual(b.header.prevBlock, prev), 'chains');
      prev = it.hash;
      assert.is(it.height, 900_000 + blocks);
      const cb = b.tx(0);
      const h = it.height!;
      assert.equal(Array.from(cb.inputs[0]!.script.subarray(0, 4)), [3, h & 255, (h >> 8) & 255, (h >> 16) & 255], 'BIP34 height');
      const ids = b.txids();
      for (let i = 1; i < b.txCount; i++) {
        const tid = txIds.get(hashToHex(ids.subarray(32 * i, 32 * i + 32)));
        assert.ok(tid !== undefined && tid < id, 'a block holds earlier simulated txs');
        assert.ok(x.m.item(tid!)!.createdAt <= it.createdAt);
      }
      assert.is(x.m.itemByHash(it.hash), it);
    }
  }
  assert.ok(txs > 500 && blocks >= 3, `${txs} txs, ${blocks} blocks`);
  assert.ok(segwit / txs > 0.8, `segwit share ${segwit / txs}`);
  assert.is(x.m.tipHeight, 900_000 + blocks);
  assert.is(x.m.itemByHash(new Uint8Array(32)), undefined);
});

test('an offline node learns nothing; back online it syncs missed blocks but never missed txs, and relays again', () => {
  const truth = new TruthWriter(null);
  const x = manual({ nodes: 120, seed: 4 }, 1e12, truth);
  const down = 17;
  x.m.setOnline(down, false);
  assert.not.ok(x.m.online(down));
  const tx = x.m.inject('tx', 3);
  const block = x.m.inject('block', 3);
  advance(x, 120_000);
  assert.not.ok(x.m.knows(down, tx.id));
  assert.not.ok(x.m.knows(down, block.id));
  for (let u = 0; u < 120; u++) if (u !== down) assert.ok(x.m.knows(u, tx.id) && x.m.knows(u, block.id));
  assert.not.ok(truth.records.learns.some((l) => l.node === down));
  const back = x.clock.t;
  x.m.setOnline(down, true);
  advance(x, 120_000);
  // Core announces a tx once (when it enters the mempool): the missed tx is never re-announced.
  assert.not.ok(x.m.knows(down, tx.id));
  // Blocks: headers sync on reconnect.
  assert.ok(x.m.knows(down, block.id));
  const l = truth.records.learns.find((r) => r.node === down && r.item === block.id)!;
  assert.ok(l.t > back && x.m.neighbors(down).includes(l.from));
  // New items reach it and pass through it again.
  const tx2 = x.m.inject('tx', down);
  advance(x, 120_000);
  for (let u = 0; u < 120; u++) assert.ok(x.m.knows(u, tx2.id));
  assert.equal(
    truth.records.churns.map((c) => [c.node, c.online]),
    [
      [down, false],
      [down, true],
    ],
  );
  assert.throws(() => {
    x.m.setOnline(down, false);
    x.m.inject('tx', down);
  }, /offline/);
});

test('under random churn no node learns while offline and every churn event is in the truth', () => {
  const truth = new TruthWriter(null);
  const x = manual({ nodes: 150, seed: 8, txRate: 2, blockIntervalMs: 30_000, churnPerHour: 20, churnDowntimeMs: 20_000 }, 1e12, truth);
  const events: [number, boolean, number][] = [];
  x.m.on('churn', (node, online, t) => events.push([node, online, t]));
  x.m.runUntil(x.clock.t);
  for (let i = 0; i < 120; i++) advance(x, 1000);
  assert.ok(events.length > 20, `churn events ${events.length}`);
  assert.equal(
    truth.records.churns.map((c) => [c.node, c.online, c.t]),
    events,
  );
  // Rebuild every node's offline intervals and check each learn against them.
  const offline = new Map<number, [number, number][]>();
  const since = new Map<number, number>();
  for (const [node, online, t] of events) {
    if (!online) since.set(node, t);
    else {
      const list = offline.get(node) ?? [];
      list.push([since.get(node)!, t]);
      offline.set(node, list);
      since.delete(node);
    }
  }
  for (const [node, t] of since) offline.set(node, [...(offline.get(node) ?? []), [t, Infinity]]);
  let checked = 0;
  for (const l of truth.records.learns) {
    for (const [a, b] of offline.get(l.node) ?? []) {
      assert.not.ok(l.t > a && l.t < b, `node ${l.node} learned item ${l.item} at ${l.t} while offline [${a}, ${b})`);
      checked++;
    }
  }
  assert.ok(checked > 0);
  assert.ok(x.m.stats.dropped >= 0);
  for (const [node] of since) assert.not.ok(x.m.online(node));
});

test('keeps learn times of the newest retainItems txs and who-knows-what for older ones', () => {
  const x = manual({ nodes: 50, seed: 2, retainItems: 2 });
  const ids = [];
  for (let i = 0; i < 5; i++) {
    ids.push(x.m.inject('tx').id);
    advance(x, 60_000);
  }
  assert.is(x.m.stats.compacted, 3);
  for (const id of ids) for (let u = 0; u < 50; u++) assert.ok(x.m.knows(u, id));
  assert.ok(Number.isNaN(x.m.learnedAt(0, ids[0]!)));
  assert.ok(x.m.learnedAt(0, ids[4]!) > 0);
  assert.not.ok(x.m.knows(0, 99));
});

test('gives nodes loopback addresses, realistic identities and evenly spread misbehaviour labels', () => {
  const { m } = manual({ nodes: 1000, misbehaving: 0.09, seed: 3, port: 18555 });
  const hosts = new Set(m.nodes.map((n) => n.host));
  assert.is(hosts.size, 1000);
  assert.is(m.nodes[0]!.host, '127.1.0.1');
  assert.is(m.nodes[254]!.host, '127.1.1.1');
  for (const n of m.nodes) {
    assert.ok(n.host.startsWith('127.'));
    assert.not.ok(n.host.endsWith('.0') || n.host.endsWith('.255'));
    assert.is(n.port, 18555);
    assert.ok(n.services !== 0n);
  }
  const ua = m.nodes.filter((n) => n.userAgent.startsWith('/Satoshi:')).length;
  assert.ok(ua > 900, `Core share ${ua}`);
  assert.ok(m.nodes.filter((n) => n.protocolVersion === 70016).length > 950);
  assert.ok(m.nodes.some((n) => n.userAgent.startsWith('/btcd:')));
  const labels = m.nodes.filter((n) => n.misbehaviour !== null).map((n) => n.misbehaviour!);
  assert.is(labels.length, 90);
  for (const b of MISBEHAVIOURS) assert.is(labels.filter((l) => l === b).length, 10, b);
  const again = manual({ nodes: 1000, misbehaving: 0.09, seed: 3 }).m;
  assert.equal(
    again.nodes.map((n) => n.misbehaviour),
    m.nodes.map((n) => n.misbehaviour),
  );
});

test('rejects bad options with an error naming the value', () => {
  assert.throws(() => new SimModel({ nodes: 0 }), /nodes must be an integer in 1\.\.100000, got 0/);
  assert.throws(() => new SimModel({ timeScale: 0 }), /timeScale/);
  assert.throws(() => new SimModel({ misbehaving: 2 }), /misbehaving/);
  assert.throws(() => new SimModel({ nodes: 10, addressBase: '10.0.0.1' }), /127\.0\.0\.0\/8/);
  assert.throws(() => new SimModel({ nodes: 10, addressBase: 'localhost' }), /not an IPv4 address/);
  assert.throws(() => nodeAddresses('127.255.255.250', 10), /leaves 127/);
  assert.throws(() => new SimModel({ nodes: 20, outbound: 8, maxInbound: 4 }), /maxInbound/);
});

test('runs in real time once started and goes quiet when stopped', async () => {
  const m = new SimModel({ nodes: 40, seed: 6, timeScale: 200, txRate: 7 });
  let learns = 0;
  let items = 0;
  m.on('learn', () => learns++);
  m.on('item', () => items++);
  m.start();
  m.start(); // idempotent
  await sleep(400);
  m.stop();
  m.stop();
  assert.ok(items > 50, `items ${items}`);
  assert.ok(learns > items * 20, `learns ${learns}`);
  const after = learns;
  const it = m.inject('tx');
  assert.ok(m.knows(it.origin, it.id), 'inject works while stopped');
  await sleep(100);
  assert.is(learns, after + 1, 'a stopped model is paused: only the injected item\'s origin learns it');
  assert.ok(m.stats.queued > 0, 'its offers wait for start()');
});

test.run();
