/**
 * The host clock's synchronisation state, as the system exposes it: `chronyc tracking` (chrony),
 * else `timedatectl show` / `show-timesync` (systemd-timesyncd), else `adjtimex --print` (the
 * kernel's NTP state), else unknown. Never throws and never fails a run (each probe has a short
 * timeout). Main thread, cold path (sampled at start and every few minutes).
 */
import { execFile } from 'node:child_process';

export interface ClockSample {
  /** Epoch ms of the sample. */
  time: number;
  source: 'chrony' | 'timesyncd' | 'adjtimex' | 'unknown';
  state: 'synced' | 'unsynced' | 'unknown';
  /** The host clock minus its reference, ms (positive: the host is ahead), or null. */
  offsetMs: number | null;
  /** The estimated error bound of the host clock, ms, or null. */
  errorMs: number | null;
  /** The reference (server) the system names, or null. */
  reference: string | null;
}

const PROBE_TIMEOUT_MS = 2_000;

function run(cmd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    try {
      execFile(cmd, args, { timeout: PROBE_TIMEOUT_MS, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout) => resolve(err ? null : String(stdout)));
    } catch {
      resolve(null);
    }
  });
}

const field = (text: string, name: string): string | null => {
  const m = new RegExp(`^\\s*${name}\\s*[:=]\\s*(.*)$`, 'm').exec(text);
  return m ? m[1]!.trim() : null;
};

/** Parses `chronyc tracking`; null when it is not chrony's output. */
export function parseChrony(text: string, time: number): ClockSample | null {
  const sys = /^System time\s*:\s*([\d.]+) seconds (fast|slow)/m.exec(text);
  if (!sys) return null;
  const leap = field(text, 'Leap status') ?? '';
  const delay = Number(/^Root delay\s*:\s*([\d.]+)/m.exec(text)?.[1] ?? NaN);
  const disp = Number(/^Root dispersion\s*:\s*([\d.]+)/m.exec(text)?.[1] ?? NaN);
  const offsetMs = Number(sys[1]) * 1000 * (sys[2] === 'fast' ? 1 : -1);
  const errorMs = Number.isFinite(delay) && Number.isFinite(disp) ? (delay / 2 + disp) * 1000 : null;
  return { time, source: 'chrony', state: /not synchronised/i.test(leap) ? 'unsynced' : 'synced', offsetMs, errorMs, reference: field(text, 'Reference ID') };
}

/** Parses `timedatectl show` (NTPSynchronized) and `show-timesync` (ServerName); null without the first. */
export function parseTimesyncd(show: string, timesync: string | null, time: number): ClockSample | null {
  const synced = field(show, 'NTPSynchronized');
  if (synced === null) return null;
  return { time, source: 'timesyncd', state: synced === 'yes' ? 'synced' : 'unsynced', offsetMs: null, errorMs: null, reference: timesync ? field(timesync, 'ServerName') || null : null };
}

/** Parses `adjtimex --print` (offset and esterror in microseconds, status bit 0x40 = STA_UNSYNC). */
export function parseAdjtimex(text: string, time: number): ClockSample | null {
  const status = field(text, 'status');
  if (status === null) return null;
  const offset = Number(field(text, 'offset'));
  const esterror = Number(field(text, 'esterror'));
  return {
    time,
    source: 'adjtimex',
    state: (Number(status) & 0x40) !== 0 ? 'unsynced' : 'synced',
    offsetMs: Number.isFinite(offset) ? offset / 1000 : null,
    errorMs: Number.isFinite(esterror) ? esterror / 1000 : null,
    reference: null,
  };
}

export const UNKNOWN_CLOCK = (time: number): ClockSample => ({ time, source: 'unknown', state: 'unknown', offsetMs: null, errorMs: null, reference: null });

/** The host clock's state now, from the first source that answers. */
export async function sampleClock(now: () => number = Date.now): Promise<ClockSample> {
  const t = now();
  const chrony = await run('chronyc', ['tracking']);
  const c = chrony ? parseChrony(chrony, t) : null;
  if (c) return c;
  const show = await run('timedatectl', ['show']);
  const s = show ? parseTimesyncd(show, await run('timedatectl', ['show-timesync']), t) : null;
  if (s) return s;
  const adj = await run('adjtimex', ['--print']);
  return (adj ? parseAdjtimex(adj, t) : null) ?? UNKNOWN_CLOCK(t);
}
