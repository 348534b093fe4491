"""Build a :class:`~asl.graph.model.Graph` from a definition as written.

Works on any JSON document shaped roughly like a state machine: a Next that names no
state becomes a ``Missing`` node, a malformed field is drawn as ``?``; nothing raises.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from asl.graph.labels import catch_label, resource_label, retry_label, rule_label
from asl.graph.model import Edge, Graph, Node, Scope, ScopeKind

__all__ = ["build_graph"]

#: State types that end their scope without ``End`` (SPEC §Terminal states).
_TERMINAL_TYPES = frozenset({"Succeed", "Fail"})


class _Ids:
    """Hands out identifiers safe in Mermaid, DOT and SVG (letters and digits only)."""

    def __init__(self) -> None:
        self._nodes = itertools.count(1)
        self._scopes = itertools.count(0)

    def node(self) -> str:
        return f"n{next(self._nodes)}"

    def scope(self) -> str:
        return f"c{next(self._scopes)}"


def build_graph(definition: Mapping[str, Any]) -> Graph:
    """The graph of ``definition`` (a parsed ASL document)."""
    ids = _Ids()
    root = _scope(definition, "State machine", "machine", ids)
    comment = definition.get("Comment")
    return Graph(root, comment if isinstance(comment, str) else "")


def _states(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    states = doc.get("States")
    return states if isinstance(states, Mapping) else {}


def _transitions(state: Mapping[str, Any]) -> Iterator[tuple[Any, str, str]]:
    """(target name, kind, label) for every transition a state declares, in order."""
    if state.get("Type") == "Choice":
        for rule in state.get("Choices") or ():
            if isinstance(rule, Mapping):
                yield rule.get("Next"), "choice", rule_label(rule)
        if "Default" in state:
            yield state["Default"], "default", "Default"
    if "Next" in state:
        yield state["Next"], "next", ""
    for catcher in state.get("Catch") or ():
        if isinstance(catcher, Mapping):
            yield catcher.get("Next"), "catch", catch_label(catcher)


def _scope(doc: Mapping[str, Any], label: str, kind: ScopeKind, ids: _Ids) -> Scope:
    scope_id = ids.scope()
    states = _states(doc)
    by_name = {str(name): ids.node() for name in states}
    edges: list[Edge] = []
    for name, state in states.items():
        if isinstance(state, Mapping):
            edges.extend(_edges(by_name[str(name)], state, by_name, ids))
    start = doc.get("StartAt")
    start_id = by_name.get(start) if isinstance(start, str) else None
    reached = _reachable(start_id, edges)
    nodes = [
        _node(by_name[str(name)], str(name), state, name == start, reached, ids)
        for name, state in states.items()
    ]
    nodes.extend(_missing(by_name, edges))
    return Scope(scope_id, label, kind, start_id, tuple(nodes), tuple(edges))


def _edges(source: str, state: Mapping[str, Any], by_name: dict[str, str], ids: _Ids) -> list[Edge]:
    out = []
    for target, kind, label in _transitions(state):
        name = str(target)
        if name not in by_name:
            # A Next naming no state: drawn as a Missing node so the mistake shows.
            by_name[name] = ids.node()
            by_name["\0missing:" + name] = by_name[name]
        out.append(Edge(source, by_name[name], kind, label))  # type: ignore[arg-type]
    return out


def _missing(by_name: dict[str, str], edges: list[Edge]) -> list[Node]:
    return [
        Node(node_id, key.removeprefix("\0missing:"), "Missing")
        for key, node_id in by_name.items()
        if key.startswith("\0missing:")
    ]


def _reachable(start: str | None, edges: list[Edge]) -> set[str]:
    after: dict[str, list[str]] = {}
    for edge in edges:
        after.setdefault(edge.source, []).append(edge.target)
    seen: set[str] = set()
    todo = [start] if start else []
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(after.get(current, ()))
    return seen


def _node(node_id: str, name: str, state: Any, start: bool, reached: set[str], ids: _Ids) -> Node:
    if not isinstance(state, Mapping):
        return Node(node_id, name, "?", start=start, unreachable=node_id not in reached)
    type_name = str(state.get("Type", "?"))
    terminal = state.get("End") is True or type_name in _TERMINAL_TYPES
    retry = tuple(retry_label(r) for r in state.get("Retry") or () if r is not None)
    return Node(
        node_id,
        name,
        type_name,
        start=start,
        terminal=terminal,
        unreachable=node_id not in reached,
        retry=retry,
        resource=resource_label(state) if type_name == "Task" else "",
        scopes=_children(name, type_name, state, ids),
    )


def _children(name: str, type_name: str, state: Mapping[str, Any], ids: _Ids) -> tuple[Scope, ...]:
    if type_name == "Parallel":
        branches = state.get("Branches") or ()
        return tuple(
            _scope(branch, f"{name} · branch {i + 1}", "branch", ids)
            for i, branch in enumerate(branches)
            if isinstance(branch, Mapping)
        )
    if type_name == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if isinstance(processor, Mapping):
            return (_scope(processor, f"{name} · each item", "processor", ids),)
    return ()
