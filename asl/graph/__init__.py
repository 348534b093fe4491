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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asl.graph.ascii import render_ascii
    from asl.graph.build import build_graph
    from asl.graph.dot import render_dot
    from asl.graph.mermaid import render_mermaid
    from asl.graph.model import Edge, Graph, Node, Scope
    from asl.graph.svg import render_svg

    #: Output format name → renderer.
    FORMATS: dict[str, Callable[[Graph], str]]

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

#: Where each public name lives. They are imported on first use (PEP 562): the live trace
#: needs only :mod:`asl.graph.text`, and importing this package must not load every
#: renderer on the way there (a visible share of ``asl exec``'s start-up).
_HOMES = {
    "render_ascii": "asl.graph.ascii",
    "build_graph": "asl.graph.build",
    "render_dot": "asl.graph.dot",
    "render_mermaid": "asl.graph.mermaid",
    "Edge": "asl.graph.model",
    "Graph": "asl.graph.model",
    "Node": "asl.graph.model",
    "Scope": "asl.graph.model",
    "render_svg": "asl.graph.svg",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "FORMATS":
        value: Any = {
            "mermaid": __getattr__("render_mermaid"),
            "dot": __getattr__("render_dot"),
            "svg": __getattr__("render_svg"),
            "ascii": __getattr__("render_ascii"),
        }
    elif name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def render(graph: Graph, format: str) -> str:
    """``graph`` in ``format`` (one of :data:`FORMATS`); KeyError for an unknown format."""
    formats: dict[str, Callable[[Graph], str]] = globals().get("FORMATS") or __getattr__("FORMATS")
    return formats[format](graph)
