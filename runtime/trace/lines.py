"""The lines that close a state visit: ``✓`` when it exited, ``⤷`` when a Catch took it."""

from __future__ import annotations

from typing import Any

from runtime.trace.format import Line, format_duration, shorten
from runtime.trace.scopes import Visit

__all__ = ["catch_line", "caught_error", "exit_line", "failed_items", "progress"]


def exit_line(visit: Visit, seconds: float, virtual: bool, variables: str) -> Line:
    """``✓ Name  Type  1.5s  [mock]  after 3 attempts  (+5 more iterations)  x=1 items=[…3]``.

    ``[mock]`` is a Task's source: where its answer came from.
    """
    line: Line = (("✓ ", "ok"), (visit.name, "name"), (f"  {visit.type}  ", "dim"))
    if visit.type == "Wait":
        clock = " (virtual)" if virtual else ""
        line = (*line, (f"waited {format_duration(seconds)}{clock}", "wait"))
    else:
        line = (*line, (format_duration(seconds), ""))
    if visit.source:
        line = (*line, (f"  [{visit.source}]", "dim"))
    if visit.attempt > 1:
        line = (*line, (f"  after {visit.attempt} attempts", "retry"))
    shown_ok, shown_failed = visit.hidden
    if shown_ok or shown_failed:
        more = f"  (+{shown_ok + shown_failed} more iterations"
        more += f", {shown_failed} failed" if shown_failed else ""
        retries = visit.hidden_retries
        more += f", {retries} retr{'y' if retries == 1 else 'ies'})" if retries else ")"
        line = (*line, (more, "dim"))
    if variables:
        line = (*line, ("  " + variables, "var"))
    return line


def catch_line(state: str, error: str, seconds: float, target: str, variables: str) -> Line:
    """``⤷ Name  caught Error → Next  2s  e=1``."""
    line: Line = (
        ("⤷ ", "catch"),
        (state, "name"),
        ("  caught ", "catch"),
        (shorten(error, 60), "error"),
        (" → ", "catch"),
        (target, "name"),
        (f"  {format_duration(seconds)}", "dim"),
    )
    if variables:
        line = (*line, ("  " + variables, "var"))
    return line


def caught_error(output: Any, visit: Visit) -> str:
    """The caught error's name: the Error Output's, else the last failure's."""
    if isinstance(output, dict) and isinstance(output.get("Error"), str):
        return str(output["Error"])
    return visit.error or "an error"


def failed_items(indexes: list[int], shown: int = 10) -> str:
    """``iteration [537]`` or ``iterations [3, 9, 537, +2 more]``: the failed items."""
    listed = ", ".join(str(i) for i in sorted(indexes)[:shown])
    if len(indexes) > shown:
        listed += f", +{len(indexes) - shown} more"
    return f"iteration{'s' if len(indexes) > 1 else ''} [{listed}]"


def progress(done: int, total: int, failed: int, elapsed: float | None) -> str:
    """A Map's progress for the live footer: ``[████░░░░░░] 412/1,000 · 3 failed · ETA 2m``.

    ``elapsed`` is the wall time so far (None on a virtual clock: no ETA)."""
    width = 10
    filled = width * done // total if total else width
    text = f"[{'█' * filled}{'░' * (width - filled)}] {done:,}/{total:,}"
    if failed:
        text += f" · {failed:,} failed"
    if elapsed is not None and 0 < done < total:
        text += f" · ETA {format_duration(elapsed / done * (total - done))}"
    return text
