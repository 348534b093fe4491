"""The graph of a state machine definition: scopes, states, labelled edges.

Built from the definition as written (not the compiled model) so that any document,
even one that does not validate, can be drawn; see :mod:`asl.graph.build`. Renderers
(:mod:`asl.graph.mermaid`, ``dot``, ``ascii``, ``svg``) only read this model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

__all__ = ["Edge", "EdgeKind", "Graph", "Node", "Scope", "ScopeKind"]

#: ``next`` (Next), ``choice`` (a Choice rule), ``default`` (Choice Default), ``catch``.
EdgeKind = Literal["next", "choice", "default", "catch"]
#: ``machine`` (top level), ``branch`` (a Parallel branch), ``processor`` (a Map's).
ScopeKind = Literal["machine", "branch", "processor"]


@dataclass(frozen=True, slots=True)
class Edge:
    """A transition between two states of one scope."""

    #: Node id of the state the transition leaves.
    source: str
    #: Node id of the state it leads to.
    target: str
    kind: EdgeKind
    #: Human text: the Choice rule, ``Default``, or the caught error names.
    label: str = ""


@dataclass(frozen=True, slots=True)
class Node:
    """One state."""

    #: Identifier safe in every output format (``n1``, ``n2``...), unique in the graph.
    id: str
    #: The state's name as written.
    name: str
    #: The state's ``Type`` (``Missing`` for a Next that names no state).
    type: str
    #: True for its scope's ``StartAt`` state.
    start: bool = False
    #: True when the state ends its scope (End, Succeed, Fail).
    terminal: bool = False
    #: True when no path from its scope's StartAt reaches it.
    unreachable: bool = False
    #: One line per ``Retry`` entry (errors, attempts, interval, backoff).
    retry: tuple[str, ...] = ()
    #: What a Task calls, shortly (``lambda:invoke Fn``); empty for other states.
    resource: str = ""
    #: Parallel branches or the Map processor, as nested scopes.
    scopes: tuple[Scope, ...] = ()


@dataclass(frozen=True, slots=True)
class Scope:
    """A closed set of states: the machine, a Parallel branch or a Map processor."""

    #: Identifier safe in every output format (``c0``, ``c1``...).
    id: str
    label: str
    kind: ScopeKind
    #: Node id of the StartAt state, or None when StartAt names no state.
    start: str | None
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


@dataclass(frozen=True, slots=True)
class Graph:
    """A state machine definition as a graph of nested scopes."""

    root: Scope
    comment: str = ""

    def scopes(self) -> Iterator[Scope]:
        """Every scope, depth first, the root first."""
        stack = [self.root]
        while stack:
            scope = stack.pop()
            yield scope
            for node in reversed(scope.nodes):
                stack.extend(reversed(node.scopes))

    def nodes(self) -> Iterator[Node]:
        """Every state node, nested ones included."""
        for scope in self.scopes():
            yield from scope.nodes

    def node_ids(self) -> dict[str, str]:
        """State name → node id (the first node of that name; ASL names are unique)."""
        out: dict[str, str] = {}
        for node in self.nodes():
            out.setdefault(node.name, node.id)
        return out
