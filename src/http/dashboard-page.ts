import { createHash } from 'node:crypto';

/**
 * The operator's dashboard, served by every node at `GET /dashboard`: the cluster (nodes, which
 * partitions each holds and leads, every partition's replicas and leader), tasks by status and by
 * queue, throughput, and a task browser with filters, paging, each task's full record, and the two
 * actions an operator needs by hand: cancel a task and re-drive a dead one.
 *
 * One self-contained page with no external assets (nodes often run where nothing else can be
 * fetched), built only from the public API (GET /cluster, /stats, /tasks, /tasks/:id; DELETE
 * /tasks/:id; POST /tasks/:id/retry), so it shows exactly what any client sees. Task payloads,
 * results, errors, types and queue names are user data: the page only ever puts them into text
 * nodes, never into markup, and the Content-Security-Policy lets no script run but this page's own
 * (by hash), so a payload such as `<img src=x onerror=...>` shows as the text it is.
 *
 * The browser code is plain JavaScript in a string (it runs in the browser, not in Node, and is
 * not type-checked with the server's code); it uses no template literals, so the string below can
 * be one.
 */
const SCRIPT = String.raw`
'use strict';
var REFRESH_MS = 2000;
var PAGE = 50;
var STATUSES = ['pending', 'delayed', 'running', 'completed', 'dead', 'cancelled'];
var state = { filter: { status: '', type: '', queue: '' }, cursors: [''], next: null, selected: null };

function $(id) { return document.getElementById(id); }

/** An element with text children only: strings become text nodes, never markup. */
function el(tag, props) {
  var e = document.createElement(tag);
  if (props) for (var k in props) {
    if (k === 'onclick') e.addEventListener('click', props[k]);
    else if (k === 'className') e.className = props[k];
    else e.setAttribute(k, props[k]);
  }
  for (var i = 2; i < arguments.length; i++) {
    var c = arguments[i];
    e.append(c instanceof Node ? c : document.createTextNode(c === null || c === undefined ? '' : String(c)));
  }
  return e;
}

function fill(target, children) {
  target.replaceChildren.apply(target, children);
}

function row(cells, props) {
  return el.apply(null, ['tr', props || null].concat(cells.map(function (c) { return c instanceof Node && c.tagName === 'TD' ? c : el('td', null, c); })));
}

function table(headers, rows) {
  return el('table', null, el('thead', null, el.apply(null, ['tr', null].concat(headers.map(function (h) { return el('th', null, h); })))), el.apply(null, ['tbody', null].concat(rows)));
}

function when(ms) {
  return typeof ms === 'number' ? new Date(ms).toISOString().replace('T', ' ').slice(0, 23) : '';
}

async function api(method, path, body) {
  var init = { method: method, headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  var res = await fetch(path, init);
  var body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    var err = new Error(body && body.message ? body.message : 'HTTP ' + res.status);
    err.code = body && body.code ? body.code : 'HTTP_' + res.status;
    throw err;
  }
  return body;
}

function problem(where, e) {
  fill($('banner'), e === null ? [] : [el('p', { className: 'error' }, where + ': ' + (e.code ? e.code + ': ' : '') + e.message)]);
}

function notice(text) {
  fill($('notice'), text ? [el('p', null, text)] : []);
}

function renderCluster(view, stats) {
  var live = view.nodes.filter(function (n) { return n.live && n.state !== 'removed'; }).length;
  var byStatus = stats.tasksByStatus || {};
  fill($('summary'), [
    el('span', null, 'cluster ', el('b', null, view.clusterId)),
    el('span', null, 'meta leader ', el('b', null, view.metaLeader || 'none')),
    el('span', null, 'nodes live ', el('b', null, live + ' / ' + view.nodes.length)),
    el('span', null, 'partitions ', el('b', null, view.partitionCount)),
    el('span', null, 'placement ', el('b', { className: view.balanced ? 'ok' : 'warn' }, view.balanced ? 'balanced' : 'moving')),
    el('span', null, 'completed/s ', el('b', null, (stats.completedPerSec || 0).toFixed(1))),
    el('span', null, 'queue depth ', el('b', null, stats.queueDepth || 0)),
  ]);
  fill($('statuses'), STATUSES.map(function (s) {
    return el('a', { href: '#tasks', className: 'card ' + s, onclick: function () { setFilter({ status: s }); } }, el('span', null, s), el('b', null, byStatus[s] || 0));
  }));
  var queues = stats.byQueue || {};
  var perNode = stats.nodes || {};
  fill($('queues'), [table(['queue'].concat(STATUSES), Object.keys(queues).sort().map(function (q) {
    return row([el('a', { href: '#tasks', onclick: function () { setFilter({ queue: q }); } }, q)].concat(STATUSES.map(function (s) { return queues[q][s] || 0; })));
  }))]);
  fill($('nodes'), [table(['node', 'HTTP', 'state', 'live', 'last report', 'partitions held', 'partitions led', 'handlers running', 'completed/s', 'forwarded out / in'], view.nodes.map(function (n) {
    var s = perNode[n.id];
    return row([
      n.id, n.httpAddr, n.state,
      el('td', { className: n.live ? 'ok' : 'warn' }, n.live ? 'yes' : 'no'),
      n.lastSeenMsAgo === null ? 'never' : n.lastSeenMsAgo + ' ms ago',
      n.partitionsHeld.length, n.partitionsLed.length,
      s && s.processor ? s.processor.running + ' / ' + s.processor.concurrency : (s === null ? 'unreachable' : ''),
      s && s.processor ? s.processor.completedPerSec.toFixed(1) : '',
      s && s.routing ? s.routing.forwardedOut + ' / ' + s.routing.forwardedIn : '',
    ]);
  }))]);
  fill($('partitions'), [table(['partition', 'leader', 'voters', 'learners', 'term', 'commit', 'applied'], [view.meta].concat(view.partitions).map(function (p) {
    return row([p === view.meta ? 'meta' : p.id, el('td', { className: p.leader ? '' : 'warn' }, p.leader || 'none'), p.voters.join(', '), p.learners.join(', '), p.term, p.commit, p.applied]);
  }))]);
  $('updated').textContent = 'view of ' + when(view.at) + ', refreshed ' + when(Date.now());
}

function query(cursor) {
  var q = new URLSearchParams();
  for (var k in state.filter) if (state.filter[k]) q.set(k, state.filter[k]);
  q.set('limit', String(PAGE));
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

async function loadTasks() {
  var page = await api('GET', '/tasks?' + query(state.cursors[state.cursors.length - 1]));
  state.next = page.nextCursor;
  var missing = Object.keys(page.nodes || {}).filter(function (n) { return page.nodes[n] !== 'ok'; });
  fill($('partial'), missing.length ? [el('p', { className: 'warn' }, 'not shown: tasks of partitions led by ' + missing.join(', ') + ' (unreachable)')] : []);
  fill($('task-list'), [table(['id', 'queue', 'type', 'status', 'attempts', 'priority', 'created', 'finished'], page.tasks.map(function (t) {
    return row([t.id, t.queue, t.type, el('td', { className: 'status ' + t.status }, t.status), t.attempts + ' / ' + t.maxAttempts, t.priority, when(t.createdAt), when(t.finishedAt)], { className: t.id === state.selected ? 'selected' : '', onclick: function () { select(t.id); } });
  }))]);
  $('page').textContent = 'page ' + state.cursors.length + (page.tasks.length === 0 ? ' (no tasks)' : '');
  $('prev').disabled = state.cursors.length === 1;
  $('next').disabled = state.next === null;
}

async function select(id) {
  state.selected = id;
  try {
    var t = await api('GET', '/tasks/' + encodeURIComponent(id));
    var actions = [];
    if (t.status === 'pending' || t.status === 'delayed' || t.status === 'running') actions.push(el('button', { id: 'cancel', onclick: function () { act('DELETE', t.id, '', 'cancelled'); } }, 'Cancel'));
    if (t.status === 'dead') actions.push(el('button', { id: 'redrive', onclick: function () { act('POST', t.id, '/retry', 're-driven'); } }, 'Re-drive'));
    fill($('task'), [el('h3', null, t.id, ' ', el('span', { className: 'status ' + t.status }, t.status)), el.apply(null, ['div', { className: 'actions' }].concat(actions)), el('pre', null, JSON.stringify(t, null, 2))]);
    problem('task', null);
  } catch (e) {
    problem('task ' + id, e);
  }
}

async function act(method, id, suffix, done) {
  try {
    await api(method, '/tasks/' + encodeURIComponent(id) + suffix);
    notice('task ' + id + ' ' + done);
    await select(id);
    await loadTasks();
  } catch (e) {
    problem('task ' + id, e);
  }
}

function setFilter(f) {
  for (var k in f) state.filter[k] = f[k];
  $('f-status').value = state.filter.status;
  $('f-type').value = state.filter.type;
  $('f-queue').value = state.filter.queue;
  state.cursors = [''];
  loadTasks().catch(function (e) { problem('tasks', e); });
}

async function refresh() {
  try {
    var both = await Promise.all([api('GET', '/cluster'), api('GET', '/stats')]);
    renderCluster(both[0], both[1]);
    await loadTasks();
    problem('', null);
  } catch (e) {
    problem('refresh', e);
  }
}

$('filters').addEventListener('submit', function (ev) {
  ev.preventDefault();
  setFilter({ status: $('f-status').value, type: $('f-type').value.trim(), queue: $('f-queue').value.trim() });
});
$('redrive-dead').addEventListener('click', async function () {
  var f = {};
  if (state.filter.queue) f.queue = state.filter.queue;
  if (state.filter.type) f.type = state.filter.type;
  var scope = (f.queue ? ' of queue ' + f.queue : '') + (f.type ? ' of type ' + f.type : '');
  try {
    var r = await api('POST', '/tasks/retry-dead', f);
    notice(r.redriven + ' dead task' + (r.redriven === 1 ? '' : 's') + scope + ' re-driven');
    await loadTasks();
  } catch (e) {
    problem('re-drive' + scope, e);
  }
});
$('next').addEventListener('click', function () {
  if (state.next === null) return;
  state.cursors.push(state.next);
  loadTasks().catch(function (e) { problem('tasks', e); });
});
$('prev').addEventListener('click', function () {
  if (state.cursors.length > 1) state.cursors.pop();
  loadTasks().catch(function (e) { problem('tasks', e); });
});
STATUSES.forEach(function (s) { $('f-status').append(el('option', { value: s }, s)); });

(async function loop() {
  await refresh();
  setTimeout(loop, REFRESH_MS);
})();
`;

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5rem 2rem; color: #1d232a; }
h1 { font-size: 1.3rem; margin: 1rem 0 0.3rem; } h2 { font-size: 1.05rem; margin: 1.4rem 0 0.4rem; }
#summary { display: flex; flex-wrap: wrap; gap: 0.4rem 1.4rem; }
#updated, #page { color: #667; font-size: 12px; }
.cards { display: flex; flex-wrap: wrap; gap: 0.6rem; }
.card { display: flex; flex-direction: column; min-width: 7rem; padding: 0.5rem 0.8rem; border: 1px solid #d5d9de; border-radius: 6px; text-decoration: none; color: inherit; }
.card b { font-size: 1.4rem; }
table { border-collapse: collapse; margin: 0.2rem 0; }
th, td { text-align: left; padding: 0.2rem 0.7rem 0.2rem 0; border-bottom: 1px solid #eceef1; white-space: nowrap; }
#task-list tbody tr { cursor: pointer; } #task-list tr.selected { background: #eef4ff; }
.ok { color: #1a7f37; } .warn { color: #b35900; } .error { color: #b3261e; font-weight: 600; }
.status.dead { color: #b3261e; } .status.completed { color: #1a7f37; } .status.running { color: #0b5cad; }
pre { background: #f6f8fa; padding: 0.7rem; overflow: auto; max-height: 28rem; white-space: pre-wrap; word-break: break-all; }
form { display: flex; gap: 0.6rem; align-items: end; flex-wrap: wrap; } label { display: flex; flex-direction: column; font-size: 12px; }
.actions { display: flex; gap: 0.5rem; }
`;

const BODY = `
<h1>taskraft</h1>
<div id="summary"></div>
<div id="updated"></div>
<div id="banner" role="alert"></div>
<div id="notice" role="status"></div>
<h2>Tasks by status</h2>
<div id="statuses" class="cards"></div>
<h2>Queues</h2>
<div id="queues"></div>
<h2>Nodes</h2>
<div id="nodes"></div>
<details><summary>Partitions</summary><div id="partitions"></div></details>
<h2 id="tasks">Tasks</h2>
<form id="filters">
  <label>status <select id="f-status"><option value="">any</option></select></label>
  <label>type <input id="f-type" maxlength="64"></label>
  <label>queue <input id="f-queue" maxlength="64"></label>
  <button type="submit">Filter</button>
  <button type="button" id="prev">Previous page</button>
  <button type="button" id="next">Next page</button>
  <span id="page"></span>
  <button type="button" id="redrive-dead" title="every dead task of the queue and type filtered (all, without a filter)">Re-drive dead tasks</button>
</form>
<div id="partial"></div>
<div id="task-list"></div>
<div id="task"></div>
`;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('base64');

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>taskraft</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

/** Nothing runs or loads but this page's own script and style (by hash) and its API calls. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${sha256(SCRIPT)}'`,
  `style-src 'sha256-${sha256(STYLE)}'`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
