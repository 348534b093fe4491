"""Plain-text outline of the graph, for terminals and logs (ASCII only).

One line per state in definition order, its transitions indented under it::

    > Flaky [Task] (start)
        retry Boom.Transient x2, 1s x2.0
        -> Bad
"""

from __future__ import annotations

from asl.graph.model import Edge, Graph, Node, Scope
from asl.graph.text import visible

__all__ = ["render_ascii"]

_KIND_PREFIX = {"next": "->", "choice": "?>", "default": "*>", "catch": "!>"}
#: The few non-ASCII characters the labels use, spelled in ASCII.
_ASCII = str.maketrans({"×": "x", "≤": "<=", "…": "...", "·": "-", "↻": "@"})


def _ascii(text: str) -> str:
    return text.translate(_ASCII).encode("ascii", "backslashreplace").decode("ascii")


def _shown(text: str) -> str:
    """One field on one line: a newline or an ESC in a name is spelled, never obeyed."""
    return visible(text)


def _flags(node: Node) -> str:
    flags = [
        flag
        for flag, on in (
            ("start", node.start),
            ("end", node.terminal),
            ("UNREACHABLE", node.unreachable),
        )
        if on
    ]
    return f" ({', '.join(flags)})" if flags else ""


def _edge(edge: Edge, names: dict[str, str]) -> str:
    label = f"  [{_shown(edge.label)}]" if edge.label else ""
    return f"{_KIND_PREFIX[edge.kind]} {_shown(names[edge.target])}{label}"


def _scope(scope: Scope, depth: int, names: dict[str, str], out: list[str]) -> None:
    pad = "    " * depth
    by_source: dict[str, list[Edge]] = {}
    for edge in scope.edges:
        by_source.setdefault(edge.source, []).append(edge)
    for node in scope.nodes:
        mark = ">" if node.start else "!" if node.unreachable else "-"
        kind = f"{node.type}: {node.resource}" if node.resource else node.type
        out.append(f"{pad}{mark} {_shown(node.name)} [{_shown(kind)}]{_flags(node)}")
        out.extend(f"{pad}    {_shown(text)}" for text in node.retry)
        out.extend(f"{pad}    {_edge(edge, names)}" for edge in by_source.get(node.id, ()))
        for child in node.scopes:
            out.append(f"{pad}    +-- {_shown(child.label)}")
            _scope(child, depth + 2, names, out)


def render_ascii(graph: Graph) -> str:
    """The graph as an indented outline; ``->`` Next, ``?>`` rule, ``*>`` Default, ``!>`` Catch."""
    names = {node.id: node.name for node in graph.nodes()}
    out = [f"# {_shown(graph.comment)}"] if graph.comment else []
    _scope(graph.root, 0, names, out)
    return _ascii("\n".join(out)) + "\n"
