"""Data flow in the trace: assigned variables on a state's line, and ``--inspect`` stages.

Stage names and order are those of AWS's TestState API (``inspectionData``): input,
afterInputPath, afterParameters or afterArguments, result, afterResultSelector,
afterResultPath, output, then the variables the state assigned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runtime.engine.events import dumps
from runtime.trace.format import Line, shorten

__all__ = ["STAGE_ORDER", "brief", "choice_line", "io_lines", "stage_lines", "variables_text"]

#: TestState's stage keys in the order a state applies them.
STAGE_ORDER = (
    "input",
    "afterInputPath",
    "afterParameters",
    "afterArguments",
    "result",
    "afterResultSelector",
    "afterResultPath",
    "output",
    "variables",
)

_LABEL_WIDTH = max(len(key) for key in STAGE_ORDER) + 1

#: Widest value of one variable on a state's line, and of all of them together.
VALUE_WIDTH = 24
VARIABLES_WIDTH = 70

#: Narrowest a stage's JSON may be cut to, whatever the console width.
MIN_STAGE_WIDTH = 40


def brief(value: Any) -> str:
    """A value in a few characters: ``1``, ``"abc"``, ``[…3]``, ``{…2}``."""
    if isinstance(value, list):
        return f"[…{len(value)}]" if value else "[]"
    if isinstance(value, dict):
        return f"{{…{len(value)}}}" if value else "{}"
    return shorten(dumps(value), VALUE_WIDTH)


def variables_text(assigned: Mapping[str, Any]) -> str:
    """``x=1 items=[…3]``: what a state assigned, shortened to one short line."""
    text = " ".join(f"{name}={brief(value)}" for name, value in assigned.items())
    return shorten(text, VARIABLES_WIDTH)


def stage_lines(inspection: Mapping[str, Any], width: int) -> list[Line]:
    """One line per stage, in TestState's order; a stage equal to the one before it says so.

    ``width`` is the room for the JSON text (it is cut with an ellipsis beyond).
    """
    lines: list[Line] = []
    room = max(width - _LABEL_WIDTH - 4, MIN_STAGE_WIDTH)
    previous: str | None = None
    for key in STAGE_ORDER:
        if key not in inspection:
            continue
        text = dumps(inspection[key])
        if key != "variables" and text == previous:
            shown, style = "(unchanged)", "dim"
        else:
            shown, style = shorten(text, room), ""
        if key != "variables":
            previous = text
        lines.append((("  │ ", "dim"), (key.ljust(_LABEL_WIDTH), "label"), (shown, style)))
    return lines


def io_lines(input: Any, output: Any, width: int) -> list[Line]:
    """Input and output only: the fallback when the execution recorded no stages."""
    inspection = {"input": input, "output": output}
    return stage_lines(inspection, width)


def choice_line(choice: Mapping[str, Any], rules: Any, width: int) -> Line:
    """``│ rule  #2  $.n > 3  ($.n = 5)``: the Choice rule that matched and what it read.

    ``choice`` is the engine's note (``{"rule": index or "Default", "values": {...}}``),
    ``rules`` the state's ``Choices`` as written (to draw the rule's text).
    """
    from asl.graph.labels import rule_label

    index = choice.get("rule")
    if not isinstance(index, int):
        return (("  │ ", "dim"), ("rule".ljust(_LABEL_WIDTH), "label"), ("Default", ""))
    rule = rules[index] if isinstance(rules, list) and index < len(rules) else None
    text = f"#{index + 1}  {rule_label(rule)}" if rule is not None else f"#{index + 1}"
    values = choice.get("values") or {}
    if values:
        read = ", ".join(f"{path} = {brief(value)}" for path, value in values.items())
        text += f"  ({read})"
    room = max(width - _LABEL_WIDTH - 4, MIN_STAGE_WIDTH)
    return (("  │ ", "dim"), ("rule".ljust(_LABEL_WIDTH), "label"), (shorten(text, room), ""))
