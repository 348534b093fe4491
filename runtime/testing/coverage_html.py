"""Coverage as one self-contained HTML page: each definition's graph (the report's SVG),
states covered in green, partly covered (entered, but some rule, Catch, Retry or Next never
taken) in light green, never entered in grey; transitions taken in green, the others grey;
and the list of every item with its count."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from asl.commandline import write_whole
from asl.graph import build_graph, render_svg
from asl.graph.svg import STYLE as GRAPH_STYLE
from asl.graph.text import visible
from runtime.testing.coverage import Coverage

__all__ = ["coverage_html", "write_coverage_html"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
  margin: 24px; color: #1c2b33; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 32px; }
.muted { color: #607d8b; }
table { border-collapse: collapse; margin-top: 12px; font-size: 13px; }
td, th { border-bottom: 1px solid #e0e0e0; padding: 3px 10px; text-align: left; }
.hit { color: #2e7d32; } .miss { color: #757575; font-weight: 600; }
.legend span { margin-right: 16px; font-size: 13px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
  vertical-align: -1px; border: 1px solid; }
.k-covered { background: #c8e6c9; border-color: #2e7d32; }
.k-partial { background: #f1f8e9; border-color: #9ccc65; }
.k-missed { background: #eeeeee; border-color: #9e9e9e; }
.asl-graph .cov-covered > .shape { fill: #c8e6c9; stroke: #2e7d32; stroke-width: 2; }
.asl-graph .cov-partial > .shape { fill: #f1f8e9; stroke: #9ccc65; stroke-width: 2;
  stroke-dasharray: 6 3; }
.asl-graph .cov-missed > .shape { fill: #eeeeee; stroke: #9e9e9e; }
.asl-graph .cov-missed .name, .asl-graph .cov-missed .type { fill: #9e9e9e; }
.asl-graph .edge { stroke: #bdbdbd; }
.asl-graph .edge.edge-taken { stroke: #2e7d32; stroke-width: 2.4; }
"""


def _h(text: object) -> str:
    return escape(visible(str(text)), quote=True)


def _taken(cov: Coverage) -> set[tuple[str, str]]:
    """The (state, next state) pairs whose every transition was covered: drawn green. Two
    entries between the same states (a rule and Default, two Catch entries) are one edge
    on the graph, green only when both were taken."""
    pairs: dict[tuple[str, str], bool] = {}
    for target in cov.targets:
        if target.to is not None:
            key = (target.state, target.to)
            pairs[key] = pairs.get(key, True) and cov.covered(target)
    return {pair for pair, covered in pairs.items() if covered}


def _section(cov: Coverage) -> str:
    graph = build_graph(cov.machine.definition)
    classes = {node.id: (f"cov-{cov.state_status(node.name)}",) for node in graph.nodes()}
    svg = render_svg(graph, classes=classes, standalone=False, taken=_taken(cov))
    rows = "".join(
        f'<tr><td class="{"hit" if cov.covered(t) else "miss"}">'
        f"{'✓' if cov.covered(t) else '✗'}</td><td>{_h(t.kind)}</td>"
        f'<td style="padding-left:{10 + 14 * t.depth}px">{_h(t.describe())}</td>'
        f"<td>{cov.hits.get(t.key, 0)}</td></tr>"
        for t in cov.targets
    )
    notes = "".join(f'<p class="muted">note: {_h(n)}</p>' for n in cov.notes)
    done, total = cov.count()
    return (
        f"<section><h2>{_h(cov.label)}: {cov.percent:.1f}% ({done}/{total})</h2>"
        f'<p class="muted">{cov.executions} executions</p>{svg}{notes}'
        "<table><thead><tr><th></th><th>kind</th><th>item</th><th>times</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def coverage_html(coverages: Sequence[Coverage]) -> str:
    """The page for ``coverages`` (one section per definition)."""
    keys = ("covered", "partial", "missed")
    legend = "".join(f'<span><i class="k-{k}"></i>{k}</span>' for k in keys)
    body = "".join(_section(c) for c in coverages)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>asl test coverage</title><style>{GRAPH_STYLE}{_CSS}</style></head>"
        f'<body><h1>asl test coverage</h1><div class="legend">{legend}</div>{body}'
        "</body></html>\n"
    )


def write_coverage_html(path: str | Path, coverages: Sequence[Coverage]) -> None:
    """Write :func:`coverage_html` to ``path``."""
    write_whole(path, coverage_html(coverages))
