"""What the trace counts while it watches, and the summary table it prints at the end."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from runtime.trace.format import format_duration, shorten, visible

__all__ = ["StateStats", "TraceStats", "summary_table"]

#: Rows of the per-state table; the rest are counted in one last row.
MAX_STATE_ROWS = 40

_STATUS_STYLE = {"SUCCEEDED": "bold green", "RUNNING": "bold yellow"}


class StateStats:
    """Counts for one state name over the whole execution (all frames)."""

    __slots__ = ("caught", "entered", "failures", "retries", "seconds", "type")

    def __init__(self, type: str) -> None:
        self.type = type
        #: Visits (StateEntered events).
        self.entered = 0
        #: Execution-clock seconds spent in visits that exited.
        self.seconds = 0.0
        #: Attempts after the first (Retry).
        self.retries = 0
        #: Failed attempts, retried, caught or not.
        self.failures = 0
        #: Visits that ended in a Catch.
        self.caught = 0


class TraceStats:
    """Counts for the whole execution."""

    __slots__ = ("caught", "events", "retries", "states")

    def __init__(self) -> None:
        self.events = 0
        self.retries = 0
        self.caught = 0
        self.states: dict[str, StateStats] = {}

    def state(self, name: str, type: str) -> StateStats:
        """The counters of ``name``, created on first use (first-seen order is kept)."""
        found = self.states.get(name)
        if found is None:
            found = self.states[name] = StateStats(type)
        return found


def summary_table(
    result: Any, stats: TraceStats, wall_seconds: float, virtual: bool, path: str = ""
) -> Group:
    """The end-of-run summary: the outcome (with the ``path`` taken), then one row per state."""
    outcome = _outcome(result, stats, wall_seconds, virtual, path)
    return Group(Text(""), outcome, _per_state(stats))


def _outcome(
    result: Any, stats: TraceStats, wall_seconds: float, virtual: bool, path: str
) -> Table:
    table = Table(title="Execution summary", show_header=False, title_justify="left")
    table.add_column("what", style="dim")
    table.add_column("value")
    status = str(result.status)
    table.add_row("status", Text(status, style=_STATUS_STYLE.get(status, "bold red")))
    if result.error is not None:
        table.add_row("error", _text(shorten(result.error, 80), "red"))
    if result.cause is not None:
        table.add_row("cause", _text(shorten(result.cause, 200), "red"))
    table.add_row("states entered", f"{result.transitions:,}")
    clock = " (virtual clock)" if virtual else ""
    table.add_row("duration", format_duration(result.stop_time - result.start_time) + clock)
    table.add_row("wall time", format_duration(wall_seconds))
    table.add_row("retries", f"{stats.retries:,}")
    table.add_row("caught errors", f"{stats.caught:,}")
    table.add_row("history events", f"{len(result.history):,}")
    if path:
        table.add_row("path", _text(path))
    return table


def _per_state(stats: TraceStats) -> Table:
    table = Table(title="States", title_justify="left")
    table.add_column("state")
    table.add_column("type", style="dim")
    for heading in ("entered", "time", "retries", "failed", "caught"):
        table.add_column(heading, justify="right")
    rows = list(stats.states.items())
    for name, row in rows[:MAX_STATE_ROWS]:
        table.add_row(
            _text(shorten(name, 40)),
            _text(row.type),
            f"{row.entered:,}",
            format_duration(row.seconds),
            _count(row.retries),
            _count(row.failures),
            _count(row.caught),
        )
    if len(rows) > MAX_STATE_ROWS:
        table.add_row(f"… {len(rows) - MAX_STATE_ROWS} more states", "", "", "", "", "", "")
    return table


def _text(text: str, style: str = "") -> Text:
    """A cell from execution data: a ``Text``, so ``[/x]`` in a name is not rich markup."""
    return Text(visible(text), style=style)


def _count(value: int) -> str:
    return f"{value:,}" if value else ""
