/**
 * `invscope report DIR...`: the summary table (or --json) of one or more observe runs, one DIR per
 * vantage point, and report.html with the propagation figures plus one SVG file per figure
 * (src/report). Bad input (a missing DIR, no parts, a corrupt Parquet file, an empty run) is a
 * one-line message and an exit status, never a stack trace. Main thread, cold path.
 */
import { parseArgs } from 'node:util';
import { UsageError, jsonLine } from './decode.js';
import { reportJson } from '../report/json.js';
import { buildReport, ReportError, formatSummary, formatNetwork, fmtMs, DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_RE, type ReportResult } from '../report/index.js';

export const REPORT_HELP = `usage: invscope report DIR... [--out DIR] [--json] [--no-html] [--settle S] [--truth FILE] [--skip-corrupt] [--quiet]
       [--from T] [--to T] [--align-clocks] [--memory-limit SIZE] [--temp-dir DIR] [--threads N] [--cache DIR | --no-cache]

Reads the Parquet output of one or more invscope observe runs (one DIR per vantage point; each
row is tagged with run.json's vantage, else the DIR's name) and prints a summary: items seen per
kind, peers, for blocks and transactions the percentiles (p10, p50, p90, p99) of each item's time
to 50 / 90 / 99 % of peers, drops, misbehaving peers; per vantage and over all. When a DIR holds a
simulator ground truth (truth.jsonl) it also prints the accuracy of the measurement against it.

Writes report.html (self-contained: opens offline) and one SVG file per figure into the first
DIR, or --out DIR.

options:
  --out DIR        where report.html and the SVG files go [the first DIR]
  --json           print the summary (and accuracy) as one JSON object instead of the table
  --no-html        only the summary: no report.html, no SVG files
  --settle S       leave items first seen in the last S seconds before the stop out of the
                   time-to-x % percentiles and curves (they had no time to reach the peers);
                   items first seen before 90 % of the peers were ready are left out too
                   [min(60, a third of the run)]
  --truth FILE     a simulator's ground truth (truth.jsonl of invscope simulate --out) for every
                   DIR, wherever it is [each DIR's own truth.jsonl, if any]
  --skip-corrupt   leave out unreadable Parquet parts (named on stderr) instead of failing
  --quiet          no notes on stderr
  --from T         only data from T on (ISO time, e.g. 2026-12-04T20:00Z, or epoch ms)
  --to T           only data before T
  --align-clocks   shift each vantage's times by its clock offset to the first vantage (estimated
                   from block announcements both heard from the same peers) before taking the
                   network-wide first-seen
  --memory-limit SIZE  DuckDB's memory cap, e.g. 4GB [${DEFAULT_MEMORY_LIMIT}]
  --temp-dir DIR   where DuckDB spills above the cap; created if missing (then removed at the end),
                   must be a writable directory (else ERR_REPORT_ENGINE)
                   [a private directory in the OS temp dir, removed at the end]
  --threads N      DuckDB worker threads [2]
  --cache DIR      keep each hour's aggregates here, so the next report over the same parts
                   reads them instead of the rows (a new hour is computed, the rest reused)
                   [OUT/.invscope-cache]
  --no-cache       keep no aggregates

With several DIRs (vantages) it also prints, for every pair of vantages, the clock offset with a
95 % confidence interval and its sample count, and the network-wide first-seen (the earliest
sighting at any vantage).

exit status: 0 report written; 1 the input cannot be reported (a DIR without observation parts,
a corrupt Parquet file, a bad run.json or truth.jsonl, DuckDB out of memory: ERR_REPORT_OOM)
or the run is empty (no announcement in
any DIR: the summary is printed, no report.html); 2 bad usage (no DIR, a DIR that does not
exist, an unknown option).
`;

export interface ReportOptions {
  dirs: string[];
  /** Directory for report.html and the SVG files. @default the first DIR */
  out?: string;
  /** Print the summary as JSON. @default false */
  json?: boolean;
  /** Write report.html and SVGs. @default true */
  html?: boolean;
  /** Skip unreadable Parquet parts instead of failing. @default false */
  skipCorrupt?: boolean;
  /** Settling time at the end of a run, ms (load.ts). @default min(60 s, a third of the run) */
  settleMs?: number;
  /** A ground truth for every DIR (else each DIR's own truth.jsonl). */
  truth?: string;
  /** Time window, epoch ms. */
  fromMs?: number;
  toMs?: number;
  /** Align the vantages' clocks before the network-wide first-seen. @default false */
  alignClocks?: boolean;
  /** DuckDB memory cap. @default DEFAULT_MEMORY_LIMIT */
  memoryLimit?: string;
  /** DuckDB spill directory. */
  tempDir?: string;
  /** DuckDB threads. @default 2 */
  threads?: number;
  /** Aggregate cache directory; null for none. @default OUT/.invscope-cache */
  cacheDir?: string | null;
  /** No notes on stderr. @default false */
  quiet?: boolean;
  /** Where the summary goes. @default process.stdout */
  stdout?: { write(s: string): unknown };
  /** Where notes and errors go. @default process.stderr */
  stderr?: { write(s: string): unknown };
}

/**
 * Runs the report and prints it; returns the exit status (0, 1, or 2 for a DIR that does not
 * exist) and the result (null when the input could not be read). For the CLI and the demo.
 */
export async function reportCommand(o: ReportOptions): Promise<{ code: number; result: ReportResult | null }> {
  const out = o.stdout ?? process.stdout;
  const err = o.stderr ?? process.stderr;
  let result: ReportResult;
  try {
    result = await buildReport({
      dirs: o.dirs,
      out: o.out,
      html: o.html ?? true,
      skipCorrupt: o.skipCorrupt ?? false,
      settleMs: o.settleMs,
      truth: o.truth,
      fromMs: o.fromMs,
      toMs: o.toMs,
      alignClocks: o.alignClocks,
      memoryLimit: o.memoryLimit,
      tempDir: o.tempDir,
      threads: o.threads,
      cacheDir: o.cacheDir,
    });
  } catch (e) {
    if (e instanceof ReportError) {
      err.write(`invscope report: ${e.message} [${e.code}]\n`);
      return { code: e.code === 'ERR_REPORT_NO_DIR' ? 2 : 1, result: null };
    }
    throw e;
  }
  if (!o.quiet) for (const w of result.warnings) err.write(`invscope report: note: ${w}\n`);
  if (o.json) out.write(jsonLine(reportJson(result)) + '\n');
  else out.write(formatSummary(result.summary, result.accuracy) + (result.network === null ? '' : formatNetwork(result.network, fmtMs).join('\n') + '\n'));
  if (result.empty) {
    err.write(`invscope report: empty run: no announcement in ${o.dirs.join(', ')}; nothing to plot, no report.html written\n`);
    return { code: 1, result };
  }
  if (!o.quiet && !o.json && result.files.html !== null) err.write(`invscope report: wrote ${result.files.html} (${Math.round(result.files.htmlBytes / 1024)} KiB) and ${result.files.svg.length} SVG files\n`);
  return { code: 0, result };
}

/** `invscope report` arguments to reportCommand; a bad one is a UsageError (exit 2). */
export async function reportCli(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-html': { type: 'boolean', default: false },
      'skip-corrupt': { type: 'boolean', default: false },
      settle: { type: 'string' },
      truth: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      from: { type: 'string' },
      to: { type: 'string' },
      'align-clocks': { type: 'boolean', default: false },
      'memory-limit': { type: 'string' },
      'temp-dir': { type: 'string' },
      threads: { type: 'string' },
      cache: { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(REPORT_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('report takes at least one DIR (the --out of invscope observe)');
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError('--out takes a directory, not ""');
  let settleMs: number | undefined;
  if (values.settle !== undefined) {
    const n = Number(values.settle);
    if (values.settle.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--settle takes a number of seconds of at least 0, not ${JSON.stringify(values.settle)}`);
    settleMs = n * 1000;
  }
  const memoryLimit = values['memory-limit'];
  if (memoryLimit !== undefined && !MEMORY_LIMIT_RE.test(memoryLimit)) throw new UsageError(`--memory-limit takes a size such as 2GB or 512MB, not ${JSON.stringify(memoryLimit)}`);
  let threads: number | undefined;
  if (values.threads !== undefined) {
    threads = Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`--threads takes a whole number of at least 1, not ${JSON.stringify(values.threads)}`);
  }
  const fromMs = values.from === undefined ? undefined : parseTime('--from', values.from);
  const toMs = values.to === undefined ? undefined : parseTime('--to', values.to);
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) throw new UsageError(`--to must be after --from`);
  const { code } = await reportCommand({
    ...(fromMs !== undefined ? { fromMs } : {}),
    ...(toMs !== undefined ? { toMs } : {}),
    ...(memoryLimit !== undefined ? { memoryLimit } : {}),
    ...(values['temp-dir'] !== undefined ? { tempDir: values['temp-dir'] } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(values['no-cache'] ? { cacheDir: null } : values.cache !== undefined ? { cacheDir: values.cache } : {}),
    alignClocks: values['align-clocks']!,
    settleMs,
    dirs: positionals,
    out: values.out,
    json: values.json!,
    html: !values['no-html'],
    skipCorrupt: values['skip-corrupt']!,
    quiet: values.quiet!,
    ...(values.truth !== undefined ? { truth: values.truth } : {}),
  });
  return code;
}

/** A --from/--to value: epoch milliseconds (digits) or an ISO 8601 time; else a UsageError. */
export function parseTime(flag: string, v: string): number {
  const t = /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : /^\d{4}-\d{2}-\d{2}/.test(v.trim()) ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw new UsageError(`${flag} takes an ISO time (2026-12-04T20:00Z) or epoch ms, not ${JSON.stringify(v)}`);
  return t;
}
