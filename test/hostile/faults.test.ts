import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Worker } from 'node:worker_threads';
import { Coordinator, type Observation, type PeerEvent } from '../../src/pool/index.js';
import { until, sleep } from '../helpers.js';
import { spawnSim, type SimChild } from './sim-child.js';

// Faults under a running pool: the simulator process killed under it, and a shard's thread
// terminated from outside (as a supervisor or the OOM killer would). The other two ways a shard
// dies (an uncaught exception, process.exit in the worker) are in test/pool/coordinator.test.ts.

const NODES = 24;
const SIM_ARGS = ['--nodes', String(NODES), '--time-scale', '10', '--tx-rate', '7', '--seed', '5'];

let sim: SimChild | null = null;
let pool: Coordinator | null = null;

test.after.each(async () => {
  await pool?.stop();
  pool = null;
  if (sim) {
    if (sim.child.exitCode === null && sim.child.signalCode === null) await sim.stop();
    sim.clean();
    sim = null;
  }
});

function consume(p: Coordinator): { seen: Observation[]; ended: Promise<void> } {
  const seen: Observation[] = [];
  const ended = (async () => {
    for await (const o of p.observations()) seen.push(o);
  })();
  return { seen, ended };
}

function track(p: Coordinator): { ready: Set<number>; gone: (PeerEvent & { type: 'gone' })[] } {
  const ready = new Set<number>();
  const gone: (PeerEvent & { type: 'gone' })[] = [];
  p.on('peer', (e: PeerEvent) => {
    if (e.type === 'ready') ready.add(e.peer);
    else if (e.type === 'gone') {
      gone.push(e);
      ready.delete(e.peer);
    }
  });
  return { ready, gone };
}

test('the simulator killed under the pool: every peer gone with a reason, nothing observed lost, measuring resumes when it is back', async () => {
  sim = await spawnSim(SIM_ARGS);
  const port = sim.port;
  const p = (pool = new Coordinator({ network: 'regtest', peers: NODES, shards: 2, addresses: sim.addresses, backoffBaseMs: 100, backoffMaxMs: 500, retryAfterDropMs: 50 }));
  const ev = track(p);
  const o = consume(p);
  await p.start();
  await until(() => ev.ready.size === NODES, `${NODES} ready`, 10_000);
  await until(() => o.seen.length >= 100, '100 observations', 10_000);

  sim.child.kill('SIGKILL');
  await sim.exited;
  const killedAt = Date.now();
  await until(() => ev.ready.size === 0 && p.stats().peers.connected === 0, 'every peer gone', 5_000);
  const before = o.seen.length;
  const drained = p.stats().observations;
  // Gone with the reason the socket gave: the kernel closes a dead process's sockets (FIN, or RST
  // when our bytes were unread).
  const dropped = ev.gone.filter((g) => g.wasReady);
  assert.is(dropped.length, NODES);
  for (const g of dropped) assert.ok(['remote-closed', 'socket-error'].includes(g.reason), `${g.reason} ${g.detail}`);
  const s = p.stats();
  assert.is((s.disconnectReasons['remote-closed'] ?? 0) + (s.disconnectReasons['socket-error'] ?? 0), NODES);
  // The coordinator goes on: it redials (refused, counted, backing off) and loses nothing it drained.
  await until(() => (p.stats().connectFailures['ECONNREFUSED'] ?? 0) >= NODES, 'redials refused', 5_000);
  assert.ok(p.stats().shards.every((x) => x.alive && x.restarts === 0 && x.drops === 0));
  assert.is(drained, before, 'every drained record reached the consumer');
  assert.ok(Date.now() - killedAt < 10_000);

  // The network comes back on the same addresses and port: the pool measures again.
  sim.clean();
  sim = await spawnSim([...SIM_ARGS, '--port', String(port)]);
  await until(() => ev.ready.size === NODES, `${NODES} ready again`, 15_000);
  await until(() => o.seen.length >= before + 50, 'new observations', 10_000);
  await p.stop();
  await o.ended;
  assert.ok(o.seen.length >= before + 50);
  assert.is(p.stats().consumerDrops, 0);
});

test('a shard thread terminated from outside: every record in its ring is observed, its peers reconnect', async () => {
  sim = await spawnSim(SIM_ARGS);
  // Drain only on demand: records wait in the rings until the thread dies.
  const p = (pool = new Coordinator({ network: 'regtest', peers: NODES, shards: 2, addresses: sim.addresses, drainIntervalMs: 60_000, drainOnPublish: false, retryAfterDropMs: 20, maintainIntervalMs: 20 }));
  const ev = track(p);
  const o = consume(p);
  await p.start();
  await until(() => ev.ready.size === NODES, `${NODES} ready`, 10_000);
  await until(() => p.stats().shards.every((s) => s.ringAvailable >= 20), 'records waiting in both rings', 10_000);
  const threads = (p as unknown as { pool: { threads: Worker[] } }).pool.threads;
  assert.is(threads.length, 2);
  const waiting = p.stats().shards.map((s) => s.ringAvailable);
  const seenBefore = o.seen.length;
  await threads[0]!.terminate();
  await until(() => p.stats().shards.some((s) => s.restarts === 1), 'a shard restarted', 5_000);
  const victim = p.stats().shards.findIndex((s) => s.restarts === 1);
  await sleep(0);
  // Everything published before the thread died came out of its ring, at least what was waiting.
  const fromVictim = o.seen.slice(seenBefore).filter((x) => x.shard === victim).length;
  assert.ok(fromVictim >= waiting[victim]!, `${fromVictim} of the ${waiting[victim]} records waiting in shard ${victim}'s ring`);
  const died = ev.gone.filter((g) => g.reason === 'shard-died');
  assert.ok(died.length >= 1 && died.every((g) => g.shard === victim));
  // Its peers are reconnected (over the live shards) and the run goes on.
  await until(() => ev.ready.size === NODES && p.stats().shards[victim]!.alive, 'reconnected', 10_000);
  await p.stop();
  await o.ended;
  const s = p.stats();
  assert.ok(s.shards.every((x) => x.drops === 0));
  assert.is(s.consumerDrops, 0);
  assert.is(s.observations, o.seen.length);
});

test.run();
