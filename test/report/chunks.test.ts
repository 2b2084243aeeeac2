import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planChunks, type Chunk } from '../../src/report/chunks.js';
import type { VantageDir } from '../../src/report/load.js';

// How a vantage's hours become chunks: which items each holds and which parts it reads.

const H = 3_600_000;
const T10 = Date.UTC(2026, 0, 5, 10);
const W = 120_000;
const S = W + 60_000;
const part = (table: string, hour: number): string => `/d/${table}/vantage=v/date=2026-01-05/hour=${hour}/part-R-000${hour}.parquet`;

function vantage(hours: number[]): VantageDir {
  return {
    vantage: 'v',
    dir: '/d',
    dirs: ['/d'],
    run: null,
    parts: { observations: hours.map((h) => part('observations', h)), items: hours.map((h) => part('items', h)), peers: [], timeline: [] },
    skipped: [],
    truth: null,
  };
}

test('chunk h holds the items of [h - s, h + 1 h - s) and reads hours h - 1 and h; a tail follows an hour whose next is absent', () => {
  const chunks = planChunks(vantage([10, 11, 13]), W, S);
  assert.equal(chunks.map((c) => c.label), ['2026-01-05T10', '2026-01-05T11', '2026-01-05T11-tail', '2026-01-05T13', '2026-01-05T13-tail']);
  const [c10, c11, t11, c13, t13] = chunks;
  assert.equal(c10!.items, { lo: T10 - S, hi: T10 + H - S });
  assert.equal(c10!.hour, { lo: T10, hi: T10 + H });
  assert.equal(c10!.read, { lo: T10 - S - W, hi: T10 + H });
  assert.equal(c10!.files.observations, [part('observations', 10)]);
  assert.equal(c11!.files.observations, [part('observations', 10), part('observations', 11)]);
  assert.equal(c11!.files.items, [part('items', 10), part('items', 11)]);
  // The tail of hour 11 (hour 12 is missing): its last s, read from hour 11 alone, no observations counted.
  assert.equal(t11!.items, { lo: T10 + 2 * H - S, hi: T10 + 2 * H });
  assert.equal(t11!.files.observations, [part('observations', 11)]);
  assert.is(t11!.hour.hi - t11!.hour.lo, 0);
  assert.equal(t11!.read, { lo: T10 + 2 * H - S - W, hi: T10 + 2 * H + W });
  // After the gap, hour 13 starts where its own range starts: nothing of hour 12 was there to own.
  assert.equal(c13!.items.lo, T10 + 3 * H - S);
  assert.equal(c13!.files.observations, [part('observations', 13)]);
  assert.equal(t13!.items.hi, T10 + 4 * H);
  // The item ranges tile the time from the first chunk's start to the last hour's end, gap aside.
  for (let i = 1; i < chunks.length; i++) {
    if (chunks[i]!.label !== '2026-01-05T13') assert.is(chunks[i]!.items.lo, chunks[i - 1]!.items.hi, chunks[i]!.label);
  }
});

test('a new hour changes neither the files nor the range of the chunks before it', () => {
  const before = planChunks(vantage([10, 11]), W, S).filter((c) => !c.label.endsWith('-tail'));
  const after = planChunks(vantage([10, 11, 12]), W, S);
  const shape = (c: Chunk | undefined): unknown => c && { label: c.label, items: c.items, hour: c.hour, read: c.read, files: c.files };
  for (const c of before) assert.equal(shape(after.find((a) => a.label === c.label)), shape(c), c.label);
  assert.equal(after.map((c) => c.label).filter((l) => l.endsWith('-tail')), ['2026-01-05T12-tail']);
});

test('a flat run directory, or an item window too long for hour chunks, is one chunk of everything', () => {
  const flat: VantageDir = { ...vantage([]), parts: { observations: ['/d/observations/part-000.parquet'], items: [], peers: [], timeline: [] } };
  assert.equal(planChunks(flat, W, S).map((c) => [c.label, c.items, c.hour]), [['all', { lo: -Infinity, hi: Infinity }, { lo: -Infinity, hi: Infinity }]]);
  const long = 30 * 60_000;
  const one = planChunks(vantage([10, 11]), long, long + 60_000);
  assert.equal(one.map((c) => c.label), ['all']);
  assert.equal(one[0]!.files.observations.length, 2);
});

test.run();
