"""Run an execution on AWS Step Functions and follow it with the local tools.

:func:`run_remote` calls ``StartExecution``, then polls ``GetExecutionHistory`` and hands
each new event, as a :class:`runtime.engine.events.HistoryEvent`, to the observers a local
run has (the live trace, the store's recorder), with a frame label worked out from the
``previousEventId`` threads as the local engine labels its frames (``[1]`` for a Parallel's
second branch or a Map's item 1, ``[1][0]`` inside it). The AWS events themselves are kept
as AWS wrote them, for ``--history`` and the report.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runtime.engine.clock import Clock
from runtime.engine.events import HistoryEvent

__all__ = ["RemoteRun", "epoch_seconds", "run_remote", "to_history_event"]

#: Events that close an execution.
_CLOSING = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}
_FORKS = frozenset({"ParallelStateStarted", "MapStateStarted"})
_FORK_CLOSES = frozenset(
    f"{kind}State{end}"
    for kind in ("Parallel", "Map")
    for end in ("Succeeded", "Failed", "Aborted")
)


@dataclass(slots=True)
class RemoteRun:
    """An execution on AWS as it was followed: its identity, outcome and history."""

    execution_arn: str
    state_machine_arn: str
    name: str
    status: str = "RUNNING"
    output: Any = None
    error: str | None = None
    cause: str | None = None
    #: The events as GetExecutionHistory returned them.
    events: list[dict[str, Any]] = field(default_factory=list)

    def history_json(self) -> list[dict[str, Any]]:
        return list(self.events)


@dataclass(slots=True)
class _Frame:
    """What an observer reads of a frame: its label."""

    label: str


def to_history_event(raw: Mapping[str, Any]) -> HistoryEvent:
    """An AWS history event as the engine writes one (JSON documents parsed)."""
    kind = str(raw["type"])
    details: dict[str, Any] | None = None
    member = next((key for key in raw if key.endswith("EventDetails")), None)
    if member is not None:
        details = {}
        for key, value in dict(raw[member]).items():
            if key in ("input", "output") and isinstance(value, str):
                details[key] = _json(value)
            elif key == "assignedVariables" and isinstance(value, Mapping):
                details[key] = {name: _json(text) for name, text in value.items()}
            elif key not in ("inputDetails", "outputDetails", "assignedVariablesDetails"):
                details[key] = value
    previous = int(raw.get("previousEventId", 0))
    stamp = epoch_seconds(raw["timestamp"])
    return HistoryEvent(int(raw["id"]), previous, kind, stamp, details)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def epoch_seconds(stamp: Any) -> float:
    """A date as AWS's clients give it (``datetime``, epoch number or RFC 3339 text)."""
    if isinstance(stamp, datetime):
        return stamp.timestamp()
    if isinstance(stamp, int | float):
        return float(stamp)
    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()


class _Labels:
    """Frame labels from ``previousEventId`` threads, as the engine numbers its frames.

    A Parallel's or Map's own closing events may point back into a branch (the last event
    of the branch that finished last, as moto writes them): they belong to the frame the
    state runs in, the longest open fork label their thread is inside.
    """

    def __init__(self) -> None:
        self.label_of: dict[int, str] = {}
        self.kind_of: dict[int, str] = {}
        self.forks: dict[int, int] = {}
        #: Frames with a Parallel or Map running (until its StateExited).
        self.open: set[str] = set()

    def label(self, event: HistoryEvent) -> str:
        parent_id = event.previous_event_id
        parent = self.label_of.get(parent_id, "")
        label = parent
        kind = event.type
        if kind in _FORKS:
            self.open.add(parent)
        elif kind in _FORK_CLOSES or kind in ("ParallelStateExited", "MapStateExited"):
            owners = [o for o in self.open if parent == o or parent.startswith(o + "[")]
            if owners:
                label = max(owners, key=len)
                if kind.endswith("Exited"):
                    self.open.discard(label)
        elif self.kind_of.get(parent_id) in _FORKS:
            index = self.forks.get(parent_id, 0)
            self.forks[parent_id] = index + 1
            if event.type == "MapIterationStarted":
                index = int((event.details or {}).get("index", index))
            label = f"{parent}[{index}]"
        self.label_of[event.id] = label
        self.kind_of[event.id] = event.type
        return label


async def run_remote(
    client: Any,
    state_machine_arn: str,
    input: Any,
    *,
    clock: Clock,
    name: str | None = None,
    observers: Sequence[Callable[[HistoryEvent, Any], None]] = (),
    on_start: Callable[[RemoteRun], None] | None = None,
    poll_seconds: float = 1.0,
) -> RemoteRun:
    """Start an execution of ``state_machine_arn`` (a state machine, version or alias ARN)
    and follow its history until it closes, polling every ``poll_seconds`` of ``clock``."""
    started = client.start_execution(
        stateMachineArn=state_machine_arn,
        input=json.dumps(input, ensure_ascii=False),
        **({"name": name} if name else {}),
    )
    arn = str(started["executionArn"])
    run = RemoteRun(arn, state_machine_arn, arn.rsplit(":", 1)[-1])
    if on_start is not None:
        on_start(run)
    labels = _Labels()
    seen = 0
    while True:
        events = _history(client, arn)
        for raw in events[seen:]:
            event = to_history_event(raw)
            frame = _Frame(labels.label(event))
            run.events.append(raw)
            for observer in observers:
                observer(event, frame)
            status = _CLOSING.get(event.type)
            if status is not None:
                _close(run, status, event.details or {})
                return run
        seen = len(events)
        await clock.sleep_until(clock.now() + poll_seconds)


def _history(client: Any, arn: str) -> list[dict[str, Any]]:
    """The whole history so far, oldest first (every page)."""
    events: list[dict[str, Any]] = []
    paginator = client.get_paginator("get_execution_history")
    for page in paginator.paginate(executionArn=arn, includeExecutionData=True):
        events.extend(page.get("events", []))
    for raw in events:  # as AWS's JSON has them, for --history and the report
        if isinstance(raw.get("timestamp"), datetime):
            raw["timestamp"] = _iso(raw["timestamp"])
    return sorted(events, key=lambda raw: int(raw["id"]))


def _iso(stamp: datetime) -> str:
    from runtime.engine.events import iso_timestamp

    return iso_timestamp(stamp.timestamp())


def _close(run: RemoteRun, status: str, details: Mapping[str, Any]) -> None:
    run.status = status
    run.output = details.get("output")
    run.error = details.get("error")
    run.cause = details.get("cause")
