"""ASL intrinsic functions (``States.Format(...)`` and the 17 others), compiled once.

>>> call = compile_intrinsic("States.MathAdd($.n, 1)")
>>> call.evaluate({"n": 41}, {}, {})
42

Failures while evaluating raise ``StatesError`` (error ``States.Runtime``, as AWS reports
them, see :mod:`asl.intrinsics.nodes`); text that does not parse raises
``ExpressionSyntaxError`` from :func:`compile_intrinsic`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from asl.intrinsics.functions import FUNCTIONS, use_random
from asl.intrinsics.nodes import INTRINSIC_ERROR, Call
from asl.intrinsics.parser import MAX_DEPTH, parse

__all__ = [
    "FUNCTION_NAMES",
    "INTRINSIC_ERROR",
    "MAX_DEPTH",
    "Intrinsic",
    "compile_intrinsic",
    "looks_like_intrinsic",
    "use_random",
]

#: The 18 intrinsic function names, e.g. ``States.Format``.
FUNCTION_NAMES: frozenset[str] = frozenset(FUNCTIONS)

_CALL_START = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_.]*\s*\(")


@dataclass(frozen=True, slots=True)
class Intrinsic:
    """A compiled intrinsic function call."""

    #: The source text.
    text: str
    #: The parsed call tree.
    call: Call

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        """Evaluate against the state input, the context object and the variables.

        Raises ``StatesError`` when a function rejects its arguments or a path argument
        selects nothing.
        """
        return self.call.evaluate(data, context, variables)


def compile_intrinsic(text: str) -> Intrinsic:
    """Parse ``text``; raise ``ExpressionSyntaxError`` (with the column) if it is not a call.

    Compiled calls are immutable and cached (like paths): the validator's rules and the
    compiler all compile the same texts of a definition, and parse each only once.
    """
    if not isinstance(text, str):
        return Intrinsic(text, parse(text))
    return _compile(text)


@lru_cache(maxsize=4096)
def _compile(text: str) -> Intrinsic:
    return Intrinsic(text, parse(text))


def looks_like_intrinsic(text: str) -> bool:
    """Cheap test for validators: does ``text`` start with a function name and '('?"""
    return _CALL_START.match(text) is not None
