"""A small layered (Sugiyama-style) layout, so SVG needs neither Graphviz nor a network.

Each scope is laid out on its own, top to bottom: back edges are reversed (depth-first
search from StartAt), states are put in layers by longest path, edges longer than one
layer get invisible dummy points, and a few barycentre sweeps order each layer to cut
crossings. A Parallel or Map state is a compound box holding its branches' layouts side
by side; ASL edges never cross a scope, so the recursion is exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from asl.graph.model import Edge, Node, Scope
from asl.graph.text import visible

__all__ = ["Box", "Route", "ScopeLayout", "layout_scope", "text_width"]

MARKER = 14.0
NODE_H = 40.0
LINE_H = 14.0
HEADER_PAD = 10.0
GAP_X = 28.0
GAP_Y = 46.0
SWEEPS = 4


def text_width(text: str, size: float = 12.0) -> float:
    """Width of ``text`` in a sans-serif font, estimated (no font metrics offline).

    Measured as drawn: a control character is drawn spelled out (``\\x1b``).
    """
    return len(visible(text)) * size * 0.6


@dataclass(frozen=True, slots=True)
class ScopeLayout:
    """A laid-out scope; coordinates are relative to its own top-left corner."""

    scope: Scope
    width: float
    height: float
    boxes: tuple[Box, ...]
    routes: tuple[Route, ...]


@dataclass(frozen=True, slots=True)
class Box:
    """A placed state or marker (``node`` is None for start/end markers)."""

    id: str
    node: Node | None
    x: float
    y: float
    width: float
    height: float
    #: Child scope layouts with their offsets inside this box (Parallel/Map).
    children: tuple[tuple[float, float, ScopeLayout], ...] = ()


@dataclass(frozen=True, slots=True)
class Route:
    """A drawn edge: a polyline and its label (``edge`` is None for marker edges)."""

    edge: Edge | None
    points: tuple[tuple[float, float], ...]


def _header_height(node: Node) -> float:
    return NODE_H + LINE_H * len(node.retry)


def _size(node: Node, children: list[ScopeLayout]) -> tuple[float, float]:
    lines = [node.name, node.type, *node.retry]
    width = max(text_width(line) for line in lines) + 24
    height = _header_height(node)
    if children:
        inner = sum(c.width for c in children) + GAP_X * (len(children) - 1) + 2 * HEADER_PAD
        width = max(width, inner)
        height += max(c.height for c in children) + HEADER_PAD
    return max(width, 90.0), height


class _Layered:
    """Mutable working state of one scope's layout."""

    def __init__(self, sizes: dict[str, tuple[float, float]], order: list[str]) -> None:
        self.sizes = sizes
        self.order = order
        self.succ: dict[str, list[str]] = {n: [] for n in order}
        self.pred: dict[str, list[str]] = {n: [] for n in order}
        self.layer: dict[str, int] = {}
        self.x: dict[str, float] = {}
        self.y: dict[str, float] = {}
        self.chains: dict[tuple[str, str], list[str]] = {}

    def add(self, a: str, b: str) -> None:
        if b not in self.succ[a]:
            self.succ[a].append(b)
            self.pred[b].append(a)


def _acyclic(
    order: list[str], pairs: Iterable[tuple[str, str]]
) -> tuple[set[tuple[str, str]], list[tuple[str, str]]]:
    """Back edges (found by DFS in ``order``) and the forward edge list with them reversed."""
    after: dict[str, list[str]] = {n: [] for n in order}
    for a, b in pairs:
        after[a].append(b)
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for root in order:
        stack = [(root, iter(after[root]))] if root not in state else []
        state.setdefault(root, 1)
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[current] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((current, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(after[child])))
    forward = [(b, a) if (a, b) in back else (a, b) for a, b in after_pairs(after) if a != b]
    return back, forward


def after_pairs(after: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The (source, target) pairs of an adjacency map, in order."""
    return [(a, b) for a, targets in after.items() for b in targets]


def _layers(work: _Layered, forward: list[tuple[str, str]], end: str | None) -> None:
    for a, b in forward:
        work.add(a, b)
    indegree = {n: len(work.pred[n]) for n in work.order}
    ready = [n for n in work.order if indegree[n] == 0]
    while ready:
        current = ready.pop(0)
        work.layer[current] = max((work.layer[p] + 1 for p in work.pred[current]), default=0)
        for nxt in work.succ[current]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    if end is not None:
        work.layer[end] = max(work.layer.values(), default=0) + 1


def _dummies(work: _Layered) -> None:
    """Split edges spanning several layers with dummy points (zero-size nodes)."""
    for a in list(work.order):
        for b in list(work.succ[a]):
            span = work.layer[b] - work.layer[a]
            if span <= 1:
                continue
            work.succ[a].remove(b)
            work.pred[b].remove(a)
            chain, prev = [], a
            for step in range(1, span):
                dummy = f"{a}>{b}#{step}"
                work.sizes[dummy] = (0.0, 0.0)
                work.order.append(dummy)
                work.succ[dummy], work.pred[dummy] = [], []
                work.layer[dummy] = work.layer[a] + step
                work.add(prev, dummy)
                chain.append(dummy)
                prev = dummy
            work.add(prev, b)
            work.chains[(a, b)] = chain


def _sweep(row: list[str], ref: list[str], links: dict[str, list[str]]) -> list[str]:
    """``row`` sorted by the mean position of its neighbours in ``ref`` (barycentre)."""
    pos = {name: k for k, name in enumerate(ref)}
    keys = {}
    for k, name in enumerate(row):
        near = [pos[n] for n in links[name] if n in pos]
        keys[name] = sum(near) / len(near) if near else float(k)
    return sorted(row, key=keys.__getitem__)


def _rows(work: _Layered) -> list[list[str]]:
    rows: list[list[str]] = [[] for _ in range(max(work.layer.values(), default=0) + 1)]
    for name in work.order:
        rows[work.layer[name]].append(name)
    for sweep in range(SWEEPS):
        if sweep % 2 == 0:
            for i in range(1, len(rows)):
                rows[i] = _sweep(rows[i], rows[i - 1], work.pred)
        else:
            for i in range(len(rows) - 2, -1, -1):
                rows[i] = _sweep(rows[i], rows[i + 1], work.succ)
    return rows


def _place_x(work: _Layered, rows: list[list[str]]) -> None:
    for row in rows:
        cursor = 0.0
        for name in row:
            work.x[name] = cursor + work.sizes[name][0] / 2
            cursor += work.sizes[name][0] + GAP_X
    for row in rows[1:]:
        cursor = -1e9
        for name in row:
            wanted = [work.x[p] for p in work.pred[name]]
            centre = sum(wanted) / len(wanted) if wanted else work.x[name]
            half = work.sizes[name][0] / 2
            work.x[name] = max(centre, cursor + half)
            cursor = work.x[name] + half + GAP_X
    left = min((work.x[n] - work.sizes[n][0] / 2 for n in work.order), default=0.0)
    for name in work.order:
        work.x[name] += HEADER_PAD - left


def layout_scope(scope: Scope) -> ScopeLayout:
    """Lay out ``scope`` (and, recursively, the scopes of its Parallel and Map states)."""
    children = {node.id: [layout_scope(s) for s in node.scopes] for node in scope.nodes}
    sizes = {node.id: _size(node, children[node.id]) for node in scope.nodes}
    start, end = f"{scope.id}_start", f"{scope.id}_end"
    terminals = [node.id for node in scope.nodes if node.terminal]
    sizes[start] = (MARKER, MARKER)
    if terminals:
        sizes[end] = (MARKER, MARKER)
    order = [start, *(node.id for node in scope.nodes), *([end] if terminals else [])]
    if scope.start:  # StartAt first, so DFS finds the natural forward direction.
        order.remove(scope.start)
        order.insert(1, scope.start)
    pairs = [(e.source, e.target) for e in scope.edges]
    pairs += [(start, scope.start)] if scope.start else []
    pairs += [(t, end) for t in terminals]
    work = _Layered(sizes, order)
    back, forward = _acyclic(order, [p for p in pairs if p[1] != end])
    _layers(work, forward, end if terminals else None)
    for t in terminals:
        work.add(t, end)
    _dummies(work)
    rows = _rows(work)
    _place_x(work, rows)
    return _assemble(scope, work, rows, children, back)


def _assemble(
    scope: Scope,
    work: _Layered,
    rows: list[list[str]],
    children: dict[str, list[ScopeLayout]],
    back: set[tuple[str, str]],
) -> ScopeLayout:
    nodes = {node.id: node for node in scope.nodes}
    y = work.y
    top = HEADER_PAD + LINE_H
    for row in rows:
        height = max((work.sizes[n][1] for n in row), default=0.0)
        for name in row:
            y[name] = top + (height - work.sizes[name][1]) / 2
        top += height + GAP_Y
    boxes = tuple(
        _box(name, nodes.get(name), work, y[name], children.get(name, []))
        for name in work.order
        if "#" not in name
    )
    placed = {box.id: box for box in boxes}
    routes = [_route(e, e.source, e.target, placed, work, back) for e in scope.edges]
    routes = _spread(routes)
    start = f"{scope.id}_start"
    if scope.start:
        routes.append(_route(None, start, scope.start, placed, work, back))
    routes += [
        _route(None, node.id, f"{scope.id}_end", placed, work, back)
        for node in scope.nodes
        if node.terminal
    ]
    width = max((b.x + b.width for b in boxes), default=0.0) + HEADER_PAD
    width = max(width, text_width(scope.label, 11) + 2 * HEADER_PAD)
    return ScopeLayout(scope, width, top - GAP_Y + HEADER_PAD, boxes, tuple(routes))


def _box(name: str, node: Node | None, work: _Layered, y: float, kids: list[ScopeLayout]) -> Box:
    width, height = work.sizes[name]
    x = work.x[name] - width / 2
    placed, cursor = [], HEADER_PAD
    for kid in kids:
        placed.append((cursor, (_header_height(node) if node else 0.0), kid))
        cursor += kid.width + GAP_X
    return Box(name, node, x, y, width, height, tuple(placed))


def _route(
    edge: Edge | None,
    a: str,
    b: str,
    boxes: dict[str, Box],
    work: _Layered,
    back: set[tuple[str, str]],
) -> Route:
    src, dst = boxes[a], boxes[b]
    if (a, b) in back or a == b:
        # Back edge: leave by the right side, climb, and re-enter on the right.
        side = max(src.x + src.width, dst.x + dst.width) + 14
        sy, ty = src.y + src.height / 2, dst.y + dst.height / 2
        points = ((src.x + src.width, sy), (side, sy), (side, ty), (dst.x + dst.width, ty))
        return Route(edge, points)
    pts = [(work.x[a], src.y + src.height)]
    pts += [(work.x[d], work.y[d]) for d in work.chains.get((a, b), ())]
    pts.append((work.x[b], dst.y))
    return Route(edge, tuple(pts))


def _spread(routes: list[Route]) -> list[Route]:
    """Shift repeated edges between one pair of states (e.g. Next and Catch) apart."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for route in routes:
        assert route.edge is not None
        key = (route.edge.source, route.edge.target)
        shift = 12.0 * seen.get(key, 0)
        seen[key] = seen.get(key, 0) + 1
        pts = route.points
        if shift:
            inner = tuple((x + shift, y) for x, y in pts[1:-1])
            pts = (pts[0], *inner, pts[-1]) if inner else ((pts[0][0] + shift, pts[0][1]), pts[-1])
        out.append(Route(route.edge, pts))
    return out
