import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SlicedTimer } from '../../src/pool/shard/timer.js';

function members(n: number): { ticks: number; tick(t: number): void }[] {
  return Array.from({ length: n }, () => ({
    ticks: 0,
    tick() {
      this.ticks++;
    },
  }));
}

test('ten slices visit every member exactly once, a tenth at a time', () => {
  const t = new SlicedTimer();
  const ms = members(95);
  for (const m of ms) t.add(m);
  assert.is(t.size, 95);
  t.run();
  assert.is(ms.filter((m) => m.ticks === 1).length, 10, 'ceil(95 / 10) in the first slice');
  for (let i = 0; i < 9; i++) t.run();
  assert.ok(ms.every((m) => m.ticks === 1), 'a whole round in ten slices');
  for (let i = 0; i < 10; i++) t.run();
  assert.ok(ms.every((m) => m.ticks === 2), 'the next round starts over');
  for (const m of ms) t.delete(m);
  assert.is(t.size, 0);
});

test('members deleted during a round are skipped, added ones are visited, a throwing one does not stop the rest', () => {
  const t = new SlicedTimer();
  const ms = members(20);
  for (const m of ms) t.add(m);
  t.run(); // visits 0 and 1
  t.delete(ms[5]!);
  const late = members(1)[0]!;
  t.add(late);
  const bad = {
    tick() {
      throw new Error('bad member');
    },
  };
  t.add(bad);
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  const emit = process.emitWarning;
  process.emitWarning = ((w: string) => warnings.push(w)) as typeof process.emitWarning;
  try {
    for (let i = 0; i < 10; i++) t.run();
  } finally {
    process.emitWarning = emit;
    process.off('warning', onWarning);
  }
  assert.is(ms[5]!.ticks, 0, 'deleted before its turn');
  assert.is(late.ticks, 1, 'added during the round, visited in it');
  assert.ok(ms.every((m, i) => i === 5 || m.ticks >= 1));
  assert.ok(warnings.some((w) => /bad member/.test(w)));
  for (const m of [...ms, late, bad]) t.delete(m);
});

test.run();
