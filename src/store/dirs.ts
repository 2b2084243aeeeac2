/**
 * Directory creation that always ends: node:fs's recursive mkdir loops forever on procfs
 * (`mkdirSync('/proc/foo', { recursive: true })` spins at 100 % CPU in Node 20), so paths are
 * created one component at a time, each failure an error with the OS code and the path; and the
 * files of a tree. Main thread, cold path.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Files under `dir`, recursively, as sorted paths relative to it. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

/** Creates `path` and its missing parents; throws the first OS error (EACCES, ENOTDIR, ENOENT...). */
export function makeDirs(path: string): void {
  const missing: string[] = [];
  let p = resolve(path);
  for (;;) {
    const kind = kindOf(p);
    if (kind === 'dir') break;
    if (kind === 'other') throw fsError('ENOTDIR', `not a directory: ${p}`, p);
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i]!);
    } catch (e) {
      // Another process may have made it in between; anything else is the answer.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || kindOf(missing[i]!) !== 'dir') throw e;
    }
  }
}

function kindOf(p: string): 'dir' | 'other' | 'none' {
  try {
    return statSync(p).isDirectory() ? 'dir' : 'other';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'none';
    throw e;
  }
}

function fsError(code: string, message: string, path: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${message}`) as NodeJS.ErrnoException;
  e.code = code;
  e.path = path;
  return e;
}
