"""Numeric fields that a state may give literally, by path, or as a JSONata expression.

Task ``TimeoutSeconds``/``HeartbeatSeconds`` and Map ``MaxConcurrency``/
``ToleratedFailureCount``/``ToleratedFailurePercentage`` are compiled by
:meth:`asl.compiler._Compiler.seconds` into ``("value", n)``, ``("path", path)`` or
``("jsonata", expression)``; this module resolves them the way AWS does. A value read by
a ``...Path`` field is taken as text and parsed, so ``"1"`` is accepted and ``{}`` is
rejected with AWS's cause (recorded: base_scenarios.max_concurrency_path.*,
map_state_tolerated_failure_*).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from asl.errors import StatesError
from runtime.engine.dataflow import apply_path, jsonata_bindings
from runtime.engine.events import dumps

if TYPE_CHECKING:
    from runtime.engine.scope import StateRun

__all__ = ["number_field"]


def number_field(run: StateRun, spec: Any, field: str, *, integer: bool) -> float | None:
    """The field's number, or None when the state does not set it."""
    if spec is None:
        return None
    kind, value = spec
    if kind == "value":
        return float(value)
    if kind == "jsonata":
        with run.evaluating:
            found = value.evaluate(jsonata_bindings(run.data, run.ctx, run.frame.view))
            if isinstance(found, bool) or not isinstance(found, int | float):
                raise StatesError(
                    "States.QueryEvaluationError",
                    f"The {field} field evaluated to a non-numeric value: {dumps(found)}",
                )
        return float(found)
    found = apply_path(value, run.data, run.ctx, run.frame.view)
    text = found if isinstance(found, str) else dumps(found)
    try:
        number = float(int(text)) if integer else float(text)
        if isinstance(found, bool) or not math.isfinite(number):
            raise ValueError(text)
    except ValueError:
        kind_word = "integer" if integer else "float"
        raise StatesError(
            "States.Runtime",
            f'The {field}Path field refers to value "{text}" which is not a valid '
            f"{kind_word}: {value.text}",
        ) from None
    return number
