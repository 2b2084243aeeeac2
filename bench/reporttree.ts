/**
 * The kept tree of `npm run bench:report -- --data DIR`: built one hour per generator call, with
 * DIR/gen.json holding the totals of the hours done (a contiguous prefix), so a cut build resumes
 * where it stopped and a larger `--hours` adds only the missing hours. `jobs` hour calls run at
 * once (each its own DuckDB instance); an hour's files have fixed names, so an hour written again
 * after a cut replaces itself. Bench process, cold path.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate, type GenOptions, type GenResult } from './reportgen.js';

/** gen.json: the generated totals plus how many hours from 0 and how many peers. */
export type TreeRecord = GenResult & { hours: number; peers: number };

/** The generator's options besides the tree, its span and its peers (rates, seed, DuckDB's cap). */
export type TreeOptions = Omit<GenOptions, 'out' | 'hours' | 'fromHour' | 'peers'>;

/** The totals of `prev` (null: none yet) and one more call's result. */
export function added(prev: GenResult | null, r: GenResult): GenResult {
  if (prev === null) return r;
  const rows = { ...prev.rows };
  for (const k of Object.keys(rows) as (keyof GenResult['rows'])[]) rows[k] += r.rows[k];
  const byVantage = Object.fromEntries(r.vantages.map((v) => [v, (prev.observationsByVantage[v] ?? 0) + (r.observationsByVantage[v] ?? 0)]));
  return { ...r, rows, observationsByVantage: byVantage };
}

/** DIR/gen.json, or null when the tree has none. */
export function readTree(dir: string): TreeRecord | null {
  const file = join(dir, 'gen.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as TreeRecord) : null;
}

function writeTree(dir: string, gen: GenResult, hours: number, peers: number): void {
  writeFileSync(join(dir, 'gen.json'), JSON.stringify({ ...gen, hours, peers }));
}

/** Writes hour h of the tree; resolves with its counts. */
function hour(dir: string, h: number, peers: number, opts: TreeOptions): Promise<GenResult> {
  return generate({ ...opts, out: dir, hours: h + 1, fromHour: h, peers });
}

export interface Built {
  gen: GenResult;
  /** Hours the tree holds from hour 0. */
  hours: number;
  /** Wall seconds of the generation, null when nothing was generated. */
  wallS: number | null;
}

/**
 * Brings the tree in dir up to `hours` hours with up to `jobs` hour calls at once; gen.json moves
 * forward as each prefix of hours completes. A string says why the tree cannot be used.
 */
export async function buildTree(dir: string, hours: number, peers: number, jobs = 1, opts: TreeOptions = {}): Promise<Built | string> {
  const have = readTree(dir);
  if (have !== null && have.peers !== peers) return `${dir} holds a tree of ${have.peers} peers, not ${peers}`;
  const from = have?.hours ?? 0;
  if (from >= hours) return have === null ? `${dir}: nothing generated (--hours ${hours})` : { gen: have, hours: from, wallS: null };
  const t = performance.now();
  const done = new Map<number, GenResult>();
  let gen: GenResult | null = have;
  let prefix = from;
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < hours) {
      const h = next++;
      done.set(h, await hour(dir, h, peers, opts));
      for (let r = done.get(prefix); r !== undefined; r = done.get(prefix)) {
        done.delete(prefix);
        gen = added(gen, r);
        writeTree(dir, gen, ++prefix, peers);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, hours - from)) }, worker));
  return { gen: gen!, hours: prefix, wallS: (performance.now() - t) / 1000 };
}

/** Writes one more hour (hour `hours` of a tree of `hours` hours) and records it: buildTree one hour further. */
export async function extendTree(dir: string, hours: number, peers: number, opts: TreeOptions = {}): Promise<Built> {
  const b = await buildTree(dir, hours + 1, peers, 1, opts);
  if (typeof b === 'string') throw new Error(b);
  return b;
}
