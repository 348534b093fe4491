"""``asl report EXECUTION [--html OUT] [--definition FILE]``: the HTML execution report.

``EXECUTION`` is a history file, AWS's ``GetExecutionHistory`` JSON (``{"events": [...]}``)
as ``asl exec --history FILE`` or ``aws stepfunctions get-execution-history`` write it, or
else an execution in the store (an ARN, a name or a unique prefix), whose stored definition
draws the graph. Exit status: 0 when written, 2 when an input cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from asl.commandline import CommandParser, error_line, write_whole
from asl.errors import SourceError
from asl.source import load_file
from runtime.durable.store.errors import StoreError
from runtime.report import load_history, render_report
from runtime.report.history import parse_events

__all__ = ["main"]

EXIT_OK = 0
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="asl report", description="Write the HTML report of an execution history."
    )
    parser.add_argument(
        "execution",
        help="a history JSON file (as asl exec --history writes), or an execution in the "
        "store: an ARN, a name or a unique prefix",
    )
    parser.add_argument(
        "--html", metavar="OUT", help="the HTML file to write (default: NAME.html here)"
    )
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="the execution store (also where a history file's Map Run counters are read)",
    )
    parser.add_argument(
        "--definition", metavar="FILE", help="the state machine definition (draws the graph)"
    )
    parser.add_argument("--name", default="", help="execution name shown in the title")
    return parser


def _map_runs(path: str | None, events: Sequence[Any]) -> list[dict[str, Any]]:
    """The stored DescribeMapRun documents of the history's Map Runs (with ``--store``)."""
    if path is None:
        return []
    from runtime.distributed.runs import MapRunRecord
    from runtime.durable.store import Store

    arns = [e.details.get("mapRunArn") for e in events if e.type == "MapRunStarted"]
    with Store.open(path, create=False) as store:
        documents = [store.map_run(str(arn)) for arn in dict.fromkeys(arns)]
    return [MapRunRecord.from_json(doc).describe() for doc in documents if doc is not None]


def _definition(path: str | None) -> Mapping[str, Any] | None:
    if path is None:
        return None
    value = load_file(path).value
    if not isinstance(value, Mapping):
        raise SourceError("a definition is a JSON object", source=path)
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``asl report``; returns the exit status."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        if Path(args.execution).is_file() or args.execution.endswith(".json"):
            events = load_history(args.execution)
            stored: Mapping[str, Any] | None = None
            name = args.name or Path(args.execution).stem
            store_path = args.store
        else:
            events, stored, name = _from_store(args.execution, args.store)
            name = args.name or name
            store_path = str(_store_path(args.store))
        definition = _definition(args.definition) if args.definition else stored
        map_runs = _map_runs(store_path, events)
    except (OSError, ValueError, SourceError, StoreError) as exc:
        error_line(f"asl report: {exc}")
        return EXIT_USAGE
    html = render_report(events, definition, name=name, map_runs=map_runs)
    out = Path(args.html or f"{_file_name(name)}.html")
    try:
        write_whole(out, html)
    except OSError as exc:
        error_line(f"asl report: cannot write {out}: {exc.strerror or exc}")
        return EXIT_USAGE
    if not args.html:
        print(out, file=sys.stderr)
    return EXIT_OK


def _store_path(path: str | None) -> Path | str:
    from runtime.durable.store import resolve_store_path

    where = resolve_store_path(path)
    assert where is not None
    return where


def _from_store(ref: str, path: str | None) -> tuple[Any, Mapping[str, Any], str]:
    """The events, definition and name of the stored execution ``ref``."""
    from runtime.durable.store import Store

    with Store.open(_store_path(path), create=False) as store:
        record = store.get_execution(ref)
        return parse_events(store.history(record.arn)), record.definition, record.name


def _file_name(name: str) -> str:
    """An execution name as a file name (AWS names may hold characters files should not)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "execution"


if __name__ == "__main__":
    sys.exit(main())
