import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportCommand } from '../../src/cli/report.js';
import { writeRunDir, type Obs, type RunFixture } from './make-fixture.js';

// An observation part whose footer is sound but whose data pages are not: no probe scans the
// observation parts before the aggregates (they read every part whole), so the chunk that reads
// it is what fails, and the outcome must still be ERR_REPORT_CORRUPT naming the file.

const root = mkdtempSync(join(tmpdir(), 'invscope-damaged-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 0, 5, 10);

function fixture(): RunFixture {
  const obs: Obs[] = [];
  for (let i = 0; i < 3000; i++) {
    const p = 1 + (i % 20);
    obs.push({ time: T0 + i * 10 + (i % 7), peer: p, address: `127.0.0.${p}:8333`, kind: 'inv', inv_type: 'wtx', item_kind: 'tx', hash: (i % 300).toString(16).padStart(64, '0'), shard: 0 });
  }
  return { run: { vantage: 'v', started: T0 - 1000, stopped: T0 + 60_000 }, observations: obs, peers: [], items: [], timeline: [] };
}

const sink = (): { write(s: string): boolean; text: string } => {
  const s = { text: '', write: (x: string) => ((s.text += x), true) };
  return s;
};

test('an observation part with damaged data pages and an intact footer: ERR_REPORT_CORRUPT naming the file', async () => {
  await writeRunDir(root, fixture());
  const dir = join(root, 'observations');
  const name = readdirSync(dir).find((x) => x.endsWith('.parquet'))!;
  const file = join(dir, name);
  const b = readFileSync(file);
  // Scramble the first half after the magic and the first page header: the footer stays readable.
  for (let i = 200; i < Math.floor(b.length / 2); i++) b[i] = (b[i]! * 31 + 7) & 0xff;
  writeFileSync(file, b);
  const out = sink();
  const err = sink();
  const r = await reportCommand({ dirs: [root], stdout: out, stderr: err, html: false, cacheDir: null });
  assert.is(r.code, 1, err.text);
  assert.match(err.text, new RegExp(`${name.replace('.', '\\.')}.*\\[ERR_REPORT_CORRUPT\\]`));
  assert.is(err.text.trim().split('\n').length, 1, 'one line, no stack');
});

test.run();
