"""The report page's inline CSS and JavaScript (no CDN: the file must open offline)."""

from __future__ import annotations

__all__ = ["CSS", "SCRIPT"]

CSS = """
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial,
  sans-serif; color: #1c2b33; background: #f5f7f9; }
header { padding: 14px 22px; background: #fff; border-bottom: 1px solid #dde3e8; }
header h1 { font-size: 18px; margin: 0 0 4px; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; color: #fff;
  font-weight: 600; font-size: 12px; margin-right: 8px; }
.badge.SUCCEEDED { background: #2e7d32; } .badge.FAILED, .badge.TIMED_OUT { background: #c62828; }
.badge.ABORTED, .badge.RUNNING { background: #78909c; }
.map-run dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
.map-run dd { margin: 0; } .map-run td:not(:first-child) { text-align: right; }
.error { color: #b71c1c; font-family: ui-monospace, Menlo, Consolas, monospace; }
main { display: grid; grid-template-columns: minmax(320px, 1fr) minmax(340px, 40%); gap: 14px;
  padding: 14px 22px; }
section, aside { background: #fff; border: 1px solid #dde3e8; border-radius: 8px;
  padding: 12px 14px; overflow: auto; }
h2 { font-size: 14px; margin: 0 0 10px; }
.legend span { display: inline-block; margin-right: 12px; font-size: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 3px;
  vertical-align: -2px; margin-right: 4px; border: 2px solid; }
.k-succeeded { background: #e8f5e9; border-color: #2e7d32 !important; }
.k-retried { background: #fffde7; border-color: #f9a825 !important; }
.k-caught { background: #fff3e0; border-color: #ef6c00 !important; }
.k-failed { background: #ffebee; border-color: #c62828 !important; }
.k-cancelled { background: #eceff1; border-color: #78909c !important; }
.k-not-visited { background: #fff; border-color: #cfd8dc !important; }
#flow .visit { border-top: 1px solid #e3e8ec; padding-top: 8px; margin-top: 8px; }
#flow .stage { margin: 6px 0; }
#flow .stage b { display: block; font-size: 11px; color: #546e7a; text-transform: uppercase;
  letter-spacing: .04em; }
pre { margin: 2px 0 0; padding: 6px 8px; background: #f3f6f8; border-radius: 4px;
  white-space: pre-wrap; word-break: break-word; font: 12px/1.4 ui-monospace, Menlo,
  Consolas, monospace; max-height: 260px; overflow: auto; }
.wide { grid-column: 1 / -1; }
.lane { display: grid; grid-template-columns: 200px 1fr; align-items: center;
  min-height: 24px; border-bottom: 1px dashed #eef1f3; }
.lane-label { font-size: 12px; color: #455a64; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; padding-right: 8px; }
.track { position: relative; height: 22px; }
.bar { position: absolute; top: 3px; height: 16px; border-radius: 3px; font-size: 10.5px;
  padding: 0 4px; overflow: hidden; white-space: nowrap; border: 1px solid; cursor: pointer;
  min-width: 6px; }
.bar.succeeded { background: #c8e6c9; border-color: #2e7d32; }
.bar.retried { background: #fff59d; border-color: #f9a825; }
.bar.caught { background: #ffe0b2; border-color: #ef6c00; }
.bar.failed { background: #ffcdd2; border-color: #c62828; }
.bar.cancelled { background: #eceff1; border-color: #78909c; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #eef1f3;
  vertical-align: top; }
th { background: #f3f6f8; position: sticky; top: 0; }
tr.fail td { background: #fff5f5; }
td pre { max-height: 120px; }
.muted { color: #78909c; }
.filters { display: flex; gap: 10px; align-items: center; margin-bottom: 8px; }
.filters input[type=search] { flex: 1; max-width: 340px; padding: 3px 6px; }
"""

#: Clicking a state (graph node, timeline bar or table row) shows its visits' data flow.
SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById('asl-data').textContent);
  var panel = document.getElementById('flow-body');
  var title = document.getElementById('flow-title');
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c];
    });
  }
  function stage(label, value) {
    var text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
    return '<div class="stage"><b>' + esc(label) + '</b><pre>' + esc(text) + '</pre></div>';
  }
  function show(name) {
    var visits = data.states[name] || [];
    title.textContent = name;
    document.querySelectorAll('.asl-graph .selected').forEach(function (el) {
      el.classList.remove('selected');
    });
    document.querySelectorAll('.asl-graph [data-state]').forEach(function (el) {
      if (el.getAttribute('data-state') === name) { el.classList.add('selected'); }
    });
    if (!visits.length) {
      panel.innerHTML = '<p class="muted">Not visited in this execution.</p>';
      return;
    }
    panel.innerHTML = visits.map(function (v) {
      var html = '<div class="visit" data-status="' + esc(v.status) + '"><div><span class="' +
        'badge k-' + esc(v.status) + '" style="color:#1c2b33">' + esc(v.status) + '</span>' +
        esc(v.lane) + ' · ' + esc(v.duration) + (v.attempts > 1 ? ' · ' + v.attempts +
        ' attempts' : '') + '</div>';
      if (!v.inspected) {
        html += '<p class="muted note">Input, output and results as the execution history ' +
          'records them. Runs made with asl exec --inspect or --report also keep each ' +
          'data-flow stage (InputPath, Parameters, ResultSelector, ResultPath...).</p>';
      }
      v.stages.forEach(function (s) { html += stage(s[0], s[1]); });
      v.errors.forEach(function (e) {
        html += '<div class="stage error"><b>' + esc(e[0]) + '</b><pre>' + esc(e[1] || '') +
          (e[2] ? '\\n' + esc(e[2]) : '') + '</pre></div>';
      });
      return html + '</div>';
    }).join('');
  }
  document.addEventListener('click', function (ev) {
    var el = ev.target.closest('[data-state]');
    if (el) { show(el.getAttribute('data-state')); }
  });
  if (data.initial) { show(data.initial); }
  var search = document.getElementById('event-search');
  var kind = document.getElementById('event-type');
  var failures = document.getElementById('event-failures');
  var count = document.getElementById('event-count');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#events tbody tr'));
  function filter() {
    var words = search.value.toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var ok = (!kind.value || row.getAttribute('data-type') === kind.value) &&
        (!failures.checked || row.classList.contains('fail')) &&
        (!words || row.textContent.toLowerCase().indexOf(words) >= 0);
      row.style.display = ok ? '' : 'none';
      if (ok) { shown += 1; }
    });
    count.textContent = shown === rows.length ? rows.length + ' events' :
      shown + ' of ' + rows.length + ' events';
  }
  if (search) {
    search.addEventListener('input', filter);
    kind.addEventListener('change', filter);
    failures.addEventListener('change', filter);
  }
})();
"""
