// netpulse live page: reads the gateway's JSON API once, then follows /api/events (SSE).
// No dependencies; the chart is drawn on a canvas.
'use strict';

const S = {
  paneMs: 0,
  windows: [],          // pane windows, oldest first (bounded like the gateway's: MAX_WINDOWS)
  forecasts: new Map(), // window_start -> forecast
  sliding: null,
  anomalies: [],        // newest first
  views: new Map(),     // view -> {window_start, groups: Map(rank -> group)}
  fleet: null,
};
const MAX_WINDOWS = 240, MAX_ANOMALIES = 100, CHART_WINDOWS = 120;

const $ = (id) => document.getElementById(id);
const fmtInt = (n) => (n == null ? '–' : Math.round(n).toLocaleString('en-US'));
function fmtShort(n) {
  const a = Math.abs(n);
  if (a >= 1e9) return (n / 1e9).toFixed(1) + 'G';
  if (a >= 1e6) return (n / 1e6).toFixed(1) + 'M';
  if (a >= 1e4) return (n / 1e3).toFixed(0) + 'k';
  if (a >= 1e3) return (n / 1e3).toFixed(1) + 'k';
  return String(Math.round(n));
}
function fmtBytes(n) {
  if (n == null) return '–';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(n >= 100 ? 0 : 1) : n) + ' ' + u[i];
}
const fmtTime = (ms) => new Date(ms).toISOString().slice(11, 19);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

// ---- state updates -------------------------------------------------------------------

function addWindow(w) {
  const ms = w.window_end - w.window_start;
  if (!S.paneMs || ms < S.paneMs) { S.paneMs = ms; S.windows = S.windows.filter((x) => x.window_end - x.window_start === ms); }
  if (ms > S.paneMs) { if (!S.sliding || w.window_end >= S.sliding.window_end) S.sliding = w; return; }
  const i = S.windows.findIndex((x) => x.window_end >= w.window_end);
  if (i < 0) S.windows.push(w);
  else if (S.windows[i].window_end === w.window_end) S.windows[i] = w;
  else S.windows.splice(i, 0, w);
  if (S.windows.length > MAX_WINDOWS) S.windows.splice(0, S.windows.length - MAX_WINDOWS);
}
function addForecast(f) {
  S.forecasts.set(f.window_start, f);
  if (S.forecasts.size > MAX_WINDOWS) S.forecasts.delete(Math.min(...S.forecasts.keys()));
}
function addAnomaly(a) {
  S.anomalies = S.anomalies.filter((x) => x.id !== a.id);
  S.anomalies.push(a);
  S.anomalies.sort((x, y) => y.window_end - x.window_end);
  if (S.anomalies.length > MAX_ANOMALIES) S.anomalies.length = MAX_ANOMALIES;
}
function addGroup(g) {
  let v = S.views.get(g.view);
  if (!v || g.window_start > v.window_start) { v = { window_start: g.window_start, groups: new Map() }; S.views.set(g.view, v); }
  if (g.window_start === v.window_start) v.groups.set(g.rank, g);
}

// ---- rendering -----------------------------------------------------------------------

let pending = false;
function render() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; renderCards(); renderChart(); renderAnomalies(); renderSources(); renderViews(); renderFleet(); });
}

function delta(cur, prev) {
  if (!prev) return '';
  const d = prev ? (cur - prev) / prev * 100 : 0;
  return (d >= 0 ? '+' : '') + d.toFixed(1) + '% vs previous window';
}

function renderCards() {
  const w = S.windows[S.windows.length - 1];
  if (!w) return;
  const p = S.windows[S.windows.length - 2];
  $('window-label').textContent = `window ${fmtTime(w.window_start)}–${fmtTime(w.window_end)} UTC · ${S.paneMs / 1000} s panes · ${w.partitions} partitions` +
    (w.late_records ? ` · ${fmtInt(w.late_records)} late` : '') + (w.records ? '' : ' · no traffic in this window');
  $('records').textContent = fmtInt(w.records);
  $('bytes').textContent = fmtBytes(w.bytes);
  $('bytes').title = fmtInt(w.bytes) + ' bytes';
  $('packets').textContent = fmtInt(w.packets);
  $('sources').textContent = fmtInt(w.sources);
  $('records-sub').textContent = delta(w.records, p && p.records);
  $('bytes-sub').textContent = delta(w.bytes, p && p.bytes);
  const f = S.forecasts.get(w.window_start);
  $('packets-sub').textContent = f ? `forecast ${fmtInt(f.predicted)}` : delta(w.packets, p && p.packets);
  $('sources-sub').textContent = S.sliding ? `${fmtInt(S.sliding.sources)} in the last ${(S.sliding.window_end - S.sliding.window_start) / 1000} s` : '';
  const box = $('protocols');
  box.replaceChildren();
  const protos = w.protocols || {};
  const total = Object.values(protos).reduce((a, b) => a + b, 0) || 1;
  for (const [name, n] of Object.entries(protos)) {
    const track = el('div', 'track'), fill = el('div', 'fill');
    fill.style.width = (100 * n / total).toFixed(1) + '%';
    track.append(fill);
    box.append(el('span', '', name), track, el('span', 'num', fmtInt(n)));
  }
}

// Forecast band: predicted ± 2σ, σ from the last 24 forecast errors (actual - predicted),
// robustly (1.4826 x their median absolute value), so the first forecasts' cold-start
// errors and the anomalies themselves do not blow the band up.
function forecastSigma() {
  const errs = [];
  for (const w of S.windows.slice(-24)) {
    const f = S.forecasts.get(w.window_start);
    if (f) errs.push(Math.abs(w.packets - f.predicted));
  }
  if (!errs.length) return 0;
  errs.sort((a, b) => a - b);
  const m = errs.length >> 1;
  return 1.4826 * (errs.length % 2 ? errs[m] : (errs[m - 1] + errs[m]) / 2);
}

// The smallest "round" axis top >= v that splits into `ticks` round steps.
function niceMax(v, ticks) {
  if (v <= 0) return ticks;
  const raw = v / ticks, p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p * ticks;
  return 10 * p * ticks;
}

function renderChart() {
  const c = $('chart'), dpr = window.devicePixelRatio || 1;
  const W = c.clientWidth, H = 260;
  if (c.width !== W * dpr) { c.width = W * dpr; c.height = H * dpr; c.style.height = H + 'px'; }
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, W, H);
  const ws = S.windows.slice(-CHART_WINDOWS);
  g.font = '11px system-ui, sans-serif';
  if (ws.length < 1) { g.fillStyle = '#8593a3'; g.fillText('waiting for windows…', 12, 20); return; }
  const pane = S.paneMs || 5000, sigma = forecastSigma();
  const next = S.forecasts.get(ws[ws.length - 1].window_end); // the forecast for the window to come
  const t0 = ws[0].window_end, t1 = ws[ws.length - 1].window_end + (next ? pane : 0);
  const fc = ws.map((w) => S.forecasts.get(w.window_start)).concat(next ? [next] : []).filter(Boolean);
  const pkMax = niceMax(Math.max(...ws.map((w) => w.packets), ...fc.map((f) => f.predicted + 2 * sigma)), 4);
  const rcMax = niceMax(Math.max(...ws.map((w) => w.records)), 2);
  const L = 52, R = 52, T = 8, mid = Math.round(H * 0.62), B = H - 20;
  const x = (t) => L + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (W - L - R);
  const yP = (v) => mid - (v / pkMax) * (mid - T);
  const yR = (v) => B - (v / rcMax) * (B - mid - 14);
  // grid and axes
  g.strokeStyle = '#26313d'; g.fillStyle = '#8593a3'; g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = pkMax * i / 4, y = Math.round(yP(v)) + 0.5;
    g.beginPath(); g.moveTo(L, y); g.lineTo(W - R, y); g.stroke();
    g.textAlign = 'right'; g.fillText(fmtShort(v), L - 6, y + 4);
  }
  for (let i = 0; i <= 2; i++) {
    const v = rcMax * i / 2, y = Math.round(yR(v)) + 0.5;
    g.beginPath(); g.moveTo(L, y); g.lineTo(W - R, y); g.stroke();
    g.textAlign = 'left'; g.fillText(fmtShort(v), W - R + 6, y + 4);
  }
  g.textAlign = 'center';
  const step = Math.max(1, Math.ceil(ws.length / 6));
  for (let i = ws.length - 1; i >= 0; i -= step) g.fillText(fmtTime(ws[i].window_end), x(ws[i].window_end), H - 4);
  // anomalies: a red tick at their window's end
  g.fillStyle = 'rgba(255,93,93,0.8)';
  for (const a of S.anomalies) if (a.window_end >= t0 && a.window_end <= t1) g.fillRect(x(a.window_end) - 1, T, 2, 6);
  // forecast band and line (a forecast is for the window that ends pane ms after its start)
  if (fc.length) {
    const pts = fc.map((f) => [x(f.window_end), f.predicted]);
    g.fillStyle = 'rgba(242,184,75,0.18)';
    g.beginPath();
    pts.forEach(([px, v], i) => (i ? g.lineTo(px, yP(v + 2 * sigma)) : g.moveTo(px, yP(v + 2 * sigma))));
    for (let i = pts.length - 1; i >= 0; i--) g.lineTo(pts[i][0], yP(Math.max(0, pts[i][1] - 2 * sigma)));
    g.closePath(); g.fill();
    g.strokeStyle = '#f2b84b'; g.setLineDash([4, 3]); g.lineWidth = 1.2;
    g.beginPath(); pts.forEach(([px, v], i) => (i ? g.lineTo(px, yP(v)) : g.moveTo(px, yP(v)))); g.stroke();
    g.setLineDash([]);
  }
  const line = (color, ys) => {
    g.strokeStyle = color; g.lineWidth = 1.8; g.beginPath();
    ws.forEach((w, i) => (i ? g.lineTo(x(w.window_end), ys(w)) : g.moveTo(x(w.window_end), ys(w))));
    g.stroke();
    const last = ws[ws.length - 1];
    g.fillStyle = color; g.beginPath(); g.arc(x(last.window_end), ys(last), 3, 0, 7); g.fill();
  };
  line('#4aa3ff', (w) => yP(w.packets));
  line('#7bd88f', (w) => yR(w.records));
}

function renderAnomalies() {
  const ol = $('anomalies');
  $('anomaly-count').textContent = S.anomalies.length ? `${S.anomalies.length} latest` : '';
  if (!S.anomalies.length) return;
  ol.replaceChildren(...S.anomalies.map((a) => {
    const li = el('li', a.severity);
    li.dataset.id = a.id;
    li.dataset.kind = a.kind;
    const head = el('div', 'head');
    head.append(el('span', 'sev', a.severity), el('span', 'kind', a.kind.replace(/_/g, ' ')), el('span', 'entity', a.entity),
      el('span', 'when', `${fmtTime(a.window_start)}–${fmtTime(a.window_end)} · score ${Number(a.score).toFixed(3)}`));
    li.append(head, el('div', 'explanation', a.explanation));
    return li;
  }));
}

function shareBar(share) {
  const td = el('td', 'bar'), bar = el('span', 'sharebar');
  bar.style.width = Math.max(1, Math.round(share * 60)) + '%'; // leaves room for the number
  td.append(bar, el('span', 'muted', ' ' + (share * 100).toFixed(1) + '%'));
  return td;
}

function renderSources() {
  const w = S.windows[S.windows.length - 1];
  if (!w) return;
  const tb = $('top-sources').tBodies[0];
  tb.replaceChildren(...(w.top_sources || []).map((s) => {
    const tr = el('tr');
    tr.append(el('td', 'ip', s.ip), el('td', '', fmtInt(s.records)), el('td', '', fmtBytes(s.bytes)), el('td', '', fmtInt(s.packets)),
      el('td', '', fmtInt(s.dst_ips)), el('td', '', fmtInt(s.dst_ports)), shareBar(w.bytes ? s.bytes / w.bytes : 0));
    return tr;
  }));
}

const groupKey = (g) => Object.entries(g).map(([k, v]) => `${k}=${v}`).join(' ') || 'all';

function renderViews() {
  if (!S.views.size) return;
  const box = $('views');
  box.replaceChildren(...[...S.views.entries()].sort().map(([name, v]) => {
    const div = el('div', 'view');
    div.append(el('h3', '', `${name} `));
    div.firstChild.append(el('span', 'muted', `window ${fmtTime(v.window_start)}`));
    const t = el('table');
    const head = el('tr');
    for (const h of ['group', 'records', 'bytes', 'packets', 'share']) head.append(el('th', h === 'share' ? 'bar' : '', h));
    t.append(head);
    for (const g of [...v.groups.values()].sort((a, b) => a.rank - b.rank).slice(0, 5)) {
      const tr = el('tr');
      tr.append(el('td', 'key', groupKey(g.group)), el('td', '', fmtInt(g.records)), el('td', '', fmtBytes(g.bytes)),
        el('td', '', fmtInt(g.packets)), shareBar(g.share || 0));
      t.append(tr);
    }
    div.append(t);
    return div;
  }));
}

// "0 1 2 3 12 13" -> "0-3 12-13"
function ranges(nums) {
  const out = [];
  for (let i = 0; i < nums.length; i++) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j] + 1) j++;
    out.push(j > i ? `${nums[i]}–${nums[j]}` : String(nums[i]));
    i = j;
  }
  return out.join(', ');
}

// Lag as the worker publishes it: a number, or per topic/partition objects (summed).
function sumLag(v) {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object') return Object.values(v).reduce((a, x) => a + sumLag(x), 0);
  return 0;
}

function renderFleet() {
  const f = S.fleet;
  if (!f) return;
  const tb = $('fleet').tBodies[0], note = $('fleet-note');
  if (f.redis !== 'ok') {
    note.textContent = f.redis === 'not configured' ? 'Redis not configured: start the gateway with --redis-port' : `Redis ${f.redis}${f.error ? ': ' + f.error : ''}`;
    tb.replaceChildren();
    return;
  }
  const healthy = f.workers.filter((w) => w.healthy).length;
  note.textContent = `${healthy} of ${f.workers.length} healthy · read ${fmtTime(f.updated_ms)}`;
  tb.replaceChildren(...f.workers.map((w) => {
    const hb = w.heartbeat || {}, parts = hb.partitions || [], tr = el('tr');
    const dot = el('td');
    dot.append(el('span', w.healthy ? 'dot' : 'dot stale'));
    dot.title = w.healthy ? 'heartbeat fresh' : `no heartbeat for ${(w.age_ms / 1000).toFixed(0)} s`;
    tr.append(dot, el('td', 'key', hb.id || w.key.replace(/^netpulse:workers:/, '')), el('td', '', hb.pid ?? '–'),
      el('td', 'parts', `${parts.length} (${ranges([...parts].sort((a, b) => a - b))})`), el('td', '', 'lag' in hb ? fmtInt(sumLag(hb.lag)) : '–'),
      el('td', '', typeof hb.records_per_s === 'number' ? fmtInt(hb.records_per_s) : '–'),
      el('td', '', w.age_ms >= 0 ? (w.age_ms / 1000).toFixed(1) + ' s ago' : '–'));
    return tr;
  }));
}

// ---- data ----------------------------------------------------------------------------

async function getJSON(path) {
  const r = await fetch(path, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

async function loadAll() {
  const [w, a, g, f] = await Promise.all(['/api/windows', '/api/anomalies', '/api/groups', '/api/fleet'].map(getJSON));
  w.windows.forEach(addWindow);
  if (w.sliding) addWindow(w.sliding);
  w.forecasts.forEach(addForecast);
  a.anomalies.forEach(addAnomaly);
  for (const v of g.views) v.groups.forEach(addGroup);
  S.fleet = f;
  render();
}

let fleetTimer = null;
function connect() {
  const es = new EventSource('/api/events');
  const conn = $('conn');
  const on = (type, fn) => es.addEventListener(type, (e) => { fn(JSON.parse(e.data)); render(); });
  es.addEventListener('hello', () => { conn.textContent = 'live'; conn.className = 'conn on'; loadAll().catch(console.error); });
  es.addEventListener('reset', () => loadAll().catch(console.error));
  on('window', addWindow);
  on('sliding', addWindow);
  on('forecast', addForecast);
  on('anomaly', addAnomaly);
  on('group', addGroup);
  es.addEventListener('fleet', () => {
    clearTimeout(fleetTimer); // a burst of fleet events: one fetch
    fleetTimer = setTimeout(() => getJSON('/api/fleet').then((f) => { S.fleet = f; render(); }).catch(console.error), 50);
  });
  es.onerror = () => { conn.textContent = 'reconnecting'; conn.className = 'conn off'; };
}

window.addEventListener('resize', render);
connect();
