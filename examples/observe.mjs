/**
 * Embedding the sharded pool: start a simulated network on loopback, point a
 * Coordinator at every node, observe for a few seconds, print the first time each item was
 * seen (and by how many peers), stop. Run after `npx tsc -p .`: `node examples/observe.mjs [seconds]`.
 * The last line is a JSON summary (test/examples.test.ts reads it).
 */
import { Coordinator } from 'invscope/pool';
// The simulator is not a package entry point: import it from the compiled tree.
import { startSimulation } from '../dist/src/sim/index.js';

const seconds = Number(process.argv[2] ?? 4);

// 50 simulated nodes, every interval 20x faster than real time (tx every ~7 ms, trickles of 250 ms).
const sim = await startSimulation({ nodes: 50, seed: 7, timeScale: 20, port: 0 });
console.log(`simulation: ${sim.nodes.length} nodes on 127.1.x.y:${sim.port}`);

const pool = new Coordinator({
  network: sim.network, // regtest magic
  peers: sim.nodes.length,
  shards: 2,
  addresses: sim.nodes.map((n) => `${n.host}:${n.port}`),
});
const events = { connected: 0, ready: 0, gone: 0 };
pool.on('peer', (e) => {
  events[e.type]++;
  if (e.type === 'gone' && e.reason !== 'stop') console.log(`peer ${e.address} gone: ${e.reason} ${e.detail}`);
});
let addrMessages = 0;
pool.tap('addr', () => addrMessages++); // addr and addrv2, normalised

await pool.start();

// first-seen time and announcing peers per item (hash)
const items = new Map();
let observations = 0;
const reading = (async () => {
  for await (const o of pool.observations()) {
    observations++;
    const it = items.get(o.hash);
    if (!it) items.set(o.hash, { first: o.time, kind: o.kind, invType: o.invType, peers: new Set([o.peer]) });
    else {
      if (o.time < it.first) it.first = o.time;
      it.peers.add(o.peer);
    }
  }
})();

// Every node handshaken first (a few seconds on a busy machine), then the observing window.
for (const until = Date.now() + 30_000; pool.stats().peers.ready < sim.nodes.length && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
await new Promise((r) => setTimeout(r, seconds * 1000));
const stats = pool.stats();
await pool.stop(); // drains every ring, closes every socket, ends the loop above
await reading;
await sim.stop();

const sorted = [...items].sort((a, b) => a[1].first - b[1].first);
const t0 = sorted.length ? sorted[0][1].first : 0;
for (const [hash, it] of sorted.slice(0, 20)) {
  console.log(`${hash}  first seen +${(it.first - t0).toFixed(1)} ms  ${it.kind}/${it.invType}  by ${it.peers.size} peers`);
}
if (sorted.length > 20) console.log(`... and ${sorted.length - 20} more items`);
console.log(
  JSON.stringify({
    nodes: sim.nodes.length,
    ready: stats.peers.ready,
    events,
    addrMessages,
    observations,
    items: items.size,
    ringDrops: stats.shards.reduce((a, s) => a + s.drops, 0),
    consumerDrops: stats.consumerDrops,
  }),
);
