"""The console's own CSS and JavaScript, added to the report's (no CDN, no build step)."""

from __future__ import annotations

__all__ = [
    "ACTION_SCRIPT",
    "CONFIRM_DIALOG",
    "CSS",
    "LIVE_SCRIPT",
    "STATUS_ICONS",
    "TABLE_KEYS_SCRIPT",
]

#: A status is never told by colour alone: each has a symbol and its name beside it.
STATUS_ICONS = {
    "RUNNING": "●",
    "SUCCEEDED": "✓",
    "FAILED": "✗",
    "TIMED_OUT": "◷",
    "ABORTED": "■",
    "PENDING_REDRIVE": "↻",
}

CSS = """
nav.top { display: flex; gap: 18px; align-items: center; padding: 8px 22px;
  background: #263238; color: #fff; flex-wrap: wrap; }
nav.top a { color: #cfd8dc; text-decoration: none; font-weight: 600; }
nav.top a:hover, nav.top a:focus { color: #fff; text-decoration: underline; }
nav.top .brand { color: #fff; margin-right: 10px; }
.page { padding: 14px 22px; }
.page section { margin-bottom: 14px; }
form.filters { flex-wrap: wrap; }
form.filters input, form.filters select { padding: 3px 6px; }
.pager { display: flex; gap: 14px; align-items: center; margin-top: 10px; }
.status { white-space: nowrap; font-weight: 600; }
.status.SUCCEEDED { color: #1b5e20; } .status.FAILED, .status.TIMED_OUT { color: #b71c1c; }
.status.RUNNING { color: #0d47a1; } .status.ABORTED, .status.PENDING_REDRIVE { color: #455a64; }
td.cause { max-width: 420px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
tbody tr:focus-within td { background: #e3f2fd; }
a:focus { outline: 2px solid #1565c0; outline-offset: 1px; }
.badge.PENDING_REDRIVE { background: #78909c; } .badge.RUNNING { background: #1565c0; }
.live { font-size: 12px; margin-left: 10px; }
.asl-graph .st-running > .shape { fill: #e3f2fd; stroke: #1565c0; stroke-width: 2.6;
  stroke-dasharray: 6 3; }
.k-running { background: #e3f2fd; border-color: #1565c0 !important; }
.notice { padding: 8px 12px; background: #fff8e1; border: 1px solid #ffe082;
  border-radius: 6px; margin-bottom: 10px; }
nav.top .mode { margin-left: auto; color: #ffe082; font-size: 12px; }
.actions { display: flex; gap: 10px; margin: 6px 0; }
form.action { display: flex; flex-direction: column; gap: 6px; align-items: flex-start;
  max-width: 640px; margin-bottom: 8px; }
.actions form.action { flex-direction: row; }
form.action textarea { width: 100%; font-family: ui-monospace, monospace; font-size: 12px; }
form.action textarea[aria-invalid=true] { border: 2px solid #b71c1c; }
form.action button { padding: 4px 12px; font-weight: 600; }
.json-note.bad { color: #b71c1c; }
dialog#confirm { border: 1px solid #90a4ae; border-radius: 8px; max-width: 480px; }
dialog#confirm menu { display: flex; gap: 10px; justify-content: flex-end; padding: 0; }
ul.counts { display: flex; flex-wrap: wrap; gap: 16px; list-style: none; padding: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.page section { overflow-x: auto; }
#definition pre, #waiting pre, .failed-items pre { max-height: 240px; overflow: auto; }
tbody tr:focus { outline: 2px solid #1565c0; outline-offset: -2px; }
@media (max-width: 800px) {
  main { grid-template-columns: 1fr; padding: 10px; }
  .page { padding: 10px; }
  td.cause { max-width: 160px; }
}
"""

#: Follows ``/executions/<ARN>/events`` (Server-Sent Events) and recolours the graph,
#: the status badge and the legend-free labels without reloading the page.
LIVE_SCRIPT = """
(function () {
  var body = document.body;
  var url = body.getAttribute('data-live-url');
  if (!url || !window.EventSource) { return; }
  var badge = document.querySelector('header .badge');
  var note = document.getElementById('live-note');
  var icons = JSON.parse(document.getElementById('console-icons').textContent);
  var source = new EventSource(url);
  source.onopen = function () { body.setAttribute('data-live', 'connected'); };
  source.onmessage = function (message) {
    var snap = JSON.parse(message.data);
    document.querySelectorAll('.asl-graph [data-state]').forEach(function (el) {
      var outcome = snap.states[el.getAttribute('data-state')] || 'not-visited';
      Array.prototype.slice.call(el.classList).forEach(function (c) {
        if (c.indexOf('st-') === 0) { el.classList.remove(c); }
      });
      el.classList.add('st-' + outcome);
    });
    if (badge) {
      badge.className = 'badge ' + snap.status;
      badge.textContent = (icons[snap.status] || '') + ' ' + snap.status;
    }
    if (note) {
      note.textContent = snap.status === 'RUNNING' ?
        'live: ' + snap.events + ' events' :
        'ended with ' + snap.events + ' events; reload for the full table';
    }
    var waitingNote = document.getElementById('waiting-note');
    if (waitingNote) {
      var shown = JSON.parse(waitingNote.getAttribute('data-waiting'));
      var now = (snap.waiting || []).slice().sort();
      var fresh = now.some(function (state) { return shown.indexOf(state) < 0; });
      waitingNote.hidden = !fresh || snap.status !== 'RUNNING';
    }
    body.setAttribute('data-status', snap.status);
    if (snap.status !== 'RUNNING') {
      source.close();
      body.setAttribute('data-live', 'ended');
    }
  };
})();
"""

#: The confirmation every action asks first (a real dialog: keyboard and screen readers
#: know it, and nothing depends on ``window.confirm``).
CONFIRM_DIALOG = (
    '<dialog id="confirm" aria-labelledby="confirm-question"><form method="dialog">'
    '<p id="confirm-question"></p><menu><button value="no">Cancel</button>'
    '<button value="yes" id="confirm-yes">Confirm</button></menu></form></dialog>'
)

#: Posts the console's action forms (``form.action``) as JSON to ``/actions/<Operation>``
#: with the page's token, after the confirmation dialog; checks JSON editors as typed.
ACTION_SCRIPT = """
(function () {
  var meta = document.querySelector('meta[name=console-token]');
  if (!meta) { return; }
  var token = meta.getAttribute('content');
  var dialog = document.getElementById('confirm');
  function say(text, bad) {
    var status = document.getElementById('action-status');
    if (status) { status.textContent = text; status.className = bad ? 'error' : 'muted'; }
    document.body.setAttribute('data-action', bad ? 'failed' : 'done');
  }
  function check(area) {
    var note = document.getElementById(area.getAttribute('aria-describedby'));
    var button = area.form.querySelector('button[type=submit]');
    var problem = '';
    if (area.value.trim() !== '') {
      try { JSON.parse(area.value); } catch (e) { problem = e.message; }
    }
    area.setAttribute('aria-invalid', problem ? 'true' : 'false');
    note.textContent = problem ? 'not JSON: ' + problem : 'valid JSON';
    note.className = 'json-note ' + (problem ? 'bad' : 'muted');
    button.disabled = !!problem;
    return !problem;
  }
  document.querySelectorAll('textarea[data-json]').forEach(function (area) {
    area.addEventListener('input', function () { check(area); });
    check(area);
  });
  function path(arn) {
    return '/executions/' + encodeURIComponent(arn).replace(/%3A/g, ':');
  }
  function send(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.value === '') { return; }
      body[el.name] = el.hasAttribute('data-int') ? parseInt(el.value, 10) : el.value;
    });
    var operation = form.getAttribute('data-action');
    say(operation + '…', false);
    document.body.setAttribute('data-action', 'sending');
    fetch('/actions/' + encodeURIComponent(operation), {
      method: 'POST',
      credentials: 'same-origin',
      headers: {'content-type': 'application/json', 'x-console-token': token},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (doc) {
        if (!response.ok) {
          say(operation + ' refused: ' + (doc.__type || response.status) + ': ' +
              (doc.message || ''), true);
          return;
        }
        say(operation + ' done', false);
        if (doc.executionArn) { window.location.assign(path(doc.executionArn)); }
        else { window.location.reload(); }
      });
    }, function (error) { say(operation + ' failed: ' + error, true); });
  }
  document.querySelectorAll('form.action').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var areas = form.querySelectorAll('textarea[data-json]');
      for (var i = 0; i < areas.length; i++) { if (!check(areas[i])) { return; } }
      document.getElementById('confirm-question').textContent =
        form.getAttribute('data-confirm');
      dialog.returnValue = '';
      dialog.onclose = function () {
        if (dialog.returnValue === 'yes') { send(form); }
      };
      dialog.showModal();
      document.getElementById('confirm-yes').focus();
    });
  });
})();
"""

#: Tables of the console (``table.nav``): rows take the focus; Up/Down (or k/j) move
#: between rows, Home/End to the first and last, Enter opens the row's first link.
TABLE_KEYS_SCRIPT = """
(function () {
  document.querySelectorAll('table.nav tbody tr').forEach(function (row) {
    row.tabIndex = 0;
  });
  document.addEventListener('keydown', function (event) {
    var row = document.activeElement;
    if (!row || row.tagName !== 'TR' || !row.closest('table.nav')) { return; }
    var rows = Array.prototype.slice.call(row.parentNode.children);
    var at = rows.indexOf(row), to = -1;
    if (event.key === 'ArrowDown' || event.key === 'j') { to = Math.min(at + 1, rows.length - 1); }
    else if (event.key === 'ArrowUp' || event.key === 'k') { to = Math.max(at - 1, 0); }
    else if (event.key === 'Home') { to = 0; }
    else if (event.key === 'End') { to = rows.length - 1; }
    else if (event.key === 'Enter') {
      var link = row.querySelector('a[href]');
      if (link) { event.preventDefault(); link.click(); }
      return;
    }
    if (to >= 0) { event.preventDefault(); rows[to].focus(); }
  });
})();
"""
