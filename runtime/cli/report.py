"""``asl report HISTORY_FILE --html OUT [--definition FILE]``: the HTML execution report.

``HISTORY_FILE`` is AWS's ``GetExecutionHistory`` JSON (``{"events": [...]}``), as
``asl exec --history FILE`` or ``aws stepfunctions get-execution-history`` write it.
Exit status: 0 when written, 2 when an input cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from asl.commandline import CommandParser
from asl.errors import SourceError
from asl.source import load_file
from runtime.durable.store.errors import StoreError
from runtime.report import load_history, render_report

__all__ = ["main"]

EXIT_OK = 0
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="asl report", description="Write the HTML report of an execution history."
    )
    parser.add_argument("history", help="history JSON file (as asl exec --history writes)")
    parser.add_argument("--html", required=True, metavar="OUT", help="the HTML file to write")
    parser.add_argument(
        "--definition", metavar="FILE", help="the state machine definition (draws the graph)"
    )
    parser.add_argument("--name", default="", help="execution name shown in the title")
    parser.add_argument(
        "--store", metavar="PATH", help="the store to read the Map Runs' counters from"
    )
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
        events = load_history(args.history)
        definition = _definition(args.definition)
        map_runs = _map_runs(args.store, events)
    except (OSError, ValueError, SourceError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    name = args.name or Path(args.history).stem
    html = render_report(events, definition, name=name, map_runs=map_runs)
    Path(args.html).write_text(html, encoding="utf-8")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
