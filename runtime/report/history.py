"""Read an execution history in AWS's ``GetExecutionHistory`` shape.

The report reads the same JSON that ``asl exec --history FILE`` writes and that
``aws stepfunctions get-execution-history`` prints, so a history recorded on AWS can be
reported too. Detail fields that AWS serialises as JSON text (``input``, ``output``,
``parameters``, assigned variables) are parsed back into values here, once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["Event", "ExecutionSummary", "load_history", "parse_events", "summarise"]

_JSON_FIELDS = ("input", "output", "parameters")
_CLOSING = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}


@dataclass(frozen=True, slots=True)
class Event:
    """One history event with its details parsed."""

    id: int
    previous_event_id: int
    type: str
    #: Seconds since the epoch.
    timestamp: float
    #: The ``...EventDetails`` member, JSON-text fields parsed into values.
    details: Mapping[str, Any] = field(default_factory=dict)
    #: The event exactly as given (for the event table).
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: StateExited of an inspected run only: the state's data-flow stages, keyed by AWS
    #: TestState's names (``input``, ``afterInputPath``, ...); never in an AWS history.
    inspection: Mapping[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ExecutionSummary:
    """What the history says about the execution as a whole."""

    status: str
    name: str
    error: str | None
    cause: str | None
    input: Any
    output: Any
    start: float
    stop: float


def _timestamp(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return 0.0


def _parse_json(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. a truncated document: show it as text


def _details(raw: Mapping[str, Any]) -> dict[str, Any]:
    member = next((v for k, v in raw.items() if k.endswith("EventDetails")), None)
    if not isinstance(member, Mapping):
        return {}
    out = dict(member)
    for key in _JSON_FIELDS:
        if key in out:
            out[key] = _parse_json(out[key])
    assigned = out.get("assignedVariables")
    if isinstance(assigned, Mapping):
        out["assignedVariables"] = {k: _parse_json(v) for k, v in assigned.items()}
    return out


def parse_events(events: Sequence[Mapping[str, Any]]) -> tuple[Event, ...]:
    """AWS-shaped event dicts as :class:`Event` objects, sorted by id."""
    parsed = (
        Event(
            int(raw.get("id", 0)),
            int(raw.get("previousEventId", 0) or 0),
            str(raw.get("type", "")),
            _timestamp(raw.get("timestamp")),
            _details(raw),
            raw,
        )
        for raw in events
        if isinstance(raw, Mapping)
    )
    return tuple(sorted(parsed, key=lambda e: e.id))


def load_history(path: str | Path) -> tuple[Event, ...]:
    """Read a history file: ``{"events": [...]}`` (as AWS and ``asl exec`` write) or a list.

    Raises OSError or ValueError when the file cannot be read or is not such a document.
    """
    doc = json.loads(Path(path).read_text("utf-8"))
    events = doc.get("events") if isinstance(doc, Mapping) else doc
    if not isinstance(events, list):
        raise ValueError(f"{path}: not an execution history (no 'events' list)")
    return parse_events(events)


def summarise(events: Sequence[Event], name: str = "") -> ExecutionSummary:
    """Status, error, cause, input and output of the execution the events describe."""
    first = events[0] if events else None
    last = events[-1] if events else None
    status = _CLOSING.get(last.type, "RUNNING") if last else "RUNNING"
    details = last.details if last else {}
    return ExecutionSummary(
        status=status,
        name=name,
        error=details.get("error"),
        cause=details.get("cause"),
        input=first.details.get("input") if first else None,
        output=details.get("output"),
        start=first.timestamp if first else 0.0,
        stop=last.timestamp if last else 0.0,
    )
