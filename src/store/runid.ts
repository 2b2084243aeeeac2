/**
 * The run id: the run's UTC start time and a random suffix (`YYYYMMDDTHHMMSSZ-xxxxxx`), unique
 * across runs and vantages, in every file name and the `run_id` column. Main thread, cold path.
 */
import { randomBytes } from 'node:crypto';

export function makeRunId(start: number = Date.now()): string {
  const iso = new Date(start).toISOString(); // 2026-12-04T20:30:05.123Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** A vantage name usable as a folder and a partition value: letters, digits, '.', '_', '-'. */
export const VANTAGE_RE = /^[A-Za-z0-9._-]{1,64}$/;
