// Browser test of the gateway's live page (driven by tests/integration/0120-web.sh, or alone
// to take a screenshot). Debian's Chromium through playwright-core, headless.
//
//   node page.test.mjs --url http://127.0.0.1:PORT/ --dir DIR [--screenshot FILE]
//                      [--workers N] [--expect-file FILE] [--timeout-s S] [--screenshot-only]
//
// Steps (each must pass within --timeout-s):
//  1. the page loads and its event stream connects ("live"); DIR/page-ready is written, so
//     the caller can start traffic only now: what the page then shows arrived live (SSE);
//  2. the window totals appear (records, bytes, packets, sources are numbers) and match the
//     API's latest window; then they change (a later window replaces them);
//  3. the fleet panel lists --workers healthy workers with partitions and their lag;
//  4. once the caller writes --expect-file (JSON: {"id", "explanation"} of an anomaly it read
//     from processed-data), that anomaly is on the page with exactly that explanation;
//  5. a screenshot is saved.
// Prints one line per step; exit status 0 only if every step passed.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function args() {
  const a = { workers: 0, 'timeout-s': 120 };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i++) {
    if (!v[i].startsWith('--')) throw new Error(`bad argument ${v[i]}`);
    const k = v[i].slice(2);
    if (k === 'screenshot-only') a[k] = true;
    else a[k] = v[++i];
  }
  if (!a.url || !a.dir) throw new Error('--url and --dir are required');
  return a;
}

const A = args();
const T = Number(A['timeout-s']) * 1000;
const t0 = Date.now();
const log = (msg) => console.log(`[page ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, timeout = T) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    await sleep(250);
  }
  throw new Error(`timed out (${timeout / 1000} s) waiting for ${what}; last: ${JSON.stringify(last)}`);
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.NP_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1440, height: 900 },
  deviceScaleFactor: 1,
});
let failed = 0;
const errors = [];
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(A.url, { waitUntil: 'load', timeout: 30000 });
  await until('the event stream to connect', () => page.textContent('#conn').then((t) => t === 'live'));
  fs.writeFileSync(path.join(A.dir, 'page-ready'), String(Date.now()));
  log('page loaded, event stream connected');

  if (A['screenshot-only']) {
    await until('windows on the page', () => page.textContent('#records').then((t) => /\d/.test(t)));
    await sleep(Number(process.env.NP_SCREENSHOT_WAIT_MS || 3000));
  } else {
    const cards = () => page.evaluate(() => Object.fromEntries(['records', 'bytes', 'packets', 'sources', 'window-label']
      .map((id) => [id, document.getElementById(id).textContent])));
    const first = await until('the window totals', async () => {
      const c = await cards();
      return ['records', 'packets', 'sources'].every((k) => /^[\d,]+$/.test(c[k])) && /\d/.test(c.bytes) ? c : null;
    });
    log(`totals appeared: ${JSON.stringify(first)}`);
    // The cards show the API's latest pane window.
    const api = await page.evaluate(() => fetch('/api/windows').then((r) => r.json()));
    const shown = await cards();
    const latest = api.windows[api.windows.length - 1];
    const n = (s) => Number(s.replace(/,/g, ''));
    if (!latest || (n(shown.records) !== latest.records && shown['window-label'] === first['window-label'])) {
      throw new Error(`cards ${JSON.stringify(shown)} do not show the API's latest window ${JSON.stringify(latest)}`);
    }
    const changed = await until('the totals to change', async () => {
      const c = await cards();
      return c['window-label'] !== first['window-label'] && (c.records !== first.records || c.packets !== first.packets) ? c : null;
    });
    log(`totals changed: ${JSON.stringify(changed)}`);
    const points = await page.evaluate(() => {
      const c = document.getElementById('chart');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let lit = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]) lit++;
      return lit;
    });
    if (points < 500) throw new Error(`the chart is (nearly) empty: ${points} pixels drawn`);
    log(`chart drawn (${points} pixels)`);

    if (Number(A.workers) > 0) {
      const fleet = await until(`${A.workers} healthy workers in the fleet panel`, async () => {
        const rows = await page.$$eval('#fleet tbody tr', (trs) => trs.map((tr) => ({
          healthy: !!tr.querySelector('.dot:not(.stale)'), cells: [...tr.cells].map((td) => td.textContent) })));
        return rows.length === Number(A.workers) && rows.every((r) => r.healthy && /^[1-9]\d* \(/.test(r.cells[3]) && /^[\d,]+$/.test(r.cells[4]))
          ? rows : null;
      });
      log(`fleet: ${fleet.map((r) => r.cells.slice(1).join(' | ')).join(' ; ')}`);
    }

    if (A['expect-file']) {
      const want = await until(`${A['expect-file']} (the caller's anomaly from processed-data)`,
        () => fs.existsSync(A['expect-file']) && JSON.parse(fs.readFileSync(A['expect-file'], 'utf8')), T * 3);
      const got = await until(`anomaly ${want.id} on the page`, () => page.evaluate((id) => {
        const li = [...document.querySelectorAll('#anomalies li')].find((x) => x.dataset.id === id);
        return li ? { explanation: li.querySelector('.explanation').textContent, text: li.textContent } : null;
      }, want.id));
      if (got.explanation !== want.explanation) {
        throw new Error(`anomaly ${want.id}: page says "${got.explanation}", processed-data says "${want.explanation}"`);
      }
      log(`anomaly ${want.id} shown with its explanation: "${got.explanation}"`);
      // Bring it into view for the screenshot.
      await page.evaluate((id) => [...document.querySelectorAll('#anomalies li')].find((x) => x.dataset.id === id).scrollIntoView({ block: 'nearest' }), want.id);
    }
  }
  if (errors.length) throw new Error(`errors in the page: ${errors.join(' | ')}`);
  log('PASS');
} catch (e) {
  failed = 1;
  log(`FAIL: ${e.message}`);
} finally {
  if (A.screenshot) {
    try {
      const page = context.pages()[0];
      await page.screenshot({ path: A.screenshot, fullPage: true });
      log(`screenshot ${A.screenshot} (${fs.statSync(A.screenshot).size} bytes)`);
    } catch (e) {
      log(`screenshot failed: ${e.message}`);
      failed = 1;
    }
  }
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed);
