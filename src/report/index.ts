/**
 * `invscope report` as a library: loads one or more run directories (one per vantage point),
 * computes the summary, the figures and, with a simulator ground truth, the accuracy, and writes
 * report.html plus one SVG per figure. Main thread, cold path. See README.md in this folder.
 */
import { join } from 'node:path';
import { loadRuns, rows, num, engineError, ReportError, type LoadedRun } from './load.js';
import { network, formatNetwork, type Network } from './network.js';
import { networkFigures } from './network-curve.js';
import type { EngineOptions } from './engine.js';
import { summarize, summaryTable, formatAccuracy, fmtMs, type Summary } from './summary.js';
import { measurementFigures, type Figure } from './figures.js';
import { accuracy, type Accuracy } from './accuracy.js';
import { writeReport } from './html.js';

export { ReportError, loadRuns, type ReportErrorCode, type LoadedRun, type VantageDir } from './load.js';
export { network, formatNetwork, type Network } from './network.js';
export { clockOffsets, medianCiRanks, type ClockOffset } from './clocks.js';
export { DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_RE } from './engine.js';
export { EXACT_MAX_ROWS } from './aggregate.js';
export { HIST_REL_ERROR, PEER_REL_ERROR } from './hist.js';
export { summarize, formatSummary, formatAccuracy, fmtMs, type Summary, type VantageSummary, type Percentiles, type KindTimes } from './summary.js';
export { IN_FLIGHT_MARGIN_MS, type Accuracy } from './accuracy.js';
export type { Figure } from './figures.js';

export interface BuildOptions extends EngineOptions {
  dirs: string[];
  /** Time window, epoch ms (from inclusive, to exclusive). @default everything */
  fromMs?: number | undefined;
  toMs?: number | undefined;
  /** Shift each vantage's clock by its estimated offset to the first before the network-wide first-seen. @default false */
  alignClocks?: boolean | undefined;
  /** Directory for report.html and figures/. @default the first DIR */
  out?: string | undefined;
  /** Write report.html and the SVG files. @default true */
  html?: boolean;
  /** Skip unreadable Parquet parts. @default false */
  skipCorrupt?: boolean;
  /** Settling time at the end of each run, ms. @default min(60 s, a third of the run) */
  settleMs?: number | undefined;
  /** A ground truth (truth.jsonl) for every DIR. @default each DIR's own, if any */
  truth?: string | undefined;
  /**
   * Where per-chunk aggregates are kept for the next report (aggregate.ts); null keeps none.
   * @default `.invscope-cache` in `out`
   */
  cacheDir?: string | null | undefined;
  /** Chunks above this many announcements keep log-binned delays (hist.ts). @default EXACT_MAX_ROWS */
  exactMaxRows?: number | undefined;
  /** A chunk is computed in slices of about this many announcements (memory). @default SLICE_ROWS */
  sliceRows?: number | undefined;
  /** The network-wide curves' sample: about this many (transaction, node) rows per chunk. @default NANN_TARGET_ROWS */
  nannTargetRows?: number | undefined;
}

/** The cache folder a report uses by default, inside its output directory. */
export const CACHE_FOLDER = '.invscope-cache';

export interface ReportResult {
  summary: Summary;
  /** Clock offsets and the network-wide first-seen; null with one vantage. */
  network: Network | null;
  /** Per vantage with a truth.jsonl; null when no DIR has one. */
  accuracy: Accuracy[] | null;
  /** No announcement in any DIR: nothing plotted, no files written. */
  empty: boolean;
  /** The figures with data (left out: those with none), in page order. */
  figures: Figure[];
  files: { html: string | null; htmlBytes: number; svg: string[]; csv: string[] };
  warnings: string[];
  /** Chunks read, and computed now rather than taken from the cache. */
  aggregates: { chunks: number; computed: number; rows: number; seconds: number };
  /** Wall seconds per phase (parts, probe, windows, aggregates, settled, summary, network, accuracy, figures, html). */
  phases: Record<string, number>;
}

function runFacts(run: LoadedRun): Record<string, string>[] {
  return run.vantages.map((v) => {
    const r = v.run ?? {};
    const t = (x: unknown): string => (typeof x === 'number' ? new Date(x).toISOString() : '-');
    const cmd = Array.isArray(r.command) ? r.command.join(' ') : typeof r.command === 'string' ? r.command : '-';
    return {
      vantage: v.vantage,
      directories: v.dirs.join(', '),
      network: typeof r.network === 'string' ? r.network : JSON.stringify(r.network ?? '-'),
      started: t(r.started),
      stopped: t(r.stopped),
      command: cmd,
      invscope: typeof r.invscope === 'string' ? r.invscope : typeof r.version === 'string' ? r.version : '-',
      'ground truth': v.truth === null ? 'no' : 'yes',
    };
  });
}

export async function buildReport(o: BuildOptions): Promise<ReportResult> {
  const run = await loadRuns(o.dirs, {
    skipCorrupt: o.skipCorrupt ?? false,
    ...(o.settleMs === undefined ? {} : { settleMs: o.settleMs }),
    ...(o.truth === undefined ? {} : { truth: o.truth }),
    memoryLimit: o.memoryLimit,
    tempDir: o.tempDir,
    threads: o.threads,
    fromMs: o.fromMs,
    toMs: o.toMs,
    cacheDir: o.cacheDir === null ? undefined : (o.cacheDir ?? join(o.out ?? o.dirs[0] ?? '.', CACHE_FOLDER)),
    exactMaxRows: o.exactMaxRows,
    sliceRows: o.sliceRows,
    nannTargetRows: o.nannTargetRows,
  });
  try {
    return await reportOf(run, o);
  } catch (e) {
    throw e instanceof ReportError ? e : engineError(e, 'computing the report failed');
  } finally {
    run.close();
  }
}

async function reportOf(run: LoadedRun, o: BuildOptions): Promise<ReportResult> {
  const { phases } = run;
  const summary = await phases.time('summary', () => summarize(run));
  const [n] = await rows(run.conn, 'SELECT count(*) AS n FROM agg_fs');
  const empty = num(n!.n) === 0;
  const files: ReportResult['files'] = { html: null, htmlBytes: 0, svg: [], csv: [] };
  const done = { aggregates: run.aggregates, phases: phases.seconds };
  if (empty) return { summary, network: null, accuracy: null, empty, figures: [], files, warnings: summary.warnings, ...done };
  const names = run.vantages.map((v) => v.vantage);
  const net = names.length > 1 ? await phases.time('network', () => network(run.conn, names, o.alignClocks === true)) : null;
  const acc = await phases.time('accuracy', () => accuracy(run.conn, run.vantages));
  const all = [...(await phases.time('figures', () => measurementFigures(run.conn))), ...(net === null ? [] : networkFigures(net.curves)), ...(acc?.figures ?? [])];
  const figures = all.filter((f) => f.points > 0);
  const warnings = [...summary.warnings];
  for (const f of all) if (f.points === 0) warnings.push(`figure "${f.title}" has no data and is left out`);
  if (o.html ?? true) {
    const tables = [{ heading: 'Summary', ...summaryTable(summary) }];
    const paragraphs: { heading: string; lines: string[] }[] = [];
    if (net !== null) paragraphs.push({ heading: 'Clocks and the network-wide first-seen', lines: formatNetwork(net, fmtMs) });
    if (acc !== null) paragraphs.push({ heading: 'Accuracy against the simulator\'s ground truth', lines: formatAccuracy(acc.accuracy).trimEnd().split('\n') });
    if (warnings.length > 0) paragraphs.push({ heading: 'Notes', lines: warnings });
    const w = await phases.time('html', () => writeReport(o.out ?? run.vantages[0]!.dir, { title: `invscope report: ${names.join(', ')}`, runs: runFacts(run), tables, paragraphs, figures }));
    files.html = w.html;
    files.htmlBytes = w.htmlBytes;
    files.svg = w.svg;
    files.csv = w.csv;
    warnings.push(...w.warnings);
  }
  return { summary, network: net, accuracy: acc?.accuracy ?? null, empty, figures, files, warnings, ...done };
}

export const REPORT_FILES = { html: 'report.html', figures: join('figures', '<id>.svg') } as const;
