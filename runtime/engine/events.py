"""History events, shaped as AWS's ``GetExecutionHistory`` returns them (SPEC.md C).

Events keep their ``input``/``output`` as Python values while the execution runs (the
runtime never mutates a value once produced, so holding a reference is safe); they are
serialised to AWS's JSON-string form only when exported, so the hot path pays nothing
for history it may never print.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from json.encoder import c_encode_basestring, c_make_encoder  # type: ignore[attr-defined]
from typing import Any

__all__ = ["HistoryEvent", "details_key", "dumps", "export_details", "iso_timestamp"]

#: Detail fields that hold JSON documents, serialised as strings in AWS's shape, with the
#: name of the ``...Details`` sibling AWS writes next to them.
_DATA_FIELDS = {
    "input": "inputDetails",
    "output": "outputDetails",
    "parameters": None,
}


#: Built once: ``json.dumps`` with keyword arguments builds a new encoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_ENCODE = _ENCODER.encode


def json_chunks() -> Callable[[Any, int], Sequence[str]]:
    """A function giving a value's compact JSON text in pieces (joined, the text
    :func:`dumps` writes), called as ``encode(value, 0)``.

    One C encoder built here serves every value (``dumps`` builds one per call). It has
    no circular-reference check, whose shared marks would make it unsafe to share: a
    value holding itself ends in RecursionError. JSON values never do.
    """
    if c_make_encoder is None:  # pragma: no cover - CPython has it

        def encode(value: Any, _: int) -> Sequence[str]:
            return (_ENCODE(value),)

        return encode
    chunks: Callable[[Any, int], Sequence[str]] = c_make_encoder(
        None, _ENCODER.default, c_encode_basestring, None, ":", ",", False, False, True
    )
    return chunks


def dumps(value: Any) -> str:
    """Compact JSON as AWS prints it in histories and causes."""
    return _ENCODE(value)


def loads(text: str | bytes) -> Any:
    """JSON text from outside an execution (an input, a task's answer), read strictly:
    ``NaN``, ``Infinity`` and numbers too large for a double are refused with
    :class:`ValueError`, as they are not JSON and could never be written back as JSON."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("the JSON text is nested too deeply") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise ValueError(f"the number {text} is too large")
    return value


@functools.lru_cache(maxsize=256)
def iso_timestamp(epoch: float) -> str:
    """RFC 3339 with milliseconds and ``Z``, as AWS prints context-object times.

    Cached: under a virtual clock, many states share one instant.
    """
    dt = datetime.fromtimestamp(epoch, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def details_key(event_type: str) -> str:
    """The name of an event type's detail member, e.g. ``taskScheduledEventDetails``."""
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return event_type[0].lower() + event_type[1:] + "EventDetails"


class HistoryEvent:
    """One event of an execution's history."""

    __slots__ = ("details", "id", "inspection", "previous_event_id", "timestamp", "type")

    def __init__(
        self,
        id: int,
        previous_event_id: int,
        type: str,
        timestamp: float,
        details: Mapping[str, Any] | None,
        inspection: Mapping[str, Any] | None = None,
    ) -> None:
        self.id = id
        self.previous_event_id = previous_event_id
        self.type = type
        self.timestamp = timestamp
        self.details = details
        #: On StateExited events of an inspected execution: the state's data-flow stages
        #: (``input``, ``afterInputPath``, ``afterParameters``, ``result``, ...); on a
        #: task's Scheduled event, where its answer comes from (``{"source": "mock"}``).
        #: Not part of AWS's history, never exported by :meth:`to_aws`.
        self.inspection = inspection

    def __repr__(self) -> str:
        return f"HistoryEvent({self.id}, {self.type!r})"

    def to_aws(self) -> dict[str, Any]:
        """This event as one item of ``GetExecutionHistory``'s ``events``."""
        out: dict[str, Any] = {
            "timestamp": iso_timestamp(self.timestamp),
            "type": self.type,
            "id": self.id,
            "previousEventId": self.previous_event_id,
        }
        if self.details is not None:
            out[details_key(self.type)] = _export_details(self.details)
        return out


def export_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """An event's details as AWS exports them (JSON documents as strings)."""
    return _export_details(details)


def _export_details(details: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in details.items():
        if key in _DATA_FIELDS:
            out[key] = value if isinstance(value, str) and key == "parameters" else dumps(value)
            sibling = _DATA_FIELDS[key]
            if sibling:
                out[sibling] = {"truncated": False}
        elif key == "assignedVariables":
            out[key] = {name: dumps(v) for name, v in value.items()}
            out["assignedVariablesDetails"] = {"truncated": False}
        else:
            out[key] = value
    return out
