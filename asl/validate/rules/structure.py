"""Rules on the state graph: names, transitions, reachability and terminal states.

SPEC §Top-level fields, §Parallel, §Map: each ``States`` object is a closed scope; a
transition may only name a state of the same scope. AWS reports a missing target and an
unreachable state both as ``MISSING_TRANSITION_TARGET`` ("Missing 'Next' target: pass3",
"State "pass2" is not reachable.", recorded in localstack/localstack#12487).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from asl.source import json_type
from asl.validate.diagnostics import Diagnostic, error
from asl.validate.rules.walk import Machine, Scope, StateRef, pointer_join

__all__ = [
    "check_names",
    "check_next_or_end",
    "check_state_objects",
    "check_terminal",
    "check_transitions",
]

MAX_NAME_LENGTH = 80  # DG:limits-overview, "State names ... 1-80 characters"
_FLOW_TYPES = frozenset({"Task", "Pass", "Wait", "Parallel", "Map"})
_TERMINAL_TYPES = frozenset({"Succeed", "Fail"})
_SCHEMA = "SCHEMA_VALIDATION_FAILED"
_TARGET = "MISSING_TRANSITION_TARGET"


def transitions(state: StateRef) -> Iterator[tuple[str, Any]]:
    """Yield (pointer, target) for every transition out of ``state``."""
    body = state.body
    if "Next" in body:
        yield state.at("Next"), body["Next"]
    if body.get("Type") == "Choice":
        if "Default" in body:
            yield state.at("Default"), body["Default"]
        yield from _listed(state, "Choices")
    yield from _listed(state, "Catch")


def _listed(state: StateRef, field: str) -> Iterator[tuple[str, Any]]:
    items = state.body.get(field)
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, Mapping) and "Next" in item:
                yield state.at(field, index, "Next"), item["Next"]


def _by_scope(machine: Machine) -> dict[int, list[StateRef]]:
    """The states of each scope, by the scope object's identity."""
    found: dict[int, list[StateRef]] = {id(scope): [] for scope in machine.scopes}
    for state in machine.states:
        found[id(state.scope)].append(state)
    return found


def check_transitions(machine: Machine) -> Iterator[Diagnostic]:
    """StartAt and every Next/Default/Catch Next name a state of the same scope; every state
    is reachable from StartAt."""
    everywhere = {state.name for state in machine.states}
    by_scope = _by_scope(machine)
    for scope in machine.scopes:
        names = scope.states.keys()
        start = scope.start_at
        if isinstance(start, str) and start not in names:
            where = pointer_join(scope.pointer, "StartAt")
            yield error(_TARGET, _missing("StartAt", start, set(names), everywhere), where)
        edges: dict[str, list[str]] = {}
        for state in by_scope[id(scope)]:
            targets: list[str] = []
            edges[state.name] = targets
            body = state.body
            if body.keys() <= _ONLY_NEXT:  # the usual case: at most a Next to follow
                target = body.get("Next")
                if type(target) is str and target in names:
                    targets.append(target)
                    continue
            for where, target in transitions(state):
                if not isinstance(target, str):
                    continue  # the schema reports the type
                field = where.rpartition("/")[2]
                if target in names:
                    targets.append(target)
                else:
                    yield error(_TARGET, _missing(field, target, set(names), everywhere), where)
        if isinstance(start, str) and start in names:
            yield from _unreachable(scope, start, edges)


#: Fields of a state none of which but ``Next`` leads anywhere (Choices, Default and Catch
#: are not among them); with only these, the only transition is ``Next``.
_ONLY_NEXT = frozenset(
    {
        "Type",
        "Comment",
        "QueryLanguage",
        "Next",
        "End",
        "Parameters",
        "ResultPath",
        "ResultSelector",
        "InputPath",
        "OutputPath",
        "Result",
        "Assign",
        "Output",
        "Arguments",
        "Resource",
        "Retry",
        "TimeoutSeconds",
        "HeartbeatSeconds",
        "Seconds",
        "Timestamp",
        "SecondsPath",
        "TimestampPath",
        "Branches",
        "ItemProcessor",
        "Iterator",
        "ItemsPath",
        "Items",
        "ItemSelector",
        "MaxConcurrency",
    }
)


def _missing(field: str, target: str, names: set[str], everywhere: set[str]) -> str:
    message = f"Missing '{field}' target: no state named '{target}' in this scope"
    if target in everywhere:
        return message + (
            "; it is in another scope (transitions cannot enter or leave a Parallel branch "
            "or a Map processor)."
        )
    import difflib  # lazily: only needed when something is wrong

    close = difflib.get_close_matches(target, sorted(names), n=1, cutoff=0.7)
    return message + (f"; did you mean '{close[0]}'?" if close else ".")


def _unreachable(scope: Scope, start: str, edges: dict[str, list[str]]) -> Iterator[Diagnostic]:
    seen = {start}
    todo = [start]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for name in scope.states:
        if name not in seen:
            where = pointer_join(scope.pointer, "States", name)
            yield error(_TARGET, f'State "{name}" is not reachable from StartAt.', where)


def _is_terminal(body: Any) -> bool:
    if not isinstance(body, Mapping):
        return False
    kind = body.get("Type")
    return (isinstance(kind, str) and kind in _TERMINAL_TYPES) or body.get("End") is True


def check_terminal(machine: Machine) -> Iterator[Diagnostic]:
    """Every non-empty States object has a terminal state (Succeed, Fail or End: true)."""
    for scope in machine.scopes:
        if scope.states and not any(map(_is_terminal, scope.states.values())):
            yield error(
                "MISSING_END_STATE",
                "No terminal state: at least one state must be a Succeed or Fail state or "
                'have "End": true.',
                pointer_join(scope.pointer, "States"),
            )


def check_next_or_end(machine: Machine) -> Iterator[Diagnostic]:
    """Task, Pass, Wait, Parallel and Map states have exactly one of Next and End: true."""
    for state in machine.states:
        if state.type not in _FLOW_TYPES:
            continue
        has_next, ends = "Next" in state.body, state.body.get("End") is True
        if has_next and ends:
            yield error(
                _SCHEMA,
                f"A {state.type} state cannot have both 'Next' and \"End\": true.",
                state.at("End"),
            )
        elif not has_next and not ends:
            yield error(
                _SCHEMA,
                f"A {state.type} state must have either 'Next' or \"End\": true.",
                state.pointer,
            )


def check_state_objects(machine: Machine) -> Iterator[Diagnostic]:
    """Every member of a ``States`` object is a state object (SPEC §States: "States ... an
    object ... whose values are State objects"). The walk skips anything else, so without
    this rule a string state would only surface as an unreachable or missing end state."""
    for scope in machine.scopes:
        for name, body in scope.states.items():
            if not isinstance(body, Mapping):
                yield error(
                    _SCHEMA,
                    f"State '{name}' must be an object, got {json_type(body)}.",
                    pointer_join(scope.pointer, "States", name),
                )


def check_names(machine: Machine) -> Iterator[Diagnostic]:
    """State names are 1-80 characters and unique across the whole machine, nested scopes
    included (SPEC §Top-level fields)."""
    first: dict[str, str] = {}
    counts = Counter(state.name for state in machine.states)
    for state in machine.states:
        if not 0 < len(state.name) <= MAX_NAME_LENGTH:
            yield error(
                "INVALID_STATE_NAME",
                f"State names must be 1 to {MAX_NAME_LENGTH} characters long; "
                f"this one has {len(state.name)}.",
                state.pointer,
            )
        if counts[state.name] > 1:
            if state.name in first:
                yield error(
                    "DUPLICATE_STATE_NAME",
                    f"Duplicate state name '{state.name}' (first defined at "
                    f"{first[state.name]}); state names must be unique in the whole machine.",
                    state.pointer,
                )
            else:
                first[state.name] = state.pointer
