/**
 * bench/hashsize.ts at a tiny size: both files hold every generated row and the figures add up;
 * and the refusal rule: a file missing a row, a hash that differs, a hex hash in capitals or a
 * row count other than the generated one gives a refusal naming it instead of figures.
 * Test process; DuckDB's threads.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSize, measureVariant, verifyVariants, writeVariants } from '../../bench/hashsize.js';
import { query } from '../store/duck.js';
import { ROOT } from '../helpers.js';

const TINY = { peers: 12, txPerSecond: 0.2, threads: 1, memoryLimit: '256MB' };
const dir = mkdtempSync(join(tmpdir(), 'invscope-hashsize-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** COPY of a Parquet file through a SELECT over it (`*` with file_row_number), in file order. */
async function rewrite(from: string, to: string, select: string, where = 'true'): Promise<void> {
  await query(`COPY (SELECT ${select} FROM read_parquet('${from}', file_row_number = true) WHERE ${where}) TO '${to}' (FORMAT parquet, COMPRESSION zstd)`);
}

test('a tiny run: both files hold every generated row, in row groups, the hash column a part of each', async () => {
  const r = await hashSize({ dir: join(dir, 'ok'), ...TINY });
  if ('refusal' in r) throw new Error(r.refusal);
  const [n] = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${r.hex.file}')`);
  assert.ok(r.rows > 1000, `${r.rows} rows`);
  assert.equal([r.hex.rows, r.blob.rows, n!['n']], [r.rows, r.rows, r.rows]);
  for (const v of [r.hex, r.blob]) {
    assert.ok(v.rowGroups >= 1 && v.hashBytes > 0 && v.hashBytes < v.bytes, JSON.stringify(v));
    assert.is(v.bytesPerRow, v.bytes / v.rows);
  }
  assert.ok(r.hex.hashBytes > r.blob.hashBytes, 'hex text holds the same hashes in more bytes before compression');
  const [h] = await query(`SELECT count(DISTINCT hash)::INTEGER AS n FROM read_parquet('${r.blob.file}')`);
  assert.is(r.distinctHashes, h!['n']);
});

test('the refusal rule: a missing row, a changed hash, a hex hash in capitals, a wrong generated count', async () => {
  const w = await writeVariants({ dir: join(dir, 'bad'), ...TINY });
  assert.is(await verifyVariants(w.hex, w.blob, w.rows), null, 'the files as written pass');
  const short = join(dir, 'bad', 'short.parquet');
  await rewrite(w.blob, short, '* EXCLUDE (file_row_number)', `file_row_number <> 7`);
  assert.is(await verifyVariants(w.hex, short, w.rows), `blob.parquet holds ${w.rows - 1} rows, ${w.rows} were generated`);
  const changed = join(dir, 'bad', 'changed.parquet');
  await rewrite(w.blob, changed, `* EXCLUDE (file_row_number) REPLACE (CASE WHEN file_row_number = 7 THEN unhex(repeat('00', 32)) ELSE hash END AS hash)`);
  assert.is(await verifyVariants(w.hex, changed, w.rows), '1 rows differ between hex.parquet and blob.parquet');
  const upper = join(dir, 'bad', 'upper.parquet');
  await rewrite(w.hex, upper, `* EXCLUDE (file_row_number) REPLACE (CASE WHEN file_row_number < 3 THEN upper(hash) ELSE hash END AS hash)`);
  assert.is(await verifyVariants(upper, w.blob, w.rows), '3 hex hashes are not 64 lowercase hex characters', 'rows 0, 1 and 2');
  assert.is(await verifyVariants(w.hex, w.blob, w.rows + 1), `hex.parquet holds ${w.rows} rows, ${w.rows + 1} were generated`);
  assert.is(await verifyVariants(w.hex, w.blob, 0), 'no rows generated (0)');
  const m = await measureVariant(short);
  assert.is(m.rows, w.rows - 1, 'the measure reads the rows from the file itself');
});

test('npm run bench:hashsize prints both variants and exits 0; a bad option exits 2 naming it', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'bench', 'hashsize.js'), '--peers', '8', '--tx-per-second', '0.2', '--json'], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.ok(o.rows > 0 && o.hex.rows === o.rows && o.blob.rows === o.rows, r.stdout);
  assert.is(o.machine.node, process.version);
  const bad = spawnSync(process.execPath, [join(ROOT, 'dist', 'bench', 'hashsize.js'), '--peers', 'many'], { encoding: 'utf8', timeout: 60_000 });
  assert.is(bad.status, 2, 'a bad option: exit 2');
  assert.match(bad.stderr, /--peers and --hours take integers of at least 1.*"many"/);
});

test.run();
