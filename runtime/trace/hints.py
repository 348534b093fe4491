"""Hints the trace adds under a failure; AWS's error and cause are printed unchanged.

A path that selects nothing fails with ``States.Runtime`` and a cause naming the path; when
the state's input has a key close to the missing one, the trace suggests the path with it
(``did you mean '$.training.artifacts'?``).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["path_hint"]

#: The causes AWS gives for a path that selects nothing, with the path and the state.
_CAUSE = re.compile(
    r"executing the state '(?P<state>(?:[^']|'(?! \())*)'.*?"
    r"(?:The JSONPath|Invalid path) '(?P<path>\$[^' ]*)'",
    re.DOTALL,
)
#: One step of a simple path: ``.name``, ``['name']`` or ``[3]``.
_STEP = re.compile(r"\.(?P<dot>[^.\[\]]+)|\['(?P<quoted>[^']*)'\]|\[(?P<index>\d+)\]")


def path_hint(cause: str, inputs: Mapping[str, Any]) -> str | None:
    """``did you mean '$.training.artifacts'?`` for a cause about a missing path, given
    each state's last input by name; None when there is nothing close to suggest."""
    found = _CAUSE.search(cause)
    if found is None or found["state"] not in inputs:
        return None
    steps = _steps(found["path"])
    if steps is None:
        return None
    value = _input_in(cause, inputs[found["state"]])
    for position, step in enumerate(steps):
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return None
            value = value[step]
            continue
        if not isinstance(value, Mapping):
            return None
        if step in value:
            value = value[step]
            continue
        close = difflib.get_close_matches(step, [str(key) for key in value], n=1, cutoff=0.7)
        if not close:
            return None
        fixed = [*steps[:position], close[0], *steps[position + 1 :]]
        return f"did you mean '{_path(fixed)}'?"
    return None


def _input_in(cause: str, state_input: Any) -> Any:
    """The input the path was applied to: the one the cause quotes (after InputPath) when it
    quotes one, else the state's input."""
    quoted = cause.rfind("could not be found in the input '")
    if quoted >= 0 and cause.endswith("'"):
        try:
            return json.loads(cause[quoted + len("could not be found in the input '") : -1])
        except ValueError:
            pass
    return state_input


def _steps(path: str) -> list[str | int] | None:
    """The steps of a ``$``-rooted path made of names and indexes only; None otherwise."""
    steps: list[str | int] = []
    rest = path[1:]
    while rest:
        step = _STEP.match(rest)
        if step is None:
            return None
        if step["index"] is not None:
            steps.append(int(step["index"]))
        else:
            steps.append(step["dot"] if step["dot"] is not None else step["quoted"])
        rest = rest[step.end() :]
    return steps


def _path(steps: list[str | int]) -> str:
    out = "$"
    for step in steps:
        if isinstance(step, int):
            out += f"[{step}]"
        elif re.fullmatch(r"[A-Za-z_][\w-]*", step):
            out += f".{step}"
        else:
            out += f"['{step}']"
    return out
