/**
 * The report's unit of work and of caching: a chunk is the items one vantage first saw in one
 * hour (a hive `hour=` partition), or in the whole run for a flat run directory. A chunk reads
 * the observation parts of its hour and of the hours either side (an item first seen at 10:59
 * is announced until 11:01), and its cache key is the identity (path, size, mtime) of every file
 * it reads plus every setting its aggregates depend on, so adding an hour recomputes only that
 * hour and the one before it. Main thread, cold path.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { TimeRange, VantageDir } from './load.js';

const HOUR_MS = 3_600_000;

export interface Chunk {
  vantage: VantageDir;
  /** `YYYY-MM-DDTHH` of its hour, or `all` for a flat run directory. */
  label: string;
  /** Items first seen in [lo, hi) belong to it (epoch ms; +-Infinity for a flat directory). */
  items: TimeRange;
  /** Observation and items parts it reads. */
  files: { observations: string[]; items: string[] };
}

/** The start (epoch ms) of the hive hour a part sits in, or null outside `date=/hour=` folders. */
export function partHour(file: string): number | null {
  const m = /[/\\]date=(\d{4})-(\d{2})-(\d{2})[/\\]hour=(\d{1,2})[/\\]/.exec(file);
  return m === null ? null : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
}

function byHour(files: readonly string[]): Map<number, string[]> | null {
  const out = new Map<number, string[]>();
  for (const f of files) {
    const h = partHour(f);
    if (h === null) return null;
    (out.get(h) ?? out.set(h, []).get(h)!).push(f);
  }
  return out;
}

/** The chunks of one vantage, oldest first. */
export function planChunks(v: VantageDir): Chunk[] {
  const obs = byHour(v.parts.observations);
  const items = byHour(v.parts.items);
  if (obs === null || items === null) {
    return [{ vantage: v, label: 'all', items: { lo: -Infinity, hi: Infinity }, files: { observations: v.parts.observations, items: v.parts.items } }];
  }
  const around = (m: Map<number, string[]>, h: number): string[] => [...(m.get(h - HOUR_MS) ?? []), ...(m.get(h) ?? []), ...(m.get(h + HOUR_MS) ?? [])];
  return [...obs.keys()]
    .sort((a, b) => a - b)
    .map((h) => ({
      vantage: v,
      label: new Date(h).toISOString().slice(0, 13),
      items: { lo: h, hi: h + HOUR_MS },
      files: { observations: around(obs, h), items: around(items, h) },
    }));
}

/** A hex digest of the chunk's files (path, size, mtime) and of `settings`: its cache key. */
export function chunkKey(c: Chunk, settings: Record<string, unknown>): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(settings));
  for (const f of [...c.files.observations, '|', ...c.files.items]) {
    if (f === '|') {
      h.update('|');
      continue;
    }
    const s = statSync(f);
    h.update(`${f}\u0000${s.size}\u0000${s.mtimeMs}\n`);
  }
  return h.digest('hex').slice(0, 24);
}
