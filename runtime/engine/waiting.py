"""When a Wait state wakes up: Seconds, SecondsPath, Timestamp, TimestampPath.

Cause texts are AWS's, as recorded (conformance cases ``wait.*``,
``base_scenarios.wait_timestamp*``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from asl.errors import StatesError
from asl.model import WaitState
from runtime.engine.dataflow import apply_path

__all__ = ["MAX_WAIT_DAYS", "wait_deadline"]

#: AWS rejects a Wait that ends more than this many days ahead (LS-SNAP base/test_wait).
MAX_WAIT_DAYS = 24855


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _timestamp(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    from asl.timestamps import parse_timestamp

    parsed = parse_timestamp(text)
    return None if parsed is None else parsed.timestamp()


def wait_deadline(
    state: WaitState,
    data: Any,
    context: Any,
    variables: Mapping[str, Any],
    bindings: Mapping[str, Any] | None,
    now: float,
) -> float:
    """The epoch time the Wait state ends (``now`` or earlier: no wait)."""
    mode, value = state.mode, state.value
    if mode.endswith("Path"):
        value = apply_path(value, data, context, variables)
        where = f"{state.value.text} == {_show(value)}"
        if mode == "SecondsPath":
            if not _is_int(value):
                raise StatesError(
                    "States.Runtime",
                    f"The SecondsPath parameter cannot be parsed as a long value: {where}",
                )
            if value < 0:
                raise StatesError(
                    "States.Runtime",
                    f"The SecondsPath parameter references a negative value: {where}",
                )
            return _checked(now + value, now)
        moment = _timestamp(value)
        if moment is None:
            raise StatesError(
                "States.Runtime",
                "The TimestampPath parameter does not reference a valid ISO-8601 extended "
                f"offset date-time format string: {where}",
            )
        return _checked(moment, now)
    if bindings is not None and hasattr(value, "evaluate"):
        value = value.evaluate(bindings)
    if mode == "Timestamp" and isinstance(value, float):
        return _checked(value, now)  # a literal, parsed when the machine was compiled
    if mode == "Seconds":
        if not _is_int(value) or value < 0:
            raise StatesError(
                "States.QueryEvaluationError",
                f"The Seconds field must be a non-negative integer: {_show(value)}",
            )
        return _checked(now + value, now)
    moment = _timestamp(value)
    if moment is None:
        error = "States.QueryEvaluationError" if bindings is not None else "States.Runtime"
        raise StatesError(
            error,
            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
            f"format string: {_show(value)}",
        )
    return _checked(moment, now)


def _checked(deadline: float, now: float) -> float:
    if deadline - now > MAX_WAIT_DAYS * 86400:
        raise StatesError("States.Runtime", "Wait state delay is too long.")
    return deadline
