"""A tolerant view of a definition's scopes and states, shared by every rule.

The walk never fails on malformed input: whatever is not shaped like a scope or a state is
skipped here and reported by the schema driver instead. Rules receive a :class:`Machine`
and yield diagnostics; none of them re-implements the descent into Parallel branches and
Map processors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from asl.source import escape_pointer

__all__ = ["Machine", "Scope", "StateRef", "build_machine", "child_scopes"]


@dataclass(frozen=True, slots=True)
class Scope:
    """A ``States`` object with its ``StartAt``: the machine, a branch or a processor."""

    #: JSON Pointer of the object holding ``StartAt``/``States`` ("" for the machine).
    pointer: str
    #: The raw ``StartAt`` value (may be missing or of the wrong type).
    start_at: Any
    #: The ``States`` object, or an empty mapping when it is not an object.
    states: Mapping[str, Any]
    #: 0 for the machine, 1 inside a top-level Parallel/Map, and so on.
    depth: int


@dataclass(frozen=True, slots=True)
class StateRef:
    """One state (an object under some ``States``) and what the rules need to know of it."""

    name: str
    #: JSON Pointer of the state object, e.g. ``/States/Pay``.
    pointer: str
    body: Mapping[str, Any]
    #: Its own ``QueryLanguage``, else the machine's (SPEC §Query Languages: not the
    #: enclosing Map/Parallel state's).
    language: str
    scope: Scope
    #: The ``Type`` value when it is a string (the schema reports any other), else None.
    type: str | None = None
    #: What several rules work out alike for this state, kept by the first.
    shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def at(self, *fields: str | int) -> str:
        """JSON Pointer of a field inside this state."""
        return pointer_join(self.pointer, *fields)


@dataclass(frozen=True, slots=True)
class Machine:
    """Every scope and state of a definition, in document order."""

    definition: Mapping[str, Any]
    #: The top-level ``QueryLanguage`` ("JSONPath" when absent or not a known value).
    language: str
    scopes: tuple[Scope, ...]
    states: tuple[StateRef, ...]
    #: What several rules work out alike (e.g. the flow of variables), kept by the first.
    shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def pointer_join(base: str, *fields: str | int) -> str:
    """Append reference tokens to a JSON Pointer."""
    for token in fields:
        text = token if type(token) is str else str(token)
        if "~" in text or "/" in text:
            text = escape_pointer(text)
        base = f"{base}/{text}"
    return base


def child_scopes(state: StateRef) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield (pointer, object) for each branch/processor scope directly inside ``state``."""
    body = state.body
    branches = body.get("Branches") if body.get("Type") == "Parallel" else None
    if isinstance(branches, list):
        for index, branch in enumerate(branches):
            if isinstance(branch, Mapping):
                yield state.at("Branches", index), branch
    if body.get("Type") == "Map":
        for key in ("ItemProcessor", "Iterator"):
            processor = body.get(key)
            if isinstance(processor, Mapping):
                yield state.at(key), processor


def build_machine(definition: Mapping[str, Any]) -> Machine:
    """Walk ``definition`` into a :class:`Machine` (tolerant of any malformed part)."""
    language = definition.get("QueryLanguage")
    language = language if language in ("JSONPath", "JSONata") else "JSONPath"
    scopes: list[Scope] = []
    states: list[StateRef] = []
    pending: list[tuple[str, Mapping[str, Any], int]] = [("", definition, 0)]
    while pending:
        pointer, holder, depth = pending.pop(0)
        raw_states = holder.get("States")
        scope = Scope(
            pointer=pointer,
            start_at=holder.get("StartAt"),
            states=raw_states if isinstance(raw_states, Mapping) else {},
            depth=depth,
        )
        scopes.append(scope)
        nested: list[tuple[str, Mapping[str, Any], int]] = []
        for name, body in scope.states.items():
            if not isinstance(body, Mapping):
                continue
            own = body.get("QueryLanguage")
            kind = body.get("Type")
            ref = StateRef(
                name=name,
                pointer=pointer_join(pointer, "States", name),
                body=body,
                language=own if own in ("JSONPath", "JSONata") else language,
                scope=scope,
                type=kind if isinstance(kind, str) else None,
            )
            states.append(ref)
            if kind == "Parallel" or kind == "Map":
                nested.extend((p, obj, depth + 1) for p, obj in child_scopes(ref))
        # Depth-first so that states come out in document order.
        pending[:0] = nested
    return Machine(definition, language, tuple(scopes), tuple(states))
