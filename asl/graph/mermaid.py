"""Mermaid ``flowchart TD`` text, as GitHub renders it in Markdown.

A flowchart rather than ``stateDiagram-v2``: flowcharts draw labelled edges between
nested subgraphs and per-node classes reliably, where state diagrams mis-route
transitions that cross composite states. Every state becomes a node with a generated id
(``n1``...) and a quoted label, so no state name can break the syntax.
"""

from __future__ import annotations

from asl.graph.model import Edge, Graph, Node, Scope
from asl.graph.text import visible

__all__ = ["escape", "render_mermaid"]

#: Characters Mermaid reads as syntax inside a quoted label → its entity codes.
_ENTITIES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "`": "#96;",
    # JavaScript's line terminators besides \n and \r: a lexer's "." stops at them.
    "\u2028": " ",
    "\u2029": " ",
}

_CLASSES = (
    "classDef start stroke:#2e7d32,stroke-width:3px",
    "classDef terminal stroke:#37474f,stroke-width:3px",
    "classDef fail fill:#fdecea,stroke:#c62828,stroke-width:3px",
    "classDef unreachable fill:#fff8e1,stroke:#f9a825,stroke-dasharray:5 5",
    "classDef missing fill:#ffebee,stroke:#c62828,stroke-dasharray:3 3",
    "classDef marker fill:#263238,stroke:#263238,color:#ffffff",
)

_ARROWS = {"next": "-->", "choice": "-->", "default": "-->", "catch": "-.->"}


def escape(text: str) -> str:
    """``text`` made safe inside a double-quoted Mermaid label.

    Newlines become spaces (as before); other control characters are spelled out.
    """
    text = visible(text.replace("\n", " ").replace("\r", " "))
    return "".join(_ENTITIES.get(ch, ch) for ch in text)


def _shape(node: Node, label: str) -> str:
    if node.type == "Choice":
        return f'{node.id}{{{{"{label}"}}}}'
    if node.type in ("Succeed", "Fail"):
        return f'{node.id}(["{label}"])'
    if node.type == "Missing":
        return f'{node.id}["{label}"]'
    return f'{node.id}("{label}")'


def _label(node: Node) -> str:
    lines = [escape(node.name), f"<i>{escape(node.type)}</i>"]
    if node.unreachable:
        lines.append("unreachable")
    lines.extend("↻ " + escape(text) for text in node.retry)
    return "<br/>".join(lines)


def _classes(node: Node) -> list[str]:
    names = []
    if node.type == "Fail":
        names.append("fail")
    elif node.terminal:
        names.append("terminal")
    if node.start:
        names.append("start")
    if node.unreachable:
        names.append("unreachable")
    if node.type == "Missing":
        names.append("missing")
    return names


def _edge(edge: Edge) -> str:
    arrow = _ARROWS[edge.kind]
    if edge.label:
        return f'{edge.source} {arrow}|"{escape(edge.label)}"| {edge.target}'
    return f"{edge.source} {arrow} {edge.target}"


def _scope(scope: Scope, indent: str, out: list[str]) -> None:
    start_marker, end_marker = f"{scope.id}_start", f"{scope.id}_end"
    out.append(f'{indent}{start_marker}(("start")):::marker')
    if scope.start:
        out.append(f"{indent}{start_marker} --> {scope.start}")
    ends = [node for node in scope.nodes if node.terminal]
    if ends:
        out.append(f'{indent}{end_marker}(("end")):::marker')
    for node in scope.nodes:
        out.append(indent + _shape(node, _label(node)))
        for cls in _classes(node):
            out.append(f"{indent}class {node.id} {cls}")
        for child in node.scopes:
            out.append(f'{indent}subgraph {child.id}["{escape(child.label)}"]')
            out.append(f"{indent}  direction TB")
            _scope(child, indent + "  ", out)
            out.append(f"{indent}end")
            out.append(f"{indent}{node.id} -.-> {child.id}")
    out.extend(indent + _edge(edge) for edge in scope.edges)
    out.extend(f"{indent}{node.id} --> {end_marker}" for node in ends)


def render_mermaid(graph: Graph) -> str:
    """The graph as a Mermaid flowchart (paste it in a ```mermaid block on GitHub)."""
    out = ["flowchart TD"]
    _scope(graph.root, "  ", out)
    out.extend("  " + line for line in _CLASSES)
    return "\n".join(out) + "\n"
