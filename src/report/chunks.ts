/**
 * The report's unit of work and of caching. In a partitioned tree, chunk h holds the items one
 * vantage first saw in [h - s, h + 1 h - s), where s (the shift) is the item window w plus the
 * longest default settling time: everything it needs lies in the observation parts of hours
 * h - 1 and h (an item's first sighting is checked from h - s - w on, and its announcements run
 * to its first-seen + w < h + 1 h), and a run that goes on past h + 1 h leaves its settled items
 * as they were, so adding hour h + 1 computes chunk h + 1 and leaves chunk h alone. After an hour
 * whose next hour is absent (the newest, or one before a gap) a small tail chunk holds the items
 * first seen in its last s. A flat run directory is one chunk. A chunk's cache key is the identity (path, size, mtime) of every file it reads
 * plus every setting its aggregates depend on; its read range (`read`) is fixed here with its
 * items. Main thread, cold path.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { TimeRange, VantageDir } from './load.js';

const HOUR_MS = 3_600_000;

export interface Chunk {
  vantage: VantageDir;
  /** `YYYY-MM-DDTHH` of its hour, that with `-tail` for a tail chunk, or `all` for a flat run directory. */
  label: string;
  /** Items first seen in [lo, hi) belong to it (epoch ms; +-Infinity for a flat directory). */
  items: TimeRange;
  /** Its hour, whose observations it counts (empty for a tail chunk; everything for a flat directory). */
  hour: TimeRange;
  /** The observation times it reads: its items' range an item window either side, and its hour. */
  read: TimeRange;
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

/**
 * The chunks of one vantage, oldest first. `windowMs` is its item window; `shiftMs` (at least the
 * window, and at least the settling time so that a finished hour's settled items stay put) is how
 * far before its hour a chunk's items start. With 2 x window + shift over an hour the vantage is
 * one chunk.
 */
export function planChunks(v: VantageDir, windowMs: number, shiftMs: number): Chunk[] {
  const obs = byHour(v.parts.observations);
  const items = byHour(v.parts.items);
  if (obs === null || items === null || shiftMs < windowMs || shiftMs + windowMs > HOUR_MS) {
    const all = { lo: -Infinity, hi: Infinity };
    return [{ vantage: v, label: 'all', items: all, hour: all, read: all, files: { observations: v.parts.observations, items: v.parts.items } }];
  }
  const pair = (m: Map<number, string[]>, h: number): string[] => [...(m.get(h - HOUR_MS) ?? []), ...(m.get(h) ?? [])];
  const out: Chunk[] = [];
  for (const h of [...obs.keys()].sort((a, b) => a - b)) {
    const label = new Date(h).toISOString().slice(0, 13);
    const files = { observations: pair(obs, h), items: pair(items, h) };
    // The items' announcements end an item window after h + 1 h - shift, inside the hour (shift >= window).
    const read = { lo: h - shiftMs - windowMs, hi: h + HOUR_MS };
    out.push({ vantage: v, label, items: { lo: h - shiftMs, hi: h + HOUR_MS - shiftMs }, hour: { lo: h, hi: h + HOUR_MS }, read, files });
    if (!obs.has(h + HOUR_MS)) {
      const own = { observations: obs.get(h)!, items: items.get(h) ?? [] };
      const tail = { lo: h + HOUR_MS - shiftMs, hi: h + HOUR_MS };
      out.push({ vantage: v, label: `${label}-tail`, items: tail, hour: { lo: h, hi: h }, read: { lo: tail.lo - windowMs, hi: tail.hi + windowMs }, files: own });
    }
  }
  return out;
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
