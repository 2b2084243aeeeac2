import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportCommand } from '../../src/cli/report.js';
import { simFixture } from './make-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'invscope-report-out-'));
const sink = { write: () => true };
const a = join(root, 'a');
const b = join(root, 'b');
const truthElsewhere = join(root, 'sim-truth.jsonl');

test.before(async () => {
  await simFixture(a, { nodes: 30, seconds: 12, seed: 1, vantage: 'a' });
  await simFixture(b, { nodes: 30, seconds: 10, seed: 2, vantage: 'b' });
  // A run observed with `simulate --out A` and `observe --out B`: the truth is not in the DIR.
  renameSync(join(b, 'truth.jsonl'), truthElsewhere);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test('report --truth FILE takes a ground truth from anywhere', async () => {
  const without = await reportCommand({ dirs: [b], html: false, stdout: sink, stderr: sink });
  assert.is(without.result!.accuracy, null, 'no truth in the DIR');
  const withTruth = await reportCommand({ dirs: [b], html: false, truth: truthElsewhere, stdout: sink, stderr: sink });
  assert.is(withTruth.code, 0);
  assert.is(withTruth.result!.accuracy!.length, 1);
  assert.ok(withTruth.result!.accuracy![0]!.matched > 100, `${withTruth.result!.accuracy![0]!.matched} matched`);
  let err = '';
  const missing = await reportCommand({ dirs: [b], html: false, truth: join(root, 'nope.jsonl'), stdout: sink, stderr: { write: (s: string) => (err += s) } });
  assert.is(missing.code, 1);
  assert.match(err, /--truth .*nope\.jsonl: no such file \[ERR_REPORT_TRUTH\]/);
});

test("the 'all' column spans the vantages' time, it never sums their durations", async () => {
  const r = await reportCommand({ dirs: [a, b], html: false, stdout: sink, stderr: sink });
  const s = r.result!.summary;
  const runs = [a, b].map((d) => JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')) as { started: number; stopped: number });
  const span = (Math.max(...runs.map((x) => x.stopped)) - Math.min(...runs.map((x) => x.started))) / 1000;
  assert.is(s.all.durationS, span);
  assert.is.not(s.all.durationS, s.vantages[0]!.durationS! + s.vantages[1]!.durationS!);
});

test('every figure is also written as CSV beside its SVG, with the data it draws', async () => {
  const out = join(root, 'html');
  const r = await reportCommand({ dirs: [a], out, stdout: sink, stderr: sink });
  assert.is(r.code, 0);
  for (const f of r.result!.figures) {
    const csv = join(out, 'figures', `${f.id}.csv`);
    assert.ok(existsSync(csv), csv);
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    assert.is(lines.length - 1, f.points, `${f.id}: one row per data point`);
  }
  assert.match(readFileSync(r.result!.files.html!, 'utf8'), /href="figures\/propagation\.csv"/);
});

test('peers over time stops at the stop request: the shutdown is not drawn', async () => {
  // The last 3 s of the run are its shutdown (stop requested, peers being closed).
  const run = JSON.parse(readFileSync(join(a, 'run.json'), 'utf8')) as { stopRequested?: number; stopped: number };
  const stop = run.stopped - 3000;
  writeFileSync(join(a, 'run.json'), JSON.stringify({ ...run, stopRequested: stop }));
  const r = await reportCommand({ dirs: [a], html: false, stdout: sink, stderr: sink });
  const fig = r.result!.figures.find((f) => f.id === 'peers')!;
  const values = (fig.spec.data as { values: { t: number }[] }).values;
  assert.ok(values.length > 0);
  for (const v of values) assert.ok(v.t < stop, `a point at ${v.t} after the stop ${stop}`);
});

test('the error CDF is on a log axis and the propagation figures have one panel per kind', async () => {
  const r = await reportCommand({ dirs: [a], html: false, stdout: sink, stderr: sink });
  const byId = new Map(r.result!.figures.map((f) => [f.id, f.spec as Record<string, any>]));
  assert.is(byId.get('accuracy-error')!.encoding.x.scale.type, 'log');
  for (const id of ['propagation', 'accuracy-curve']) {
    const spec = byId.get(id)!;
    assert.is(spec.facet.row.field, 'kind', id);
    assert.is(spec.resolve.scale.x, 'independent', id);
  }
});

test.run();
