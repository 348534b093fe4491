"""The HTML execution report: where a run went and how data changed, state by state.

    >>> from runtime import run_sync
    >>> from runtime.report import report_html
    >>> machine = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    >>> html = report_html(run_sync(machine, {"x": 1}), machine)
    >>> html.startswith("<!DOCTYPE html>")
    True

One file, no network: CSS, JavaScript and the SVG graph are inline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asl.commandline import write_whole
from runtime.report.history import Event, load_history, parse_events
from runtime.report.page import render_report

if TYPE_CHECKING:
    from runtime.api import ExecutionResult

__all__ = ["Event", "load_history", "parse_events", "render_report", "report_html", "write_report"]


def _events(history: Any) -> tuple[Event, ...]:
    if isinstance(history, str | Path):
        return load_history(history)
    if hasattr(history, "history_json"):
        return _with_inspection(parse_events(history.history_json()), history.history)
    if all(isinstance(event, Event) for event in history):
        return tuple(history)
    return parse_events(history)


def _with_inspection(events: tuple[Event, ...], live: Sequence[Any]) -> tuple[Event, ...]:
    """Carry each live event's ``inspection`` (dropped by the AWS export) to its Event."""
    stages = {e.id: e.inspection for e in live if getattr(e, "inspection", None) is not None}
    if not stages:
        return events
    return tuple(
        dataclasses.replace(e, inspection=stages[e.id]) if e.id in stages else e for e in events
    )


def report_html(
    history: ExecutionResult | Sequence[Mapping[str, Any]] | Sequence[Event] | str | Path,
    definition: Mapping[str, Any] | None,
    *,
    name: str = "",
    map_runs: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """The report as HTML text.

    ``history`` is an :class:`~runtime.api.ExecutionResult`, a list of AWS-shaped events
    (or of parsed :class:`Event`), or the path of a history file (``{"events": [...]}``,
    as ``asl exec --history`` writes). A result of a run with ``inspect=True`` gives every
    state visit the stages of AWS's TestState API; otherwise the report shows what the
    history holds (input, each call's parameters, the result, output, variables).
    ``map_runs`` (DescribeMapRun documents; a result's own by default) fill the Map Run
    panel with their counters.
    """
    if not name and hasattr(history, "name"):
        name = str(history.name)
    runs = map_runs if map_runs is not None else getattr(history, "map_runs", ())
    return render_report(_events(history), definition, name=name, map_runs=runs)


def write_report(
    path: str | Path,
    history: ExecutionResult | Sequence[Mapping[str, Any]] | Sequence[Event] | str | Path,
    definition: Mapping[str, Any] | None,
    *,
    name: str = "",
) -> None:
    """Write the report of ``history`` to ``path`` (see :func:`report_html`)."""
    write_whole(path, report_html(history, definition, name=name))
