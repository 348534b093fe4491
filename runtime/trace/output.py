"""Where trace lines go: a buffer flushed at most every :data:`FLUSH_SECONDS`, a line
budget, and on a terminal a transient rich ``Live`` footer listing the running states.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.live import Live
from rich.text import Text

from runtime.trace.format import Line, Lines, format_duration, shorten, visible
from runtime.trace.scopes import Scope

__all__ = ["FLUSH_SECONDS", "Output", "error_pieces", "footer_text"]

#: Longest wall-clock delay between an event and its line reaching the screen.
FLUSH_SECONDS = 0.1

#: Running states listed in the live footer.
FOOTER_ROWS = 6

#: What the footer lists: frame label → (state name, state type, wall time entered, what
#: it waits for or "").
Running = dict[str, tuple[str, str, float, str]]


class Output:
    """The trace's printer; ``line`` is cheap, printing happens at ``flush``."""

    def __init__(
        self,
        console: Console,
        max_lines: int,
        wall: Callable[[], float],
        footer: Callable[[], Text],
        refresh_per_second: float,
    ) -> None:
        self.console = console
        self.max_lines = max_lines
        self.wall = wall
        self.width = console.width
        self.next_flush = wall() + FLUSH_SECONDS
        self.pending: list[Line] = []
        self.printed = 0
        self.dropped = 0
        self.live: Live | None = None
        if console.is_terminal and not console.is_dumb_terminal:
            self.live = Live(
                _Footer(footer),
                console=console,
                refresh_per_second=refresh_per_second,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.live.start()

    def shown(self, scope: Scope) -> bool:
        """Whether a line of ``scope`` would be printed (to skip building it otherwise)."""
        if scope.hidden:
            return False
        if self.printed >= self.max_lines:
            self.dropped += 1
            return False
        return True

    def line(self, scope: Scope, *pieces: tuple[str, str]) -> None:
        """Queue one line of ``scope``, indented and labelled by its nesting."""
        if not self.shown(scope):
            return
        self.printed += 1
        if scope.depth:
            pieces = (("  " * scope.depth, ""), (scope.label + " ", "label"), *pieces)
        self.pending.append(self.fit(pieces))

    def always(self, line: Line) -> None:
        """Queue a line that the budget does not stop (the outcome)."""
        self.note_dropped()
        self.pending.append(self.fit(line))

    def fit(self, line: Line) -> Line:
        """Shorten a trailing error text so that the line fits the console."""
        if line[-1][1] != "error":
            return line
        used = sum(len(text) for text, _ in line[:-1])
        text = shorten(line[-1][0], max(30, self.width - used))
        return (*line[:-1], (text, "error"))

    def note_dropped(self) -> None:
        if self.dropped:
            note = f"… {self.dropped:,} more trace lines not shown (max_lines={self.max_lines})"
            self.pending.append(((note, "dim"),))
            self.dropped = 0

    def flush(self) -> None:
        """Print the queued lines."""
        lines, self.pending = self.pending, []
        self.next_flush = self.wall() + FLUSH_SECONDS
        if lines:
            self.console.print(Lines(lines), highlight=False, markup=False)

    def close(self) -> None:
        """Print what is queued and stop the footer."""
        self.note_dropped()
        self.flush()
        if self.live is not None:
            self.live.stop()
            self.live = None


class _Footer:
    """The Live renderable: asks for the footer text at each refresh."""

    __slots__ = ("render",)

    def __init__(self, render: Callable[[], Text]) -> None:
        self.render = render

    def __rich__(self) -> Text:
        return self.render()


def footer_text(running: Running, entered: int, now: float, start: float) -> Text:
    """The live footer: the states running now, then the counts so far.

    Called from rich's refresh thread: ``running`` is copied in one C-level call, which
    the GIL keeps whole (keys and values are str and tuples, no Python code runs).
    """
    try:
        rows = tuple(running.items())
    except RuntimeError:  # pragma: no cover - changed size meanwhile; next refresh
        rows = ()
    text = Text()
    for label, (name, kind, since, waits) in rows[:FOOTER_ROWS]:
        text.append("⋯ ", style="cyan")
        if label:
            text.append(visible(label) + " ", style="blue")
        text.append(visible(name), style="bold")
        text.append(f"  {visible(kind)}  {format_duration(now - since)}", style="dim")
        if waits:
            text.append(f"  {visible(waits)}", style="yellow")
        text.append("\n")
    if len(rows) > FOOTER_ROWS:
        text.append(f"⋯ and {len(rows) - FOOTER_ROWS} more running\n", style="dim")
    text.append(f"states entered: {entered:,} · wall time: {format_duration(now - start)}")
    return text


def error_pieces(error: str, cause: str | None) -> tuple[tuple[str, str], ...]:
    """``Error: cause`` on one line, as the last piece (shortened by :meth:`Output.fit`)."""
    text = shorten(error, 80)
    if cause:
        text += ": " + shorten(cause, 400)
    return ((text, "error"),)
