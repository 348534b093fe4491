"""``asl test SUITE...``: run test suites, report, measure coverage.

Exit status: 0 when every case passed (and coverage reached ``--fail-under``), 1 when a
case failed or could not run or coverage fell short, 2 when a suite is wrong (every
problem printed, one located line each, before anything runs) or an option is.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from asl.commandline import CommandParser, write_whole

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="asl test",
        description="Run test suites of state machines (virtual time, never AWS unless a "
        "case allows it).",
    )
    parser.add_argument(
        "suites",
        nargs="+",
        metavar="SUITE",
        help="a suite file (YAML/JSON), or a MockConfigFile with its .expect.yaml sidecar",
    )
    parser.add_argument("--junit", metavar="FILE", help="write a JUnit XML report here")
    parser.add_argument(
        "--json", metavar="FILE", help="write the results as JSON here (- for stdout only)"
    )
    parser.add_argument(
        "--coverage", action="store_true", help="measure and show state/transition coverage"
    )
    parser.add_argument(
        "--coverage-html",
        metavar="FILE",
        help="write the coverage graphs as HTML (implies --coverage)",
    )
    parser.add_argument(
        "--fail-under",
        metavar="PERCENT",
        type=float,
        help="exit 1 when a definition's coverage is below PERCENT (implies --coverage)",
    )
    parser.add_argument(
        "-k", dest="only", metavar="TEXT", help="run only the cases whose name contains TEXT"
    )
    parser.add_argument(
        "--allow-aws",
        action="store_true",
        help="let Tasks that no mock or local function answers call AWS (default: refused)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only failures and totals")
    return parser


def _error(message: str) -> None:
    from asl.commandline import error_line

    for line in message.splitlines() or [""]:
        error_line(line)


def _writable(flag: str, target: str | None) -> str | None:
    if not target or target == "-":
        return None
    path = Path(target)
    if path.is_dir():
        return f"{flag} {target}: it is a folder"
    if not path.resolve().parent.is_dir():
        return f"{flag} {target}: no folder {path.resolve().parent}"
    if not os.access(path.resolve().parent, os.W_OK):
        return f"{flag} {target}: permission denied"
    return None


def main(argv: list[str]) -> int:
    """Run ``asl test`` with ``argv`` (without the subcommand); return the exit status."""
    args = _parser().parse_args(argv)
    if args.fail_under is not None and not 0 <= args.fail_under <= 100:
        _error("asl test: --fail-under takes a percentage from 0 to 100")
        return EXIT_USAGE
    args.coverage = args.coverage or bool(args.coverage_html) or args.fail_under is not None
    problems = [
        p
        for p in (
            _writable("--junit", args.junit),
            _writable("--json", args.json),
            _writable("--coverage-html", args.coverage_html),
        )
        if p
    ]
    if problems:
        _error("\n".join(f"asl test: cannot write {p}" for p in problems))
        return EXIT_USAGE
    ready, problems = _prepare(args.suites)
    if problems:
        _error("\n".join(problems))
        return EXIT_USAGE
    for note in dict.fromkeys(n for p in ready for n in p.notes):
        print(note, file=sys.stderr)
    if args.only is not None:
        ready = [p for p in ready if args.only in p.case.name]
        if not ready:
            _error(f"asl test: -k {args.only}: no case name contains it")
            return EXIT_USAGE
    return _run(args, ready)


def _prepare(paths: list[str]) -> tuple[list[Any], list[str]]:
    """Every case of every suite made ready, or every problem of every suite."""
    from runtime.testing import SuiteError, load_suite, prepare

    suites: list[Any] = []
    problems: list[str] = []
    for path in paths:
        try:
            suites.append(load_suite(path))
        except SuiteError as exc:
            problems += exc.problems
    try:
        ready = prepare(suites)
    except SuiteError as exc:
        return [], problems + list(exc.problems)
    return ready, problems


def _run(args: argparse.Namespace, ready: list[Any]) -> int:
    from rich.console import Console

    from runtime.cli.streams import handler_output_to_stderr
    from runtime.testing import measure_coverage, reports, run_prepared

    with handler_output_to_stderr():
        results = [run_prepared(p, allow_aws=args.allow_aws) for p in ready]
    coverages = measure_coverage(ready, results) if args.coverage else []
    to_stdout = args.json == "-"
    console = Console(stderr=to_stdout, soft_wrap=True)
    if args.quiet:
        _print_failures(results, console)
    else:
        reports.print_results(results, console)
    if coverages:
        reports.print_coverage(coverages, console)
    _write(args, results, coverages)
    failed = any(not r.passed for r in results)
    short = [c for c in coverages if args.fail_under is not None and c.percent < args.fail_under]
    for cov in short:
        console.print(
            f"[red]coverage of {cov.label} is {cov.percent:.1f}%, under --fail-under "
            f"{args.fail_under:g}[/]"
        )
    return EXIT_FAILED if failed or short else EXIT_OK


def _print_failures(results: list[Any], console: Any) -> None:
    from rich.markup import escape

    from runtime.testing.reports import totals

    for result in results:
        for line in result.failures:
            console.print(f"[red]{result.outcome}:[/] {escape(line)}", highlight=False)
    count = totals(results)
    console.print(f"{count['passed']} passed, {count['failed']} failed, {count['error']} errors")


def _write(args: argparse.Namespace, results: list[Any], coverages: list[Any]) -> None:
    from runtime.testing import reports

    if args.junit:
        write_whole(args.junit, reports.junit_xml(results))
    if args.json:
        text = reports.dumps(reports.results_json(results, coverages))
        if args.json == "-":
            sys.stdout.write(text)
        else:
            write_whole(args.json, text)
    if args.coverage_html:
        from runtime.testing.coverage_html import write_coverage_html

        write_coverage_html(args.coverage_html, coverages)
