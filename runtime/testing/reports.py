"""Reports of a suite run: a terminal table (rich), JUnit XML, JSON.

The JUnit XML follows the Ant/Jenkins JUnit schema (``tests/data/junit.xsd`` checks it):
one ``<testsuite>`` per suite file, one ``<testcase>`` per case (``classname`` is the
suite file, ``name`` the case), a ``<failure>`` per broken case with every broken
expectation in its text, an ``<error>`` for a case that could not run.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from runtime.testing.coverage import Coverage
from runtime.testing.runner import CaseResult

__all__ = ["coverage_json", "junit_xml", "print_coverage", "print_results", "results_json"]

_STYLE = {"passed": "green", "failed": "red", "error": "bold red"}
_MARK = {"passed": "✓", "failed": "✗", "error": "!"}


def _by_suite(results: Sequence[CaseResult]) -> dict[str, list[CaseResult]]:
    out: dict[str, list[CaseResult]] = {}
    for result in results:
        out.setdefault(result.case.where.source, []).append(result)
    return out


def totals(results: Sequence[CaseResult]) -> dict[str, int]:
    """Cases by outcome."""
    out = {"passed": 0, "failed": 0, "error": 0}
    for result in results:
        out[result.outcome] += 1
    return out


# ---------------------------------------------------------------------------- terminal


def print_results(results: Sequence[CaseResult], console: Any) -> None:
    """One table per suite file (a row per case), then every broken expectation, then the
    totals."""
    from rich.markup import escape
    from rich.table import Table

    from asl.graph.text import visible

    for source, cases in _by_suite(results).items():
        table = Table(title=escape(visible(source)), title_justify="left")
        for column in ("", "case", "status", "states", "time"):
            right = column in ("states", "time")
            table.add_column(column, justify="right" if right else "left", overflow="fold")
        for result in cases:
            run = result.result
            outcome = result.outcome
            table.add_row(
                f"[{_STYLE[outcome]}]{_MARK[outcome]}[/]",
                escape(visible(result.case.name)),
                escape(run.status if run is not None else "not run"),
                str(run.transitions) if run is not None else "",
                f"{result.seconds * 1000:.0f} ms",
            )
        console.print(table)
    for result in results:
        if result.failures:
            style = _STYLE[result.outcome]
            console.print(f"[{style}]{result.outcome.upper()}[/] {escape(visible(result.case.id))}")
            for line in result.failures:
                console.print(f"  {escape(visible(line))}", highlight=False)
    count = totals(results)
    parts = [f"[green]{count['passed']} passed[/]"]
    parts += [f"[red]{count['failed']} failed[/]"] if count["failed"] else []
    parts += [f"[bold red]{count['error']} errors[/]"] if count["error"] else []
    console.print(", ".join(parts) + f" ({len(results)} cases)")


def print_coverage(coverages: Sequence[Coverage], console: Any, *, missed: bool = True) -> None:
    """One row per definition (states, transitions, Choice, Catch, Retry), then what was
    missed."""
    from rich.markup import escape
    from rich.table import Table

    from asl.graph.text import visible

    table = Table(title="coverage", title_justify="left")
    groups = (
        ("states", ("state",)),
        ("next", ("next",)),
        ("choice", ("choice", "default")),
        ("catch", ("catch",)),
        ("retry", ("retry",)),
    )
    table.add_column("definition", overflow="fold")
    for name, _ in groups:
        table.add_column(name, justify="right")
    table.add_column("total", justify="right")
    for cov in coverages:
        cells = []
        for _, kinds in groups:
            done, total = cov.count(kinds)
            cells.append(f"{done}/{total}" if total else "-")
        style = "green" if cov.percent == 100 else "yellow"
        table.add_row(escape(visible(cov.label)), *cells, f"[{style}]{cov.percent:.1f}%[/]")
    console.print(table)
    for cov in coverages:
        if missed and cov.missed():
            items = ", ".join(t.describe() for t in cov.missed())
            console.print(f"[yellow]missed in {escape(visible(cov.label))}:[/] {escape(items)}")
        for note in cov.notes:
            console.print(f"[dim]note: {escape(visible(note))}[/]")


# ---------------------------------------------------------------------------- JUnit


def junit_xml(results: Sequence[CaseResult], *, timestamp: float | None = None) -> str:
    """The results as a JUnit XML document (Ant/Jenkins schema)."""
    from runtime.engine.clock import RealClock

    stamp = datetime.fromtimestamp(RealClock().now() if timestamp is None else timestamp, UTC)
    root = ElementTree.Element("testsuites")
    host = socket.gethostname() or "localhost"
    for number, (source, cases) in enumerate(_by_suite(results).items()):
        count = totals(cases)
        suite = ElementTree.SubElement(
            root,
            "testsuite",
            {
                "name": source,
                "package": "asl-test",
                "id": str(number),
                "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S"),
                "hostname": host,
                "tests": str(len(cases)),
                "failures": str(count["failed"]),
                "errors": str(count["error"]),
                "time": f"{sum(c.seconds for c in cases):.3f}",
            },
        )
        ElementTree.SubElement(suite, "properties")
        for result in cases:
            _testcase(suite, source, result)
        ElementTree.SubElement(suite, "system-out").text = ""
        ElementTree.SubElement(suite, "system-err").text = ""
    ElementTree.indent(root)
    body = ElementTree.tostring(root, encoding="unicode", xml_declaration=False)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _xml_safe(body) + "\n"


def _testcase(suite: ElementTree.Element, source: str, result: CaseResult) -> None:
    case = ElementTree.SubElement(
        suite,
        "testcase",
        {"name": result.case.name, "classname": source, "time": f"{result.seconds:.3f}"},
    )
    if result.outcome == "passed":
        return
    tag = "failure" if result.outcome == "failed" else "error"
    first = result.failures[0] if result.failures else result.outcome
    kind = "ExpectationFailed" if tag == "failure" else "CaseError"
    node = ElementTree.SubElement(case, tag, {"message": first, "type": kind})
    node.text = "\n".join(result.failures)


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (control characters from a cause, say)."""
    return "".join(
        ch
        if ch in "\t\n\r"
        or 0x20 <= ord(ch) <= 0xD7FF
        or 0xE000 <= ord(ch) <= 0xFFFD
        or 0x10000 <= ord(ch) <= 0x10FFFF
        else "\ufffd"
        for ch in text
    )


# ---------------------------------------------------------------------------- JSON


def results_json(
    results: Sequence[CaseResult], coverages: Sequence[Coverage] = ()
) -> dict[str, Any]:
    """The results (and coverage, when measured) as one JSON document."""
    doc: dict[str, Any] = {
        "totals": totals(results),
        "cases": [
            {
                "suite": r.case.where.source,
                "case": r.case.name,
                "outcome": r.outcome,
                "status": r.result.status if r.result is not None else None,
                "error": r.result.error if r.result is not None else None,
                "cause": r.result.cause if r.result is not None else None,
                "seconds": round(r.seconds, 6),
                "failures": list(r.failures),
            }
            for r in results
        ],
    }
    if coverages:
        doc["coverage"] = [coverage_json(c) for c in coverages]
    return doc


def coverage_json(cov: Coverage) -> dict[str, Any]:
    done, total = cov.count()
    return {
        "definition": cov.label,
        "percent": round(cov.percent, 2),
        "covered": done,
        "total": total,
        "executions": cov.executions,
        "items": [
            {
                "kind": t.kind,
                "state": t.state,
                "index": t.index,
                "to": t.to,
                "hits": cov.hits.get(t.key, 0),
            }
            for t in cov.targets
        ],
        "notes": list(cov.notes),
    }


def dumps(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
