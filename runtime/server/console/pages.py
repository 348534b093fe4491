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
    MachineView,
    MapRunView,
)
from runtime.durable.store.records import ExecutionRecord, ExecutionSummary
from runtime.durable.store.schedules import FiringRecord
from runtime.report.assets import CSS as REPORT_CSS
from runtime.report.assets import SCRIPT as REPORT_SCRIPT
from runtime.report.history import Event
from runtime.report.page import report_parts
from runtime.report.visits import last_redrive
from runtime.server.console.assets import (
    ACTION_SCRIPT,
    CONFIRM_DIALOG,
    CSS,
    LIVE_SCRIPT,
    STATUS_ICONS,
    TABLE_KEYS_SCRIPT,
)
from runtime.server.console.live import live_outcomes
from runtime.server.console.tasks import WaitingTask, waiting_tasks
from runtime.trace.format import format_duration

__all__ = [
    "error_page",
    "execution_page",
    "execution_url",
    "executions_page",
    "machine_page",
    "machine_url",
    "machines_page",
    "schedules_page",
    "tasks_page",
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


def machine_url(arn: str) -> str:
    """The console path of a state machine."""
    return "/state-machines/" + quote(arn, safe=":", errors="backslashreplace")


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


def _layout(
    title: str,
    body: str,
    *,
    extra_head: str = "",
    body_attrs: str = "",
    token: str | None = None,
) -> str:
    """A console page; with the actions' ``token`` (``asl serve --ui``) its forms work."""
    actions = ""
    if token is not None:
        extra_head += f'<meta name="console-token" content="{_h(token)}">'
        actions = CONFIRM_DIALOG + f"<script>{ACTION_SCRIPT}</script>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · asl console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{REPORT_CSS}{GRAPH_STYLE}{CSS}</style>{extra_head}</head>
<body{body_attrs}><nav class="top" aria-label="console"><span class="brand">asl console</span>
<a href="/">Executions</a><a href="/state-machines">State machines</a>
<a href="/tasks">Waiting tasks</a><a href="/schedules">Schedules</a>
<span class="mode">{"" if token is not None else "read-only"}</span></nav>
{body}{actions}<script>{TABLE_KEYS_SCRIPT}</script></body></html>
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
    query: ExecutionQuery,
    page: ExecutionPage,
    total: int,
    machines: Sequence[str],
    *,
    token: str | None = None,
) -> str:
    """``/``: the executions, newest first, filtered and paginated."""
    head = (
        "<tr><th>status</th><th>name</th><th>state machine</th><th>started (UTC)</th>"
        "<th>duration</th><th>error and cause</th></tr>"
    )
    rows = "".join(_row(row) for row in page.rows)
    table = (
        f'<table class="nav"><thead>{head}</thead><tbody>{rows}</tbody></table>'
        if page.rows
        else '<p class="muted">No execution matches.</p>'
    )
    body = (
        f'<div class="page"><section><h2>Executions</h2>{_filters(query, machines)}'
        f'<p class="muted" id="total">{total:,} matching</p>{table}{_pager(query, page)}'
        "</section></div>"
    )
    return _layout("Executions", body, token=token)


# -- state machines ----------------------------------------------------------------------


def machines_page(machines: Sequence[MachineCounts], *, token: str | None = None) -> str:
    """``/state-machines``: each machine with its executions counted by status."""
    head = "".join(f"<th>{status_label(s)}</th>" for s in STATUSES)
    rows = []
    for machine in machines:
        cells = []
        for status in STATUSES:
            count = machine.counts.get(status, 0)
            link = "/?" + _qs({"machine": machine.arn, "status": status})
            cells.append(f'<td><a href="{_h(link)}">{count:,}</a></td>' if count else "<td>0</td>")
        rows.append(
            f'<tr><td><a href="{_h(machine_url(machine.arn))}">{_h(machine.name)}</a>'
            f'<div class="muted">{_h(machine.arn)}</div></td>'
            f"<td>{machine.total:,}</td>"
            f"{''.join(cells)}<td>{_when(machine.last_start)}</td></tr>"
        )
    table = (
        f'<table class="nav"><thead><tr><th>state machine</th><th>executions</th>{head}'
        f"<th>last started (UTC)</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="muted">The store holds no state machine and no execution.</p>'
    )
    return _layout(
        "State machines",
        f'<div class="page"><section><h2>State machines</h2>{table}</section></div>',
        token=token,
    )


# -- one execution -----------------------------------------------------------------------


def execution_page(
    record: ExecutionRecord,
    events: Sequence[Event],
    *,
    map_runs: Sequence[MapRunView] = (),
    token: str | None = None,
) -> str:
    """``/executions/<ARN>``: the report's graph, data flow, timeline and events, with the
    store's status, its Map Runs and the tasks it waits on; while the execution runs, the
    graph follows it live. With the actions' ``token``: Stop, Redrive, and answers to the
    waiting tasks."""
    from runtime.report.visits import build_visits

    _, visits = build_visits(events)
    outcomes = live_outcomes(visits, record.status, last_redrive(events))
    parts = report_parts(
        events,
        _definition(record),
        name=record.name,
        outcomes=outcomes,
        map_runs=[run.document for run in map_runs],
    )
    live = record.status == "RUNNING"
    waiting = waiting_tasks(events, visits) if live else []
    shown = json.dumps(sorted(visible(task.state) for task in waiting), ensure_ascii=True)
    attrs = f' data-status="{_h(record.status)}"'
    if live:
        attrs += f' data-live-url="{_h(execution_url(record.arn) + "/events")}"'
    machine = "/?" + _qs({"machine": record.state_machine_arn})
    facts = (
        f'<div class="page"><p>{status_label(record.status)} · state machine '
        f'<a href="{_h(machine_url(record.state_machine_arn))}">'
        f"{_h(record.state_machine_name)}</a> "
        f'(<a href="{_h(machine)}">its executions</a>) · started '
        f"{_when(record.start_time)} UTC"
        + (f" · redriven {record.redrive_count}×" if record.redrive_count else "")
        + (
            f'<span class="live muted" id="live-note">live: {len(events)} events</span>'
            + _RUNNING_KEY
            if live
            else ""
        )
        + "</p>"
        + _execution_actions(record, token)
        + _waiting(record.arn, waiting, token)
        + (
            f'<p id="waiting-note" class="notice" hidden data-waiting="{_h(shown)}">'
            'Another task waits for an answer now: <a href="">reload this page</a> or open '
            '<a href="/tasks">the waiting tasks</a> to answer it.</p>'
            if live
            else ""
        )
        + "".join(_failed_items(run) for run in map_runs)
        + "</div>"
    )
    body = (
        f"{parts.header}{facts}<main>{parts.main}</main>{parts.data}"
        f'<script type="application/json" id="console-icons">{_script_json(STATUS_ICONS)}</script>'
        f"<script>{REPORT_SCRIPT}</script><script>{LIVE_SCRIPT}</script>"
    )
    return _layout(parts.title, body, body_attrs=attrs, token=token)


def _action_form(
    operation: str, question: str, fields: Mapping[str, Any], label: str, extra: str = ""
) -> str:
    """A form the action script posts to ``/actions/<operation>`` after confirmation;
    ``fields`` are fixed members (hidden), ``extra`` the inputs the user fills."""
    hidden = "".join(
        f'<input type="hidden" name="{_h(key)}" value="{_h(value)}"'
        + (' data-int=""' if isinstance(value, int) else "")
        + ">"
        for key, value in fields.items()
    )
    return (
        f'<form class="action" data-action="{_h(operation)}" data-confirm="{_h(question)}">'
        f'{hidden}{extra}<button type="submit">{_h(label)}</button></form>'
    )


def _execution_actions(record: ExecutionRecord, token: str | None) -> str:
    if token is None:
        return ""
    forms = []
    if record.status == "RUNNING":
        forms.append(
            _action_form(
                "StopExecution",
                f"Stop the execution {record.name}? It ends ABORTED.",
                {"executionArn": record.arn},
                "■ Stop",
            )
        )
    if record.status in ("FAILED", "ABORTED", "TIMED_OUT"):
        forms.append(
            _action_form(
                "RedriveExecution",
                f"Redrive the execution {record.name} from its unsuccessful states?",
                {"executionArn": record.arn},
                "↻ Redrive",
            )
        )
    status = '<p id="action-status" class="muted" role="status" aria-live="polite"></p>'
    return f'<div class="actions">{"".join(forms)}</div>{status}' if forms else status


def _json_editor(name: str, label: str, ident: str, value: str = "{}") -> str:
    """A textarea checked as JSON while typed; the form cannot be sent while it is not."""
    return (
        f'<label for="{ident}">{_h(label)}</label>'
        f'<textarea id="{ident}" name="{_h(name)}" data-json="" rows="6" spellcheck="false" '
        f'aria-describedby="{ident}-note">{_h(value)}</textarea>'
        f'<p id="{ident}-note" class="json-note muted" aria-live="polite">valid JSON</p>'
    )


def _waiting(arn: str, tasks: Sequence[WaitingTask], token: str | None) -> str:
    if not tasks:
        return ""
    rows = []
    for n, task in enumerate(tasks):
        answer = ""
        if token is not None:
            fixed = {"executionArn": arn, "entered": task.entered, "attempt": task.attempt}
            answer = _action_form(
                "SendTaskSuccess",
                f"Send success to the task of {visible(task.state)}?",
                fixed,
                "✓ Send success",
                _json_editor("output", "output", f"task-{n}-output"),
            ) + _action_form(
                "SendTaskFailure",
                f"Send failure to the task of {visible(task.state)}?",
                fixed,
                "✗ Send failure",
                '<input name="error" placeholder="error" aria-label="error">'
                '<input name="cause" placeholder="cause" aria-label="cause">',
            )
        rows.append(
            f'<tr data-waiting-state="{_h(task.state)}"><td>{_h(task.state)}</td>'
            f"<td>{_h(task.kind)}</td>"
            f"<td>{_h(task.resource)}</td><td>{_when(task.since)}</td>"
            f"<td><pre>{_h(_pretty(task.input))}</pre></td><td>{answer}</td></tr>"
        )
    return (
        '<section id="waiting"><h2>Waiting for a task answer</h2><table class="nav">'
        "<thead><tr><th>state</th><th>kind</th><th>resource</th><th>since (UTC)</th>"
        f"<th>input</th><th>answer</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</section>"
    )


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _failed_items(run: MapRunView) -> str:
    """A Map Run's failed iterations: index, name, error and cause."""
    if not run.failed:
        return ""
    rows = "".join(
        f"<tr><td>{_h(child.get('index'))}</td><td>{_h(child.get('name') or '')}</td>"
        f"<td>{status_label(str(child.get('status')))}</td>"
        f'<td>{_h(child.get("error") or "")}</td><td class="cause">{_h(child.get("cause") or "")}'
        f"</td><td><pre>{_h(_pretty(child.get('input')))}</pre></td></tr>"
        for child in run.failed
    )
    more = (
        f'<p class="muted">The first {len(run.failed)} failed iterations are shown.</p>'
        if run.more_failed
        else ""
    )
    arn = str(run.document.get("mapRunArn", ""))
    return (
        f'<section class="failed-items"><h2>Failed iterations of {_h(arn)}</h2>'
        '<table class="nav"><thead><tr><th>index</th><th>name</th><th>status</th><th>error</th>'
        f"<th>cause</th><th>input</th></tr></thead><tbody>{rows}</tbody></table>{more}</section>"
    )


def _definition(record: ExecutionRecord) -> Mapping[str, Any] | None:
    try:
        value = record.definition
    except ValueError:
        return None
    return value if isinstance(value, Mapping) else None


# -- one state machine -------------------------------------------------------------------


def machine_page(
    view: MachineView,
    recent: ExecutionPage,
    *,
    token: str | None = None,
) -> str:
    """``/state-machines/<ARN>``: definition, graph, versions and aliases, status counts,
    the newest executions and (with actions) the form that starts one."""
    counts = view.counts
    cells = []
    for status in STATUSES:
        n = counts.counts.get(status, 0)
        link = "/?" + _qs({"machine": counts.arn, "status": status})
        cells.append(f'<li><a href="{_h(link)}">{status_label(status)} {n:,}</a></li>')
    everything = "/?" + _qs({"machine": counts.arn})
    facts = [("ARN", view.arn)]
    if view.record is not None:
        facts += [
            ("type", view.record.type),
            ("created", _when(view.record.creation_date) + " UTC"),
            ("updated", _when(view.record.update_date) + " UTC"),
        ]
        if view.record.description:
            facts.append(("description", view.record.description))
    else:
        facts.append(("source", "not created through the API: the newest execution's definition"))
    rows = "".join(_row(row) for row in recent.rows)
    head = (
        "<tr><th>status</th><th>name</th><th>state machine</th><th>started (UTC)</th>"
        "<th>duration</th><th>error and cause</th></tr>"
    )
    recent_table = (
        f'<table class="nav"><thead>{head}</thead><tbody>{rows}</tbody></table>'
        if recent.rows
        else '<p class="muted">No execution yet.</p>'
    )
    body = (
        f'<div class="page"><h1>{_h(view.name)}</h1><dl class="facts">'
        + "".join(f"<dt>{_h(k)}</dt><dd>{_h(v)}</dd>" for k, v in facts)
        + "</dl>"
        f'<section id="counts"><h2>Executions: <a href="{_h(everything)}">{counts.total:,}</a>'
        f'</h2><ul class="counts">{"".join(cells)}</ul></section>'
        + _start_form(view, token)
        + f'<section id="machine-graph"><h2>Graph</h2>{_machine_graph(view.definition)}</section>'
        + f'<section id="recent"><h2>Newest executions</h2>{recent_table}'
        f'<p><a href="{_h(everything)}">All executions of {_h(view.name)}</a></p></section>'
        + _versions(view)
        + '<section id="definition"><h2>Definition</h2>'
        f"<pre>{_h(_pretty(view.definition))}</pre></section></div>"
    )
    return _layout(_h(view.name), body, token=token)


def _start_form(view: MachineView, token: str | None) -> str:
    if token is None:
        return ""
    if view.record is None:
        return (
            '<section id="start"><h2>Start an execution</h2><p class="muted">Only a state '
            "machine created through the API (CreateStateMachine) can be started here.</p>"
            "</section>"
        )
    extra = (
        '<label for="start-name">name</label><input id="start-name" name="name" '
        'placeholder="a new UUID when empty" maxlength="80">'
        + _json_editor("input", "input (JSON)", "start-input")
    )
    form = _action_form(
        "StartExecution",
        f"Start an execution of {view.name}?",
        {"stateMachineArn": view.arn},
        "▶ Start execution",
        extra,
    )
    return (
        '<section id="start"><h2>Start an execution</h2>'
        f'{form}<p id="action-status" class="muted" role="status" aria-live="polite"></p>'
        "</section>"
    )


def _machine_graph(definition: Mapping[str, Any] | None) -> str:
    if definition is None:
        return '<p class="muted">The definition is not a JSON object.</p>'
    from asl.graph.build import build_graph
    from asl.graph.svg import render_svg

    try:
        return render_svg(build_graph(definition), standalone=False)
    except Exception as exc:  # a broken stored definition: say so, show the rest
        return f'<p class="error">No graph: {_h(type(exc).__name__)}: {_h(exc)}</p>'


def _versions(view: MachineView) -> str:
    if not view.versions and not view.aliases:
        return (
            '<section id="versions"><h2>Versions and aliases</h2>'
            '<p class="muted">None.</p></section>'
        )
    versions = "".join(
        f"<tr><td>{v.version}</td><td>{_h(v.arn)}</td><td>{_h(v.description)}</td>"
        f"<td>{_when(v.creation_date)}</td></tr>"
        for v in view.versions
    )
    aliases = "".join(
        f"<tr><td>{_h(a.name)}</td><td>{_h(a.arn)}</td><td>"
        + ", ".join(
            f"{_h(str(r.get('stateMachineVersionArn', '')).rpartition(':')[2])} "
            f"({_h(r.get('weight'))}%)"
            for r in a.routing
        )
        + f"</td><td>{_h(a.description)}</td></tr>"
        for a in view.aliases
    )
    return (
        '<section id="versions"><h2>Versions and aliases</h2>'
        '<table class="nav"><thead><tr><th>version</th><th>ARN</th><th>description</th>'
        f"<th>created (UTC)</th></tr></thead><tbody>{versions}</tbody></table>"
        '<table class="nav"><thead><tr><th>alias</th><th>ARN</th><th>routing</th>'
        f"<th>description</th></tr></thead><tbody>{aliases}</tbody></table></section>"
    )


# -- waiting tasks, activities, schedules ------------------------------------------------


def tasks_page(
    waiting: Sequence[tuple[ExecutionSummary, Sequence[WaitingTask]]],
    activities: Sequence[tuple[str, str, float]],
    scanned: int,
    *,
    token: str | None = None,
) -> str:
    """``/tasks``: the activities, and the tasks the running executions wait on."""
    blocks = []
    for row, tasks in waiting:
        blocks.append(
            f'<div class="waiting-of"><h3><a href="{_h(execution_url(row.arn))}">'
            f'{_h(row.name)}</a> <span class="muted">{_h(row.state_machine_name)}</span></h3>'
            + _waiting(row.arn, tasks, token)
            + "</div>"
        )
    waiting_html = "".join(blocks) or '<p class="muted">No running execution waits on a task.</p>'
    activity_rows = "".join(
        f"<tr><td>{_h(name)}</td><td>{_h(arn)}</td><td>{_when(created)}</td></tr>"
        for arn, name, created in activities
    )
    activity_table = (
        '<table class="nav"><thead><tr><th>activity</th><th>ARN</th><th>created (UTC)</th>'
        f"</tr></thead><tbody>{activity_rows}</tbody></table>"
        if activities
        else '<p class="muted">No activity was created through the API.</p>'
    )
    body = (
        '<div class="page"><section id="tasks"><h2>Waiting tasks</h2>'
        f'<p class="muted">Running executions looked at (the newest first): {scanned:,}.</p>'
        f'{waiting_html}<p id="action-status" class="muted" role="status" aria-live="polite">'
        f'</p></section><section id="activities"><h2>Activities</h2>{activity_table}</section>'
        "</div>"
    )
    return _layout("Waiting tasks", body, token=token)


def schedules_page(
    schedules: Sequence[tuple[Mapping[str, Any], Sequence[FiringRecord]]],
    *,
    token: str | None = None,
) -> str:
    """``/schedules``: each schedule with its newest firings and what they started."""
    blocks = []
    for spec, firings in schedules:
        target = spec.get("Target") or {}
        rows = "".join(_firing(f) for f in firings)
        runs = (
            '<table class="nav"><thead><tr><th>scheduled (UTC)</th><th>firing</th>'
            "<th>attempts</th><th>execution</th><th>execution status</th><th>error</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
            if firings
            else '<p class="muted">Not fired yet.</p>'
        )
        blocks.append(
            f'<div class="schedule"><h3>{_h(spec.get("Name", ""))} '
            f'<span class="status">{_h(spec.get("State", ""))}</span></h3>'
            f"<p><code>{_h(spec.get('ScheduleExpression', ''))}</code> "
            f"({_h(spec.get('ScheduleExpressionTimezone', 'UTC'))}) → "
            f'<a href="{_h(machine_url(str(target.get("Arn", ""))))}">'
            f"{_h(target.get('Arn', ''))}</a></p>{runs}</div>"
        )
    body = (
        '<div class="page"><section id="schedules"><h2>Schedules</h2>'
        + ("".join(blocks) or '<p class="muted">The store holds no schedule.</p>')
        + "</section></div>"
    )
    return _layout("Schedules", body, token=token)


def _firing(f: FiringRecord) -> str:
    execution = (
        f'<a href="{_h(execution_url(f.execution_arn))}">'
        f"{_h(f.execution_arn.rpartition(':')[2])}</a>"
        if f.execution_arn
        else ""
    )
    status = status_label(f.execution_status) if f.execution_status else ""
    return (
        f"<tr><td>{_when(f.scheduled_time)}</td><td>{_h(f.status)}</td><td>{f.attempts}</td>"
        f"<td>{execution}</td><td>{status}</td><td>{_h(f.error or '')}</td></tr>"
    )
