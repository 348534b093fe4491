"""The audit commands: ``asl executions``, ``asl history EXECUTION``, ``asl describe EXECUTION``.

They read the store that ``asl exec`` writes (see :mod:`runtime.durable.store.sqlite` for where it
lives). ``EXECUTION`` is an ARN, a name, or a unique prefix of either. ``--json`` prints
the shapes of AWS's ``ListExecutions``, ``GetExecutionHistory`` and ``DescribeExecution``
(times as RFC 3339 text, as the AWS CLI prints them). Mistakes print one red line:
exit 2 for a usage error, 1 for a missing store or execution; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from asl.commandline import CommandParser
from runtime.cli.cloud import aws_arguments
from runtime.durable.store.errors import StoreError
from runtime.durable.store.records import ExecutionRecord, ExecutionSummary
from runtime.durable.store.sqlite import ENV_VAR, Store, resolve_store_path
from runtime.engine.events import iso_timestamp
from runtime.trace.format import format_duration, shorten, visible

__all__ = ["COMMANDS", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
_STATUS_STYLE = {
    "SUCCEEDED": "green",
    "FAILED": "bold red",
    "TIMED_OUT": "red",
    "ABORTED": "yellow",
    "RUNNING": "blue",
}


def _error(message: str) -> None:
    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(visible(message))}", highlight=False
    )


def _iso_time(text: str) -> float:
    """An ISO 8601 date or time as epoch seconds; without an offset, local time."""
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="asl", description="Audit the executions in the store.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)
    common = CommandParser(add_help=False)
    common.add_argument(
        "--store", metavar="PATH", help=f"the store file (default: ${ENV_VAR} or ~/.local/state)"
    )
    common.add_argument("--json", action="store_true", help="print AWS's API shape as JSON")
    common.add_argument(
        "--on",
        choices=["aws"],
        help="read AWS Step Functions instead of the store (--region, --endpoint-url)",
    )
    aws_arguments(common)
    ls = sub.add_parser("executions", parents=[common], help="list executions, newest first")
    ls.add_argument("--state-machine", metavar="NAME", help="a state machine name or ARN")
    ls.add_argument("--status", type=str.upper, choices=STATUSES)
    ls.add_argument("--since", type=_iso_time, metavar="TIME", help="started at or after")
    ls.add_argument("--until", type=_iso_time, metavar="TIME", help="started before")
    ls.add_argument("--limit", type=int, default=100, help="at most N (0: all; default 100)")
    ls.add_argument("--map-run", metavar="ARN", help="the child executions of this Map Run instead")
    hist = sub.add_parser("history", parents=[common], help="an execution's history events")
    hist.add_argument("execution", help="an ARN, a name or a unique prefix")
    hist.add_argument("--reverse", action="store_true", help="newest event first")
    desc = sub.add_parser("describe", parents=[common], help="an execution's status and data")
    desc.add_argument("execution", help="an ARN, a name or a unique prefix")
    return parser


def main(argv: list[str]) -> int:
    """Run ``executions``, ``history`` or ``describe`` (``argv[0]``); return the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.on == "aws":
        return _on_aws(args)
    if args.region or args.endpoints:
        _error("--region and --endpoint-url read AWS: add --on aws")
        return EXIT_USAGE
    path = resolve_store_path(args.store)
    assert path is not None  # read commands have no --no-store
    try:
        with Store.open(path, create=False) as store:
            return COMMANDS[args.command](store, args)
    except StoreError as exc:
        _error(str(exc))
        return EXIT_FAILED


# -- commands ----------------------------------------------------------------------------


def _executions(store: Store, args: argparse.Namespace) -> int:
    if args.map_run is not None:
        return _map_run_children(store, args)
    rows = store.list_executions(
        state_machine=args.state_machine,
        status=args.status,
        since=args.since,
        until=args.until,
        limit=args.limit or None,
    )
    if args.json:
        _print_json({"executions": [row.to_aws() for row in rows]})
    else:
        _console().print(_executions_table(rows) if rows else "[dim]no executions[/]")
    return EXIT_OK


def _map_run_children(store: Store, args: argparse.Namespace) -> int:
    """The child executions of a Map Run (ListExecutions with mapRunArn)."""
    from runtime.distributed.runs import MapRunRecord, child_list_item

    document = store.map_run(args.map_run)
    if document is None:
        raise StoreError(f"no Map Run {args.map_run} in {store.path}")
    express = MapRunRecord.from_json(document).express
    rows = store.map_run_children(args.map_run, status=args.status, limit=args.limit or None)
    items = [child_list_item(row, args.map_run, express) for row in rows]
    if args.json:
        _print_json({"executions": items})
        return EXIT_OK
    if not items:
        _console().print("[dim]no executions[/]")
        return EXIT_OK
    table = Table("Name", "Status", "Items", "Started", "Duration", "Redrives")
    for item, row in zip(items, rows, strict=True):
        took = format_duration(row["stop"] - row["start"]) if row["stop"] is not None else ""
        started = iso_timestamp(row["start"])
        table.add_row(
            _escape(item["name"]),
            _status(item["status"]),
            str(item["itemCount"]),
            started,
            took,
            str(item["redriveCount"]),
        )
    _console().print(table)
    return EXIT_OK


def _history(store: Store, args: argparse.Namespace) -> int:
    record = store.get_execution(args.execution)
    events = store.history(record.arn, reverse=args.reverse)
    if args.json:
        _print_json({"events": events})
    else:
        _console().print(_history_table(record.name, record.status, events))
    return EXIT_OK


def _describe(store: Store, args: argparse.Namespace) -> int:
    record = store.get_execution(args.execution)
    if args.json:
        _print_json(record.to_describe())
    else:
        console = _console()
        for line in _describe_arns(record):
            console.print(line, soft_wrap=True)
        console.print(_describe_grid(record))
    return EXIT_OK


def _on_aws(args: argparse.Namespace) -> int:
    """The same commands on AWS Step Functions (``--on aws``): every page is read."""
    from botocore.exceptions import BotoCoreError, ClientError

    from runtime.cli.cloud import sfn_client
    from runtime.cloud import listing

    if args.store:
        _error("--store is the local store: --on aws reads AWS Step Functions")
        return EXIT_USAGE
    client = sfn_client(args.region, args.endpoints)
    try:
        if args.command == "executions":
            items = listing.list_executions(
                client,
                state_machine=args.state_machine,
                map_run=args.map_run,
                status=args.status,
                since=args.since,
                until=args.until,
                limit=args.limit or None,
            )
            if args.json:
                _print_json({"executions": items})
            elif items:
                _console().print(_executions_table([listing.summary_of(i) for i in items]))
            else:
                _console().print("[dim]no executions[/]")
            return EXIT_OK
        if not args.execution.startswith("arn:"):
            _error(f"--on aws takes an execution ARN, not {args.execution!r}")
            return EXIT_USAGE
        described, record = listing.describe_execution(client, args.execution)
        if args.command == "history":
            events = listing.execution_history(client, args.execution, reverse=args.reverse)
            if args.json:
                _print_json({"events": events})
            else:
                _console().print(_history_table(record.name, record.status, events))
        elif args.json:
            _print_json(described)
        else:
            console = _console()
            for line in _describe_arns(record):
                console.print(line, soft_wrap=True)
            console.print(_describe_grid(record))
    except listing.CloudLookupError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except (ClientError, BotoCoreError) as exc:
        _error(f"asl {args.command} --on aws: {exc}")
        return EXIT_FAILED
    return EXIT_OK


#: The subcommands by name: ``(store, parsed arguments) -> exit code``.
COMMANDS: dict[str, Callable[[Store, argparse.Namespace], int]] = {
    "executions": _executions,
    "history": _history,
    "describe": _describe,
}


# -- rendering ---------------------------------------------------------------------------


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


#: DEL and the C1 controls, which ``json.dumps`` leaves raw and some terminals obey (U+009B
#: is CSI): written as JSON escapes, which mean the same characters to a JSON reader.
_JSON_CONTROLS = {code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)}


def _print_json(doc: Any) -> None:
    text = json.dumps(doc, indent=2, ensure_ascii=False).translate(_JSON_CONTROLS)
    sys.stdout.write(text + "\n")


def _status(status: str) -> Text:
    return Text(visible(status), style=_STATUS_STYLE.get(status, ""))


def _duration(row: ExecutionSummary) -> str:
    duration = row.duration
    return "running" if duration is None else format_duration(duration)


def _executions_table(rows: list[ExecutionSummary]) -> Table:
    table = Table("Name", "State machine", "Status", "Started", "Duration")
    for row in rows:
        started = iso_timestamp(row.start_time)
        name, machine = _escape(row.name), _escape(row.state_machine_name)
        table.add_row(name, machine, _status(row.status), started, _duration(row))
    return table


def _history_table(name: str, status: str, events: list[dict[str, Any]]) -> Table:
    title = Text.assemble(_escape(name), f" ({visible(status)})")
    table = Table(title=title, caption="times in UTC")
    table.add_column("Id", justify="right", no_wrap=True)
    table.add_column("Time", no_wrap=True)
    table.add_column("Type", no_wrap=True)
    # State names and details share what is left; details never shrink to a sliver.
    table.add_column("State", max_width=24, overflow="fold")
    table.add_column("Details", overflow="fold", min_width=20, ratio=1)
    states = _state_names(events)
    last_date = ""
    for event in events:
        stamp = str(event["timestamp"])
        date, time = stamp[:10], stamp[11:].removesuffix("Z")
        if date != last_date:
            # A row of its own for the date, so the time column stays narrow.
            table.add_row("", Text(date, style="bold"), "", "", "")
            last_date = date
        details = event.get(_details_member(event))
        table.add_row(
            str(event["id"]),
            time,
            _event_type(event["type"]),
            _escape(states.get(event["id"], "")),
            _short_details(details),
        )
    return table


def _describe_grid(record: ExecutionRecord) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", min_width=13)
    grid.add_column()
    rows: list[tuple[str, str | None]] = [
        ("Status", record.status),
        ("Started", iso_timestamp(record.start_time)),
        ("Stopped", None if record.stop_time is None else iso_timestamp(record.stop_time)),
        ("Duration", _duration(record)),
        ("Redrives", str(record.redrive_count) if record.redrive_count else None),
        ("Error", record.error),
        ("Cause", record.cause),
        ("Input", json.dumps(record.input, indent=2, ensure_ascii=False)),
        ("Output", None if record.output_json is None else _pretty(record.output_json)),
    ]
    for key, value in rows:
        if value is not None:
            shown = _status(value) if key == "Status" else _escape(value, multiline=True)
            grid.add_row(key, shown)
    return grid


def _describe_arns(record: ExecutionRecord) -> list[Text]:
    """The ARNs, which users copy: whole lines, never cut or folded at the terminal's width
    (printed with ``soft_wrap``), aligned with the grid's second column."""
    rows = (("Execution", record.arn), ("State machine", record.state_machine_arn))
    return [Text.assemble((f"{key:<13}", "bold"), "  ", _escape(arn)) for key, arn in rows]


# -- event helpers -----------------------------------------------------------------------

_ERROR_STYLE_TYPES = ("Failed", "TimedOut", "Aborted")


def _details_member(event: dict[str, Any]) -> str:
    return next((key for key in event if key.endswith("EventDetails")), "")


def _event_type(event_type: str) -> Text:
    if event_type.endswith(_ERROR_STYLE_TYPES):
        return Text(visible(event_type), style="red")
    if event_type.endswith("Succeeded"):
        return Text(visible(event_type), style="green")
    return Text(visible(event_type))


def _state_names(events: list[dict[str, Any]]) -> dict[int, str]:
    """Each event's state: named on Entered/Exited events, else inherited along the
    ``previousEventId`` chain (a TaskScheduled belongs to the Task entered before it)."""
    names: dict[int, str] = {}
    for event in sorted(events, key=lambda item: int(item["id"])):
        kind = str(event["type"])
        if kind.startswith("Execution"):
            continue
        details = event.get(_details_member(event)) or {}
        if kind.endswith(("StateEntered", "StateExited")):
            names[event["id"]] = str(details.get("name", ""))
        else:
            names[event["id"]] = names.get(event["previousEventId"], "")
    return names


def _short_details(details: dict[str, Any] | None, width: int = 60) -> Text | str:
    """The most telling detail of an event: an error, a resource, an output or an input."""
    if not details:
        return ""
    if "error" in details or "cause" in details:
        text = ": ".join(str(details[k]) for k in ("error", "cause") if details.get(k))
    elif "resource" in details:
        text = f"{details.get('resourceType', '')}:{details['resource']}".lstrip(":")
    elif "output" in details:
        text = str(details["output"])
    elif "input" in details:
        text = str(details["input"])
    else:
        return ""
    return _escape(shorten(text, width))


def _pretty(text: str) -> str:
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False)


def _escape(text: str, *, multiline: bool = False) -> Text:
    """Execution data as a cell: never rich markup, control characters spelled out.

    A ``Text`` rather than markup-escaped text, so that ``:smile:`` in a name stays as is.
    """
    return Text(visible(text, multiline=multiline))
