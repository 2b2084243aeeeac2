/**
 * The stop of an observation run: SIGINT/SIGTERM handling (the first signal stops cleanly, a
 * second forces exit 130) and the stop sequence: the pool drains every ring and reports every
 * peer gone, the observation loop takes the last rows, the aggregation finalizes every open
 * item, the store commits and exports the open part; then run.json, the log and the summary.
 * Main thread; cold.
 */
import { join } from 'node:path';
import { plural } from '../text.js';
import type { NetworkEvidence } from '../network-hint.js';
import type { Coordinator } from '../../pool/index.js';
import type { ItemAggregator, PeerSessions, Store, StoreError } from '../../store/index.js';
import type { ObserveSettings } from './options.js';
import type { ObserveLog } from './log.js';
import { emit, fmtInt, say, type RunStatus } from './status.js';
import { dropCounts } from './drops.js';
import { writeRunJson } from './run-info.js';

/** The one stop request of a run: by --duration, a signal or a write failure, whichever is first. */
export class StopControl {
  /** Resolves with the stop reason. */
  readonly done: Promise<string>;
  private resolveStop: ((why: string) => void) | null = null;
  private signals = 0;
  private readonly onSignal = (sig: NodeJS.Signals): void => this.signal(sig);

  constructor(
    private readonly s: ObserveSettings,
    private readonly log: ObserveLog,
    private readonly tty: boolean,
  ) {
    this.done = new Promise<string>((r) => (this.resolveStop = r));
  }

  request(why: string): void {
    const r = this.resolveStop;
    this.resolveStop = null;
    r?.(why);
  }

  listen(): void {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  unlisten(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private signal(sig: NodeJS.Signals): void {
    const s = this.s;
    if (++this.signals === 1) {
      this.log.write('info', `${sig}: stopping (a second signal forces the exit)`);
      if (!s.quiet && !s.json) say(`${this.tty ? '\n' : ''}invscope observe: ${sig}, stopping cleanly (again to force) ...`);
      this.request(sig === 'SIGINT' ? 'interrupted' : 'terminated');
      return;
    }
    this.log.write('error', `${sig} again: forced exit; the open part stays in ${join(s.out, '.store')} (invscope observe --recover ${s.out})`);
    say(`invscope observe: forced exit; recover the open part with: invscope observe --recover ${s.out}`);
    process.exit(130);
  }
}

/** Everything a running observation holds, as the stop sequence needs it. */
export interface RunningObserve {
  settings: ObserveSettings;
  started: number;
  runInfo: Record<string, unknown>;
  pool: Coordinator;
  store: Store;
  sessions: PeerSessions;
  items: ItemAggregator;
  log: ObserveLog;
  status: RunStatus;
  stop: StopControl;
  /** The observation loop; ends when the pool has stopped and drained. */
  consuming: Promise<void>;
  ticker: ReturnType<typeof setInterval>;
  /** What the sessions that ended before a version showed (a hint when no handshake completed). */
  evidence: NetworkEvidence;
  storeError(): StoreError | null;
}

/** Stops the run in order and reports it; resolves with the exit status. */
export async function stopObserve(r: RunningObserve, stopReason: string): Promise<number> {
  const { pool, store, log } = r;
  const stopRequested = Date.now();
  log.write('info', `stopping: ${stopReason}`);
  await pool.stop();
  await r.consuming;
  const tPool = Date.now();
  clearInterval(r.ticker);
  r.status.tick();
  if (r.status.tty) process.stderr.write('\n');
  r.items.finish();
  const st = pool.stats();
  await store.close();
  log.write('info', `stop: pool stopped and drained in ${tPool - stopRequested} ms, store committed and exported in ${Date.now() - tPool} ms`);
  r.stop.unlisten();
  const drops = dropCounts(st, store.counters);
  const counters = {
    observations: store.counters.observations,
    drained: st.observations,
    drops: drops.ring,
    consumerDrops: drops.consumer,
    storeLost: drops.storeLost,
    storeShed: drops.storeShed,
    peers: { sessions: r.sessions.sessions, handshakes: r.sessions.handshakes },
    disconnectReasons: st.disconnectReasons,
    connectFailures: st.connectFailures,
    malformed: st.shards.reduce((a, x) => a + (x.last?.malformed ?? 0), 0),
    faults: r.sessions.faults,
    items: { finalized: r.items.finalized, late: r.items.late, duplicates: r.items.duplicates, forced: r.items.forced },
    addresses: st.addresses,
    timeline: store.counters.timeline,
    commits: store.counters.commits,
    logFailures: log.failures,
  };
  const err = r.storeError();
  const stopped = Date.now();
  Object.assign(r.runInfo, { stopRequested, stopped, stopReason, counters, parts: store.parts, ...(err ? { error: err.message, openPart: '.store (invscope observe --recover DIR)' } : {}) });
  finalRunJson(r, err);
  log.write('info', `stopped (${stopReason}): ${JSON.stringify(counters)}`);
  // A run in which no peer ever spoke the chosen network measured nothing: say why, exit 1.
  const deaf = !err && r.sessions.handshakes === 0 && !r.settings.listen;
  const why = deaf ? (r.evidence.hint(r.settings.network) ?? `no peer completed a ${r.settings.network.name} handshake`) : null;
  if (why !== null) log.write('error', why);
  log.close();
  const summary = { event: 'stopped', why: stopReason, dir: r.settings.out, seconds: Math.round((stopped - r.started) / 100) / 10, parts: store.parts.length, ...counters };
  report(r, summary, drops.total, err);
  if (err) return 1;
  if (why !== null) {
    say(`invscope observe: ${why}`);
    return 1;
  }
  return 0;
}

function finalRunJson(r: RunningObserve, err: StoreError | null): void {
  try {
    writeRunJson(r.settings.out, r.runInfo);
  } catch (e) {
    r.log.write('error', `cannot write run.json: ${(e as Error).message}`);
    if (!err) say(`invscope observe: cannot write ${join(r.settings.out, 'run.json')}: ${(e as Error).message}`);
  }
}

/** The final line (or JSON summary), and the write failure that stopped the run if one did. */
function report(r: RunningObserve, summary: { seconds: number; observations: number } & Record<string, unknown>, drops: number, err: StoreError | null): void {
  const { settings: s, store, sessions, items } = r;
  if (err) say(`invscope observe: cannot write the run directory: ${err.message}; stopped, everything written before is kept (parts: ${store.parts.join(', ') || 'none'})`);
  if (s.json) emit(summary);
  else if (!s.quiet || err) {
    say(
      `invscope observe: stopped (${String(summary.why)}) after ${summary.seconds} s: ${fmtInt(summary.observations)} observations, ${fmtInt(sessions.sessions)} peer sessions ` +
        `(${fmtInt(sessions.handshakes)} handshakes), ${fmtInt(items.finalized)} items, drops ${drops}; ${plural(store.parts.length, 'part')} in ${s.out}`,
    );
  }
}
