import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirs } from '../../src/store/dirs.js';
import { ROOT } from '../helpers.js';

const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

test('makeDirs creates a path and its missing parents, and accepts one that exists', () => {
  const base = mkdtempSync(join(tmpdir(), 'invscope-dirs-'));
  const deep = join(base, 'a', 'b', 'c');
  makeDirs(deep);
  assert.ok(statSync(deep).isDirectory());
  makeDirs(deep);
  rmSync(base, { recursive: true, force: true });
});

test('makeDirs fails with ENOTDIR when a component is a file', () => {
  const base = mkdtempSync(join(tmpdir(), 'invscope-dirs-'));
  writeFileSync(join(base, 'f'), 'x');
  try {
    assert.throws(() => makeDirs(join(base, 'f', 'sub')), (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("makeDirs ends with an error under /proc, where node's recursive mkdir spins forever", () => {
  assert.throws(() => makeDirs('/proc/invscope-no-such/run'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
});

test('observe --out on procfs fails with one line and exit 1 instead of spinning', () => {
  // The 20 s guard is a hang guard: before, the command never ended.
  const r = spawnSync(process.execPath, [BIN, 'observe', '--out', '/proc/invscope-no-such', '--peer', '127.0.0.1:1', '--duration', '1s'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.is(r.signal, null, 'ended by itself');
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /cannot create \/proc\/invscope-no-such/);
});

test.run();
