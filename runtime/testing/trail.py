"""What an execution did, read from its AWS-shaped history: the facts suites assert and
coverage counts (states entered, in order and per thread; retries; variables).

Only the history is read (as :mod:`runtime.report` reads it), never the engine's
internals, so a history recorded on AWS gives the same facts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runtime.report.history import Event, parse_events
from runtime.report.visits import Lane, Visit, build_visits

__all__ = ["Trail", "trail_of"]

_FORK_STARTS = frozenset({"ParallelStateStarted", "MapStateStarted"})


@dataclass(frozen=True, slots=True)
class Trail:
    """One execution's history as visits on lanes (the machine, branches, iterations)."""

    events: tuple[Event, ...]
    lanes: tuple[Lane, ...]
    visits: tuple[Visit, ...]
    #: Event id -> event.
    by_id: Mapping[int, Event]

    def path(self) -> list[str]:
        """The top-level states entered, in order (the machine's own lane)."""
        return [visit.state for visit in self.visits if visit.lane == ""]

    def visited(self) -> set[str]:
        """Every state entered, nested ones included."""
        return {visit.state for visit in self.visits}

    def attempts(self, visit: Visit) -> int:
        """How many times the visit ran its work: resource calls, or fork starts."""
        if visit.attempts:
            return visit.attempts
        events = self.by_id
        return sum(1 for i in visit.event_ids if events[i].type in _FORK_STARTS)

    def retries(self) -> dict[str, int]:
        """Retries per state, summed over its visits (states never retried are absent)."""
        out: dict[str, int] = {}
        for visit in self.visits:
            extra = self.attempts(visit) - 1
            if extra > 0:
                out[visit.state] = out.get(visit.state, 0) + extra
        return out

    def variables(self) -> dict[str, Any]:
        """The top-level variables at the end: each top-level state's assignments in turn."""
        out: dict[str, Any] = {}
        for visit in self.visits:
            if visit.lane == "":
                out.update(visit.assigned)
        return out

    def event_types(self) -> list[str]:
        return [event.type for event in self.events]

    def in_order(self, lane: str) -> list[Visit]:
        """The visits of one lane, in the order they were entered."""
        return sorted((v for v in self.visits if v.lane == lane), key=lambda v: v.entered_id)


def trail_of(history: Any) -> Trail:
    """The trail of an :class:`~runtime.api.ExecutionResult` or a list of AWS events."""
    events: Sequence[Mapping[str, Any]] = (
        history.history_json() if hasattr(history, "history_json") else history
    )
    parsed = parse_events(events)
    lanes, visits = build_visits(parsed)
    return Trail(parsed, tuple(lanes), tuple(visits), {e.id: e for e in parsed})
