"""Standalone SVG, laid out in pure Python (:mod:`asl.graph.layout`): no Graphviz, no network.

Every state is a ``<g class="state ..." data-state="NAME">`` group, so a page embedding the
SVG can style states by outcome (``classes=``) and find them by name; the HTML execution
report does both.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from html import escape

from asl.graph.layout import LINE_H, NODE_H, Box, Route, ScopeLayout, layout_scope
from asl.graph.model import Graph, Node
from asl.graph.text import visible

__all__ = ["STYLE", "render_svg"]

#: CSS for the drawing; ``st-*`` classes are the outcomes the execution report assigns.
STYLE = """
.asl-graph { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
.asl-graph .shape { fill: #ffffff; stroke: #546e7a; stroke-width: 1.2; }
.asl-graph .start > .shape { stroke-width: 2.6; }
.asl-graph .terminal > .shape { stroke: #263238; stroke-width: 2.2; }
.asl-graph .type-Fail > .shape { fill: #fdecea; }
.asl-graph .type-Choice > .shape { fill: #f3f7fb; }
.asl-graph .unreachable > .shape { stroke: #f9a825; stroke-dasharray: 5 4; fill: #fff8e1; }
.asl-graph .type-Missing > .shape { stroke: #c62828; stroke-dasharray: 3 3; }
.asl-graph .name { font-size: 12px; font-weight: 600; fill: #1c2b33; }
.asl-graph .type, .asl-graph .retry, .asl-graph .scope-label { font-size: 10.5px; fill: #546e7a; }
.asl-graph .retry { fill: #8d6e00; }
.asl-graph .scope-box { fill: #fafbfc; stroke: #90a4ae; stroke-dasharray: 4 3; }
.asl-graph .marker { fill: #263238; }
.asl-graph .marker-ring { fill: none; stroke: #263238; stroke-width: 1.5; }
.asl-graph .edge { fill: none; stroke: #78909c; stroke-width: 1.3; }
.asl-graph .edge-catch { stroke: #c62828; stroke-dasharray: 5 3; }
.asl-graph .edge-default { stroke-width: 2; }
.asl-graph .edge.edge-taken { stroke: #1565c0; stroke-width: 2.6; stroke-dasharray: none; }
.asl-graph .edge-label { font-size: 10px; fill: #37474f; paint-order: stroke;
  stroke: #ffffff; stroke-width: 3px; }
.asl-graph .edge-label.catch { fill: #c62828; }
.asl-graph .st-succeeded > .shape { fill: #e8f5e9; stroke: #2e7d32; }
.asl-graph .st-retried > .shape { fill: #fffde7; stroke: #f9a825; }
.asl-graph .st-caught > .shape { fill: #fff3e0; stroke: #ef6c00; }
.asl-graph .st-failed > .shape { fill: #ffebee; stroke: #c62828; stroke-width: 2.6; }
.asl-graph .st-cancelled > .shape { fill: #eceff1; stroke: #78909c; }
.asl-graph .st-not-visited { opacity: 0.45; }
.asl-graph .selected > .shape { stroke: #1565c0; stroke-width: 3.2; }
.asl-graph [data-state] { cursor: pointer; }
"""

_ARROW = (
    '<marker id="asl-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="9" '
    'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
    '<path d="M0,0 L8,4 L0,8 z" '
    'fill="#78909c"/></marker>'
)


#: Anything but these in a CSS class name is replaced (a ``Type`` is any string).
_NOT_CLASS = re.compile(r"[^A-Za-z0-9_-]")


def _xml(text: str) -> str:
    """``text`` for XML character data or a quoted attribute (also valid in HTML)."""
    return escape(visible(text), quote=True)


def _class(name: str) -> str:
    """One CSS class token: ``type-Task`` stays, ``type-x"/><script>`` cannot add a tag."""
    return _NOT_CLASS.sub("_", name)


def _text(x: float, y: float, cls: str, text: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="middle">{_xml(text)}</text>'


def _shape(node: Node, w: float, h: float) -> str:
    if node.type == "Choice" and not node.scopes:
        mid = h / 2
        pts = f"10,0 {w - 10:.1f},0 {w:.1f},{mid:.1f} {w - 10:.1f},{h:.1f} 10,{h:.1f} 0,{mid:.1f}"
        return f'<polygon class="shape" points="{pts}"/>'
    radius = h / 2 if node.type in ("Succeed", "Fail") else 6
    return f'<rect class="shape" width="{w:.1f}" height="{h:.1f}" rx="{min(radius, 20):.1f}"/>'


def _classes(node: Node, extra: Iterable[str]) -> str:
    names = ["state", _class(f"type-{node.type}")]
    names += [n for n, on in (("start", node.start), ("terminal", node.terminal)) if on]
    names += ["unreachable"] if node.unreachable else []
    return " ".join([*names, *map(_class, extra)])


class _Painter:
    def __init__(
        self,
        classes: Mapping[str, Iterable[str]],
        taken: Collection[tuple[str, str]] = (),
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.classes = classes
        self.taken = taken
        self.names = names or {}
        self.out: list[str] = []

    def scope(self, lay: ScopeLayout, dx: float, dy: float, boxed: bool) -> None:
        self.out.append(f'<g class="scope" transform="translate({dx:.1f},{dy:.1f})">')
        if boxed:
            size = f'width="{lay.width:.1f}" height="{lay.height:.1f}"'
            self.out.append(f'<rect class="scope-box" {size} rx="8"/>')
            label = _xml(lay.scope.label)
            self.out.append(f'<text x="8" y="14" class="scope-label">{label}</text>')
        for route in lay.routes:
            self.route(route)
        for box in lay.boxes:
            self.box(box)
        self.out.append("</g>")

    def box(self, box: Box) -> None:
        node = box.node
        if node is None:
            cx, cy, r = box.x + box.width / 2, box.y + box.height / 2, box.width / 2
            if box.id.endswith("_end"):
                ring = f'<circle class="marker-ring" cx="{cx:.1f}" cy="{cy:.1f}" r="{r + 3:.1f}"/>'
                self.out.append(ring)
            self.out.append(f'<circle class="marker" cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}"/>')
            return
        cls = _classes(node, self.classes.get(node.id, ()))
        attrs = f'data-node="{_xml(node.id)}" data-state="{_xml(node.name)}"'
        move = f'transform="translate({box.x:.1f},{box.y:.1f})"'
        self.out.append(f'<g class="{cls}" {attrs} {move}>')
        self.out.append(f"<title>{_xml(node.name)} ({_xml(node.type)})</title>")
        self.out.append(_shape(node, box.width, box.height))
        mid = box.width / 2
        self.out.append(_text(mid, 17, "name", node.name))
        self.out.append(_text(mid, 31, "type", node.type))
        for i, line in enumerate(node.retry):
            self.out.append(_text(mid, NODE_H + LINE_H * i + 4, "retry", "↻ " + line))
        for ox, oy, child in box.children:
            self.scope(child, ox, oy, True)
        self.out.append("</g>")

    def route(self, route: Route) -> None:
        kind = route.edge.kind if route.edge else "next"
        d = " ".join(
            f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(route.points)
        )
        taken = ""
        if route.edge is not None and self.taken:
            pair = (self.names.get(route.edge.source, ""), self.names.get(route.edge.target, ""))
            taken = " edge-taken" if pair in self.taken else ""
        self.out.append(
            f'<path class="edge edge-{kind}{taken}" d="{d}" marker-end="url(#asl-arrow)"/>'
        )
        if route.edge is not None and route.edge.label:
            k = (len(route.points) - 1) // 2
            (x1, y1), (x2, y2) = route.points[k], route.points[k + 1]
            x, y = (x1 + x2) / 2 + 4, (y1 + y2) / 2 + 3
            label = _xml(route.edge.label)
            cls = f"edge-label {kind}"
            self.out.append(f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}">{label}</text>')


def render_svg(
    graph: Graph,
    *,
    classes: Mapping[str, Iterable[str]] | None = None,
    standalone: bool = True,
    taken: Collection[tuple[str, str]] = (),
) -> str:
    """The graph as SVG text.

    ``classes`` maps node ids to extra CSS classes (e.g. ``st-failed``); ``taken`` holds
    the (source, target) state-name pairs an execution went along, drawn as taken edges
    (a Catch that caught, a Choice rule that matched). With
    ``standalone`` the document carries the XML declaration and its own ``<style>``;
    without it, the ``<svg>`` element is meant to be inlined in HTML that includes
    :data:`STYLE`.
    """
    lay = layout_scope(graph.root)
    names = {node.id: node.name for node in graph.nodes()} if taken else {}
    painter = _Painter(classes or {}, taken, names)
    painter.scope(lay, 0, 0, False)
    width, height = lay.width + 40, lay.height  # room for back edges on the right
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else ""
    style = f"<style>{STYLE}</style>" if standalone else ""
    return (
        f'{head}<svg xmlns="http://www.w3.org/2000/svg" class="asl-graph" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">'
        f"<defs>{_ARROW}</defs>{style}{''.join(painter.out)}</svg>\n"
    )
