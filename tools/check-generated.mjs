/**
 * `npm run check:generated`: regenerates every generated file with the wabt that package-lock.json
 * pins, into a temporary directory, and compares each byte for byte with the committed one (under
 * the repo, or `--root DIR`). One line per file that differs or is missing, exit 1; `--list`
 * prints the generated paths. Build-time CLI on the main thread; CI runs it before the tests.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate as generateChacha } from './gen-chacha-wasm.mjs';
import { generate as generateSha256 } from './gen-sha256-wasm.mjs';
import { REPO_ROOT, wabtVersions, writeFiles } from './wasm-module.mjs';

/** Every generator, with the command that rewrites its files. */
const GENERATORS = [
  { generate: generateSha256, command: 'npm run build:wasm' },
  { generate: generateChacha, command: 'npm run build:wasm:v2' },
];

/** Index of the first differing byte of two buffers, or -1 when they are equal. */
function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Compares one generator's files, written under `tmp`, with those under `root`; returns the mismatch lines. */
function compare(files, command, tmp, root) {
  const bad = [];
  for (const { path } of files) {
    const committed = join(root, path);
    if (!existsSync(committed)) {
      bad.push(`generated file missing: ${path} (run ${command})`);
      continue;
    }
    const at = firstDifference(readFileSync(join(tmp, path)), readFileSync(committed));
    if (at >= 0) bad.push(`generated file differs: ${path} (first difference at byte ${at}; run ${command})`);
  }
  return bad;
}

async function main() {
  const args = process.argv.slice(2);
  const r = args.indexOf('--root');
  const root = r >= 0 ? args[r + 1] : REPO_ROOT;
  const { locked, installed } = wabtVersions();
  if (locked !== installed) {
    console.log(`wabt ${installed} is installed but package-lock.json pins ${locked}: run npm ci first`);
    return 1;
  }
  const runs = [];
  for (const g of GENERATORS) runs.push({ files: await g.generate(), command: g.command });
  if (args.includes('--list')) {
    for (const { files } of runs) for (const f of files) console.log(f.path);
    return 0;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'invscope-generated-'));
  try {
    const bad = [];
    let count = 0;
    for (const { files, command } of runs) {
      writeFiles(files, tmp);
      bad.push(...compare(files, command, tmp, root));
      count += files.length;
    }
    for (const line of bad) console.log(line);
    if (bad.length > 0) {
      console.log(`check:generated: ${bad.length} of ${count} generated files differ (wabt ${installed})`);
      return 1;
    }
    console.log(`check:generated: ${count} generated files match (wabt ${installed})`);
    return 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

process.exitCode = await main();
