"""Compare two runs of a workflow state by state: path, outputs, errors, timings.

Each run is a history (AWS's ``GetExecutionHistory`` shape, from the store, a file or AWS).
The runs are cut into threads as the report cuts them (the machine, each Parallel branch,
each Map item); a Parallel branch is known by the first state it ran, so branches that
started in another order still match. Within a thread the visits are compared in order.
Timings are shown, never counted as differences: two runs never take the same time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runtime.report.history import Event, summarise
from runtime.report.visits import Visit, build_visits

__all__ = ["Difference", "RunDiff", "diff_runs"]


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference: where, what, and the two sides."""

    thread: str
    what: str
    left: Any
    right: Any


@dataclass(frozen=True, slots=True)
class RunDiff:
    """The outcome of a comparison."""

    left_status: str
    right_status: str
    left_seconds: float
    right_seconds: float
    differences: list[Difference]
    #: State name → (left seconds, right seconds), summed over its visits.
    timings: dict[str, tuple[float, float]]

    @property
    def same(self) -> bool:
        return not self.differences


def _threads(events: Sequence[Event]) -> dict[str, list[Visit]]:
    """Visits by thread, a Parallel branch keyed by the first state it ran."""
    lanes, visits = build_visits(events)
    by_lane: dict[str, list[Visit]] = {}
    for visit in visits:
        by_lane.setdefault(visit.lane, []).append(visit)
    names: dict[str, str] = {"": "execution"}
    for lane in lanes:
        if not lane.key:
            continue
        parent, _, tail = lane.key.rpartition("/")
        first = by_lane.get(lane.key, [None])[0]
        if " branch " in tail and first is not None:
            tail = f"{tail.split(' branch ')[0]} branch starting at {first.state}"
        names[lane.key] = f"{names.get(parent, parent)} › {tail}" if parent else tail
    return {names.get(key, key): items for key, items in by_lane.items()}


def diff_runs(left: Sequence[Event], right: Sequence[Event]) -> RunDiff:
    """Compare two histories."""
    a, b = _threads(left), _threads(right)
    out: list[Difference] = []
    first, second = summarise(left), summarise(right)
    if first.status != second.status:
        out.append(Difference("execution", "status", first.status, second.status))
    for key in ("error", "cause"):
        if getattr(first, key) != getattr(second, key):
            out.append(Difference("execution", key, getattr(first, key), getattr(second, key)))
    if first.output != second.output:
        out.append(Difference("execution", "output", first.output, second.output))
    for thread in sorted(set(a) | set(b), key=lambda k: (k != "execution", k)):
        mine, theirs = a.get(thread, []), b.get(thread, [])
        path_a, path_b = [v.state for v in mine], [v.state for v in theirs]
        if path_a != path_b:
            out.append(Difference(thread, "path", path_a, path_b))
            continue
        for x, y in zip(mine, theirs, strict=True):
            if x.status != y.status:
                out.append(Difference(thread, f"{x.state}: outcome", x.status, y.status))
            if x.exited and y.exited and x.output != y.output:
                out.append(Difference(thread, f"{x.state}: output", x.output, y.output))
            errors_a = [e[1:] for e in x.errors]
            errors_b = [e[1:] for e in y.errors]
            if errors_a != errors_b:
                out.append(Difference(thread, f"{x.state}: errors", errors_a, errors_b))
    return RunDiff(
        first.status,
        second.status,
        first.stop - first.start,
        second.stop - second.start,
        out,
        _timings(left, right),
    )


def _timings(left: Sequence[Event], right: Sequence[Event]) -> dict[str, tuple[float, float]]:
    totals: dict[str, list[float]] = {}
    for side, events in enumerate((left, right)):
        for visit in build_visits(events)[1]:
            totals.setdefault(visit.state, [0.0, 0.0])[side] += visit.end - visit.start
    return {name: (pair[0], pair[1]) for name, pair in totals.items()}
