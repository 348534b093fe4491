"""What every converted activity's Task states share: the ``(name, state)`` chain type,
``__NEXT__`` linking, Retry and TimeoutSeconds from ``maximumRetries``/``retryDelay``/
``attemptTimeout``, and the Catch that assigns ``$failure`` and goes to the failure path."""

from __future__ import annotations

from typing import Any

from asl.datapipeline.context import Conversion, duration_seconds
from asl.datapipeline.pipeline import PipelineObject

__all__ = ["EMR", "KEEP", "States", "chain", "retry_fields", "task_state"]

States = list[tuple[str, dict[str, Any]]]

EMR = "arn:aws:states:::elasticmapreduce:"

KEEP = "{% $states.input %}"


def chain(states: States, last: str) -> States:
    """Point each ``__NEXT__`` of ``states`` at the following state, the last at ``last``."""
    for index, (_, state) in enumerate(states):
        if state.get("Next") == "__NEXT__":
            state["Next"] = states[index + 1][0] if index + 1 < len(states) else last
    return states


def retry_fields(conv: Conversion, act: PipelineObject) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    retries = act.text("maximumRetries")
    if retries is not None:
        if not retries.isdigit():
            from asl.datapipeline.pipeline import PipelineError

            raise PipelineError(
                f"object '{act.id}': field 'maximumRetries' must be a whole number, not {retries!r}"
            )
        if int(retries) > 0:
            delay = duration_seconds(act, "retryDelay") or 600
            extra["Retry"] = [
                {
                    "ErrorEquals": ["States.ALL"],
                    "MaxAttempts": int(retries),
                    "IntervalSeconds": delay,
                    "BackoffRate": 1,
                }
            ]
    timeout = duration_seconds(act, "attemptTimeout")
    if timeout is not None:
        extra["TimeoutSeconds"] = timeout
    return extra


def task_state(
    conv: Conversion,
    act: PipelineObject,
    name: str,
    resource: str,
    arguments: Any,
    mock: Any,
    catch_to: str,
    **more: Any,
) -> tuple[str, dict[str, Any]]:
    state = {
        "Type": "Task",
        "Resource": resource,
        "Arguments": arguments,
        **more,
        **retry_fields(conv, act),
        "Catch": [
            {
                "ErrorEquals": ["States.ALL"],
                "Next": catch_to,
                "Assign": {"failure": "{% $states.errorOutput %}"},
            }
        ],
        "Next": "__NEXT__",
    }
    state.setdefault("Output", KEEP)
    conv.mock(name, mock)
    return name, state
