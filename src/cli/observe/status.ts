/**
 * The once-a-second tick of an observation run: the timeline row (peers, inv entries, drops in
 * the second) and the status display: a line redrawn in place on a terminal, a plain line every
 * --status-interval otherwise, a JSON line with --json, nothing with --quiet. Main thread; warm
 * (`counted` runs per observation, the rest once a second).
 */
import { jsonLine } from '../decode.js';
import { fitWidth } from '../text.js';
import { now } from '../../observe/clock.js';
import type { Coordinator, PoolStats } from '../../pool/index.js';
import type { ItemAggregator, PeerSessions, Store } from '../../store/index.js';
import { OBSERVE_DEFAULTS, type ObserveSettings } from './options.js';
import { dropCounts, type DropCounts } from './drops.js';
import type { ClockWatch } from './clock-watch.js';

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

function fmtClock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}`;
}

export function say(line: string): void {
  process.stderr.write(line + '\n');
}

export function emit(o: Record<string, unknown>): void {
  process.stdout.write(jsonLine(o) + '\n');
}

/** What the status reads. */
export interface StatusSources {
  settings: ObserveSettings;
  started: number;
  pool: Coordinator;
  store: Store;
  sessions: PeerSessions;
  items: ItemAggregator;
  /** The host clock's latest sync state (the timeline's clock columns). */
  clock: ClockWatch;
}

export class RunStatus {
  /** A terminal gets a line redrawn in place. */
  readonly tty: boolean;
  private readonly src: StatusSources;
  private secEntries = 0;
  private totalEntries = 0;
  private lastDrops = 0;
  private lastStatusAt = 0;

  constructor(src: StatusSources) {
    this.src = src;
    this.tty = process.stderr.isTTY === true && !src.settings.json && !src.settings.quiet;
  }

  /** One observation stored. */
  counted(): void {
    this.secEntries++;
    this.totalEntries++;
  }

  /** The second's timeline row, the items past their window, then the status display. */
  tick(): void {
    const { settings: s, pool, store, items } = this.src;
    const t = Date.now();
    const st = pool.stats();
    const d = dropCounts(st, store.counters);
    store.appendTimeline({ time: t, peers_connected: st.peers.connected, peers_ready: st.peers.ready, inv_entries: this.secEntries, drops: d.total - this.lastDrops, clock: this.src.clock.current });
    const rate = this.secEntries;
    this.lastDrops = d.total;
    this.secEntries = 0;
    items.evict(now());
    if (s.quiet) return;
    const o = this.status(st, d, rate, t);
    if (s.json) {
      if (t - this.lastStatusAt >= s.statusIntervalMs - 50) {
        emit(o);
        this.lastStatusAt = t;
      }
    } else if (this.tty) process.stderr.write(`\r${fitWidth(this.statusText(o, d.total), process.stderr.columns)}\x1b[K`);
    else if (t - this.lastStatusAt >= s.statusIntervalMs - 50) {
      say(this.statusText(o, d.total));
      this.lastStatusAt = t;
    }
  }

  private status(st: PoolStats, d: DropCounts, rate: number, t: number): Record<string, unknown> {
    const { settings: s, started, store, sessions, items } = this.src;
    const ringFill = Math.max(0, ...st.shards.map((x) => x.ringAvailable / OBSERVE_DEFAULTS.ringCapacity));
    return {
      event: 'status',
      t: Date.now(),
      peers: { connected: st.peers.connected, ready: st.peers.ready, target: this.reachableTarget(st.peers.target), pending: st.peers.pending, inbound: st.peers.inbound },
      handshakes: sessions.handshakes,
      invPerSecond: rate,
      entries: this.totalEntries,
      ringFill: Math.round(ringFill * 1000) / 1000,
      drops: { ring: d.ring, consumer: d.consumer, store: d.store },
      disconnects: sessions.reasons,
      items: { open: items.openItems, finalized: items.finalized },
      parts: store.counters.parts,
      elapsedMs: Math.round(t - started),
      remainingMs: s.durationMs === null ? null : Math.max(0, Math.round(started + s.durationMs - t)),
    };
  }

  /** Without DNS seeds, a crawl or a listener, a run can reach no more peers than it has addresses. */
  private reachableTarget(target: number): number {
    const s = this.src.settings;
    return s.dns || s.crawl || s.listen ? target : Math.min(target, s.peers.length);
  }

  private statusText(o: Record<string, unknown>, drops: number): string {
    const sessions = this.src.sessions;
    const p = o.peers as { connected: number; ready: number; target: number };
    const reasons = Object.entries(sessions.reasons)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const rem = o.remainingMs === null ? '' : ` / ${fmtClock(o.remainingMs as number)} left`;
    return (
      `peers ${fmtInt(p.connected)}/${fmtInt(p.target)} (ready ${fmtInt(p.ready)}) handshakes ${fmtInt(sessions.handshakes)}  ` +
      `inv ${fmtInt(o.invPerSecond as number)}/s  ring ${((o.ringFill as number) * 100).toFixed(0)}%  drops ${fmtInt(drops)}  ` +
      `gone: ${reasons || '-'}  ${fmtClock(o.elapsedMs as number)}${rem}`
    );
  }
}
