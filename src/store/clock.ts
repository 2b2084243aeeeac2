/**
 * The host clock's synchronisation state, as the system exposes it: `chronyc tracking` (chrony),
 * else `timedatectl show` / `show-timesync` (systemd-timesyncd), else the `adjtimex --print` tool
 * (the kernel's NTP state: Node cannot call adjtimex(2) itself and no /proc file holds it), else
 * unknown. Each tool is looked up on PATH and has a short timeout; one that is missing, fails or
 * prints something else passes to the next. Never throws and never fails a run. Main thread, cold
 * path (sampled at start and every few minutes).
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

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string | null> {
  return new Promise((resolve) => {
    try {
      execFile(cmd, args, { timeout: PROBE_TIMEOUT_MS, env: { ...env, LC_ALL: 'C' } }, (err, stdout) => resolve(err ? null : String(stdout)));
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

/** The kernel's time status bits (adjtimex(2)): the clock is not synchronised; offsets are in ns. */
const STA_UNSYNC = 0x40;
const STA_NANO = 0x2000;

/**
 * Parses `adjtimex --print`: status bit STA_UNSYNC says unsynchronised; esterror is in
 * microseconds, offset in microseconds or, with STA_NANO set (chrony and ntpd set it), nanoseconds.
 */
export function parseAdjtimex(text: string, time: number): ClockSample | null {
  const status = Number(field(text, 'status') ?? NaN);
  if (!Number.isInteger(status)) return null;
  const offset = Number(field(text, 'offset'));
  const esterror = Number(field(text, 'esterror'));
  return {
    time,
    source: 'adjtimex',
    state: (status & STA_UNSYNC) !== 0 ? 'unsynced' : 'synced',
    offsetMs: Number.isFinite(offset) ? offset / ((status & STA_NANO) !== 0 ? 1e6 : 1e3) : null,
    errorMs: Number.isFinite(esterror) ? esterror / 1000 : null,
    reference: null,
  };
}

export const UNKNOWN_CLOCK = (time: number): ClockSample => ({ time, source: 'unknown', state: 'unknown', offsetMs: null, errorMs: null, reference: null });

/** The host clock's state now, from the first source that answers (the tools looked up on env's PATH). */
export async function sampleClock(now: () => number = Date.now, env: NodeJS.ProcessEnv = process.env): Promise<ClockSample> {
  const t = now();
  const chrony = await run('chronyc', ['tracking'], env);
  const c = chrony ? parseChrony(chrony, t) : null;
  if (c) return c;
  const show = await run('timedatectl', ['show'], env);
  const s = show ? parseTimesyncd(show, await run('timedatectl', ['show-timesync'], env), t) : null;
  if (s) return s;
  const adj = await run('adjtimex', ['--print'], env);
  return (adj ? parseAdjtimex(adj, t) : null) ?? UNKNOWN_CLOCK(t);
}
