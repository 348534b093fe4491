"""Resume an execution by replaying its recorded history.

The history is the checkpoint. A resumed execution runs the interpreter again from the
start with the same definition and input; every event it is about to write is first
looked up among the recorded ones of the same thread (the same ``previousEventId``
chain, the same type, the same state name or Map index). A recorded event is reused
(same id and timestamp, not written again) and the thread goes on; once a thread reaches
the end of what was recorded it runs live, and new events continue the id sequence.

While a thread replays:

* a task whose outcome is recorded is not called again: its result or error is taken
  from the history (:meth:`Replay.outcome`); one recorded as submitted (a ``.sync`` job, a
  callback) is resumed by adapters that can (``resume``), never submitted twice;
* a task recorded as started but with no outcome was in flight when the process died:
  its outcome is unknown, so it fails with :data:`UNKNOWN_OUTCOME` and its Retry policy
  decides (the history says so). An activity only scheduled (no worker had taken it) did
  not run: it is queued again and waits for a worker;
* sleeps (Wait, retry back-off) whose end is already recorded are skipped; a pending
  one sleeps until its original deadline, computed from recorded timestamps.

Replaying assumes the definition, input and mocked answers are those of the first run;
an event that matches nothing while recorded events remain in its thread means they are
not, and :class:`ReplayDivergence` stops the resume.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from asl.errors import ASLError

__all__ = ["UNKNOWN_OUTCOME", "RecordedEvent", "Replay", "ReplayDivergence", "unsuccessful"]

#: Error of a task attempt that was in flight when the runtime stopped.
UNKNOWN_OUTCOME = (
    "States.TaskFailed",
    "The task's outcome is unknown: the runtime stopped while it was running, and the "
    "execution was resumed from its history.",
)

_OUTCOMES = {
    "Succeeded": "succeeded",
    "Failed": "failed",
    "TimedOut": "failed",
    "Submitted": "submitted",
}


class ReplayDivergence(ASLError):
    """Raised when a resumed execution does not follow its recorded history."""


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """One event of the recorded history, as the store keeps it (AWS's exported shape)."""

    id: int
    previous_event_id: int
    type: str
    timestamp: float
    details: Mapping[str, Any]

    @property
    def key(self) -> Any:
        """What tells apart sibling threads' first events: state name or Map index."""
        return self.details.get("name", self.details.get("index"))


def _key(type: str, details: Mapping[str, Any] | None) -> Any:
    if not details:
        return None
    return details.get("name", details.get("index"))


def _json(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else text


class Replay:
    """The recorded events of one execution, consumed as the interpreter re-runs it."""

    def __init__(self, events: Iterable[RecordedEvent], hidden: Iterable[int] = ()) -> None:
        self._after: dict[int, list[RecordedEvent]] = defaultdict(list)
        skip = set(hidden)
        last = 0
        for event in sorted(events, key=lambda e: e.id):
            last = max(last, event.id)
            if event.id not in skip:
                self._after[event.previous_event_id].append(event)
        #: The highest recorded id (hidden events included): new events continue after it.
        self.last_id = last
        self._used: set[int] = set()
        #: Events matched so far (re-used, not written again).
        self.matched = 0
        #: For a redrive: each stored Map Run by ARN, as ``(record, {index: child})`` (see
        #: :mod:`runtime.distributed.runs`), so it re-runs only its unsuccessful children.
        self.map_runs: dict[str, tuple[Any, dict[int, Any]]] = {}

    def pending(self, prev: int) -> list[RecordedEvent]:
        """Recorded events that follow ``prev`` in its thread and are not replayed yet."""
        return [e for e in self._after.get(prev, ()) if e.id not in self._used]

    def match(
        self, prev: int, type: str, details: Mapping[str, Any] | None
    ) -> RecordedEvent | None:
        """The recorded event this emission repeats, or None when the thread runs live."""
        pending = self.pending(prev)
        if not pending:
            return None
        key = _key(type, details)
        for event in pending:
            if event.type == type and (key is None or event.key is None or event.key == key):
                self._used.add(event.id)
                self.matched += 1
                return event
        if all(_key(e.type, e.details) != key for e in pending) and _sibling_threads(pending):
            return None  # another thread's start (a Parallel branch, a Map iteration)
        found = ", ".join(f"#{e.id} {e.type}" for e in pending)
        raise ReplayDivergence(
            f"the resumed execution wrote {type} after event #{prev}, but its history has "
            f"{found} there: the definition, input or task answers changed since it ran"
        )

    def ahead(self, prev: int) -> bool:
        """True when the thread at ``prev`` has recorded events still to replay."""
        return bool(self.pending(prev))

    def outcome(self, prev: int) -> tuple[str, Any] | None:
        """A task's recorded outcome after its Started event ``prev`` (not consumed).

        ``("succeeded", output)``, ``("failed", (error, cause))`` or
        ``("submitted", output)``; None when nothing was recorded.
        """
        for event in self.pending(prev):
            for suffix, kind in _OUTCOMES.items():
                if event.type.endswith(suffix) and not event.type.endswith("StateSucceeded"):
                    if kind == "failed":
                        return kind, (event.details.get("error"), event.details.get("cause"))
                    return kind, _json(event.details.get("output"))
        return None


def _sibling_threads(pending: list[RecordedEvent]) -> bool:
    """Pending events that start other threads (branch or iteration starts)."""
    return all(
        e.type.endswith("StateEntered") or e.type.startswith("MapIteration") for e in pending
    )


_CLOSING = ("ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")
#: Events a redrive never replays: earlier redrives, and iterations' failures (re-run).
_REDRIVE_HIDDEN = ("ExecutionRedriven", "MapIterationFailed", "MapIterationAborted")


def unsuccessful(events: Iterable[RecordedEvent]) -> set[int]:
    """Ids of what a redrive runs again: every state visit with no StateExited (the state
    that failed, and the Parallel/Map states around it), everything that followed from it,
    and the closing events (AWS RedriveExecution: "restarts ... from the unsuccessful step").

    A visit's events form one ``previousEventId`` chain from its StateEntered to its
    StateExited (retries and Map/Parallel Started/Succeeded included), so the visits that
    ended are found by walking back from each StateExited.
    """
    events = list(events)
    by_id = {e.id: e for e in events}
    children: dict[int, list[int]] = defaultdict(list)
    for event in events:
        children[event.previous_event_id].append(event.id)
    finished: set[int] = set()
    for event in events:
        if not event.type.endswith("StateExited"):
            continue
        name, prev = event.details.get("name"), event.previous_event_id
        while prev in by_id:
            before = by_id[prev]
            if before.type.endswith("StateEntered") and before.details.get("name") == name:
                finished.add(before.id)
                break
            prev = before.previous_event_id
    starts: list[int] = []
    for event in events:
        if event.type in _CLOSING or event.type in _REDRIVE_HIDDEN:
            starts.append(event.id)
        elif event.type.endswith("StateEntered") and event.id not in finished:
            outcome = _fan_out_outcome(event, children, by_id)
            # A Parallel/Map run once: keep its branches (the ones that succeeded replay,
            # the failed ones re-run), hide only its failure. Retried ones re-run whole.
            starts.extend(outcome if outcome is not None else [event.id])
    hidden: set[int] = set()
    while starts:
        current = starts.pop()
        if current not in hidden:
            hidden.add(current)
            starts.extend(children.get(current, ()))
    return hidden


def _fan_out_outcome(
    entered: RecordedEvent, children: Mapping[int, list[int]], by_id: Mapping[int, RecordedEvent]
) -> list[int] | None:
    """For an unfinished Parallel/Map visit started once, the ids of its own outcome
    events (``...StateFailed`` and what followed); None to re-run the visit whole."""
    if entered.type not in ("ParallelStateEntered", "MapStateEntered"):
        return None
    started = [by_id[i] for i in children.get(entered.id, ()) if by_id[i].type.endswith("Started")]
    if len(started) != 1:
        return None
    after = [by_id[i] for i in children.get(started[0].id, ())]
    if any(e.type == started[0].type for e in after):  # retried: several attempts
        return None
    own = ("StateFailed", "StateSucceeded", "StateAborted", "StateExited", "MapRunFailed")
    outcome = [e.id for e in after if e.type.endswith(own) or e.type in _CLOSING]
    for event in after:
        if event.type == "MapRunStarted":
            # A Distributed Map: its Map Run's end (and earlier redrives) are run again.
            outcome.extend(children.get(event.id, ()))
    return outcome


def recorded_events(items: Iterable[Mapping[str, Any]]) -> list[RecordedEvent]:
    """Events in ``GetExecutionHistory`` item shape (as the store returns them)."""
    from datetime import datetime

    events = []
    for item in items:
        details = next(
            (v for k, v in item.items() if k.endswith("EventDetails") and isinstance(v, dict)),
            {},
        )
        stamp = item["timestamp"]
        if isinstance(stamp, str):
            stamp = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        events.append(
            RecordedEvent(
                int(item["id"]),
                int(item.get("previousEventId", 0)),
                str(item["type"]),
                float(stamp),
                details,
            )
        )
    return events
