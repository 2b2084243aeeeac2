/**
 * Renders the figures: each Vega-Lite spec is compiled to Vega in Node (vega-lite), written as an
 * SVG file by Vega's headless renderer (no canvas needed), and embedded with the Vega runtime
 * itself (vega.min.js, inlined) in one self-contained report.html that draws them interactively
 * in the browser. A Content-Security-Policy of default-src 'none' makes the page unable to fetch
 * anything, so it works offline and provably loads nothing. Main thread, cold path.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { Figure } from './figures.js';

/** The Vega runtime for the page: the minified UMD build next to the package's module entry. */
function vegaRuntime(): string {
  const entry = fileURLToPath(import.meta.resolve('vega'));
  const js = readFileSync(join(dirname(entry), 'vega.min.js'), 'utf8');
  // Inside a <script> element the only sequence to avoid is "</script"; in JS "<\/" means "</".
  return js.replaceAll('</script', '<\\/script');
}

/**
 * A Vega-Lite spec compiled to Vega (what both the SVG renderer and the page run). Vega-Lite's
 * warnings go to `warnings` (its default logger writes to the console).
 */
export function toVega(f: Figure, warnings: string[] = []): vega.Spec {
  let level = 0;
  const note = (...args: readonly unknown[]): vega.LoggerInterface => {
    warnings.push(`figure ${f.id}: ${args.map(String).join(' ')}`);
    return logger;
  };
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error: note,
    warn: note,
    info: () => logger,
    debug: () => logger,
  } as vega.LoggerInterface;
  return compile(f.spec as unknown as Parameters<typeof compile>[0], { logger }).spec as vega.Spec;
}

/** One figure as an SVG document, rendered headless. */
export async function renderSvg(spec: vega.Spec): Promise<string> {
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const esc = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** JSON safe inside a <script type="application/json"> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replaceAll('<', '\\u003c');

export interface PageInput {
  title: string;
  /** Tables shown before the figures (the summary): a header row, labelled rows, notes under it. */
  tables: { heading: string; header: string[]; rows: string[][]; notes: string[] }[];
  /** Paragraphs shown after the tables (the accuracy, notes): one <p> per line, wrapped. */
  paragraphs: { heading: string; lines: string[] }[];
  /** Key facts of each run (vantage, dir, command, times). */
  runs: Record<string, string>[];
  figures: Figure[];
  /** Relative path of each figure's SVG file, by id. */
  svgHref: Record<string, string>;
  /** Relative path of each figure's data as CSV, by id. */
  csvHref: Record<string, string>;
}

const CSS = `body{font-family:sans-serif;margin:2em auto;max-width:1000px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.85em}
figure{margin:2em 0;border-top:1px solid #ddd;padding-top:1em}figcaption{font-size:.9em;color:#444;max-width:800px}
table.runs,table.summary{border-collapse:collapse;font-size:.85em}table.runs td,table.runs th,table.summary td,table.summary th{border:1px solid #ddd;padding:.2em .5em;text-align:left}
table.summary td.n{text-align:right;white-space:nowrap}.wide{overflow-x:auto;max-width:100%}p.line{margin:.3em 0;overflow-wrap:anywhere}
.plot{min-height:100px}.err{color:#b00}`;

/**
 * The page: every figure's compiled Vega spec in one JSON element, drawn by the inlined runtime
 * into an SVG renderer (so each mark is an element a test can inspect). `window.__report` counts
 * the figures drawn and collects errors, for the browser test.
 */
export function pageHtml(input: PageInput, specs: { id: string; vega: vega.Spec }[]): string {
  const runs =
    input.runs.length === 0
      ? ''
      : `<div class="wide"><table class="runs"><tr>${Object.keys(input.runs[0]!).map((k) => `<th>${esc(k)}</th>`).join('')}</tr>${input.runs
          .map((r) => `<tr>${Object.values(r).map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`)
          .join('')}</table></div>`;
  const tables = input.tables
    .map(
      (t) =>
        `<h2>${esc(t.heading)}</h2><div class="wide"><table class="summary"><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>` +
        t.rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th>${esc(c)}</th>` : `<td class="n">${esc(c)}</td>`)).join('')}</tr>`).join('') +
        `</table></div>${t.notes.map((n) => `<p class="line">${esc(n)}</p>`).join('')}`,
    )
    .join('\n');
  const paragraphs = input.paragraphs.map((p) => `<h2>${esc(p.heading)}</h2>${p.lines.map((l) => `<p class="line">${esc(l)}</p>`).join('')}`).join('\n');
  const pre = `${tables}\n${paragraphs}`;
  const figs = input.figures
    .map(
      (f) =>
        `<figure id="fig-${esc(f.id)}" data-figure="${esc(f.id)}"><div class="plot" id="plot-${esc(f.id)}"></div>` +
        `<figcaption><b>${esc(f.title)}.</b> ${esc(f.caption)} <a href="${esc(input.svgHref[f.id] ?? '')}">SVG</a> <a href="${esc(input.csvHref[f.id] ?? '')}">data (CSV)</a></figcaption></figure>`,
    )
    .join('\n');
  const boot = `(function(){
var state = window.__report = {figures: 0, rendered: 0, errors: []};
var specs = JSON.parse(document.getElementById('report-specs').textContent);
state.figures = specs.length;
specs.forEach(function (f) {
  var el = document.getElementById('plot-' + f.id);
  try {
    var view = new vega.View(vega.parse(f.vega), {renderer: 'svg', container: el, hover: true});
    view.runAsync().then(function () { state.rendered++; }, function (e) { state.errors.push(f.id + ': ' + e.message); el.className += ' err'; el.textContent = String(e); });
  } catch (e) { state.errors.push(f.id + ': ' + e.message); el.className += ' err'; el.textContent = String(e); }
});
})();`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)}</title><style>${CSS}</style></head>
<body><h1>${esc(input.title)}</h1>
${runs}
${pre}
<h2>Figures</h2>
<p>Drawn with Vega ${esc(vega.version)} (inlined; the page loads nothing). Hover for values; drag to pan and scroll to zoom the line charts, double-click to reset.</p>
${figs}
<script>${vegaRuntime()}</script>
<script type="application/json" id="report-specs">${scriptJson(specs)}</script>
<script>${boot}</script>
</body></html>
`;
}

export interface WrittenFiles {
  html: string;
  htmlBytes: number;
  svg: string[];
  /** figures/<id>.csv: each figure's data points. */
  csv: string[];
  /** Vega-Lite's compile warnings. */
  warnings: string[];
}

/** A figure's data points as CSV: one column per field (the union, in first-seen order), RFC 4180 quoting. */
export function figureCsv(f: Figure): string {
  const values = ((f.spec.data as { values?: Record<string, unknown>[] } | undefined)?.values ?? []) as Record<string, unknown>[];
  const cols: string[] = [];
  for (const v of values) for (const k of Object.keys(v)) if (!cols.includes(k)) cols.push(k);
  const cell = (x: unknown): string => {
    const t = x === null || x === undefined ? '' : typeof x === 'number' ? String(x) : String(x);
    return /[",\n\r]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
  };
  return [cols.join(','), ...values.map((v) => cols.map((c) => cell(v[c])).join(','))].join('\n') + '\n';
}

/** Writes outDir/report.html and outDir/figures/<id>.svg and .csv for every figure with data. */
export async function writeReport(outDir: string, input: Omit<PageInput, 'svgHref' | 'csvHref'>): Promise<WrittenFiles> {
  mkdirSync(join(outDir, 'figures'), { recursive: true });
  const specs: { id: string; vega: vega.Spec }[] = [];
  const svgHref: Record<string, string> = {};
  const svg: string[] = [];
  const csv: string[] = [];
  const csvHref: Record<string, string> = {};
  const warnings: string[] = [];
  for (const f of input.figures) {
    const spec = toVega(f, warnings);
    specs.push({ id: f.id, vega: spec });
    const file = join(outDir, 'figures', `${f.id}.svg`);
    writeFileSync(file, await renderSvg(spec));
    svg.push(file);
    svgHref[f.id] = `figures/${f.id}.svg`;
    const csvFile = join(outDir, 'figures', `${f.id}.csv`);
    writeFileSync(csvFile, figureCsv(f));
    csv.push(csvFile);
    csvHref[f.id] = `figures/${f.id}.csv`;
  }
  const html = pageHtml({ ...input, svgHref, csvHref }, specs);
  const path = join(outDir, 'report.html');
  writeFileSync(path, html);
  return { html: path, htmlBytes: Buffer.byteLength(html), svg, csv, warnings };
}
