// The fleetwatch dashboard page: a snapshot from the JSON API, then live deltas from one
// EventSource. Every string from the server is rendered with textContent (see dom.js).
import { drawLatency } from './charts.js';
import { h, setChildren, setText } from './dom.js';
import { ago, count, duration, humanText } from './format.js';

const api = (path) => `./api/v1/${path}`;
const view = { q: '', sort: 'name', order: 'asc', offset: 0, limit: 50, total: 0 };
const checkRows = new Map();
let csrf = '';
let readOnly = true;
let source;
let lastUpdate = 0;
let nodesTimer;
let summaryTimer;
let checkIds = [];

class HttpError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function getJson(path) {
  const res = await fetch(api(path), { credentials: 'same-origin', headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => undefined);
  if (!res.ok) throw new HttpError(res.status, body);
  return body;
}

async function postJson(path, body) {
  const res = await fetch(api(path), {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-fleetwatch-csrf': csrf },
    body: JSON.stringify(body),
  });
  const out = await res.json().catch(() => undefined);
  if (!res.ok) throw new HttpError(res.status, out);
  return out;
}

async function login(token) {
  const res = await fetch(api('session'), {
    method: 'POST',
    credentials: 'same-origin',
    headers: { authorization: `Bearer ${token}` },
  });
  if (!res.ok) throw new HttpError(res.status, await res.json().catch(() => undefined));
  csrf = (await res.json()).csrf;
}

function touched() {
  lastUpdate = Date.now();
  setText('updated', `updated ${ago(lastUpdate)}`);
}

function stateBadge(state) {
  return h('span', { class: `state ${/^[A-Za-z]+$/.test(state) ? state : ''}` }, state);
}

// ---------------------------------------------------------------- providers

function renderSummary(s) {
  readOnly = s.readOnly;
  setText('mode', s.readOnly ? 'read-only' : 'tag edits allowed');
  const cards = s.providers.map((p) => {
    const states = Object.entries(p.byState).map(([k, v]) => h('span', null, stateBadge(k), ` ${count(v)} `));
    const regions = Object.entries(p.byRegion)
      .map(([k, v]) => `${k} ${count(v)}`)
      .join(' · ');
    return h(
      'div',
      { class: `card${p.lastError ? ' stale' : ''}`, 'data-provider': p.id },
      h('div', null, h('strong', null, p.id), h('span', { class: 'kind' }, p.kind ?? '')),
      h('div', { class: 'big' }, count(p.nodes)),
      h('div', null, ...states),
      h('div', { class: 'muted' }, regions),
      h('div', { class: 'muted' }, `listed ${ago(p.lastSuccessAt)}`),
      p.lastError
        ? h('div', { class: 'error', title: p.lastError.message }, `stale: ${p.lastError.code}`)
        : null,
      p.staleNodes ? h('div', { class: 'stale-mark' }, `${count(p.staleNodes)} stale nodes`) : null,
    );
  });
  setChildren(document.getElementById('providers'), ...cards);
  const c = Object.entries(s.checks)
    .map(([k, v]) => `${v} ${k}`)
    .join(' · ');
  setText('check-counts', c);
}

async function loadSummary() {
  renderSummary(await getJson('summary'));
  touched();
}

function scheduleSummary() {
  clearTimeout(summaryTimer);
  summaryTimer = setTimeout(() => loadSummary().catch(showError), 500);
}

// ---------------------------------------------------------------- checks

function checkKey(c) {
  return `${c.checkId}\u0000${c.target}`;
}

function fillCheckRow(tr, c) {
  const cells = [
    h('td', null, c.checkId),
    h('td', { title: c.target }, c.name ?? c.target),
    h('td', null, stateBadge(c.state)),
    h('td', { class: 'muted' }, c.since ? ago(c.since) : '–'),
    h('td', null, c.lastRun ? duration(c.lastRun.durationMs) : '–'),
    h('td', null, humanText(c.message || c.lastRun?.error || '')),
  ];
  tr.dataset.state = c.state;
  setChildren(tr, ...cells);
}

function renderChecks(res) {
  const tbody = document.querySelector('#checks tbody');
  checkRows.clear();
  const rows = res.targets.map((c) => {
    const tr = h('tr', { 'data-check': c.checkId, 'data-target': c.target });
    fillCheckRow(tr, c);
    checkRows.set(checkKey(c), { tr, c });
    return tr;
  });
  setChildren(tbody, ...rows);
}

/** Targets by state, from the rows on the page (the summary catches up shortly after). */
function renderCheckCounts() {
  const counts = {};
  for (const { c } of checkRows.values()) counts[c.state] = (counts[c.state] ?? 0) + 1;
  setText(
    'check-counts',
    Object.entries(counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(' · '),
  );
}

function onCheckEvent(e) {
  const row = checkRows.get(checkKey(e));
  if (!row) {
    getJson('checks').then(renderChecks).catch(showError);
    return;
  }
  Object.assign(row.c, { state: e.state, since: e.ts, message: e.message });
  fillCheckRow(row.tr, row.c);
  renderCheckCounts();
  row.tr.classList.remove('flash');
  void row.tr.offsetWidth;
  row.tr.classList.add('flash');
}

async function loadCharts(checks) {
  const container = document.getElementById('charts');
  const now = Date.now();
  for (const id of checks.slice(0, 12)) {
    const data = await getJson(
      `latency?check=${encodeURIComponent(id)}&from=${now - 6 * 3_600_000}&to=${now}`,
    );
    drawLatency(container, id, data);
  }
}

// ---------------------------------------------------------------- nodes

function tagChips(n) {
  return Object.entries(n.tags).map(([k, v]) =>
    h('span', { class: `tag${k in n.localTags ? ' local' : ''}`, title: `${k}=${v}` }, `${k}=${v}`),
  );
}

/** A small `key=value` form that sets a local tag (only when the dashboard is not read-only). */
function tagEditor(n) {
  if (readOnly || !csrf) return null;
  const input = h('input', { class: 'tag-input', placeholder: 'key=value', size: 12 });
  const form = h('form', { class: 'tag-edit' }, input, h('button', { type: 'submit' }, '+'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const i = input.value.indexOf('=');
    if (i <= 0) return;
    postJson('tags', { uid: n.uid, set: { [input.value.slice(0, i)]: input.value.slice(i + 1) } })
      .then(() => loadNodes())
      .catch(showError);
  });
  return form;
}

function renderNodes(res) {
  view.total = res.total;
  setText('node-total', `${count(res.total)} matching`);
  const now = Date.now();
  const rows = res.nodes.map((n) =>
    h(
      'tr',
      { 'data-uid': n.uid },
      h(
        'td',
        null,
        n.name,
        n.stale ? h('span', { class: 'stale-mark', title: n.staleReason ?? '' }, 'stale') : null,
      ),
      h('td', null, n.provider),
      h('td', { title: n.rawState }, stateBadge(n.state)),
      h('td', null, n.region ?? ''),
      h('td', null, [...n.publicIps, ...n.privateIps].slice(0, 3).join(' ')),
      h('td', null, n.createdAt ? duration(now - n.createdAt) : '–'),
      h('td', null, ...tagChips(n), tagEditor(n)),
    ),
  );
  setChildren(document.querySelector('#nodes tbody'), ...rows);
  const last = Math.min(view.offset + view.limit, res.total);
  setText('page', res.total ? `${view.offset + 1}–${last} of ${count(res.total)}` : 'no nodes');
  document.getElementById('prev').disabled = view.offset === 0;
  document.getElementById('next').disabled = last >= res.total;
}

async function loadNodes() {
  const p = new URLSearchParams({
    q: view.q,
    sort: view.sort,
    order: view.order,
    offset: view.offset,
    limit: view.limit,
  });
  try {
    renderNodes(await getJson(`nodes?${p}`));
    setText('q-error', '');
    touched();
  } catch (err) {
    if (err.status === 400) setText('q-error', err.message);
    else throw err;
  }
}

function scheduleNodes() {
  clearTimeout(nodesTimer);
  nodesTimer = setTimeout(() => loadNodes().catch(showError), 300);
}

// ---------------------------------------------------------------- stream

function connect() {
  source?.close();
  source = new EventSource(api('events'));
  const conn = document.getElementById('conn');
  source.onopen = () => {
    conn.textContent = 'live';
    conn.className = 'conn on';
  };
  source.onerror = () => {
    conn.textContent = source.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting…';
    conn.className = 'conn off';
    if (source.readyState === EventSource.CLOSED) start().catch(showError);
  };
  const on = (name, fn) =>
    source.addEventListener(name, (ev) => {
      touched();
      fn(JSON.parse(ev.data));
    });
  on('check', (e) => {
    onCheckEvent(e);
    scheduleSummary();
  });
  on('node', () => {
    scheduleNodes();
    scheduleSummary();
  });
  on('synced', scheduleSummary);
  on('window', (w) =>
    setText('updated', `updated ${ago(lastUpdate)} · broker window ${count(w.points)} points`),
  );
  on('reset', () => refresh().catch(showError));
}

// ---------------------------------------------------------------- start

function showError(err) {
  if (err?.status === 401) {
    source?.close();
    document.getElementById('main').hidden = true;
    document.getElementById('login').hidden = false;
    return;
  }
  setText('updated', `error: ${err?.message ?? err}`);
}

async function refresh() {
  const [summary, checks] = await Promise.all([getJson('summary'), getJson('checks')]);
  renderSummary(summary);
  renderChecks(checks);
  await loadNodes();
  checkIds = checks.checks;
  loadCharts(checkIds).catch(showError);
}

async function start() {
  await refresh();
  document.getElementById('login').hidden = true;
  document.getElementById('main').hidden = false;
  connect();
}

function wire() {
  document.getElementById('filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    view.q = document.getElementById('q').value;
    view.offset = 0;
    loadNodes().catch(showError);
  });
  for (const th of document.querySelectorAll('#nodes th[data-sort]')) {
    th.addEventListener('click', () => {
      const f = th.dataset.sort;
      view.order = view.sort === f && view.order === 'asc' ? 'desc' : 'asc';
      view.sort = f;
      loadNodes().catch(showError);
    });
  }
  document.getElementById('prev').addEventListener('click', () => {
    view.offset = Math.max(0, view.offset - view.limit);
    loadNodes().catch(showError);
  });
  document.getElementById('next').addEventListener('click', () => {
    view.offset += view.limit;
    loadNodes().catch(showError);
  });
  document.getElementById('login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = document.getElementById('token');
    login(input.value)
      .then(() => {
        input.value = '';
        setText('login-error', '');
        return start();
      })
      .catch((err) => setText('login-error', err.status === 401 ? 'wrong token' : err.message));
  });
  setInterval(() => lastUpdate && setText('updated', `updated ${ago(lastUpdate)}`), 5000);
  // the 5m rollups move slowly: the charts are refetched every 30 s while the page is visible
  setInterval(() => {
    if (!document.hidden && checkIds.length > 0) loadCharts(checkIds).catch(showError);
  }, 30_000);
}

async function main() {
  wire();
  // a token in the fragment (never sent to the server, nor in Referer): sign in, then forget it
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    history.replaceState(null, '', location.pathname + location.search);
    try {
      await login(decodeURIComponent(m[1]));
    } catch (err) {
      showError(err);
      return;
    }
  }
  await start();
}

main().catch(showError);
