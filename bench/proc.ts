/**
 * A child process's figures from Linux's /proc, for the benches that watch one (report, soak of
 * observe): the kB fields of /proc/PID/status. Bench processes only.
 */
import { readFileSync } from 'node:fs';

/** The named fields of /proc/PID/status as numbers (kB fields in bytes; others as printed); null once the process is gone. */
export function procStatus<K extends string>(pid: number, fields: readonly K[]): Record<K, number> | null {
  let st: string;
  try {
    st = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const out = {} as Record<K, number>;
  for (const f of fields) {
    const m = new RegExp(`^${f}:\\s+(\\d+)( kB)?`, 'm').exec(st);
    out[f] = m === null ? NaN : Number(m[1]) * (m[2] === undefined ? 1 : 1024);
  }
  return out;
}
