"""The console's own CSS and JavaScript, added to the report's (no CDN, no build step)."""

from __future__ import annotations

__all__ = ["CSS", "LIVE_SCRIPT", "STATUS_ICONS"]

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
    body.setAttribute('data-status', snap.status);
    if (snap.status !== 'RUNNING') {
      source.close();
      body.setAttribute('data-live', 'ended');
    }
  };
})();
"""
