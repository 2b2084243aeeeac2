/**
 * Test helpers: fixture loading (from test/fixtures, never from outside the repository)
 * and small utilities shared by the suites.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

// Compiled tests live in dist/test/; fixtures stay in test/fixtures at the package root.
const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export function fixturePath(rel: string): string {
  return join(FIXTURES, rel);
}

export function fixtureBytes(rel: string): Uint8Array {
  const b = readFileSync(fixturePath(rel));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function fixtureJSON<T = any>(rel: string): T {
  return JSON.parse(readFileSync(fixturePath(rel), 'utf8')) as T;
}

/** A deterministic PRNG (mulberry32) for property tests: same seed, same cases. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 256) | 0;
  return out;
}

import { Duplex } from 'node:stream';

/** Two in-memory Duplex streams wired to each other: what one writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  const make = (other: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        const o = other();
        if (!o.destroyed) o.push(chunk);
        cb();
      },
      final(cb) {
        const o = other();
        if (!o.destroyed) o.push(null);
        cb();
      },
      destroy(err, cb) {
        const o = other();
        if (!o.destroyed) o.push(null);
        cb(err);
      },
    });
  // eslint-disable-next-line prefer-const
  let a: Duplex, b: Duplex;
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}

/** Resolves after `ms` milliseconds. */
/**
 * numpy's default ('linear') quantile of ascending values, written here independently of
 * DuckDB's quantile_cont: linear interpolation at rank h = (n - 1) p.
 */
export function sortedQuantile(sorted: readonly number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]!) - sorted[lo]!);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 5 ms until it holds or `ms` pass (then rejects naming `what`). */
export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
