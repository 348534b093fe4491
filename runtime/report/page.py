"""Assemble the self-contained HTML execution report (inline CSS, JS and SVG)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from asl.graph import build_graph, render_svg
from asl.graph.svg import STYLE as GRAPH_STYLE
from asl.graph.text import visible
from runtime.report.assets import CSS, SCRIPT
from runtime.report.history import Event, ExecutionSummary, summarise
from runtime.report.visits import OUTCOMES, Lane, Visit, build_visits, last_redrive, latest_outcomes
from runtime.trace.format import format_duration

__all__ = ["ReportParts", "render_report", "report_parts"]

_DETAIL_CHARS = 400


#: In JSON text inside ``<script>``: ``<`` would let ``</script>`` or ``<!--`` end or
#: derail the element, ``&`` and ``>`` complete the set HTML treats specially. The JSON
#: escapes mean the same characters to ``JSON.parse``.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _script_json(value: Any) -> str:
    """JSON text safe as the body of a ``<script>`` element.

    ``ensure_ascii`` also escapes U+2028, U+2029 and lone surrogates (which could not be
    written as UTF-8); the translation takes care of the HTML-significant characters.
    """
    return json.dumps(value, ensure_ascii=True, default=str).translate(_SCRIPT_SAFE)


def _h(text: Any) -> str:
    """Any history or definition text as HTML text or a quoted attribute value."""
    return escape(visible(str(text)), quote=True)


def _duration(seconds: float) -> str:
    """``250ms``, ``1.5s``, ``1m 24s``: as the trace writes durations."""
    return format_duration(seconds)


#: AWS TestState's stage keys, in the order a state applies them, with their labels.
TESTSTATE_STAGES = (
    ("input", "Input"),
    ("afterInputPath", "After InputPath"),
    ("afterParameters", "After Parameters"),
    ("afterArguments", "After Arguments"),
    ("result", "Result"),
    ("afterResultSelector", "After ResultSelector"),
    ("afterResultPath", "After ResultPath"),
    ("output", "Output"),
    ("variables", "Assigned variables"),
)


def _stages(visit: Visit) -> list[tuple[str, Any]]:
    """The visit's data flow: TestState's stages when recorded, else what the history has."""
    if visit.inspection is not None:
        inspection = visit.inspection
        return [(label, inspection[key]) for key, label in TESTSTATE_STAGES if key in inspection]
    return _history_stages(visit)


def _history_stages(visit: Visit) -> list[tuple[str, Any]]:
    stages: list[tuple[str, Any]] = [("Input", visit.input)]
    for i, params in enumerate(visit.parameters):
        label = "Effective input" + (f" (attempt {i + 1})" if len(visit.parameters) > 1 else "")
        stages.append((label, params))
    if visit.has_result:
        stages.append(("Result", visit.result))
    if visit.exited:
        stages.append(("Output", visit.output))
    if visit.assigned:
        stages.append(("Assigned variables", visit.assigned))
    return stages


def _visit_doc(visit: Visit, lanes: Mapping[str, Lane]) -> dict[str, Any]:
    return {
        "status": visit.status,
        "lane": lanes[visit.lane].label,
        "duration": _duration(visit.end - visit.start),
        "attempts": visit.attempts,
        "stages": _stages(visit),
        "inspected": visit.inspection is not None,
        "errors": [list(e) for e in visit.errors],
    }


def _data(visits: Sequence[Visit], lanes: Mapping[str, Lane]) -> str:
    states: dict[str, list[dict[str, Any]]] = {}
    for visit in visits:
        # Keyed as the page shows the name (data-state attributes), control characters spelled.
        states.setdefault(visible(visit.state), []).append(_visit_doc(visit, lanes))
    failed = next((v.state for v in reversed(visits) if v.status == "failed"), None)
    doc = {"states": states, "initial": None if failed is None else visible(failed)}
    return _script_json(doc)


def _graph(
    definition: Mapping[str, Any], outcomes: Mapping[str, str], visits: Sequence[Visit]
) -> str:
    graph = build_graph(definition)
    classes = {node.id: (f"st-{outcomes.get(node.name, 'not-visited')}",) for node in graph.nodes()}
    return render_svg(graph, classes=classes, standalone=False, taken=_taken(visits))


def _taken(visits: Sequence[Visit]) -> set[tuple[str, str]]:
    """The transitions the execution made: one state to the next on each lane."""
    last: dict[str, str] = {}
    taken: set[tuple[str, str]] = set()
    for visit in sorted(visits, key=lambda v: v.entered_id):
        before = last.get(visit.lane)
        if before is not None:
            taken.add((before, visit.state))
        last[visit.lane] = visit.state
    return taken


def _legend() -> str:
    keys = [*OUTCOMES, "not-visited"]
    items = "".join(f'<span><i class="k-{k}"></i>{k.replace("-", " ")}</span>' for k in keys)
    return f'<div class="legend">{items}</div>'


def _axis(events: Sequence[Event]) -> dict[int, float]:
    """Event id → x in percent: half event order, half elapsed time.

    Pure time would squeeze every instant state to one point (a virtual clock makes most
    of them instant); pure order would hide durations. The blend keeps both readable and
    is still monotonic in time.
    """
    if not events:
        return {}
    start, span = events[0].timestamp, events[-1].timestamp - events[0].timestamp
    count = max(len(events) - 1, 1)
    weight = 0.5 if span > 0 else 0.0
    return {
        e.id: 96 * ((1 - weight) * k / count + weight * (e.timestamp - start) / (span or 1))
        for k, e in enumerate(events)
    }


def _bar(visit: Visit, axis: Mapping[int, float]) -> str:
    left = axis.get(visit.entered_id, 0.0)
    width = max(axis.get(visit.event_ids[-1], left) - left, 0.0) + 2
    tip = _h(f"{visit.state}: {visit.status}, {_duration(visit.end - visit.start)}")
    return (
        f'<div class="bar {visit.status}" data-state="{_h(visit.state)}" title="{tip}" '
        f'style="left:{left:.2f}%;width:{width:.2f}%">{_h(visit.state)} '
        f"{_duration(visit.end - visit.start)}</div>"
    )


def _timeline(lanes: Sequence[Lane], visits: Sequence[Visit], events: Sequence[Event]) -> str:
    axis = _axis(events)
    rows = []
    for lane in lanes:
        bars = [_bar(v, axis) for v in visits if v.lane == lane.key]
        if bars:
            pad = f"padding-left:{lane.depth * 12}px"
            rows.append(
                f'<div class="lane"><div class="lane-label" style="{pad}">{_h(lane.label)}'
                f'</div><div class="track">{"".join(bars)}</div></div>'
            )
    note = "bars follow event order and elapsed time; each bar shows the state's duration"
    return f'<p class="muted">{note}</p>{"".join(rows)}'


def _offset(seconds: float) -> str:
    """Time since the start, to the millisecond under a minute: ``84ms``, ``12.345s``,
    ``1m 24.6s``, ``2h 5m``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.3f}s"
    if seconds < 3600:
        minutes = int(seconds // 60)
        return f"{minutes}m {seconds - 60 * minutes:.1f}s"
    return format_duration(seconds)


def _event_rows(events: Sequence[Event], visits: Sequence[Visit], start: float) -> str:
    state_of = {eid: v.state for v in visits for eid in v.event_ids}
    rows = []
    for e in events:
        detail = _json(e.details) if e.details else ""
        short = detail if len(detail) <= _DETAIL_CHARS else detail[:_DETAIL_CHARS] + "…"
        name = state_of.get(e.id, "")
        attr = f' data-state="{_h(name)}"' if name else ""
        cls = ' class="fail"' if "error" in e.details else ""
        rows.append(
            f'<tr{cls}{attr} data-type="{_h(e.type)}"><td>{e.id}</td>'
            f"<td>{e.previous_event_id}</td>"
            f"<td>+{_offset(e.timestamp - start)}</td><td>{_h(e.type)}</td>"
            f"<td>{_h(name)}</td><td><pre>{_h(short)}</pre></td></tr>"
        )
    head = "<tr><th>id</th><th>prev</th><th>time</th><th>type</th><th>state</th><th>details</th>"
    types = sorted({e.type for e in events})
    options = "".join(f'<option value="{_h(t)}">{_h(t)}</option>' for t in types)
    filters = (
        '<div class="filters"><input id="event-search" type="search" '
        'placeholder="search type, state or details" aria-label="search the events">'
        f'<select id="event-type" aria-label="event type"><option value="">every type</option>'
        f"{options}</select>"
        '<label><input id="event-failures" type="checkbox"> failures only</label>'
        f'<span id="event-count" class="muted">{len(events):,} events</span></div>'
    )
    table = f"<table><thead>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return filters + table


def _header(summary: ExecutionSummary) -> str:
    parts = [
        f'<h1><span class="badge {_h(summary.status)}">{_h(summary.status)}</span>'
        f"{_h(summary.name or 'execution')}</h1>",
        f'<div class="muted">duration {_duration(summary.stop - summary.start)}</div>',
    ]
    if summary.error or summary.cause:
        parts.append(
            f'<div class="error"><b>{_h(summary.error or "")}</b> {_h(summary.cause or "")}</div>'
        )
    return f"<header>{''.join(parts)}</header>"


def _map_runs(events: Sequence[Event], documents: Sequence[Mapping[str, Any]]) -> str:
    """The Map Run panel: each run's settings and counters (from ``documents``), or what
    the history says of it (its ARN and how it ended)."""
    ended = {"MapRunSucceeded": "SUCCEEDED", "MapRunFailed": "FAILED", "MapRunAborted": "ABORTED"}
    arns: list[str] = []
    outcome: dict[int, str] = {}
    by_start: dict[int, str] = {}
    for event in events:
        if event.type == "MapRunStarted":
            arn = str(event.details.get("mapRunArn", ""))
            by_start[event.id] = arn
            if arn not in arns:
                arns.append(arn)
        elif event.type in ended and event.previous_event_id in by_start:
            outcome[event.previous_event_id] = ended[event.type]
    known = {str(doc.get("mapRunArn")): doc for doc in documents}
    arns += [arn for arn in known if arn not in arns]
    if not arns:
        return ""
    status = {by_start[i]: value for i, value in outcome.items()}
    blocks = [_map_run(arn, known.get(arn), status.get(arn, "RUNNING")) for arn in arns]
    return f'<section id="map-runs" class="wide"><h2>Map Runs</h2>{"".join(blocks)}</section>'


def _map_run(arn: str, doc: Mapping[str, Any] | None, status: str) -> str:
    if doc is None:
        return (
            f'<div class="map-run"><h3><span class="badge {_h(status)}">{_h(status)}</span>'
            f'{_h(arn)}</h3><p class="muted">Counters are not in the history: '
            "<code>asl report --store</code> reads them from the store.</p></div>"
        )
    status = str(doc.get("status", status))
    settings = [
        ("started", _stamp(doc.get("startDate"))),
        ("stopped", _stamp(doc.get("stopDate"))),
        ("max concurrency", doc.get("maxConcurrency")),
        ("tolerated failure %", doc.get("toleratedFailurePercentage")),
        ("tolerated failure count", doc.get("toleratedFailureCount")),
        ("redrives", doc.get("redriveCount")),
    ]
    facts = "".join(f"<dt>{_h(k)}</dt><dd>{_h(v)}</dd>" for k, v in settings if v is not None)
    items, runs = doc.get("itemCounts") or {}, doc.get("executionCounts") or {}
    rows = "".join(
        f"<tr><td>{_h(key)}</td><td>{_h(items.get(key, 0))}</td>"
        f"<td>{_h(runs.get(key, 0))}</td></tr>"
        for key in items or runs
    )
    return (
        f'<div class="map-run"><h3><span class="badge {_h(status)}">{_h(status)}</span>'
        f"{_h(arn)}</h3><dl>{facts}</dl><table><thead><tr><th>counter</th><th>items</th>"
        f"<th>child executions</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _stamp(value: Any) -> str | None:
    if value is None:
        return None
    from runtime.engine.events import iso_timestamp

    return iso_timestamp(float(value))


@dataclass(frozen=True, slots=True)
class ReportParts:
    """The pieces of the report page, for pages that frame them differently (the console)."""

    #: The ``<title>`` text, escaped.
    title: str
    #: ``<header>``: status badge, name, duration, error and cause.
    header: str
    #: The inside of ``<main>``: graph, data-flow panel, timeline, events.
    main: str
    #: The ``<script type="application/json" id="asl-data">`` element the script reads.
    data: str


def report_parts(
    events: Sequence[Event],
    definition: Mapping[str, Any] | None,
    *,
    name: str = "",
    map_runs: Sequence[Mapping[str, Any]] = (),
    outcomes: Mapping[str, str] | None = None,
) -> ReportParts:
    """The report's pieces; ``map_runs`` are DescribeMapRun documents for the Map Run
    panel's counters; ``outcomes`` (state name → ``st-*`` suffix) replaces the colours the
    finished visits give (a live view marks open visits ``running``); after a redrive the
    latest visits give a state's colour."""
    summary = summarise(events, name)
    lanes, visits = build_visits(events)
    lane_map = {lane.key: lane for lane in lanes}
    colours = latest_outcomes(visits, last_redrive(events)) if outcomes is None else outcomes
    graph = _graph(definition, colours, visits) if definition is not None else ""
    table = _event_rows(events, visits, summary.start)
    main = f"""
<section id="graph"><h2>Graph</h2>{_legend()}{graph or '<p class="muted">No definition given.</p>'}
</section>
<aside id="flow"><h2>Data flow: <span id="flow-title">click a state</span></h2>
<div id="flow-body"><p class="muted">Click a state in the graph or the timeline.</p></div></aside>
<section id="timeline" class="wide"><h2>Timeline</h2>{_timeline(lanes, visits, events)}</section>
{_map_runs(events, map_runs)}
<section id="events" class="wide"><h2>Events</h2>{table}</section>
"""
    data = f'<script type="application/json" id="asl-data">{_data(visits, lane_map)}</script>'
    title = _h(f"{summary.status} · {name or 'execution'}")
    return ReportParts(title, _header(summary), main, data)


def render_report(
    events: Sequence[Event],
    definition: Mapping[str, Any] | None,
    *,
    name: str = "",
    map_runs: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The HTML report of one execution; the graph needs the ``definition``; ``map_runs``
    are DescribeMapRun documents for the Map Run panel's counters."""
    parts = report_parts(events, definition, name=name, map_runs=map_runs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{parts.title} · asl report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{CSS}{GRAPH_STYLE}</style></head>
<body>{parts.header}
<main>{parts.main}</main>
{parts.data}
<script>{SCRIPT}</script>
</body></html>
"""
