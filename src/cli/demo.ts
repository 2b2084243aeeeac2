/**
 * `invscope demo` (what `npm start` runs): a propagation experiment against the built-in simulated
 * network with a known ground truth. Starts a simulation on loopback, points the sharded pool at
 * every node, records every announcement for a while, then checks the measurement against the
 * truth: every announcement a node made to us was observed, with its send-to-receive delay, and
 * the measured time-to-x%-of-peers per item agrees with the truth's. Main thread, cold path.
 */
import { startSimulation } from '../sim/index.js';
import { Coordinator, type Observation } from '../pool/index.js';
import { now } from '../observe/clock.js';
import { jsonLine } from './decode.js';

export interface DemoOptions {
  nodes: number;
  seconds: number;
  timeScale: number;
  shards: number;
  seed: number;
  misbehaving: number;
  json: boolean;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Time from the first announcement until `q` of `n` peers announced, from a list of times. */
function timeToFraction(times: number[], n: number, q: number): number {
  const need = Math.ceil(q * n);
  if (times.length < need || need === 0) return NaN;
  const s = [...times].sort((a, b) => a - b);
  return s[need - 1]! - s[0]!;
}

const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-');

export async function demoCommand(o: DemoOptions): Promise<number> {
  const log = (s: string): void => {
    if (!o.json) process.stdout.write(s + '\n');
  };
  const t0 = now();
  const sim = await startSimulation({
    nodes: o.nodes,
    seed: o.seed,
    timeScale: o.timeScale,
    misbehaving: o.misbehaving,
    port: 0,
    truthInMemory: true,
  });
  log(`simulated network: ${sim.nodes.length} nodes on 127.1.x.y:${sim.port} (seed ${o.seed}, time scale ${o.timeScale}, ${Math.round(o.misbehaving * 100)} % misbehaving)`);
  const addressNode = new Map<string, number>();
  for (const n of sim.nodes) addressNode.set(`${n.host}:${n.port}`, n.index);

  const pool = new Coordinator({
    network: sim.network,
    peers: sim.nodes.length,
    shards: o.shards,
    addresses: sim.nodes.map((n) => `${n.host}:${n.port}`),
    handshakeTimeoutMs: 10_000,
  });
  const gone: Record<string, number> = {};
  pool.on('peer', (e: { type: string; reason?: string }) => {
    if (e.type === 'gone') gone[e.reason ?? '?'] = (gone[e.reason ?? '?'] ?? 0) + 1;
  });
  await pool.start();
  const obs: Observation[] = [];
  const collecting = (async () => {
    for await (const ob of pool.observations()) obs.push(ob);
  })();
  const honest = sim.nodes.filter((n) => n.misbehaviour === null).length;
  const readyBy = now() + 15_000;
  while (pool.stats().peers.ready < honest && now() < readyBy) await new Promise((r) => setTimeout(r, 100));
  const tReady = now();
  log(`pool: ${pool.stats().peers.ready} nodes handshaken (${honest} of them honest) in ${fmt((tReady - t0) / 1000, 2)} s over ${o.shards} shards; observing for ${o.seconds} s ...`);
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  const tEnd = now();
  await pool.stop();
  await collecting;
  const truth = sim.truth!.records;
  const poolStats = pool.stats();
  await sim.stop();

  // Match every truth announcement (node, item) sent before the end (minus a margin for bytes in
  // flight when we stopped) with an observation from that node's connection of that item's hash.
  const itemByHash = new Map<string, number>();
  for (const it of truth.items) {
    itemByHash.set(it.hash, it.id);
    itemByHash.set(it.wtxid, it.id);
  }
  const seen = new Map<string, number>(); // `${node}/${item}` -> receive time
  let unknownObs = 0;
  for (const ob of obs) {
    const node = addressNode.get(ob.address);
    const item = itemByHash.get(ob.hash);
    if (node === undefined || item === undefined) {
      unknownObs++;
      continue;
    }
    const k = `${node}/${item}`;
    if (!seen.has(k)) seen.set(k, ob.time);
  }
  const margin = 500;
  let expected = 0;
  let missing = 0;
  const delays: number[] = [];
  const measuredByItem = new Map<number, number[]>();
  const truthByItem = new Map<number, number[]>();
  for (const a of truth.announces) {
    if (a.t > tEnd - margin) continue;
    expected++;
    (truthByItem.get(a.item) ?? truthByItem.set(a.item, []).get(a.item)!).push(a.t);
    const got = seen.get(`${a.node}/${a.item}`);
    if (got === undefined) missing++;
    else {
      delays.push(got - a.t);
      (measuredByItem.get(a.item) ?? measuredByItem.set(a.item, []).get(a.item)!).push(got);
    }
  }
  delays.sort((x, y) => x - y);
  // Time to 50 % / 90 % of the observed peers, measured against the truth, per item.
  const errs50: number[] = [];
  const errs90: number[] = [];
  const t50: number[] = [];
  const n = poolStats.peers.target;
  for (const [item, times] of truthByItem) {
    const m = measuredByItem.get(item) ?? [];
    const tt50 = timeToFraction(times, honest, 0.5);
    const mt50 = timeToFraction(m, honest, 0.5);
    const tt90 = timeToFraction(times, honest, 0.9);
    const mt90 = timeToFraction(m, honest, 0.9);
    if (Number.isFinite(tt50) && Number.isFinite(mt50)) {
      errs50.push(Math.abs(mt50 - tt50));
      t50.push(mt50);
    }
    if (Number.isFinite(tt90) && Number.isFinite(mt90)) errs90.push(Math.abs(mt90 - tt90));
  }
  errs50.sort((x, y) => x - y);
  errs90.sort((x, y) => x - y);
  t50.sort((x, y) => x - y);
  const kinds = { tx: truth.items.filter((i) => i.kind === 'tx').length, block: truth.items.filter((i) => i.kind === 'block').length };
  const summary = {
    nodes: sim.nodes.length,
    honest,
    misbehaving: sim.nodes.length - honest,
    peersTarget: n,
    items: kinds,
    observations: obs.length,
    unmatchedObservations: unknownObs,
    announcementsInTruth: expected,
    observed: expected - missing,
    missing,
    sendToReceiveMs: { p50: quantile(delays, 0.5), p99: quantile(delays, 0.99), max: delays.length ? delays[delays.length - 1]! : NaN },
    timeTo50pctMs: { median: quantile(t50, 0.5) },
    timeTo50pctErrorMs: { p50: quantile(errs50, 0.5), max: errs50.length ? errs50[errs50.length - 1]! : NaN, items: errs50.length },
    timeTo90pctErrorMs: { p50: quantile(errs90, 0.5), max: errs90.length ? errs90[errs90.length - 1]! : NaN, items: errs90.length },
    ringDrops: poolStats.shards.reduce((a, s) => a + s.drops, 0),
    consumerDrops: poolStats.consumerDrops,
    disconnects: gone,
  };
  const ok = missing === 0 && summary.ringDrops === 0 && summary.consumerDrops === 0;
  if (o.json) {
    process.stdout.write(jsonLine({ ok, ...summary }) + '\n');
  } else {
    log(`items originated: ${kinds.tx} transactions, ${kinds.block} blocks; observations recorded: ${obs.length}`);
    log(`announcements the nodes sent us (truth): ${expected}; observed: ${expected - missing}; missing: ${missing}`);
    log(`send-to-receive delay: p50 ${fmt(summary.sendToReceiveMs.p50, 2)} ms, p99 ${fmt(summary.sendToReceiveMs.p99, 2)} ms, max ${fmt(summary.sendToReceiveMs.max, 2)} ms`);
    log(`time until 50 % of peers announced an item: median ${fmt(summary.timeTo50pctMs.median / 1000, 2)} s of real time (the model runs ${o.timeScale}x faster)`);
    log(`measured vs truth, time to 50 %: median error ${fmt(summary.timeTo50pctErrorMs.p50, 2)} ms, max ${fmt(summary.timeTo50pctErrorMs.max, 2)} ms over ${errs50.length} items; to 90 %: median ${fmt(summary.timeTo90pctErrorMs.p50, 2)} ms`);
    log(`misbehaving nodes dropped: ${JSON.stringify(gone)}; ring drops ${summary.ringDrops}, consumer drops ${summary.consumerDrops}`);
    log(ok ? 'CHECK PASSED: every announcement in the ground truth was measured.' : 'CHECK FAILED: see the counts above.');
  }
  return ok ? 0 : 1;
}
