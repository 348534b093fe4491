"""The console's HTML pages, rendered on the server: every piece of store text is escaped.

Execution names, state names, inputs, outputs, errors and causes are user data. Each of
them goes through :func:`_h` (HTML-escaped, control characters spelled out) or, inside a
``<script>`` element, through the report's script-safe JSON; URLs are percent-encoded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from asl.graph.svg import STYLE as GRAPH_STYLE
from asl.graph.text import visible
from runtime.durable.store.browse import (
    STATUSES,
    ExecutionPage,
    ExecutionQuery,
    MachineCounts,
)
from runtime.durable.store.records import ExecutionRecord, ExecutionSummary
from runtime.report.assets import CSS as REPORT_CSS
from runtime.report.assets import SCRIPT as REPORT_SCRIPT
from runtime.report.history import Event
from runtime.report.page import report_parts
from runtime.server.console.assets import CSS, LIVE_SCRIPT, STATUS_ICONS
from runtime.server.console.live import live_outcomes
from runtime.trace.format import format_duration

__all__ = [
    "error_page",
    "execution_page",
    "execution_url",
    "executions_page",
    "machines_page",
]

#: The legend entry the report lacks: a state entered and not yet left.
_RUNNING_KEY = ' <span class="legend"><span><i class="k-running"></i>running</span></span>'

_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _h(text: Any) -> str:
    """Store text as HTML text or a quoted attribute value."""
    return escape(visible(str(text)), quote=True)


def _script_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True).translate(_SCRIPT_SAFE)


def _qs(params: dict[str, Any]) -> str:
    """A query string (lone surrogates, which the store cannot hold, spelled out)."""
    return urlencode(params, errors="backslashreplace")


def execution_url(arn: str) -> str:
    """The console path of an execution (the ARN percent-encoded, ``:`` kept)."""
    # A lone surrogate cannot be stored (SQLite text is UTF-8); if one comes anyway, the
    # link is wrong rather than the page failing.
    return "/executions/" + quote(arn, safe=":", errors="backslashreplace")


def _when(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def status_label(status: str) -> str:
    """A status as icon and word (never colour alone)."""
    icon = STATUS_ICONS.get(status, "?")
    mark = f'<span aria-hidden="true">{icon}</span>'
    return f'<span class="status {_h(status)}">{mark} {_h(status)}</span>'


def _layout(title: str, body: str, *, extra_head: str = "", body_attrs: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · asl console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{REPORT_CSS}{GRAPH_STYLE}{CSS}</style>{extra_head}</head>
<body{body_attrs}><nav class="top" aria-label="console"><span class="brand">asl console</span>
<a href="/">Executions</a><a href="/state-machines">State machines</a></nav>
{body}</body></html>
"""


def error_page(title: str, message: str) -> str:
    """A page saying what was not found or not understood."""
    body = f'<div class="page"><h1>{_h(title)}</h1><p class="error">{_h(message)}</p>'
    return _layout(_h(title), body + '<p><a href="/">All executions</a></p></div>')


# -- the executions list -----------------------------------------------------------------


def _filters(query: ExecutionQuery, machines: Sequence[str]) -> str:
    def option(value: str, label: str, chosen: str | None) -> str:
        selected = " selected" if value == (chosen or "") else ""
        return f'<option value="{_h(value)}"{selected}>{_h(label)}</option>'

    machine_options = option("", "every state machine", query.state_machine)
    machine_options += "".join(option(m, m, query.state_machine) for m in machines)
    status_options = option("", "every status", query.status)
    status_options += "".join(option(s, f"{STATUS_ICONS[s]} {s}", query.status) for s in STATUSES)
    return (
        '<form class="filters" method="get" action="/" role="search">'
        f'<select name="machine" aria-label="state machine">{machine_options}</select>'
        f'<select name="status" aria-label="status">{status_options}</select>'
        f'<input type="search" name="name" value="{_h(query.name_prefix or "")}" '
        'placeholder="name starts with" aria-label="name starts with">'
        f'<label>from <input type="datetime-local" name="since" value="{_h(_local(query.since))}" '
        'aria-label="started at or after (UTC)"></label>'
        f'<label>to <input type="datetime-local" name="until" value="{_h(_local(query.until))}" '
        'aria-label="started before (UTC)"></label>'
        '<button type="submit">Filter</button></form>'
    )


def _row(row: ExecutionSummary) -> str:
    duration = "" if row.duration is None else format_duration(row.duration)
    machine = "/?" + _qs({"machine": row.state_machine_name})
    cause = " ".join(x for x in (row.error, row.cause) if x)
    return (
        f'<tr data-status="{_h(row.status)}"><td>{status_label(row.status)}</td>'
        f'<td><a href="{_h(execution_url(row.arn))}">{_h(row.name)}</a></td>'
        f'<td><a href="{_h(machine)}">{_h(row.state_machine_name)}</a></td>'
        f"<td>{_when(row.start_time)}</td><td>{duration}</td>"
        f'<td class="cause" title="{_h(cause)}">{_h(cause)}</td></tr>'
    )


def _local(seconds: float | None) -> str:
    """A time as a ``datetime-local`` input's value (UTC)."""
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _query_params(query: ExecutionQuery) -> dict[str, str]:
    params = {
        "machine": query.state_machine,
        "status": query.status,
        "name": query.name_prefix,
        "since": _local(query.since),
        "until": _local(query.until),
    }
    return {key: value for key, value in params.items() if value}


def _pager(query: ExecutionQuery, page: ExecutionPage) -> str:
    base = _query_params(query)
    links = []
    if page.newer is not None:
        links.append(f'<a href="/?{_h(_qs(base))}">« Newest</a>')
        newer = _qs({**base, "before": page.newer.encode()})
        links.append(f'<a href="/?{_h(newer)}" rel="prev">‹ Newer</a>')
    if page.older is not None:
        older = _qs({**base, "after": page.older.encode()})
        links.append(f'<a href="/?{_h(older)}" rel="next">Older ›</a>')
    return f'<div class="pager">{"".join(links)}</div>'


def executions_page(
    query: ExecutionQuery, page: ExecutionPage, total: int, machines: Sequence[str]
) -> str:
    """``/``: the executions, newest first, filtered and paginated."""
    head = (
        "<tr><th>status</th><th>name</th><th>state machine</th><th>started (UTC)</th>"
        "<th>duration</th><th>error and cause</th></tr>"
    )
    rows = "".join(_row(row) for row in page.rows)
    table = (
        f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"
        if page.rows
        else '<p class="muted">No execution matches.</p>'
    )
    body = (
        f'<div class="page"><section><h2>Executions</h2>{_filters(query, machines)}'
        f'<p class="muted" id="total">{total:,} matching</p>{table}{_pager(query, page)}'
        "</section></div>"
    )
    return _layout("Executions", body)


# -- state machines ----------------------------------------------------------------------


def machines_page(machines: Sequence[MachineCounts]) -> str:
    """``/state-machines``: each machine with its executions counted by status."""
    head = "".join(f"<th>{status_label(s)}</th>" for s in STATUSES)
    rows = []
    for machine in machines:
        cells = []
        for status in STATUSES:
            count = machine.counts.get(status, 0)
            link = "/?" + _qs({"machine": machine.arn, "status": status})
            cells.append(f'<td><a href="{_h(link)}">{count:,}</a></td>' if count else "<td>0</td>")
        everything = "/?" + _qs({"machine": machine.arn})
        rows.append(
            f'<tr><td><a href="{_h(everything)}">{_h(machine.name)}</a>'
            f'<div class="muted">{_h(machine.arn)}</div></td><td>{machine.total:,}</td>'
            f"{''.join(cells)}<td>{_when(machine.last_start)}</td></tr>"
        )
    table = (
        f"<table><thead><tr><th>state machine</th><th>executions</th>{head}"
        f"<th>last started (UTC)</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="muted">The store holds no state machine and no execution.</p>'
    )
    return _layout(
        "State machines",
        f'<div class="page"><section><h2>State machines</h2>{table}</section></div>',
    )


# -- one execution -----------------------------------------------------------------------


def execution_page(record: ExecutionRecord, events: Sequence[Event]) -> str:
    """``/executions/<ARN>``: the report's graph, data flow, timeline and events, with the
    store's status; while the execution runs, the graph follows it live."""
    from runtime.report.visits import build_visits

    _, visits = build_visits(events)
    outcomes = live_outcomes(visits, record.status)
    parts = report_parts(events, _definition(record), name=record.name, outcomes=outcomes)
    live = record.status == "RUNNING"
    attrs = f' data-status="{_h(record.status)}"'
    if live:
        attrs += f' data-live-url="{_h(execution_url(record.arn) + "/events")}"'
    machine = "/?" + _qs({"machine": record.state_machine_arn})
    facts = (
        f'<div class="page"><p>{status_label(record.status)} · state machine '
        f'<a href="{_h(machine)}">{_h(record.state_machine_name)}</a> · started '
        f"{_when(record.start_time)} UTC"
        + (f" · redriven {record.redrive_count}×" if record.redrive_count else "")
        + (
            f'<span class="live muted" id="live-note">live: {len(events)} events</span>'
            + _RUNNING_KEY
            if live
            else ""
        )
        + "</p></div>"
    )
    body = (
        f"{parts.header}{facts}<main>{parts.main}</main>{parts.data}"
        f'<script type="application/json" id="console-icons">{_script_json(STATUS_ICONS)}</script>'
        f"<script>{REPORT_SCRIPT}</script><script>{LIVE_SCRIPT}</script>"
    )
    return _layout(parts.title, body, body_attrs=attrs)


def _definition(record: ExecutionRecord) -> Mapping[str, Any] | None:
    try:
        value = record.definition
    except ValueError:
        return None
    return value if isinstance(value, Mapping) else None
