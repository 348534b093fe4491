"""Coverage of a state machine by executions: states, transitions, Choice rules, Catch, Retry.

What is to be covered comes from the compiled model (:func:`targets`): every state (nested
ones of Parallel branches and Map processors included), every Next, every Choice rule and
Default, every Catch entry and every Retry entry. What was covered comes from histories
alone (:meth:`Coverage.add`), read as AWS writes them, so nothing instruments the engine:

- a state is covered when it was entered;
- a transition when one state was followed by the other on the same thread (the machine,
  a branch, a Map iteration);
- a Choice rule when it was the first to match: the rule leading to the state entered next,
  or, when several lead there, the first whose condition holds for the state's input;
- a Catch entry when its state failed and the thread went on at its Next: the entry
  leading there, or, when several do, the first matching the error;
- a Retry entry when a failure it is the first to match was followed by another attempt.

The states inside a Distributed Map are not counted: its iterations are child executions,
whose events are not in the parent's history (a note says so).

When a history cannot tell which of several entries acted (a Choice rule reading
variables, a Parallel failing without an error in its history), nothing is counted and
:attr:`Coverage.notes` says so: coverage never claims what it cannot show.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from asl.model import DEFAULT, Branch, ChoiceState, MapState, ParallelState, State, StateMachine
from runtime.report.visits import Visit
from runtime.testing.trail import Trail

__all__ = ["Coverage", "Target", "TargetKind", "distributed_maps", "targets"]

TargetKind = Literal["state", "next", "choice", "default", "catch", "retry"]
_FAILURE_SUFFIXES = ("Failed", "TimedOut", "Aborted", "StartFailed", "ScheduleFailed")


@dataclass(frozen=True, slots=True)
class Target:
    """One thing to cover."""

    kind: TargetKind
    #: The state it belongs to.
    state: str
    #: Rule, Catch or Retry index (0-based), else None.
    index: int | None = None
    #: The state it leads to (transitions), else None.
    to: str | None = None
    #: How deep the state is (0: top level), for display.
    depth: int = 0

    @property
    def key(self) -> tuple[str, str, int | None]:
        return (self.kind, self.state, self.index)

    def describe(self) -> str:
        """``Check → Approve (rule 1)``, ``Charge retry 1 [States.ALL]``..."""
        if self.kind == "state":
            return self.state
        n = "" if self.index is None else f" {self.index + 1}"
        what = {"next": "", "choice": f" (rule{n})", "default": " (Default)"}.get(self.kind)
        if what is not None:
            return f"{self.state} → {self.to}{what}"
        if self.kind == "catch":
            return f"{self.state} catch{n} → {self.to}"
        return f"{self.state} retry{n}"


def _walk(states: Mapping[str, State], depth: int) -> Iterator[tuple[State, int]]:
    for state in states.values():
        yield state, depth
        for branch in _branches(state):
            yield from _walk(branch.states, depth + 1)


def _branches(state: State) -> tuple[Branch, ...]:
    if isinstance(state, ParallelState):
        return state.branches
    if isinstance(state, MapState) and state.processor.mode != "DISTRIBUTED":
        return (state.processor,)
    return ()


def distributed_maps(machine: StateMachine) -> list[str]:
    """Distributed Map states: their iterations are child executions with histories of
    their own, so the states inside them are not counted."""
    return [
        state.name
        for state, _ in _walk(machine.states, 0)
        if isinstance(state, MapState) and state.processor.mode == "DISTRIBUTED"
    ]


def targets(machine: StateMachine) -> list[Target]:
    """Everything there is to cover in ``machine``, in definition order."""
    out = []
    for state, depth in _walk(machine.states, 0):
        name = state.name
        out.append(Target("state", name, depth=depth))
        if isinstance(state, ChoiceState):
            for i, rule in enumerate(state.choices):
                out.append(Target("choice", name, i, rule.next, depth))
            if state.default is not None:
                out.append(Target("default", name, None, state.default, depth))
        if state.next is not None:
            out.append(Target("next", name, None, state.next, depth))
        for i, catcher in enumerate(getattr(state, "catch", ())):
            out.append(Target("catch", name, i, catcher.next, depth))
        for i in range(len(getattr(state, "retry", ()))):
            out.append(Target("retry", name, i, None, depth))
    return out


@dataclass
class Coverage:
    """What executions of one machine covered of it; add histories with :meth:`add`."""

    machine: StateMachine
    #: A name for the machine in reports (its file, or file#resource).
    label: str = ""
    #: Target key -> how many times it was exercised.
    hits: dict[tuple[str, str, int | None], int] = field(default_factory=dict)
    #: What a history could not tell (one line each).
    notes: list[str] = field(default_factory=list)
    executions: int = 0

    def __post_init__(self) -> None:
        self.targets = targets(self.machine)
        self.hits = {t.key: 0 for t in self.targets}
        for name in distributed_maps(self.machine):
            self.notes.append(
                f"{name}: a Distributed Map's iterations are child executions with their "
                "own histories; the states inside it are not counted"
            )

    # ------------------------------------------------------------------ figures

    def covered(self, target: Target) -> bool:
        return self.hits.get(target.key, 0) > 0

    def count(self, kinds: tuple[str, ...] | None = None) -> tuple[int, int]:
        """(covered, total) of the targets of ``kinds`` (all when None)."""
        chosen = [t for t in self.targets if kinds is None or t.kind in kinds]
        return sum(1 for t in chosen if self.covered(t)), len(chosen)

    @property
    def percent(self) -> float:
        done, total = self.count()
        return 100.0 * done / total if total else 100.0

    def missed(self) -> list[Target]:
        return [t for t in self.targets if not self.covered(t)]

    def state_status(self, name: str) -> str:
        """``covered`` (entered, and all of its outgoing items), ``partial`` or ``missed``."""
        own = [t for t in self.targets if t.state == name]
        if not any(self.covered(t) for t in own if t.kind == "state"):
            return "missed"
        return "covered" if all(self.covered(t) for t in own) else "partial"

    # ------------------------------------------------------------------ reading a history

    def add(self, trail: Trail, label: str = "") -> None:
        """Count what one execution (its trail) exercised."""
        self.executions += 1
        states = self.machine.all_states
        for visit in trail.visits:
            if visit.state in states:
                self._hit(("state", visit.state, None))
                self._retries(trail, visit, label)
        for lane in trail.lanes:
            visits = trail.in_order(lane.key)
            for before, after in itertools.pairwise(visits):
                self._transition(trail, before, after, label)

    def _hit(self, key: tuple[str, str, int | None]) -> None:
        if key in self.hits:
            self.hits[key] += 1

    def _note(self, label: str, message: str) -> None:
        line = f"{label}: {message}" if label else message
        if line not in self.notes:
            self.notes.append(line)

    def _transition(self, trail: Trail, before: Visit, after: Visit, label: str) -> None:
        state = self.machine.all_states.get(before.state)
        if state is None:
            return
        if before.status == "caught":
            self._catch(trail, state, before, after.state, label)
        elif isinstance(state, ChoiceState):
            self._choice(state, before, after.state, label)
        elif state.next == after.state:
            self._hit(("next", state.name, None))

    def _catch(self, trail: Trail, state: State, visit: Visit, to: str, label: str) -> None:
        from runtime.engine.retry import find_catcher

        catchers = getattr(state, "catch", ())
        leading = [i for i, c in enumerate(catchers) if c.next == to]
        if len(leading) == 1:
            self._hit(("catch", state.name, leading[0]))
            return
        failures = _failures(trail, visit)
        error = failures[-1] if failures else None
        index = find_catcher(catchers, error) if error is not None else None
        if index is not None and index in leading:
            self._hit(("catch", state.name, index))
        else:
            self._note(label, f"{state.name}: cannot tell which Catch entry led to {to}")

    def _choice(self, state: ChoiceState, visit: Visit, to: str, label: str) -> None:
        leading = [i for i, r in enumerate(state.choices) if r.next == to]
        default = state.default == to
        if len(leading) + default == 1:
            key = ("choice", state.name, leading[0]) if leading else ("default", state.name, None)
            self._hit(key)
            return
        matched = _first_match(state, visit.input)
        if matched is None:
            self._note(label, f"{state.name}: cannot tell which Choice rule led to {to}")
        elif matched == -1 and default:
            self._hit(("default", state.name, None))
        elif matched in leading:
            self._hit(("choice", state.name, matched))
        else:
            self._note(label, f"{state.name}: cannot tell which Choice rule led to {to}")

    def _retries(self, trail: Trail, visit: Visit, label: str) -> None:
        from runtime.engine.retry import find_retrier

        state = self.machine.all_states[visit.state]
        retriers = getattr(state, "retry", ())
        if not retriers:
            return
        retried = _failures(trail, visit)[: max(trail.attempts(visit) - 1, 0)]
        for error in retried:
            index = find_retrier(retriers, error) if error is not None else None
            if index is None and len(retriers) == 1:
                index = 0  # only one entry can have retried it
            if index is None:
                self._note(label, f"{visit.state}: cannot tell which Retry entry retried it")
            else:
                self._hit(("retry", visit.state, index))


def _failures(trail: Trail, visit: Visit) -> list[str | None]:
    """The error of each failed attempt of a visit, in order (None when unknown).

    A Parallel or Map failure carries no error in AWS's history: its error is the last
    one recorded inside it before it failed.
    """
    out: list[str | None] = []
    for event_id in visit.event_ids:
        event = trail.by_id[event_id]
        if not event.type.endswith(_FAILURE_SUFFIXES) or event.type.startswith("MapIteration"):
            continue
        error = event.details.get("error")
        if error is None:
            error = _inner_error(trail, visit.entered_id, event_id)
        out.append(error if isinstance(error, str) else None)
    return out


def _inner_error(trail: Trail, start: int, stop: int) -> Any:
    for event_id in range(stop - 1, start, -1):
        event = trail.by_id.get(event_id)
        if event is not None and isinstance(event.details.get("error"), str):
            return event.details["error"]
    return None


def _first_match(state: ChoiceState, data: Any) -> int | None:
    """Index of the first rule holding for ``data`` (-1: none), or None when the history
    cannot answer (InputPath, JSONata, variables or the context are involved)."""
    if state.query_language != "JSONPath" or state.input_path is not DEFAULT:
        return None
    for index, rule in enumerate(state.choices):
        evaluate = getattr(rule.condition, "evaluate", None)
        if evaluate is None:
            return None
        try:
            if evaluate(data, {}, _NoVariables()):
                return index
        except Exception:  # a rule needing what the history lacks
            return None
    return -1


class _NoVariables(dict[str, Any]):
    """Variables a history does not hold: reading one makes the rule unanswerable."""

    def __getitem__(self, key: str) -> Any:
        raise LookupError(key)

    def __contains__(self, key: object) -> bool:
        raise LookupError(key)

    def get(self, key: str, default: Any = None) -> Any:
        raise LookupError(key)
