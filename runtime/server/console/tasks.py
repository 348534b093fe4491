"""Tasks an execution is waiting on: activity tasks and ``.waitForTaskToken`` callbacks.

Read from the history alone: a Task visit still open whose last call is an
``ActivityScheduled``, or a ``TaskScheduled`` of a ``.waitForTaskToken`` resource, with
no result or failure after it. The task's token is the one the engine made for that
attempt (:meth:`runtime.engine.execution.Execution.task_token`: the execution, the
state's entered event and the attempt), so the console can answer it without ever
putting the token in a page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runtime.report.history import Event
from runtime.report.visits import Visit

__all__ = ["WaitingTask", "waiting_tasks"]

_CALLS = frozenset({"TaskScheduled", "ActivityScheduled", "LambdaFunctionScheduled"})
_AFTER = (
    "Succeeded",
    "Failed",
    "TimedOut",
    "Aborted",
    "StartFailed",
    "ScheduleFailed",
    "SubmitFailed",
)


@dataclass(frozen=True, slots=True)
class WaitingTask:
    """One task waiting for SendTaskSuccess or SendTaskFailure."""

    state: str
    #: ``activity`` or ``callback``.
    kind: str
    #: The activity ARN, or the service resource of the callback.
    resource: str
    #: The id of the state's ``*StateEntered`` event, and the attempt (0 first).
    entered: int
    attempt: int
    #: Epoch seconds of the scheduled event.
    since: float
    #: The task's input (the effective parameters).
    input: Any


def waiting_tasks(events: Sequence[Event], visits: Sequence[Visit]) -> list[WaitingTask]:
    """The tasks of an execution's history still waiting for an answer."""
    by_id = {event.id: event for event in events}
    found = []
    for visit in visits:
        if visit.exited or visit.type != "Task":
            continue
        calls = [by_id[i] for i in visit.event_ids if i in by_id and by_id[i].type in _CALLS]
        if not calls:
            continue
        last = calls[-1]
        later = [by_id[i] for i in visit.event_ids if i > last.id and i in by_id]
        if any(event.type.endswith(_AFTER) for event in later):
            continue
        details = last.details
        if last.type == "ActivityScheduled":
            kind, resource = "activity", str(details.get("resource", ""))
        elif str(details.get("resource", "")).endswith(".waitForTaskToken"):
            kind = "callback"
            resource = f"{details.get('resourceType', '')}:{details.get('resource', '')}"
        else:
            continue
        found.append(
            WaitingTask(
                visit.state,
                kind,
                resource,
                visit.entered_id,
                len(calls) - 1,
                last.timestamp,
                _parsed(details.get("parameters", details.get("input"))),
            )
        )
    return found


def _parsed(value: Any) -> Any:
    """Scheduled events hold their parameters as JSON text; the value when it parses."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
