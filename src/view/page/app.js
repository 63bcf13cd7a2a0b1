// The live view page: lists the histograms, draws the shown ones with JSROOT (served by the same
// server from vendor/jsroot), and redraws a histogram only when an update event says it changed.
// Plain browser JavaScript (no build step): the server sends this file as it is.
import { cleanup, draw, parse, redraw, settings } from '/jsroot/main.mjs';

settings.ZoomWheel = false; // scrolling the page must not zoom the plots
// no JSROOT tool buttons: their toggle is a stray square under each plot, and the card has its own downloads
settings.ToolBar = false;
const MAX_CARDS = 24; // drawing hundreds of SVGs at once makes the page sluggish; the search narrows

const $ = (id) => document.getElementById(id);
/** key → HistInfo from the server */
const hists = new Map();
/** key → { el, mode, log, version (drawn), pending } */
const cards = new Map();
const view = { title: 'Ristretto', data: [], draws: 0, errors: [] };
window.__ristrettoView = view; // for tests and the curious: how many draws, which errors

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
function si(x) {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1e9) return `${fmt.format(x / 1e9)} G`;
  if (a >= 1e6) return `${fmt.format(x / 1e6)} M`;
  if (a >= 1e4) return `${fmt.format(x / 1e3)} k`;
  return fmt.format(x);
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function isWeighted(info) {
  return info.storage === 'weight' || info.storage === 'weighted_mean';
}

function modesOf(info) {
  if (info.ndim === 1) return ['hist'];
  if (info.ndim !== 2) return [];
  return info.categoryAxis >= 0 ? ['overlay', 'stack', 'colz'] : ['colz'];
}

function matches(key, q) {
  if (!q) return true;
  const k = key.toLowerCase();
  return q
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => k.includes(w));
}

function renderList() {
  const q = $('search').value.trim();
  const list = $('list');
  list.replaceChildren();
  const shown = [];
  for (const info of [...hists.values()].sort((a, b) => a.key.localeCompare(b.key))) {
    if (!matches(info.key, q)) continue;
    shown.push(info);
    const li = el(
      'li',
      { 'data-key': info.key, title: info.title },
      el('span', { class: 'n', text: isWeighted(info) ? `Σw ${si(info.total)}` : si(info.total) }),
      info.key,
    );
    li.addEventListener('click', () => {
      cardFor(info.key)?.el.scrollIntoView({ behavior: 'smooth', block: 'start' });
    });
    list.append(li);
  }
  // cards: the first MAX_CARDS of the filtered list, in list order
  const want = new Set(
    shown
      .filter((i) => modesOf(i).length)
      .slice(0, MAX_CARDS)
      .map((i) => i.key),
  );
  for (const [key, c] of cards) {
    if (!want.has(key)) {
      c.el.remove();
      cards.delete(key);
    }
  }
  const container = $('cards');
  for (const key of want) {
    const c = cardFor(key) ?? makeCard(key);
    container.append(c.el); // re-append keeps list order
  }
  const hidden = shown.filter((i) => modesOf(i).length).length - want.size;
  $('more').hidden = hidden <= 0;
  $('more').textContent = hidden > 0 ? `${hidden} more histograms: narrow the search to see them` : '';
}

function cardFor(key) {
  return cards.get(key);
}

function makeCard(key) {
  const info = hists.get(key);
  const modes = modesOf(info);
  const plot = el('div', { class: 'plot' });
  const select = el('select', { class: 'mode', title: 'how to draw' });
  for (const m of modes) select.append(el('option', { value: m, text: m }));
  const log = el('input', { type: 'checkbox', class: 'log' });
  const q = `key=${encodeURIComponent(key)}`;
  const controls = el(
    'div',
    { class: 'controls' },
    select,
    el('label', {}, log, ' log'),
    el('span', { text: 'download:' }),
    el('a', { href: `/api/download?${q}&format=uhi`, download: '', text: 'UHI JSON' }),
    el('a', { href: `/api/download?${q}&format=root`, download: '', text: 'ROOT JSON' }),
    el('a', { href: `/api/download?${q}&format=png`, download: '', text: 'PNG', class: 'png' }),
  );
  if (modes.length < 2) select.hidden = true;
  const total = el('span', { class: 'total' });
  const card = el(
    'div',
    { class: 'card', 'data-key': key },
    el(
      'h3',
      {},
      el('span', { class: 'key', text: key }),
      el('span', { class: 'title', text: info.title === key ? '' : info.title }),
      total,
    ),
    controls,
    plot,
  );
  const c = { el: card, plot, total, mode: modes[0], log: false, version: -1, busy: false, again: false };
  select.addEventListener('change', () => {
    c.mode = select.value;
    c.version = -1;
    refreshCard(key);
  });
  log.addEventListener('change', () => {
    c.log = log.checked;
    controls.querySelector('a.png').href = `/api/download?${q}&format=png${c.log ? '&log=1' : ''}`;
    c.version = -1;
    refreshCard(key);
  });
  cards.set(key, c);
  refreshCard(key);
  return c;
}

/** Fetch and draw a card when its histogram's version differs from the drawn one; one fetch at a time per card. */
async function refreshCard(key) {
  const c = cards.get(key);
  const info = hists.get(key);
  if (!c || !info) return;
  // a weighted fill sums weights, not entries: say so (Σw), the plain count for the others
  c.total.textContent = isWeighted(info) ? `Σw ${si(info.total)}` : `${si(info.total)} entries`;
  c.el.dataset.total = String(info.total);
  if (c.version === info.version) return;
  if (c.busy) {
    c.again = true;
    return;
  }
  c.busy = true;
  try {
    const want = info.version;
    const res = await fetch(`/api/draw?key=${encodeURIComponent(key)}&mode=${c.mode}&log=${c.log ? 1 : 0}`);
    const text = await res.text();
    if (!res.ok) throw new Error(JSON.parse(text).error ?? res.statusText);
    const obj = parse(text);
    if (c.version < 0) {
      // a new mode or log scale: start from an empty pad (redraw would keep the old painters)
      cleanup(c.plot);
      c.plot.replaceChildren();
      await draw(c.plot, obj);
    } else await redraw(c.plot, obj);
    c.version = want;
    c.el.dataset.version = String(want);
    view.draws++;
    c.el.querySelector('.error')?.remove();
  } catch (e) {
    view.errors.push(`${key}: ${e.message}`);
    c.el.querySelector('.error')?.remove();
    c.el.append(el('div', { class: 'error', text: `cannot draw: ${e.message}` }));
  } finally {
    c.busy = false;
  }
  if (c.again) {
    c.again = false;
    refreshCard(key);
  }
}

function table(tbl, head, rows) {
  tbl.hidden = rows.length === 0;
  if (head) tbl.tHead.replaceChildren(el('tr', {}, ...head.map((h) => el('th', { text: h }))));
  tbl.tBodies[0].replaceChildren(...rows.map((r) => el('tr', {}, ...r.map((x) => el('td', { text: String(x) })))));
}

// [header, value of an endpoint row (undefined: not reported)]. `running` of the executor counts the
// copies in flight there (started + queued); the page shows started and queued apart, and falls back
// to `running` for outputs of versions that reported no `started`.
const ENDPOINT_COLUMNS = [
  ['endpoint', (e) => e.name ?? ''],
  ['state', (e) => (e.online === false ? 'offline' : e.slow ? 'slow' : 'online')],
  ['done', (e) => e.done],
  ['running', (e) => e.started ?? e.running],
  ['queued', (e) => e.queued],
  ['events/s', (e) => e.eventsPerSecond],
  ['retries', (e) => e.retries],
  ['tail copies', (e) => e.tailCopies],
  ['failures', (e) => e.failures],
];

function renderProgress(p) {
  const state = p.state ?? 'running';
  $('state').textContent = state;
  $('state').className = `badge ${state}`;
  const frac = p.total ? (p.done ?? 0) / p.total : state === 'done' || state === 'finished' ? 1 : 0;
  $('bar-fill').style.width = `${Math.round(frac * 100)}%`;
  const parts = [];
  if (p.total !== undefined) parts.push(`${p.done ?? 0}/${p.total} chunks`);
  if (p.events !== undefined) parts.push(`${si(p.events)} events`);
  if (p.eventsPerSecond) parts.push(`${si(p.eventsPerSecond)} events/s`);
  if (p.retries) parts.push(`${p.retries} retries`);
  if (p.skipped) parts.push(`${p.skipped} skipped`);
  if (p.message) parts.push(p.message);
  $('summary').textContent = parts.join(' · ');
  $('summary').dataset.events = String(p.events ?? 0);
  $('summary').dataset.done = String(p.done ?? 0);
  table(
    $('datasets'),
    null,
    (p.datasets ?? []).map((d) => [d.name, `${d.done}/${d.total}`, si(d.events)]),
  );
  const eps = p.endpoints ?? [];
  const cols = ENDPOINT_COLUMNS.filter(([, get]) => eps.some((e) => get(e) !== undefined));
  table(
    $('endpoints'),
    cols.map(([h]) => h),
    eps.map((e) =>
      cols.map(([, get]) => {
        const v = get(e);
        return typeof v === 'number' ? si(v) : (v ?? '');
      }),
    ),
  );
  // exact numbers for tests and tooltips (the cells are rounded for reading)
  [...$('endpoints').tBodies[0].rows].forEach((r, i) => {
    const e = eps[i] ?? {};
    r.dataset.endpoint = String(e.name ?? '');
    cols.forEach(([h, get], j) => {
      const v = get(e);
      if (typeof v === 'number') r.cells[j].dataset.value = String(v);
      r.cells[j].dataset.col = h;
    });
  });
  const f = p.faas;
  $('faas').hidden = !f;
  if (f)
    $('faas').textContent = Object.entries(f)
      .filter(([, v]) => typeof v === 'number')
      .map(([k, v]) => `${k.replace(/([A-Z])/g, ' $1').toLowerCase()}: ${si(v)}`)
      .join(' · ');
}

function renderScans(scans) {
  const box = $('scans');
  box.hidden = !scans.length;
  for (const s of scans) {
    const tbl = el('table', { class: 'scan' }, el('thead'), el('tbody'));
    const num = (x) => (typeof x === 'number' ? x.toPrecision(4) : '–');
    table(
      tbl,
      ['patch', 'CLs obs', 'CLs exp (median)', 'μ̂', 'status'],
      s.results.map((r) => [
        r.name,
        num(r.clsObs),
        num(Array.isArray(r.clsExp) ? r.clsExp[2] : undefined),
        num(r.muHat),
        r.ok === false ? `failed: ${r.error ?? ''}` : 'ok',
      ]),
    );
    box.append(el('h3', { text: s.file }), tbl);
  }
}

function apply(update, full) {
  if (full) hists.clear();
  for (const k of update.removed ?? []) hists.delete(k);
  for (const h of update.hists) hists.set(h.key, h);
  renderProgress(update.progress ?? {});
  renderList();
  for (const h of update.hists) refreshCard(h.key);
}

async function start() {
  const res = await fetch('/api/state');
  const s = await res.json();
  view.title = s.title;
  view.data = s.data;
  $('title').textContent = s.title;
  document.title = `${s.title} – Ristretto`;
  const notes = s.notes ?? [];
  $('notes').hidden = !notes.length;
  $('notes').replaceChildren(...notes.map((n) => el('li', { text: n })));
  renderScans(s.scans ?? []);
  apply(s, true);
  $('search').addEventListener('input', renderList);
  const events = new EventSource('/api/events');
  events.addEventListener('snapshot', (e) => apply(JSON.parse(e.data), true));
  events.addEventListener('update', (e) => apply(JSON.parse(e.data), false));
  events.onerror = () => {
    // the run ended and the server went away, or the network blinked: EventSource retries by itself
    if (events.readyState !== EventSource.OPEN)
      $('state').textContent = `${$('state').textContent.split(' ')[0]} (disconnected)`;
  };
  view.ready = true;
}

start().catch((e) => {
  view.errors.push(String(e));
  document.body.prepend(el('p', { class: 'error', text: `cannot load the view: ${e.message}` }));
});
