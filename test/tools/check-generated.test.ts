/**
 * Tests of tools/check-generated.mjs (npm run check:generated) run as CI runs it, in a child
 * process: it passes on the committed files and names a file changed by one byte or missing.
 * Main thread; not a hot path. Writes only under a temporary directory.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from '../helpers.js';

const CHECK = join(ROOT, 'tools', 'check-generated.mjs');

function check(...args: string[]): { status: number | null; lines: string[] } {
  // A generous hang guard: the check assembles two modules, under a second when the machine is idle.
  const r = spawnSync(process.execPath, [CHECK, ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.stderr, '', 'nothing on stderr');
  return { status: r.status, lines: r.stdout.split('\n').filter((l) => l !== '') };
}

/** A root holding copies of every committed generated file, at the same relative paths. */
function copyRoot(paths: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'invscope-check-generated-test-'));
  for (const p of paths) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    copyFileSync(join(ROOT, p), join(root, p));
  }
  return root;
}

const paths = check('--list').lines;
const lockedWabt = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages['node_modules/wabt'].version as string;

test('lists the .wat files, both wasm-bytes.ts modules and the benchmark JS kernel as generated', () => {
  for (const p of [
    'src/protocol/sha256/sha256.wat',
    'src/protocol/sha256/wasm-bytes.ts',
    'src/transport/v2/chacha20poly1305.wat',
    'src/transport/v2/wasm-bytes.ts',
    'bench/sha256-js-scalar.ts',
  ]) {
    assert.ok(paths.includes(p), p);
  }
});

test('passes on the committed files: they are what the generators write with the locked wabt', () => {
  const r = check();
  assert.is(r.status, 0, r.lines.join('\n'));
  assert.equal(r.lines, [`check:generated: ${paths.length} generated files match (wabt ${lockedWabt})`]);
});

test('fails on a copy with one byte of a wasm-bytes module changed, and names that file alone', () => {
  const root = copyRoot(paths);
  try {
    const target = join(root, 'src/transport/v2/wasm-bytes.ts');
    const bytes = readFileSync(target);
    // A base64 character in the middle of the module: the binary itself changes.
    const at = bytes.indexOf("'", bytes.indexOf('CHACHA_WASM_BASE64')) + 40;
    bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
    writeFileSync(target, bytes);
    const r = check('--root', root);
    assert.is(r.status, 1);
    const named = r.lines.filter((l) => l.startsWith('generated file'));
    assert.equal(named, [`generated file differs: src/transport/v2/wasm-bytes.ts (first difference at byte ${at}; run npm run build:wasm:v2)`]);
    assert.ok(r.lines.at(-1)!.startsWith(`check:generated: 1 of ${paths.length} generated files differ`), r.lines.at(-1));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('passes on an unchanged copy and fails when a generated file is missing from it', () => {
  const root = copyRoot(paths);
  try {
    assert.is(check('--root', root).status, 0);
    rmSync(join(root, 'bench/sha256-js-scalar.ts'));
    const r = check('--root', root);
    assert.is(r.status, 1);
    assert.ok(r.lines.includes('generated file missing: bench/sha256-js-scalar.ts (run npm run build:wasm)'), r.lines.join('\n'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
