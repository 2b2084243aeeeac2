/**
 * ClockWatch (src/cli/observe/clock-watch.ts): a sample at the start and one every period after
 * the previous one finished, each logged and announced, run.json's list capped keeping the first;
 * nothing after stop; the test-only period from INVSCOPE_TEST_CLOCK_SAMPLE_MS. A stand-in sampler
 * (the tools' parsing is test/store/clock.test.ts's). Test process, cold path.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLOCK_SAMPLE_MS, MAX_CLOCK_SAMPLES, MIN_TEST_CLOCK_SAMPLE_MS, ClockWatch, clockSamplePeriod } from '../../src/cli/observe/clock-watch.js';
import type { ClockSample } from '../../src/store/index.js';

/** A sampler whose n-th sample has time n and offset n ms, alternating synced / unsynced. */
function counter(): { sample: () => Promise<ClockSample>; calls: () => number } {
  let n = 0;
  return {
    sample: async () => {
      n++;
      return { time: n, source: 'chrony', state: n % 2 ? 'synced' : 'unsynced', offsetMs: n, errorMs: 1, reference: 'ref' };
    },
    calls: () => n,
  };
}

/** Resolves once `changed` has been called `n` times (a hang guard rejects after 20 s). */
function changes(n: number): { changed: () => void; done: Promise<void> } {
  let seen = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r, reject) => {
    resolve = r;
    setTimeout(() => reject(new Error(`only ${seen} of ${n} samples`)), 20_000).unref();
  });
  return { changed: () => ++seen === n && resolve(), done };
}

test('a sample at the start, then one per period: logged, current, in the record, run.json rewritten each time', async () => {
  const c = counter();
  const w = await ClockWatch.start({ periodMs: 5, sample: c.sample });
  assert.equal([w.current.time, w.record.atStart.time, w.record.samples.length, w.record.periodMs], [1, 1, 1, 5]);
  const lines: string[] = [];
  const ch = changes(4);
  w.watch({ write: (level, msg) => lines.push(`${level} ${msg}`) }, ch.changed);
  await ch.done;
  w.stop();
  assert.equal(w.record.samples.map((s) => s.time), [1, 2, 3, 4, 5]);
  assert.is(w.current.time, 5);
  assert.is(w.record.atStart.time, 1);
  assert.equal(lines, ['info clock: chrony unsynced offset 2 ms error 1 ms', 'info clock: chrony synced offset 3 ms error 1 ms', 'info clock: chrony unsynced offset 4 ms error 1 ms', 'info clock: chrony synced offset 5 ms error 1 ms']);
});

test('stop: no sample is recorded after it, not even one in flight', async () => {
  let release!: (s: ClockSample) => void;
  let calls = 0;
  const first: ClockSample = { time: 1, source: 'unknown', state: 'unknown', offsetMs: null, errorMs: null, reference: null };
  const w = await ClockWatch.start({
    periodMs: 5,
    sample: () => (++calls === 1 ? Promise.resolve(first) : new Promise<ClockSample>((r) => (release = r))),
  });
  let changed = 0;
  w.watch({ write: () => {} }, () => changed++);
  while (calls < 2) await new Promise((r) => setTimeout(r, 5));
  w.stop();
  release({ ...first, time: 2 });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal([calls, changed, w.record.samples.length, w.current.time], [2, 0, 1, 1], 'the probe that was running when stopped is dropped, none started after');
});

test(`run.json keeps the first sample and the latest ${MAX_CLOCK_SAMPLES - 1}`, async () => {
  const c = counter();
  const w = await ClockWatch.start({ periodMs: 1, sample: c.sample });
  const ch = changes(MAX_CLOCK_SAMPLES + 10);
  w.watch({ write: () => {} }, ch.changed);
  await ch.done;
  w.stop();
  const times = w.record.samples.map((s) => s.time);
  assert.is(times.length, MAX_CLOCK_SAMPLES);
  assert.is(times[0], 1, 'the start');
  assert.is(times[1], MAX_CLOCK_SAMPLES + 11 - (MAX_CLOCK_SAMPLES - 1) + 1, 'the oldest of the latest: 300 samples, 288 latest kept from 13');
  assert.is(times[times.length - 1], MAX_CLOCK_SAMPLES + 11);
});

test('the period: 5 minutes unless INVSCOPE_TEST_CLOCK_SAMPLE_MS is an integer of at least the minimum', () => {
  assert.is(CLOCK_SAMPLE_MS, 300_000);
  assert.is(clockSamplePeriod({}), CLOCK_SAMPLE_MS);
  assert.is(clockSamplePeriod({ INVSCOPE_TEST_CLOCK_SAMPLE_MS: '200' }), 200);
  assert.is(clockSamplePeriod({ INVSCOPE_TEST_CLOCK_SAMPLE_MS: String(MIN_TEST_CLOCK_SAMPLE_MS) }), MIN_TEST_CLOCK_SAMPLE_MS);
  for (const bad of [String(MIN_TEST_CLOCK_SAMPLE_MS - 1), '0', '-200', '200.5', 'soon', '']) {
    assert.is(clockSamplePeriod({ INVSCOPE_TEST_CLOCK_SAMPLE_MS: bad }), CLOCK_SAMPLE_MS, JSON.stringify(bad));
  }
});

test.run();
