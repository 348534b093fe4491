"""Graphviz DOT text: ``asl graph FILE --format dot | dot -Tpng > machine.png``.

Parallel branches and Map processors are ``cluster_`` subgraphs, so ``dot`` draws them as
boxes; a dashed edge leads from the Parallel or Map state into each of its clusters.
"""

from __future__ import annotations

from asl.graph.model import Edge, Graph, Node, Scope
from asl.graph.text import visible

__all__ = ["quote", "render_dot"]

_SHAPES = {
    "Choice": "diamond",
    "Succeed": "doublecircle",
    "Fail": "doubleoctagon",
    "Missing": "box",
}
_EDGE_STYLE: dict[str, tuple[str, ...]] = {
    "next": (),
    "choice": (),
    "default": ('style="bold"',),
    "catch": ('style="dashed"', 'color="#c62828"', 'fontcolor="#c62828"'),
}


def quote(text: str) -> str:
    """``text`` as a DOT double-quoted string (backslash and quote escaped).

    A newline becomes DOT's ``\\n`` line break; other control characters are spelled out.
    """
    body = visible(text, multiline=True)
    body = body.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{body}"'


def _line(text: str) -> str:
    """One line of a multi-line label: a newline in a name is shown, not obeyed."""
    return visible(text)


def _node(node: Node) -> str:
    lines = [_line(node.name), f"({_line(node.type)})"]
    if node.unreachable:
        lines.append("unreachable")
    lines.extend("↻ " + _line(text) for text in node.retry)
    attrs = [f"label={quote(chr(10).join(lines))}", f"shape={_SHAPES.get(node.type, 'box')}"]
    styles = ["rounded"] if node.type not in _SHAPES else []
    if node.unreachable or node.type == "Missing":
        styles.append("dashed")
        attrs.append('color="#f9a825"' if node.unreachable else 'color="#c62828"')
    if node.start:
        attrs.append("penwidth=2.5")
    if node.terminal:
        attrs.append("peripheries=2" if node.type not in _SHAPES else "penwidth=2")
    if node.type == "Fail":
        styles.append("filled")
        attrs.append('fillcolor="#fdecea"')
    if styles:
        attrs.append(f"style={quote(','.join(styles))}")
    return f"{node.id} [{', '.join(attrs)}];"


def _edge(edge: Edge) -> str:
    attrs = [f"label={quote(edge.label)}"] if edge.label else []
    attrs.extend(_EDGE_STYLE[edge.kind])
    suffix = f" [{', '.join(attrs)}]" if attrs else ""
    return f"{edge.source} -> {edge.target}{suffix};"


def _scope(scope: Scope, indent: str, out: list[str]) -> None:
    marker = f"{scope.id}_start"
    out.append(f"{indent}{marker} [shape=point, width=0.15];")
    if scope.start:
        out.append(f"{indent}{marker} -> {scope.start};")
    for node in scope.nodes:
        out.append(indent + _node(node))
        for child in node.scopes:
            out.append(f"{indent}subgraph cluster_{child.id} {{")
            out.append(f"{indent}  label={quote(child.label)}; style=rounded; color=gray50;")
            _scope(child, indent + "  ", out)
            out.append(f"{indent}}}")
            if child.start:
                out.append(f"{indent}{node.id} -> {child.start} [style=dotted, arrowhead=none];")
    out.extend(indent + _edge(edge) for edge in scope.edges)


def render_dot(graph: Graph) -> str:
    """The graph as a DOT ``digraph``."""
    out = [
        "digraph StateMachine {",
        '  graph [rankdir=TB, fontname="Helvetica", fontsize=11];',
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    _scope(graph.root, "  ", out)
    out.append("}")
    return "\n".join(out) + "\n"
