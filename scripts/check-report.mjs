// check-report.mjs REPORT.html SCREENSHOT.png [--min-charts N] [--sections DIR] [--top FILE]
//
// Opens creditrun's HTML report in headless Chromium (Debian's, at
// /usr/bin/chromium; no browser is downloaded) with a fresh profile and
// checks what a reader gets: the page loads with no console error, no
// page error and no network request (every request other than the page
// itself is refused and counted), it has at least N charts, every chart
// (<svg>) has a title and marks that are drawn with a size, and every
// mark carries a tooltip (<title>) with its numbers. It writes a
// screenshot of the whole page; --top FILE also one of the top of the page
// (what a reader sees first), --sections DIR one per section.
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const usage = 'usage: node check-report.mjs REPORT.html SCREENSHOT.png [--min-charts N] [--sections DIR] [--top FILE]';
const pos = [];
let minCharts = 1;
let sectionsDir = null;
let topFile = null;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--min-charts') minCharts = Number(argv[++i]);
  else if (argv[i] === '--sections') sectionsDir = argv[++i];
  else if (argv[i] === '--top') topFile = argv[++i];
  else if (argv[i].startsWith('--')) fail(`unknown option ${argv[i]}`);
  else pos.push(argv[i]);
}
if (pos.length !== 2 || !Number.isInteger(minCharts)) fail('want REPORT.html and SCREENSHOT.png');
const report = resolve(pos[0]);
const shot = resolve(pos[1]);
const executablePath = '/usr/bin/chromium';
if (!existsSync(report)) fail(`${report} does not exist`);
if (!existsSync(executablePath)) fail(`${executablePath} is missing: run scripts/install-chromium.sh`);

function fail(msg) {
  console.error(`check-report: ${msg}\n${usage}`);
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), 'creditrun-report-'));
const problems = [];
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 1000 },
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const url = pathToFileURL(report).href;
  const requests = [];
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u === url) return route.continue();
    requests.push(u);
    return route.abort();
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (r.url() !== url) problems.push(`request refused: ${r.url()}`);
  });
  const resp = await page.goto(url, { waitUntil: 'load' });
  if (!resp || !resp.ok()) problems.push(`loading ${url} failed`);
  for (const u of requests) problems.push(`network request: ${u}`);

  const charts = await page.evaluate(() => [...document.querySelectorAll('svg')].map((svg, i) => {
    const marks = [...svg.querySelectorAll('.mark')];
    const drawn = marks.filter((m) => { const b = m.getBBox(); return b.width > 0 || b.height > 0; });
    const untipped = marks.filter((m) => !m.querySelector('title') || !m.querySelector('title').textContent.trim());
    const box = svg.getBoundingClientRect();
    return {
      i, title: svg.querySelector('text.title')?.textContent ?? '', axes: svg.querySelectorAll('text.axis').length,
      marks: marks.length, drawn: drawn.length, untipped: untipped.length, w: box.width, h: box.height,
    };
  }));
  if (charts.length < minCharts) problems.push(`${charts.length} charts, want at least ${minCharts}`);
  for (const c of charts) {
    const name = `chart ${c.i + 1} "${c.title}"`;
    if (!c.title) problems.push(`chart ${c.i + 1} has no title`);
    if (c.axes === 0) problems.push(`${name} has no axis label`);
    if (c.drawn === 0) problems.push(`${name} draws no mark (${c.marks} marks, none with a size)`);
    if (c.untipped > 0) problems.push(`${name}: ${c.untipped} marks without a tooltip`);
    if (c.w < 100 || c.h < 80) problems.push(`${name} is ${c.w}×${c.h}`);
  }
  mkdirSync(dirname(shot), { recursive: true });
  await page.screenshot({ path: shot, fullPage: true });
  if (topFile) {
    mkdirSync(dirname(resolve(topFile)), { recursive: true });
    await page.screenshot({ path: resolve(topFile), clip: { x: 0, y: 0, width: 1400, height: 1500 }, fullPage: true });
  }
  if (sectionsDir) {
    mkdirSync(sectionsDir, { recursive: true });
    const ids = await page.evaluate(() => [...document.querySelectorAll('section')].map((s) => s.id));
    for (const id of ids) await page.locator(`#${id}`).screenshot({ path: join(sectionsDir, `${id}.png`) });
  }
  console.log(`check-report: ${report}: ${charts.length} charts, ${charts.reduce((n, c) => n + c.drawn, 0)} marks drawn, ` +
    `${requests.length} network requests; screenshot ${shot}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
if (problems.length > 0) {
  for (const p of problems) console.error(`check-report: ${p}`);
  console.error(`check-report: ${problems.length} problems`);
  process.exit(1);
}
