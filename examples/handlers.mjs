/**
 * A handler module inside every shard: the pool observes a simulated network as in
 * observe.mjs, and examples/handlers/fetch-tx.mjs, running in each shard thread, fetches every
 * announced transaction with getdata and measures it there; each shard posts its summary to the
 * main thread when the pool stops. Run after `npx tsc -p .`: `node examples/handlers.mjs [seconds]`.
 * The last line is a JSON summary (test/examples.test.ts reads it).
 */
import { Coordinator } from 'invscope/pool';
import { startSimulation } from '../dist/src/sim/index.js';

const seconds = Number(process.argv[2] ?? 4);
const sim = await startSimulation({ nodes: 30, seed: 11, timeScale: 20, port: 0 });
console.log(`simulation: ${sim.nodes.length} nodes on 127.1.x.y:${sim.port}`);

const pool = new Coordinator({
  network: sim.network,
  peers: sim.nodes.length,
  shards: 2,
  addresses: sim.nodes.map((n) => `${n.host}:${n.port}`),
  // Every shard imports this module and calls its setup(ctx).
  handlers: new URL('./handlers/fetch-tx.mjs', import.meta.url),
  handlerOptions: { maxTracked: 50_000 },
});
const summaries = [];
pool.on('handler', (e) => summaries.push(e.value)); // what ctx.post sent, with e.shard
pool.on('handlerError', (e) => console.log(`handler error in shard ${e.shard} (${e.command}): ${e.message}`));

await pool.start();
let observations = 0;
let txObservations = 0;
const reading = (async () => {
  for await (const o of pool.observations()) {
    observations++;
    const type = o.invType & ~(1 << 30);
    if (o.kind === 'inv' && (type === 1 || type === 5)) txObservations++;
  }
})();
// Every node handshaken first (a few seconds on a busy machine), then the observing window.
for (const until = Date.now() + 30_000; pool.stats().peers.ready < sim.nodes.length && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
await new Promise((r) => setTimeout(r, seconds * 1000));
const ready = pool.stats().peers.ready;
await pool.stop(); // the shards' 'stop' handlers post their summaries before this returns
await reading;
const stats = pool.stats();
await sim.stop();

for (const s of summaries.sort((a, b) => a.shard - b.shard)) {
  console.log(
    `shard ${s.shard}: ${s.announced} tx announcements, ${s.requested} requested, ${s.fetched} fetched ` +
      `(${s.bytes} bytes, ${s.weight} weight units), ${s.notfound} not found; median inv->tx ${s.medianWaitMs?.toFixed(2)} ms`,
  );
}
console.log(
  JSON.stringify({
    nodes: sim.nodes.length,
    ready,
    observations,
    txObservations,
    shards: summaries.length,
    announced: summaries.reduce((n, s) => n + s.announced, 0),
    requested: summaries.reduce((n, s) => n + s.requested, 0),
    fetched: summaries.reduce((n, s) => n + s.fetched, 0),
    bytes: summaries.reduce((n, s) => n + s.bytes, 0),
    handlerErrors: stats.shards.reduce((n, s) => n + s.handlerErrors, 0),
  }),
);
