"""``asl deploy``, ``asl diff`` and ``asl exec --on aws``: the commands that reach AWS.

Nothing here calls AWS unless the command says so (``asl deploy``, ``--on aws``);
``--region`` and ``--endpoint-url`` point them at AWS or a stand-in (moto, LocalStack,
``asl serve --api``) as they do for ``asl exec``'s service calls.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from asl.commandline import CommandParser, write_whole

__all__ = ["aws_arguments", "deploy_main", "diff_main", "exec_on_aws", "start_on_aws"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def aws_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="the AWS region (default: boto3's configuration)")
    parser.add_argument(
        "--endpoint-url",
        dest="endpoints",
        metavar="[SERVICE=]URL",
        action="append",
        default=[],
        help="the Step Functions endpoint (moto, LocalStack, asl serve --api)",
    )


def sfn_client(region: str | None, endpoints: list[str]) -> Any:
    """The boto3 ``stepfunctions`` client for ``--region`` and ``--endpoint-url``."""
    from runtime.adapters.aws import AwsSettings, ClientPool
    from runtime.durable.launch import parse_endpoints

    settings = AwsSettings(region=region, endpoints=parse_endpoints(endpoints))
    return ClientPool(settings).client("stepfunctions")


def _error(message: str) -> None:
    from asl.commandline import error_line

    for line in message.splitlines() or [message]:
        error_line(line)


# -- asl deploy --------------------------------------------------------------------------


def _deploy_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="asl deploy",
        description="Create or update a state machine on AWS Step Functions, showing the diff.",
    )
    parser.add_argument("definition", help="the definition (JSON or YAML), or a template")
    from asl.templates import add_arguments

    add_arguments(parser)
    parser.add_argument("--name", required=True, help="the state machine's name")
    parser.add_argument("--role-arn", required=True, help="the IAM role it runs with")
    parser.add_argument("--type", choices=("STANDARD", "EXPRESS"), default="STANDARD")
    parser.add_argument(
        "--logging", metavar="JSON|@FILE", help="loggingConfiguration, as the API takes it"
    )
    parser.add_argument(
        "--tracing", action="store_true", help="turn X-Ray tracing on (tracingConfiguration)"
    )
    parser.add_argument(
        "--tag", dest="tags", metavar="KEY=VALUE", action="append", default=[], help="a tag"
    )
    parser.add_argument("--publish", action="store_true", help="publish a version")
    parser.add_argument("--version-description", help="the published version's description")
    parser.add_argument("--alias", help="point this alias at the published version")
    parser.add_argument(
        "--dry-run", action="store_true", help="validate and show the diff; change nothing"
    )
    aws_arguments(parser)
    return parser


def _json_option(value: str | None, flag: str) -> Any:
    if value is None:
        return None
    text = Path(value[1:]).read_text("utf-8") if value.startswith("@") else value
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{flag}: not JSON ({exc})") from None


def deploy_main(argv: list[str]) -> int:
    """``asl deploy``; the last line on stdout is the state machine's ARN."""
    from asl.errors import SourceError
    from asl.templates import print_messages, read_definition
    from runtime.cloud.deploy import DeployError, DeployRequest, apply, plan, validate

    args = _deploy_parser().parse_args(argv)
    try:
        read = read_definition(args.definition, resource=args.resource, subs=args.subs)
        print_messages(read, sys.stderr)
        tags = dict(_pair(t, "--tag") for t in args.tags)
        request = DeployRequest(
            name=args.name,
            definition=read.document.value,
            role_arn=args.role_arn,
            type=args.type,
            logging=_json_option(args.logging, "--logging"),
            tracing={"enabled": True} if args.tracing else None,
            tags=tags,
            publish=args.publish,
            version_description=args.version_description,
            alias=args.alias,
        )
    except (SourceError, OSError, ValueError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    from botocore.exceptions import BotoCoreError, ClientError

    client = sfn_client(args.region, args.endpoints)
    try:
        for warning in validate(client, request):
            print(f"warning: {warning}", file=sys.stderr)
        planned = plan(client, request)
        _show_plan(request, planned)
        if args.dry_run:
            print("dry run: nothing was changed", file=sys.stderr)
            return EXIT_OK
        done = apply(client, request, planned)
    except DeployError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except (ClientError, BotoCoreError) as exc:
        _error(f"asl deploy: {exc}")
        return EXIT_FAILED
    what = "created" if done.created else "updated" if done.updated else "unchanged"
    print(f"{what}: {done.arn}", file=sys.stderr)
    if done.version_arn:
        print(f"version: {done.version_arn}", file=sys.stderr)
    if done.alias_arn:
        print(f"alias: {done.alias_arn}", file=sys.stderr)
    print(done.arn)
    return EXIT_OK


def _pair(text: str, flag: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"{flag} {text!r}: expected KEY=VALUE")
    return key, value


def _show_plan(request: Any, planned: Any) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=True, highlight=False)
    if planned.arn is None:
        console.print(f"{request.name}: new state machine ({request.type})")
    elif planned.unchanged:
        console.print(f"{request.name}: no change")
        return
    for line in planned.diff:
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
        console.print(Text(line, style=style), soft_wrap=True)
    for change in planned.changes:
        console.print(f"~ {change}", style="yellow")


# -- asl exec --on aws ---------------------------------------------------------------------


def exec_on_aws(args: argparse.Namespace, payload: Any) -> int:
    """Run ``--state-machine-arn`` on AWS and follow it with the trace, store and files."""
    import functools

    import anyio
    from botocore.exceptions import BotoCoreError, ClientError

    from runtime.cloud.remote import RemoteRun, run_remote
    from runtime.engine.clock import RealClock, VirtualClock

    client = sfn_client(args.region, args.endpoints)
    try:
        described = client.describe_state_machine(stateMachineArn=_base_arn(args.state_machine_arn))
    except (ClientError, BotoCoreError) as exc:
        _error(f"asl exec --on aws: {exc}")
        return EXIT_FAILED
    definition = json.loads(described["definition"])
    from asl.compiler import compile_machine

    machine = compile_machine(definition)
    observers: list[Any] = []
    trace = None
    if not args.quiet and not args.json:
        from runtime.trace import LiveTrace

        trace = LiveTrace(machine)
        observers.append(trace.observe)
    store = _remote_store(args)
    # Polling waits on a clock: a virtual one (tests) skips the waits between polls.
    clock = VirtualClock() if args.clock == "virtual" else RealClock()

    def started(run: RemoteRun) -> None:
        print(f"started on AWS: {run.execution_arn}", file=sys.stderr)
        if store is not None:  # recorded as a local run is, now that its identity is known
            from runtime.durable.store import StoreRecorder

            observers.append(StoreRecorder(store, _info(run, described, definition)))

    try:
        run = anyio.run(
            functools.partial(
                run_remote,
                client,
                args.state_machine_arn,
                payload,
                clock=clock,
                name=args.name or None,
                observers=observers,
                on_start=started,
                poll_seconds=args.poll_seconds,
            )
        )
    except (ClientError, BotoCoreError) as exc:
        _error(f"asl exec --on aws: {exc}")
        return EXIT_FAILED
    finally:
        if trace is not None:
            trace.close()
        if store is not None:
            store.close()
    _write_remote_files(args, run, definition)
    if args.json:
        doc = {"executionArn": run.execution_arn, "status": run.status}
        doc.update(
            {
                k: v
                for k, v in (("output", run.output), ("error", run.error), ("cause", run.cause))
                if v is not None
            }
        )
        print(json.dumps(doc, indent=2))
    elif run.status == "SUCCEEDED":
        print(json.dumps(run.output, indent=2, ensure_ascii=False))
    else:
        _error(f"{run.status}: {run.error or ''}: {run.cause or ''}".rstrip(": "))
    return EXIT_OK if run.status == "SUCCEEDED" else EXIT_FAILED


def start_on_aws(args: argparse.Namespace, payload: Any) -> int:
    """``asl start --on aws``: StartExecution on AWS; prints the execution ARN, follows
    nothing (``asl exec --on aws`` follows)."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = sfn_client(args.region, args.endpoints)
    try:
        started = client.start_execution(
            stateMachineArn=args.state_machine_arn,
            input=json.dumps(payload, ensure_ascii=False),
            **({"name": args.name} if args.name else {}),
        )
    except (ClientError, BotoCoreError) as exc:
        _error(f"asl start --on aws: {exc}")
        return EXIT_FAILED
    print(started["executionArn"])
    return EXIT_OK


def _base_arn(arn: str) -> str:
    """A version or alias ARN's state machine (DescribeStateMachine takes them too on AWS,
    stand-ins may not)."""
    parts = arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else arn


def _info(run: Any, described: Any, definition: Any) -> Any:
    from runtime.durable.store import ExecutionInfo

    machine_arn = str(described["stateMachineArn"])
    return ExecutionInfo(
        run.execution_arn,
        run.name,
        machine_arn,
        machine_arn.rsplit(":", 1)[-1],
        definition,
        options={"on": "aws"},
    )


def _remote_store(args: argparse.Namespace) -> Any:
    """The store the cloud run is recorded in (None with --no-store)."""
    from runtime.durable.store import Store, resolve_store_path

    path = resolve_store_path(args.store, args.no_store)
    return None if path is None else Store.open(path)


def _write_remote_files(args: argparse.Namespace, run: Any, definition: Any) -> None:
    if args.history:
        write_whole(args.history, json.dumps({"events": run.events}, indent=2))
    if args.report:
        from runtime.report import parse_events, render_report

        html = render_report(parse_events(run.events), definition, name=run.name)
        write_whole(args.report, html)


# -- asl diff --------------------------------------------------------------------------------


def _diff_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="asl diff",
        description="Compare two runs state by state (path, outputs, errors, timings).",
    )
    parser.add_argument("left", help="a history file, or an execution in the store")
    parser.add_argument("right", help="a history file, or an execution in the store")
    parser.add_argument("--store", metavar="PATH", help="the execution store")
    parser.add_argument("--json", action="store_true", help="print the differences as JSON")
    return parser


def diff_main(argv: list[str]) -> int:
    """``asl diff``: exit 0 when the runs agree on path, outputs and errors, 1 otherwise."""
    from runtime.cloud.diff import diff_runs
    from runtime.durable.store.errors import StoreError

    args = _diff_parser().parse_args(argv)
    try:
        left = _run_events(args.left, args.store)
        right = _run_events(args.right, args.store)
    except (OSError, ValueError, StoreError) as exc:
        _error(f"asl diff: {exc}")
        return EXIT_USAGE
    result = diff_runs(left, right)
    if args.json:
        print(
            json.dumps(
                {
                    "same": result.same,
                    "differences": [
                        {"thread": d.thread, "what": d.what, "left": d.left, "right": d.right}
                        for d in result.differences
                    ],
                    "seconds": [result.left_seconds, result.right_seconds],
                },
                indent=2,
                default=str,
            )
        )
    else:
        _print_diff(args.left, args.right, result)
    return EXIT_OK if result.same else EXIT_FAILED


def _run_events(ref: str, store_path: str | None) -> Any:
    from runtime.report import load_history, parse_events

    if Path(ref).is_file():
        return load_history(ref)
    from runtime.durable.store import Store, resolve_store_path

    where = resolve_store_path(store_path)
    assert where is not None
    with Store.open(where, create=False) as store:
        return parse_events(store.history(store.get_execution(ref).arn))


def _print_diff(left: str, right: str, result: Any) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from runtime.trace.format import format_duration

    console = Console(highlight=False)
    console.print(
        Text.assemble(
            ("left  ", "bold"),
            left,
            f"  {result.left_status}  ",
            (format_duration(result.left_seconds), "dim"),
        )
    )
    console.print(
        Text.assemble(
            ("right ", "bold"),
            right,
            f"  {result.right_status}  ",
            (format_duration(result.right_seconds), "dim"),
        )
    )
    if result.same:
        console.print(Text("same path, outputs and errors", style="green"))
    else:
        table = Table("where", "what", "left", "right", title="differences")
        for d in result.differences:
            table.add_row(Text(d.thread), Text(d.what), Text(_shown(d.left)), Text(_shown(d.right)))
        console.print(table)
    timings = Table("state", "left", "right", title="time per state")
    for name, (a, b) in result.timings.items():
        timings.add_row(Text(name), format_duration(a), format_duration(b))
    console.print(timings)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:199] + "…"
