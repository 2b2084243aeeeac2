/**
 * What the WebAssembly generators share: assembling text with the locked wabt, the base64 TS
 * module (binary plus its memory layout, the one definition the loaders import), and writing a
 * generator's files under a root. Build-time only (main thread of a CLI); never imported by src/.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import wabtInit from 'wabt';

/** The repository root (tools/ sits right under it). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** One WebAssembly page (the spec's fixed 64 KiB). */
export const WASM_PAGE = 65536;

/** Assembles and validates WebAssembly text; returns the binary. */
export async function assemble(name, wat, features) {
  const wabt = await wabtInit();
  const mod = wabt.parseWat(name, wat, features);
  try {
    mod.validate();
    return Buffer.from(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

/**
 * The TS module that ships a binary as base64 and exports its memory layout. `layout` is a list of
 * [name, bytes, doc]: every offset the generator emits code for and the loader reads or writes.
 */
export function bytesModule({ header, exportName, bytes, layoutName, layout }) {
  const b64 = bytes.toString('base64');
  const lines = b64.match(/.{1,100}/g).map((l) => `  '${l}'`).join(' +\n');
  const fields = layout.map(([name, value, doc]) => `  /** ${doc} */\n  ${name}: ${value},`).join('\n');
  return `/**
${header.map((l) => ` * ${l}`).join('\n')}
 */
export const ${exportName} =
${lines};

/** Memory layout in bytes: written by the generator into the module's code and read by the loader. */
export const ${layoutName} = {
${fields}
} as const;
`;
}

/** Writes generated files (`[{ path, text }]`, paths relative to the repo root) under `root`. */
export function writeFiles(files, root) {
  for (const f of files) {
    const to = join(root, f.path);
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, f.text);
  }
}

/** True when the module at `url` is the script node was started with. */
export function isMain(url) {
  return process.argv[1] !== undefined && url === pathToFileURL(process.argv[1]).href;
}

/**
 * Command line of a generator: writes its files into the repo, or under `--out DIR` (same
 * relative paths), and prints each path with its size.
 */
export async function runGenerator(generate) {
  const i = process.argv.indexOf('--out');
  const root = i > 0 ? process.argv[i + 1] : REPO_ROOT;
  const files = await generate();
  writeFiles(files, root);
  for (const f of files) console.log(`${f.path}: ${Buffer.byteLength(f.text)} bytes`);
}

/** The wabt version package-lock.json pins, and the one installed. */
export function wabtVersions() {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8'));
  const locked = lock.packages?.['node_modules/wabt']?.version;
  const installed = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'wabt', 'package.json'), 'utf8')).version;
  return { locked, installed };
}
