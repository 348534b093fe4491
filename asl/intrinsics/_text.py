"""Text helpers shared by the intrinsic functions: ``States.Format`` templates and renderings.

``States.Format`` (DG:intrinsic-functions) replaces each ``{}`` of its template with the
positionally matching argument. ``\\{`` and ``\\}`` are literal braces; a ``{`` that does not
open ``{}`` and a lone ``}`` are template errors, which AWS reports when the state runs (the
definition is accepted). Values render the way AWS's Java implementation prints them:
strings bare, ``null``/``true``/``false``, objects as ``{k=v, k2=v2}`` and arrays as
``[a, b]`` (conformance ``generic.format_2.7``; LS ``string_format.py``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Template", "TemplateError", "compact_json", "parse_template", "render_value"]

#: The characters a backslash may escape inside an intrinsic string (DG:intrinsic-functions,
#: "Reserved characters in intrinsic functions").
ESCAPABLE = frozenset("'{}\\")


class TemplateError(ValueError):
    """Raised when a ``States.Format`` template has an unmatched brace."""


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed ``States.Format`` template: literal text around ``placeholders`` slots."""

    #: The literal pieces; there is always one more piece than there are placeholders.
    pieces: tuple[str, ...]

    @property
    def placeholders(self) -> int:
        """How many ``{}`` the template holds."""
        return len(self.pieces) - 1

    def fill(self, values: list[str]) -> str:
        """Interleave the rendered ``values`` (one per placeholder) with the pieces."""
        parts = [self.pieces[0]]
        for value, piece in zip(values, self.pieces[1:], strict=True):
            parts.append(value)
            parts.append(piece)
        return "".join(parts)


def parse_template(raw: str) -> Template:
    """Split ``raw`` (escapes not yet resolved) at its ``{}`` placeholders.

    Raises :class:`TemplateError` for a ``{`` not followed by ``}`` and for a lone ``}``;
    AWS's cause then reads "matching '}' not found for '{'".
    """
    pieces: list[str] = []
    current: list[str] = []
    i, end = 0, len(raw)
    while i < end:
        char = raw[i]
        if char == "\\" and i + 1 < end and raw[i + 1] in ESCAPABLE:
            current.append(raw[i + 1])
            i += 2
            continue
        if char == "{":
            if i + 1 >= end or raw[i + 1] != "}":
                raise TemplateError("matching '}' not found for '{'.")
            pieces.append("".join(current))
            current = []
            i += 2
            continue
        if char == "}":
            raise TemplateError("matching '{' not found for '}'.")
        current.append(char)
        i += 1
    pieces.append("".join(current))
    return Template(tuple(pieces))


def compact_json(value: Any) -> str:
    """Serialise ``value`` the way AWS prints JSON: no spaces, non-ASCII kept as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def render_value(value: Any) -> str:
    """Render one ``States.Format`` argument like AWS's Java ``toString``."""
    if isinstance(value, str):
        return value
    # bool before int: isinstance(True, int) is True in Python.
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, list):
        return "[" + ", ".join(render_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={render_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def java_double(value: float) -> str:
    """Format ``value`` like Java's ``Double.toString`` (``1.0``, ``1.0E10``, ``1.5E-5``)."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "e" not in text else _scientific(value)
    return _scientific(value)


def _scientific(value: float) -> str:
    """Java's computerized scientific notation: one digit, a fraction, ``E`` and exponent."""
    exponent = f"{value:.17e}".split("e")[1]
    # Shortest digits that round-trip, taken from repr, then re-based to one leading digit.
    digits = repr(abs(value)).replace(".", "").split("e")[0].lstrip("0") or "0"
    digits = digits.rstrip("0") or "0"
    sign = "-" if value < 0 else ""
    fraction = digits[1:] or "0"
    return f"{sign}{digits[0]}.{fraction}E{int(exponent)}"
