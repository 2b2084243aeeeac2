/**
 * The lifecycle of one `invscope observe` run: open the store and run.json, build the pool and
 * the aggregations, start, feed every observation to the store and the items (the observation
 * loop), tick the status once a second, and hand over to the stop sequence (stop.ts) at
 * --duration, a signal or a write failure. Main thread; the observation loop is warm.
 */
import { join } from 'node:path';
import { plural } from '../text.js';
import { NetworkEvidence } from '../network-hint.js';
import { Coordinator, type PeerEvent, type SeedResult } from '../../pool/index.js';
import { now } from '../../observe/clock.js';
import { Store, StoreError, ItemAggregator, PeerSessions, idTypeOf, makeRunId } from '../../store/index.js';
import { OBSERVE_DEFAULTS, type ObserveSettings } from './options.js';
import { ObserveLog, readyLine } from './log.js';
import { ClockWatch } from './clock-watch.js';
import { RunStatus, emit, say } from './status.js';
import { StopControl, stopObserve } from './stop.js';
import { VERSION, recordedSettings, startRunInfo, writeRunJson } from './run-info.js';

/** Rows between yields of the observation loop to the event loop. */
const YIELD_EVERY = 4096;

/** Opens the store; null (after saying why) when the run directory cannot be written. */
async function openStore(s: ObserveSettings, runId: string, onError: (e: StoreError) => void): Promise<Store | null> {
  try {
    return await Store.open({ dir: s.out, vantage: s.vantage, runId, network: s.network.name, shiftMs: s.testClockShiftMs, version: VERSION, rotateMs: s.rotateMs, onError });
  } catch (e) {
    const msg = e instanceof StoreError ? e.message : (e as Error).message;
    say(`invscope observe: cannot write the run directory: ${msg}`);
    return null;
  }
}

/** The pool for the settings, its events going to the sessions and the log. */
function makePool(s: ObserveSettings, sessions: PeerSessions, evidence: NetworkEvidence, log: ObserveLog): Coordinator {
  const pool = new Coordinator({
    network: s.network,
    peers: s.maxPeers,
    shards: s.shards,
    addresses: s.peers,
    dnsSeeds: s.dns,
    crawl: s.crawl,
    ringCapacity: OBSERVE_DEFAULTS.ringCapacity,
    ...(s.listen ? { listen: s.listen } : {}),
    ...(s.proxy ? { proxy: s.proxy } : {}),
    ...(s.transport ? { transport: s.transport } : {}),
  });
  pool.on('peer', (e: PeerEvent) => {
    sessions.event(e, now());
    if (e.type === 'gone') evidence.gone(e.reason, e.detail ?? '', e.wasReady);
    if (e.type === 'ready') log.write('debug', readyLine(e.peer, e.address, e.remote.addrRecv, e.remote.userAgent, e.remote.version));
  });
  // Every lookup, at start and at each re-resolution (the pool's reseedIntervalMs): what came back and how much was new.
  pool.on('seed', (r: SeedResult) => log.write(r.error ? 'warn' : 'info', `dns seed ${r.seed} (ipv${r.family}): ${r.error ?? `${r.addresses} addresses, ${r.added} new`}`));
  pool.on('listenError', (e: unknown) => log.write('error', `listen ${s.listen}: ${JSON.stringify(e)}`));
  pool.on('shardRestart', (e: unknown) => log.write('warn', `shard restarted: ${JSON.stringify(e)}`));
  return pool;
}

/**
 * The observation loop: the store and the aggregation, yielding to the event loop every few
 * thousand rows so that the pool's drain timer keeps running however long the backlog.
 */
async function consume(pool: Coordinator, store: Store, items: ItemAggregator, sessions: PeerSessions, status: RunStatus): Promise<void> {
  let n = 0;
  for await (const o of pool.observations()) {
    store.appendObservation(o.time, o.peer, o.address, o.kind, o.invType, o.hash, o.shard);
    items.add(o.time, o.peer, o.hash, idTypeOf(o.kind, o.invType), sessions.ready);
    status.counted();
    if (++n === YIELD_EVERY) {
      n = 0;
      await new Promise<void>((r) => setImmediate(r));
    }
  }
}

function announceStart(s: ObserveSettings, started: number): void {
  if (!s.quiet && !s.json) say(`invscope observe: ${s.network.name}, ${s.peers.length} addresses${s.dns ? ' + DNS seeds' : ''}${s.crawl ? ' + crawl' : ''}, target ${plural(s.maxPeers, 'peer')} over ${plural(s.shards, 'shard')}, writing ${s.out}`);
  if (s.json) emit({ event: 'started', t: started, dir: s.out, network: s.network.name, addresses: s.peers.length, target: s.maxPeers, shards: s.shards, pid: process.pid });
}

/** Runs one observation until --duration, a signal or a write failure. Resolves with the exit status. */
export async function runObserve(s: ObserveSettings, argv: string[]): Promise<number> {
  const started = Date.now();
  const runId = makeRunId(started);
  let storeError: StoreError | null = null;
  let stop: StopControl | null = null;
  const store = await openStore(s, runId, (e) => {
    storeError = e;
    stop?.request('write-failed');
  });
  if (store === null) return 1;
  const log = new ObserveLog(join(s.out, 'log'), runId, s.logLevel);
  // The log turns with the parts: this timer is armed in the same turn as the store's (at the end
  // of Store.open), with the same period, so log N covers part N. Each is re-armed from when it
  // ran: they part only by the event loop's lateness at each tick (bench/README.md "Soak of observe").
  const logRotor = setInterval(() => log.rotate(), s.rotateMs);
  const clock = await ClockWatch.start();
  const settings = recordedSettings(s);
  const runInfo = startRunInfo(s, argv, settings, { started, runId, clockSync: clock.record });
  try {
    writeRunJson(s.out, runInfo);
  } catch (e) {
    say(`invscope observe: cannot write ${join(s.out, 'run.json')}: ${(e as Error).message}`);
    clearInterval(logRotor);
    await store.close();
    log.close();
    return 1;
  }
  log.write('info', `invscope ${VERSION} observe: ${JSON.stringify(settings)}`);

  const sessions = new PeerSessions((row) => {
    store.appendPeer(row);
    if (row.close_reason !== 'stop') log.write(row.ready_at === null ? 'debug' : 'info', `peer ${row.peer} ${row.address} gone: ${row.close_reason}${row.close_detail ? ` (${row.close_detail})` : ''} ${row.misbehaviour !== '{}' ? row.misbehaviour : ''}`);
  });
  const items = new ItemAggregator({ windowMs: s.itemWindowMs, onItem: (r) => store.appendItem(r) });
  const evidence = new NetworkEvidence();
  const pool = makePool(s, sessions, evidence, log);
  const status = new RunStatus({ settings: s, started, pool, store, sessions, items, clock });
  const control = (stop = new StopControl(s, log, status.tty));
  control.listen();

  try {
    await pool.start();
  } catch (e) {
    say(`invscope observe: cannot start the pool: ${(e as Error).message}`);
    log.write('error', `cannot start the pool: ${(e as Error).message}`);
    control.unlisten();
    clearInterval(logRotor);
    await store.close();
    log.close();
    return 1;
  }
  const consuming = consume(pool, store, items, sessions, status);
  const ticker = setInterval(() => status.tick(), 1000);
  // run.json is rewritten with each clock sample.
  clock.watch(log, () => {
    try {
      writeRunJson(s.out, runInfo);
    } catch {
      log.failures++;
    }
  });
  const timer = s.durationMs === null ? null : setTimeout(() => control.request('duration'), s.durationMs);
  announceStart(s, started);

  const stopReason = await control.done;
  if (timer) clearTimeout(timer);
  clock.stop();
  clearInterval(logRotor);
  return stopObserve({ settings: s, started, runInfo, pool, store, sessions, items, log, status, stop: control, consuming, ticker, evidence, storeError: () => storeError }, stopReason);
}
