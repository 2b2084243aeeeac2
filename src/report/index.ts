/**
 * `invscope report` as a library: loads one or more run directories (one per vantage point),
 * computes the summary, the figures and, with a simulator ground truth, the accuracy, and writes
 * report.html plus one SVG per figure. Main thread, cold path. See README.md in this folder.
 */
import { join } from 'node:path';
import { loadRuns, rows, num, type LoadedRun } from './load.js';
import { summarize, summaryTable, formatAccuracy, type Summary } from './summary.js';
import { measurementFigures, type Figure } from './figures.js';
import { accuracy, type Accuracy } from './accuracy.js';
import { writeReport } from './html.js';

export { ReportError, loadRuns, type ReportErrorCode, type LoadedRun, type VantageDir } from './load.js';
export { summarize, formatSummary, formatAccuracy, fmtMs, type Summary, type VantageSummary, type Percentiles, type KindTimes } from './summary.js';
export { IN_FLIGHT_MARGIN_MS, type Accuracy } from './accuracy.js';
export type { Figure } from './figures.js';

export interface BuildOptions {
  dirs: string[];
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
}

export interface ReportResult {
  summary: Summary;
  /** Per vantage with a truth.jsonl; null when no DIR has one. */
  accuracy: Accuracy[] | null;
  /** No announcement in any DIR: nothing plotted, no files written. */
  empty: boolean;
  /** The figures with data (left out: those with none), in page order. */
  figures: Figure[];
  files: { html: string | null; htmlBytes: number; svg: string[]; csv: string[] };
  warnings: string[];
}

function runFacts(run: LoadedRun): Record<string, string>[] {
  return run.vantages.map((v) => {
    const r = v.run ?? {};
    const t = (x: unknown): string => (typeof x === 'number' ? new Date(x).toISOString() : '-');
    const cmd = Array.isArray(r.command) ? r.command.join(' ') : typeof r.command === 'string' ? r.command : '-';
    return {
      vantage: v.vantage,
      directory: v.dir,
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
  });
  try {
    const summary = await summarize(run);
    const [n] = await rows(run.conn, 'SELECT count(*) AS n FROM ann');
    const empty = num(n!.n) === 0;
    const files: ReportResult['files'] = { html: null, htmlBytes: 0, svg: [], csv: [] };
    if (empty) return { summary, accuracy: null, empty, figures: [], files, warnings: summary.warnings };
    const acc = await accuracy(run.conn, run.vantages);
    const all = [...(await measurementFigures(run.conn)), ...(acc?.figures ?? [])];
    const figures = all.filter((f) => f.points > 0);
    const warnings = [...summary.warnings];
    for (const f of all) if (f.points === 0) warnings.push(`figure "${f.title}" has no data and is left out`);
    if (o.html ?? true) {
      const names = run.vantages.map((v) => v.vantage).join(', ');
      const tables = [{ heading: 'Summary', ...summaryTable(summary) }];
      const paragraphs: { heading: string; lines: string[] }[] = [];
      if (acc !== null) paragraphs.push({ heading: 'Accuracy against the simulator\'s ground truth', lines: formatAccuracy(acc.accuracy).trimEnd().split('\n') });
      if (warnings.length > 0) paragraphs.push({ heading: 'Notes', lines: warnings });
      const w = await writeReport(o.out ?? run.vantages[0]!.dir, { title: `invscope report: ${names}`, runs: runFacts(run), tables, paragraphs, figures });
      files.html = w.html;
      files.htmlBytes = w.htmlBytes;
      files.svg = w.svg;
      files.csv = w.csv;
      warnings.push(...w.warnings);
    }
    return { summary, accuracy: acc?.accuracy ?? null, empty, figures, files, warnings };
  } finally {
    run.close();
  }
}

export const REPORT_FILES = { html: 'report.html', figures: join('figures', '<id>.svg') } as const;
