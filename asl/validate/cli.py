"""``asl validate FILE...``: check definitions and print located, readable diagnostics.

Exit status: 0 when every file is valid (warnings allowed), 1 when some file has an error
(including JSON/YAML syntax errors), 2 for usage errors and files that cannot be read.
This path stays light (no boto3, rich or anyio): a cold run on a small file must be quick.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from asl.commandline import CommandParser
from asl.errors import SourceError
from asl.source import Document
from asl.templates import TemplateError, add_arguments, print_messages, read_definition
from asl.validate import validate_document
from asl.validate.diagnostics import Diagnostic, error

__all__ = ["main"]

_STDIN = "-"


@dataclass(frozen=True, slots=True)
class _Report:
    """The outcome for one file: its document (when it parsed) and its diagnostics."""

    source: str
    document: Document | None
    diagnostics: tuple[Diagnostic, ...]
    positions: tuple[tuple[int, int] | None, ...]


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="asl validate",
        description="Validate Amazon States Language definitions (JSON or YAML) the way "
        "AWS ValidateStateMachineDefinition does.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="definition files ('-' = stdin)")
    parser.add_argument("--json", action="store_true", help="print diagnostics as a JSON list")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print warnings")
    parser.add_argument("--yaml", action="store_true", help="read every file as YAML")
    add_arguments(parser)
    return parser


def main(argv: list[str]) -> int:
    """Run ``asl validate`` with ``argv`` (the arguments after ``validate``)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    status = 0
    reports: list[_Report] = []
    for name in args.files:
        try:
            data = sys.stdin.buffer.read() if name == _STDIN else _read(name)
        except OSError as exc:
            print(f"{name}: cannot read file: {exc.strerror or exc}", file=sys.stderr)
            status = 2
            continue
        try:
            report = _check(data, "<stdin>" if name == _STDIN else name, args)
        except TemplateError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        if args.quiet:
            report = _errors_only(report)
        if any(diag.severity == "ERROR" for diag in report.diagnostics):
            status = max(status, 1)
        reports.append(report)
    if args.json:
        _print_json(reports, sys.stdout)
    else:
        for report in reports:
            _print_text(report, sys.stdout)
    return status


def _read(name: str) -> bytes | None:
    if os.path.isdir(name):
        return None  # a CDK output folder: the template reader looks inside
    with open(name, "rb") as handle:
        return handle.read()


def _check(data: bytes | None, source: str, args: argparse.Namespace) -> _Report:
    as_yaml = args.yaml or source.lower().endswith((".yaml", ".yml"))
    try:
        read = read_definition(
            source,
            data=data,
            format="yaml" if as_yaml else None,
            resource=args.resource,
            subs=args.subs,
        )
    except TemplateError:
        raise
    except SourceError as exc:
        # AWS reports unparsable text as INVALID_JSON_DESCRIPTION (API diagnostics list).
        diag = error("INVALID_JSON_DESCRIPTION", exc.message, "")
        where = (exc.line, exc.column or 1) if exc.line is not None else None
        return _Report(source, None, (diag,), (where,))
    print_messages(read, sys.stderr)
    document = read.document
    diagnostics = tuple(validate_document(document))
    positions = tuple(document.position(diag.location) for diag in diagnostics)
    return _Report(document.source, document, diagnostics, positions)


def _errors_only(report: _Report) -> _Report:
    kept = [
        (d, p)
        for d, p in zip(report.diagnostics, report.positions, strict=True)
        if d.severity == "ERROR"
    ]
    return _Report(
        report.source, report.document, tuple(d for d, _ in kept), tuple(p for _, p in kept)
    )


def _print_json(reports: Sequence[_Report], out: TextIO) -> None:
    """AWS's diagnostic shape, plus where each one is: file, line and column."""
    items = []
    for report in reports:
        for diag, where in zip(report.diagnostics, report.positions, strict=True):
            line, column = where if where else (None, None)
            items.append({**diag.to_json(), "file": report.source, "line": line, "column": column})
    json.dump(items, out, indent=2, ensure_ascii=False)
    out.write("\n")


def _colours(out: TextIO) -> dict[str, str]:
    plain = {"ERROR": "", "WARNING": "", "dim": "", "bold": "", "end": ""}
    if os.environ.get("NO_COLOR") or not out.isatty():
        return plain
    return {
        "ERROR": "\x1b[31m",
        "WARNING": "\x1b[33m",
        "dim": "\x1b[2m",
        "bold": "\x1b[1m",
        "end": "\x1b[0m",
    }


def _print_text(report: _Report, out: TextIO) -> None:
    c = _colours(out)
    if not report.diagnostics:
        out.write(f"{report.source}: {c['bold']}valid{c['end']}\n")
        return
    for diag, where in zip(report.diagnostics, report.positions, strict=True):
        place = f"{report.source}:{where[0]}:{where[1]}" if where else report.source
        level = f"{c[diag.severity]}{diag.severity.lower()}{c['end']}"
        out.write(
            f"{c['bold']}{place}{c['end']}: {level} {diag.code} "
            f"{c['dim']}at {diag.location or '/'}{c['end']}\n"
        )
        out.write(f"  {diag.message}\n")
        if report.document is not None and where:
            out.write(_snippet(report.document, where, c))
    errors = sum(diag.severity == "ERROR" for diag in report.diagnostics)
    warnings = len(report.diagnostics) - errors
    out.write(f"{report.source}: {errors} error(s), {warnings} warning(s)\n")


def _snippet(document: Document, where: tuple[int, int], c: dict[str, str]) -> str:
    line, column = where
    text = document.line_text(line).expandtabs(1)
    if not text.strip():
        return ""
    if len(text) > 120:
        start = max(0, column - 60)
        text, column = text[start : start + 120], column - start
    gutter = f"{line:>5} | "
    return (
        f"{c['dim']}{gutter}{c['end']}{text}\n"
        f"{' ' * (len(gutter) - 2)}{c['dim']}|{c['end']} {' ' * (column - 1)}"
        f"{c['ERROR']}^{c['end']}\n"
    )
