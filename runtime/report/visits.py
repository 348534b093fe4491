"""Turn a history into state visits (entered → exited) on lanes, with their outcomes.

A lane is a thread of the execution: the machine itself, a Parallel branch or a Map
iteration. AWS links every event to the previous event of its own thread
(``previousEventId``); the first event after ``ParallelStateStarted`` or
``MapStateStarted`` that does not close the state opens a new lane.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runtime.report.history import Event

__all__ = ["Lane", "Visit", "build_visits", "last_redrive", "latest_outcomes", "state_outcomes"]

#: Outcomes, worst first: a state's colour on the graph is its worst visit.
OUTCOMES = ("failed", "caught", "retried", "cancelled", "succeeded")

_FORKS = frozenset({"ParallelStateStarted", "MapStateStarted"})
_FORK_CLOSES = frozenset(
    f"{kind}State{end}"
    for kind in ("Parallel", "Map")
    for end in ("Succeeded", "Failed", "Aborted")
)
#: A Parallel's or Map's events after its branches: in the lane the state is open in.
_FORK_ENDS = _FORK_CLOSES | {"ParallelStateExited", "MapStateExited"}
_FANS = frozenset({"Parallel", "Map"})
#: Events that start one call of a Task's resource (a retry starts another).
_SCHEDULED = frozenset({"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"})
_RESULTS = frozenset({"TaskSucceeded", "LambdaFunctionSucceeded", "ActivitySucceeded"})
_FAILURE_SUFFIXES = ("Failed", "TimedOut", "Aborted", "StartFailed", "ScheduleFailed")


@dataclass(frozen=True, slots=True)
class Lane:
    """A thread of the execution."""

    key: str
    label: str
    depth: int


@dataclass(slots=True)
class Visit:
    """One pass through a state: from its StateEntered to its StateExited (or the end)."""

    state: str
    type: str
    lane: str
    entered_id: int
    start: float
    end: float
    input: Any = None
    #: Effective input of each call of the resource (TaskScheduled ``parameters``).
    parameters: list[Any] = field(default_factory=list)
    #: The resource's result (before ResultSelector/ResultPath/OutputPath).
    result: Any = None
    has_result: bool = False
    output: Any = None
    exited: bool = False
    assigned: dict[str, Any] = field(default_factory=dict)
    #: (event type, error, cause) of every failure seen in this visit.
    errors: list[tuple[str, Any, Any]] = field(default_factory=list)
    #: True when a call succeeded after the last failure (a retry worked).
    recovered: bool = False
    event_ids: list[int] = field(default_factory=list)
    status: str = "succeeded"
    #: The data-flow stages of an inspected run (TestState's keys), else None.
    inspection: Mapping[str, Any] | None = None

    @property
    def attempts(self) -> int:
        """Calls of the resource (1 + retries); 0 for states that call nothing."""
        return len(self.parameters)


def _is_failure(event: Event) -> bool:
    return event.type.endswith(_FAILURE_SUFFIXES) and not event.type.startswith("MapIteration")


class _Walker:
    def __init__(self) -> None:
        self.lanes: dict[str, Lane] = {"": Lane("", "execution", 0)}
        self.lane_of: dict[int, str] = {}
        self.forks: dict[int, int] = {}
        self.open: dict[str, Visit] = {}
        self.visits: list[Visit] = []
        self.events: dict[int, Event] = {}

    def lane(self, event: Event) -> str:
        parent_id = event.previous_event_id
        parent = self.lane_of.get(parent_id, "")
        if event.type in _FORK_ENDS:
            # A Parallel's or Map's own closing events may point back into a branch (moto
            # writes them after the last event of the branch that finished last): they
            # belong to the lane where that state is open.
            lane = parent
            while lane and (self.open.get(lane) is None or self.open[lane].type not in _FANS):
                lane = lane.rpartition("/")[0]
            return lane
        fork = self.events.get(parent_id)
        if fork is None or fork.type not in _FORKS or event.type in _FORK_CLOSES:
            return parent
        index = self.forks.get(parent_id, 0)
        self.forks[parent_id] = index + 1
        owner = self.open.get(parent)
        name = owner.state if owner else "?"
        if fork.type == "MapStateStarted":
            given = event.details.get("index", index)
            # A history from a file may be malformed: a non-integer index keeps the count.
            if isinstance(given, int) and not isinstance(given, bool):
                index = given
            tail = f"{name}[{index}]"
        else:
            tail = f"{name} branch {index + 1}"
        base = self.lanes[parent]
        key = f"{parent}/{tail}"
        label = tail if not parent else f"{base.label} › {tail}"
        self.lanes[key] = Lane(key, label, base.depth + 1)
        return key

    def feed(self, event: Event) -> None:
        self.events[event.id] = event
        lane = self.lane(event)
        self.lane_of[event.id] = lane
        visit = self.open.get(lane)
        if event.type.endswith("StateEntered"):
            visit = Visit(
                str(event.details.get("name", "?")),
                event.type.removesuffix("StateEntered"),
                lane,
                event.id,
                event.timestamp,
                event.timestamp,
                input=event.details.get("input"),
            )
            self.open[lane] = visit
            self.visits.append(visit)
        if visit is None:
            return
        visit.event_ids.append(event.id)
        visit.end = event.timestamp
        self._apply(visit, event)

    def _apply(self, visit: Visit, event: Event) -> None:
        details = event.details
        if event.type.endswith("StateExited"):
            visit.exited, visit.output = True, details.get("output")
            visit.assigned = dict(details.get("assignedVariables") or {})
            visit.inspection = event.inspection
            del self.open[visit.lane]
        elif event.type in _SCHEDULED:
            visit.parameters.append(details.get("parameters", details.get("input")))
        elif event.type in _RESULTS:
            visit.result, visit.has_result = details.get("output"), True
            visit.recovered = bool(visit.errors)
        elif _is_failure(event):
            visit.errors.append((event.type, details.get("error"), details.get("cause")))
            visit.recovered = False


def _status(visit: Visit) -> str:
    if visit.exited:
        if not visit.errors:
            return "succeeded"
        return "retried" if visit.recovered else "caught"
    if visit.errors or visit.type == "Fail":
        return "failed"
    return "cancelled"


def build_visits(events: Sequence[Event]) -> tuple[list[Lane], list[Visit]]:
    """The lanes (in order of appearance) and every state visit, with outcomes set."""
    walker = _Walker()
    for event in events:
        walker.feed(event)
    last = events[-1].timestamp if events else 0.0
    for visit in walker.visits:
        if not visit.exited:
            visit.end = max(visit.end, last)
        visit.status = _status(visit)
    return list(walker.lanes.values()), walker.visits


def state_outcomes(visits: Sequence[Visit]) -> dict[str, str]:
    """State name → its worst outcome over all its visits."""
    rank = {name: i for i, name in enumerate(OUTCOMES)}
    out: dict[str, str] = {}
    for visit in visits:
        current = out.get(visit.state)
        if current is None or rank[visit.status] < rank[current]:
            out[visit.state] = visit.status
    return out


def last_redrive(events: Sequence[Event]) -> int:
    """The id of the history's last ``ExecutionRedriven`` event; 0 if never redriven."""
    return max((e.id for e in events if e.type == "ExecutionRedriven"), default=0)


def latest_outcomes(visits: Sequence[Visit], redriven_at: int = 0) -> dict[str, str]:
    """:func:`state_outcomes`, except that after a redrive (its ``ExecutionRedriven`` event
    id ``redriven_at``) a state visited again shows how that went, as the AWS console
    does, not the failure the redrive repaired."""
    outcomes = state_outcomes(visits)
    if redriven_at:
        outcomes.update(state_outcomes([v for v in visits if v.entered_id > redriven_at]))
    return outcomes
