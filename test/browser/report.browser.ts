/**
 * report.html in a real browser: Debian's Chromium driven by playwright-core, headless, with a
 * fresh profile and every background service off. Two simulated vantages (one with its ground
 * truth) are reported, the page is opened from file://, and every figure must have been drawn by
 * the inlined Vega runtime with data marks (non-empty paths), with no page error, no console
 * error and no request outside file://. Not part of `npm test` (needs a browser): `npm run
 * test:browser`. REPORT_SCREENSHOTS=DIR saves a full-page screenshot there.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { reportCommand } from '../../src/cli/report.js';
import { simFixture } from '../report/make-fixture.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const FIGURES = ['delay-cdf', 'propagation', 'peers', 'inv-rate', 'lateness', 'worst-peers', 'user-agents', 'network-propagation', 'network-delay-cdf', 'accuracy-error', 'accuracy-curve'];

const root = mkdtempSync(join(tmpdir(), 'invscope-browser-'));
let context: BrowserContext | null = null;
let html = '';
// uvu reports a failing before-hook as a bare failure count: keep the error for the tests to throw.
let setupError: unknown = null;

test.before(async () => {
  try {
    await setup();
  } catch (e) {
    setupError = e;
  }
});

async function setup(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  await simFixture(join(root, 'a'), { nodes: 30, seconds: 12, seed: 1, vantage: 'a' });
  await simFixture(join(root, 'b'), { nodes: 30, seconds: 10, seed: 2, vantage: 'b' });
  rmSync(join(root, 'b', 'truth.jsonl'));
  const sink = { write: () => true };
  const { code, result } = await reportCommand({ dirs: [join(root, 'a'), join(root, 'b')], out: join(root, 'out'), stdout: sink, stderr: sink });
  assert.is(code, 0);
  html = result!.files.html!;
  context = await chromium.launchPersistentContext(join(root, 'profile'), { executablePath: CHROMIUM, headless: true, args: ARGS });
}

test.after(async () => {
  await context?.close();
  rmSync(root, { recursive: true, force: true });
});

test('report.html draws every figure with data, offline, without errors', async () => {
  if (setupError !== null) throw setupError;
  const page = await context!.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith('file://')) requests.push(r.url());
  });
  await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
  await page.waitForFunction(() => {
    const s = (globalThis as unknown as { __report?: { figures: number; rendered: number; errors: string[] } }).__report;
    return s !== undefined && (s.rendered + s.errors.length === s.figures);
  }, undefined, { timeout: 30_000 });
  const state = await page.evaluate(() => (globalThis as unknown as { __report: { figures: number; rendered: number; errors: string[] } }).__report);
  assert.equal(state.errors, []);
  assert.is(state.rendered, FIGURES.length);
  const ids = await page.$$eval('figure[data-figure]', (els) => els.map((e) => e.getAttribute('data-figure')));
  assert.equal(ids, FIGURES);
  for (const id of FIGURES) {
    // Data marks only (role-mark groups: lines, areas, rects, ticks), not axes or legends.
    const marks = await page.$$eval(`#plot-${id} svg g.role-mark path`, (ps) => ps.map((p) => (p.getAttribute('d') ?? '').length));
    const drawn = marks.filter((n) => n > 4);
    assert.ok(drawn.length > 0, `${id}: no data mark with a path (${marks.length} mark paths)`);
    const svgCount = await page.$$eval(`#plot-${id} svg`, (s) => s.length);
    assert.is(svgCount, 1, `${id}: one SVG`);
  }
  // Lines are drawn through many points: the propagation curve's path has a segment per percent.
  const longest = await page.$$eval('#plot-propagation svg g.mark-line path', (ps) => Math.max(...ps.map((p) => (p.getAttribute('d') ?? '').split(/[LM]/).length)));
  assert.ok(longest > 50, `propagation line has ${longest} points`);
  assert.equal(errors, []);
  assert.equal(requests, []);
  if (process.env.REPORT_SCREENSHOTS) await page.screenshot({ path: join(process.env.REPORT_SCREENSHOTS, 'report.png'), fullPage: true });
  await page.close();
});

test('the propagation figure reads both kinds: every median line spans a visible width in its own panel', async () => {
  if (setupError !== null) throw setupError;
  const page = await context!.newPage();
  await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
  await page.waitForFunction(() => ((globalThis as unknown as { __report?: { rendered: number; figures: number } }).__report?.rendered ?? 0) > 0, undefined, { timeout: 30_000 });
  await page.waitForSelector('#plot-propagation svg g.mark-line path');
  const widths = await page.$$eval('#plot-propagation svg g.mark-line path', (ps) => ps.map((p) => (p as unknown as { getBBox(): { width: number } }).getBBox().width));
  assert.ok(widths.length >= 2, `${widths.length} median lines`);
  // On one linear axis the blocks' line was a vertical stroke at 0 (width ~0) next to the txs' 10 s.
  for (const w of widths) assert.ok(w > 100, `a median line ${w.toFixed(1)} px wide: ${widths.map((x) => x.toFixed(0)).join(', ')}`);
  const panels = await page.$$eval('#plot-propagation svg g.mark-group.role-scope', (gs) => gs.length);
  assert.ok(panels >= 2, `one panel per kind (${panels} panels)`);
  await page.close();
});

test('at 700 px wide no text is clipped: the summary is an HTML table, long lines wrap', async () => {
  if (setupError !== null) throw setupError;
  const page = await context!.newPage();
  await page.setViewportSize({ width: 700, height: 900 });
  await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
  assert.is(await page.$$eval('pre', (e) => e.length), 0, 'no preformatted block');
  assert.ok((await page.$$eval('table.summary td', (e) => e.length)) > 20, 'the summary is a table');
  // Runs in the page (a string: this project's TypeScript has no DOM types).
  const clipped = (await page.evaluate(`(() => {
    const out = [];
    const width = window.innerWidth;
    for (const el of document.querySelectorAll('p, td, th, figcaption, h1, h2')) {
      const inScroller = el.closest('.wide') !== null;
      const r = el.getBoundingClientRect();
      const overflowing = el.scrollWidth > el.clientWidth + 1;
      if (overflowing || (!inScroller && r.right > width + 1)) out.push(el.tagName + ': ' + (el.textContent || '').slice(0, 60) + ' (right ' + Math.round(r.right) + ')');
    }
    // A table wider than the window must be scrollable, not cut.
    for (const w of document.querySelectorAll('.wide')) {
      if (getComputedStyle(w).overflowX !== 'auto' && w.scrollWidth > w.clientWidth) out.push('a wide table that cannot scroll');
    }
    return out;
  })()`)) as string[];
  assert.equal(clipped, []);
  await page.close();
});

test('the page has a Content-Security-Policy that forbids loading anything', () => {
  if (setupError !== null) throw setupError;
  const text = readFileSync(html, 'utf8');
  assert.match(text, /http-equiv="Content-Security-Policy" content="default-src 'none'/);
  assert.not.match(text, /<script[^>]+src=/);
  assert.not.match(text, /<link[^>]+href=/);
});

test.run();
