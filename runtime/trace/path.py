"""The path an execution took: its top-level states in order, with repeats compressed.

``Check → Try → Recover → Check → Try → Recover → Done`` reads
``(Check → Try → Recover) ×2 → Done``. The compression is greedy from the left: at each
position it takes the block (of at most :data:`MAX_PERIOD` states) whose back-to-back
repeats cover the most states, then compresses inside that block the same way. It is
faithful: expanding the text gives the sequence back (until :data:`MAX_PIECES` cuts it).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MAX_PERIOD", "MAX_PIECES", "compress_path"]

#: Longest block of states looked for as a repeat (a loop body of up to 8 states).
MAX_PERIOD = 8

#: Pieces shown before the middle of a long path is cut.
MAX_PIECES = 24

#: Longest state name shown (a name may be 80 characters long).
NAME_WIDTH = 40

ARROW = " → "


def compress_path(names: Sequence[str], max_pieces: int = MAX_PIECES) -> str:
    """``names`` joined by arrows, repeats as ``name ×n`` or ``(a → b) ×n``.

    When more than ``max_pieces`` pieces remain, the middle is replaced by ``… n more …``.
    """
    pieces = _pieces(names)
    if len(pieces) > max_pieces:
        head = max_pieces * 2 // 3
        tail = max_pieces - head
        cut = len(pieces) - head - tail
        pieces = [*pieces[:head], f"… {cut:,} more …", *pieces[-tail:]]
    return ARROW.join(pieces)


def _pieces(names: Sequence[str]) -> list[str]:
    pieces: list[str] = []
    i, count = 0, len(names)
    while i < count:
        period, repeats = _best_repeat(names, i)
        if repeats < 2:
            pieces.append(_name(names[i]))
            i += 1
            continue
        block = _pieces(names[i : i + period])
        body = block[0] if len(block) == 1 and period == 1 else f"({ARROW.join(block)})"
        pieces.append(f"{body} ×{repeats:,}")
        i += period * repeats
    return pieces


def _best_repeat(names: Sequence[str], start: int) -> tuple[int, int]:
    """The (period, repeats) at ``start`` covering most states; shortest period on ties."""
    best_period, best_repeats, best_cover = 1, 1, 1
    limit = min(MAX_PERIOD, (len(names) - start) // 2)
    for period in range(1, limit + 1):
        repeats = _repeats(names, start, period)
        if repeats >= 2 and period * repeats > best_cover:
            best_period, best_repeats, best_cover = period, repeats, period * repeats
    return best_period, best_repeats


def _repeats(names: Sequence[str], start: int, period: int) -> int:
    """How many times ``names[start:start + period]`` occurs back to back from ``start``."""
    end = start + period
    count = len(names)
    while end + period <= count and all(names[end + k] == names[start + k] for k in range(period)):
        end += period
    return (end - start) // period


def _name(name: str) -> str:
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"
