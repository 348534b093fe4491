"""Text pieces of the trace: durations, shortened causes, and lines rendered cheaply.

A trace line is a tuple of ``(text, style name)`` pieces, never parsed as rich markup and
shown with control characters spelled out (:func:`visible`). Lines are built on the hot path
(the observer runs for every history event), so building one must be cheap: no
:class:`rich.text.Text`, no markup parsing. :class:`Lines` turns a batch of them into
rich segments at flush time, about 10 µs a line against ~250 µs for ``console.print`` of
one ``Text`` (measured with rich 15).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style

from asl.graph.text import visible

__all__ = ["STYLES", "Line", "Lines", "format_duration", "shorten", "visible"]

#: One trace line: ``(text, style name)`` pieces; style names are keys of :data:`STYLES`.
Line = tuple[tuple[str, str], ...]

#: The few styles the trace uses, parsed once.
STYLES: dict[str, Style | None] = {
    "": None,
    "ok": Style.parse("green"),
    "fail": Style.parse("bold red"),
    "error": Style.parse("red"),
    "retry": Style.parse("yellow"),
    "catch": Style.parse("magenta"),
    "fan": Style.parse("cyan"),
    "name": Style.parse("bold"),
    "label": Style.parse("blue"),
    "dim": Style.parse("dim"),
    "wait": Style.parse("blue"),
    "var": Style.parse("cyan"),
}

_SPACES = re.compile(r"\s+")

#: (upper bound in seconds, unit size, unit name, next unit size, next unit name)
_UNITS = (
    (3600.0, 60.0, "m", 1.0, "s"),
    (86400.0, 3600.0, "h", 60.0, "m"),
    (float("inf"), 86400.0, "d", 3600.0, "h"),
)


def format_duration(seconds: float) -> str:
    """A duration for people: ``0ms``, ``250ms``, ``1.5s``, ``3m 5s``, ``4h 12m``, ``3d 4h``."""
    if seconds < 0:
        seconds = 0.0
    if seconds < 1:
        ms = seconds * 1000
        if 0 < ms < 1:
            return "<1ms"
        return f"{ms:.0f}ms"
    if seconds < 60:
        text = f"{seconds:.1f}".removesuffix(".0")
        return f"{text}s"
    for bound, big, big_name, small, small_name in _UNITS:
        if seconds < bound:
            whole = int(seconds // big)
            rest = int((seconds - whole * big) // small)
            return f"{whole}{big_name} {rest}{small_name}" if rest else f"{whole}{big_name}"
    raise AssertionError("unreachable: the last bound is infinite")  # pragma: no cover


def shorten(value: Any, width: int = 120) -> str:
    """``value`` on one line, at most ``width`` characters (an ellipsis marks a cut)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > width or "\n" in text or "  " in text:
        text = _SPACES.sub(" ", text).strip()
    if len(text) > width:
        text = text[: max(width - 1, 0)] + "…"
    return text


class Lines:
    """A batch of trace lines, rendered as segments without wrapping or measuring."""

    __slots__ = ("lines",)

    def __init__(self, lines: Sequence[Line]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        newline = Segment.line()
        for line in self.lines:
            yield from _segments(line)
            yield newline


def _segments(line: Iterable[tuple[str, str]]) -> Iterator[Segment]:
    # Segments reach the terminal as they are: a state name or a cause holding ESC would
    # set the window title or clear the screen, so control characters are spelled out.
    for text, style in line:
        yield Segment(visible(text), STYLES[style])
