"""Draw a state machine definition: Mermaid, DOT, SVG or an ASCII outline.

    >>> from asl.graph import build_graph, render
    >>> graph = build_graph({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    >>> render(graph, "ascii")
    '> A [Succeed] (start, end)\\n'

The graph is built from the definition alone (nothing here knows about executions); the
execution report in :mod:`runtime.report` colours the SVG by what happened.
"""

from __future__ import annotations

from collections.abc import Callable

from asl.graph.ascii import render_ascii
from asl.graph.build import build_graph
from asl.graph.dot import render_dot
from asl.graph.mermaid import render_mermaid
from asl.graph.model import Edge, Graph, Node, Scope
from asl.graph.svg import render_svg

__all__ = [
    "FORMATS",
    "Edge",
    "Graph",
    "Node",
    "Scope",
    "build_graph",
    "render",
    "render_ascii",
    "render_dot",
    "render_mermaid",
    "render_svg",
]

#: Output format name → renderer.
FORMATS: dict[str, Callable[[Graph], str]] = {
    "mermaid": render_mermaid,
    "dot": render_dot,
    "svg": render_svg,
    "ascii": render_ascii,
}


def render(graph: Graph, format: str) -> str:
    """``graph`` in ``format`` (one of :data:`FORMATS`); KeyError for an unknown format."""
    return FORMATS[format](graph)
