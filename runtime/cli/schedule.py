"""``asl schedule``: EventBridge Scheduler's schedules in the store, fired by ``asl serve``.

``create``, ``list``, ``describe``, ``update``, ``delete``, ``pause``, ``resume``, ``runs``
(the executions a schedule started) and ``simulate`` (its firing times up to a date, on
a virtual clock, optionally running each execution offline).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from asl.commandline import CommandParser
from runtime.engine.clock import RealClock

__all__ = ["TEST_MODE_ENV", "main"]

#: Set to 1 to accept ``rate(N seconds)``: for tests on the real clock only.
TEST_MODE_ENV = "ASL_SCHEDULER_TEST_MODE"

EXIT_OK, EXIT_ERROR = 0, 2
#: What ListSchedules returns of each schedule (besides its target's ARN).
_SUMMARY_KEYS = ("Arn", "CreationDate", "GroupName", "LastModificationDate", "Name", "State")


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="asl schedule", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    create = commands.add_parser("create", help="CreateSchedule")
    create.add_argument("--name", help="the schedule name (required unless in --cli-input-json)")
    create.add_argument("--expression", help="rate(...), cron(...) or at(...) (same)")
    create.add_argument(
        "--cli-input-json",
        metavar="FILE",
        help="a CreateSchedule request as JSON (e.g. asl import-datapipeline's schedule.json); "
        "flags override its fields",
    )
    create.add_argument(
        "--state-machine", required=True, metavar="FILE", help="the target's definition file"
    )
    _fields(create)
    _task_options(create)
    update = commands.add_parser("update", help="UpdateSchedule: change the given fields")
    update.add_argument("name")
    update.add_argument("--expression", help="rate(...), cron(...) or at(...)")
    update.add_argument("--state-machine", metavar="FILE", help="the target's definition file")
    _fields(update)
    listing = commands.add_parser("list", help="ListSchedules")
    listing.add_argument("--state", choices=("ENABLED", "DISABLED"))
    listing.add_argument("--json", action="store_true", help="print ListSchedules' Schedules")
    for name, summary in (
        ("describe", "GetSchedule: the schedule as JSON"),
        ("delete", "DeleteSchedule (its executions stay)"),
        ("pause", "set State to DISABLED"),
        ("resume", "set State to ENABLED (times passed while paused are not fired)"),
    ):
        commands.add_parser(name, help=summary).add_argument("name")
    runs = commands.add_parser("runs", help="the executions a schedule started")
    runs.add_argument("name")
    runs.add_argument("--json", action="store_true", help="print a JSON list")
    sim = commands.add_parser("simulate", help="firing times up to a date, on a virtual clock")
    sim.add_argument("name")
    sim.add_argument("--until", required=True, metavar="DATE", help="ISO 8601 date-time")
    sim.add_argument("--from", dest="since", metavar="DATE", help="default: now")
    sim.add_argument("--run", action="store_true", help="run each execution offline")
    sim.add_argument("--json", action="store_true", help="print a JSON list")
    for sub in commands.choices.values():
        sub.add_argument("--store", metavar="PATH", help="the store (default: $ASL_STORE...)")
    return parser


def _fields(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--timezone", help="ScheduleExpressionTimezone (IANA name, default UTC)")
    sub.add_argument("--start-date", metavar="DATE", help="StartDate (ISO 8601, UTC default)")
    sub.add_argument("--end-date", metavar="DATE", help="EndDate (ISO 8601, UTC default)")
    sub.add_argument(
        "--input",
        metavar="JSON|@FILE",
        help="the target's Input (JSON text with <aws.scheduler.*> attributes, or @FILE)",
    )
    sub.add_argument(
        "--flexible-window",
        type=int,
        metavar="MINUTES",
        help="FlexibleTimeWindow FLEXIBLE with MaximumWindowInMinutes (0: OFF)",
    )
    sub.add_argument("--state", choices=("ENABLED", "DISABLED"), help="State")
    sub.add_argument(
        "--action-after-completion", choices=("NONE", "DELETE"), help="ActionAfterCompletion"
    )
    sub.add_argument("--max-retry-attempts", type=int, help="RetryPolicy.MaximumRetryAttempts")
    sub.add_argument(
        "--max-event-age", type=int, metavar="SECONDS", help="RetryPolicy.MaximumEventAgeInSeconds"
    )
    sub.add_argument(
        "--dead-letter", metavar="FILE", help="DeadLetterConfig: a JSON-lines file (local)"
    )
    sub.add_argument("--description", help="Description")


def _task_options(sub: argparse.ArgumentParser) -> None:
    """``asl exec``'s task routing, kept with the target for every execution it starts."""
    sub.add_argument("--machine-name", help="the state machine name (default: the file's stem)")
    sub.add_argument("--mock-config", metavar="FILE", help="a Step Functions Local MockConfigFile")
    sub.add_argument("--test-case", metavar="NAME", help="the test case of the mock config")
    sub.add_argument("--lambda", dest="lambdas", metavar="NAME=TARGET", action="append")
    sub.add_argument("--config", metavar="FILE", help="project config with a [lambda] table")
    sub.add_argument("--machine", dest="machines", metavar="NAME=FILE", action="append")
    sub.add_argument("--offline", action="store_true", help="never call AWS")
    sub.add_argument("--region", help="AWS region (also the ARNs' region)")
    sub.add_argument("--endpoint-url", dest="endpoints", metavar="[SERVICE=]URL", action="append")


def main(argv: list[str]) -> int:
    """``asl schedule COMMAND ...``."""
    from runtime.cli.exec import _error
    from runtime.durable.store import Store, StoreError, resolve_store_path
    from runtime.schedules.errors import ScheduleError

    args = _parser().parse_args(argv)
    path = resolve_store_path(args.store)
    assert path is not None
    try:
        with Store.open(path) as store:
            return int(_COMMANDS[args.command](store, args))
    except (ScheduleError, StoreError) as exc:
        _error(str(exc))
        return EXIT_ERROR


def _now() -> float:
    return RealClock().now()


def _test_mode() -> bool:
    return os.environ.get(TEST_MODE_ENV) == "1"


def _create(store: Any, args: argparse.Namespace) -> int:
    from runtime.schedules.model import Schedule, Target
    from runtime.schedules.service import create_schedule

    if args.cli_input_json:
        _from_request(args)
    for flag, value in (("--name", args.name), ("--expression", args.expression)):
        if not value:
            from runtime.schedules.errors import ValidationException

            raise ValidationException(f"{flag} is required (or give it in --cli-input-json)")
    target = _target(args, Target(definition_file="", arn=""))
    schedule = Schedule(name=args.name, expression=args.expression, target=target)
    schedule = schedule.with_changes(**_changes(args))
    created = create_schedule(store, schedule, _now(), allow_seconds=_test_mode())
    print(json.dumps({"ScheduleArn": created.arn}))
    return EXIT_OK


#: CreateSchedule request fields → the ``create`` flag they stand for.
_REQUEST_FIELDS = {
    "Name": "name",
    "ScheduleExpression": "expression",
    "ScheduleExpressionTimezone": "timezone",
    "StartDate": "start_date",
    "EndDate": "end_date",
    "State": "state",
    "ActionAfterCompletion": "action_after_completion",
    "Description": "description",
}


def _from_request(args: argparse.Namespace) -> None:
    """Fill the flags not given from a CreateSchedule request file (``--cli-input-json``)."""
    from runtime.schedules.errors import ValidationException

    where = args.cli_input_json
    try:
        request = json.loads(Path(where).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationException(f"--cli-input-json {where}: cannot read it: {exc}") from None
    if not isinstance(request, dict):
        raise ValidationException(f"--cli-input-json {where}: a CreateSchedule request object")
    unknown = sorted(set(request) - set(_REQUEST_FIELDS) - {"Target", "FlexibleTimeWindow"})
    if unknown:
        raise ValidationException(f"--cli-input-json {where}: unknown field {unknown[0]!r}")
    for field_name, flag in _REQUEST_FIELDS.items():
        if field_name in request and getattr(args, flag) is None:
            setattr(args, flag, str(request[field_name]))
    window = request.get("FlexibleTimeWindow") or {}
    if args.flexible_window is None and window.get("Mode") == "FLEXIBLE":
        args.flexible_window = int(window.get("MaximumWindowInMinutes", 0))
    target = request.get("Target") or {}
    if args.input is None and isinstance(target.get("Input"), str):
        args.input = target["Input"]
    retry = target.get("RetryPolicy") or {}
    if args.max_retry_attempts is None and "MaximumRetryAttempts" in retry:
        args.max_retry_attempts = int(retry["MaximumRetryAttempts"])
    if args.max_event_age is None and "MaximumEventAgeInSeconds" in retry:
        args.max_event_age = int(retry["MaximumEventAgeInSeconds"])


def _update(store: Any, args: argparse.Namespace) -> int:
    from runtime.schedules.service import get_schedule, update_schedule

    changes = _changes(args)
    if args.expression:
        changes["expression"] = args.expression
    if args.state_machine or args.input is not None or _retry_given(args):
        changes["target"] = _target(args, get_schedule(store, args.name).target)
    updated = update_schedule(store, args.name, _now(), allow_seconds=_test_mode(), **changes)
    print(json.dumps({"ScheduleArn": updated.arn}))
    return EXIT_OK


def _retry_given(args: argparse.Namespace) -> bool:
    return any(
        value is not None
        for value in (args.max_retry_attempts, args.max_event_age, args.dead_letter)
    )


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    from runtime.schedules.model import parse_date

    changes: dict[str, Any] = {}
    if args.timezone:
        changes["timezone"] = args.timezone
    if args.start_date:
        changes["start_date"] = parse_date(args.start_date, "StartDate")
    if args.end_date:
        changes["end_date"] = parse_date(args.end_date, "EndDate")
    if args.flexible_window is not None:
        flexible = args.flexible_window > 0
        changes["flexible_mode"] = "FLEXIBLE" if flexible else "OFF"
        changes["flexible_window_minutes"] = args.flexible_window if flexible else None
    for name in ("state", "action_after_completion", "description"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    return changes


def _target(args: argparse.Namespace, base: Any) -> Any:
    from dataclasses import replace

    from runtime.schedules.errors import ValidationException
    from runtime.schedules.model import ACCOUNT, RetryPolicy

    target = base
    if args.state_machine:
        definition = Path(args.state_machine).resolve()
        if not definition.is_file():
            raise ValidationException(f"invalid Target: no state machine file {args.state_machine}")
        options = _launch_options(args) if hasattr(args, "offline") else dict(base.options)
        region = options.get("region") or "us-east-1"
        name = getattr(args, "machine_name", None) or definition.name.split(".")[0]
        arn = f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:{name}"
        target = replace(target, definition_file=str(definition), arn=arn, options=options)
    if args.input is not None:
        target = replace(target, input=_input_text(args.input))
    policy = target.retry_policy
    target = replace(
        target,
        retry_policy=RetryPolicy(
            policy.maximum_retry_attempts
            if args.max_retry_attempts is None
            else args.max_retry_attempts,
            policy.maximum_event_age_in_seconds
            if args.max_event_age is None
            else args.max_event_age,
        ),
    )
    if args.dead_letter is not None:
        letters = str(Path(args.dead_letter).resolve()) if args.dead_letter else None
        target = replace(target, dead_letter=letters)
    return target


def _input_text(value: str) -> str:
    from runtime.schedules.errors import ValidationException

    if value.startswith("@"):
        try:
            return Path(value[1:]).read_text()
        except OSError as exc:
            raise ValidationException(f"invalid Input: cannot read {value[1:]}: {exc}") from None
    return value


def _launch_options(args: argparse.Namespace) -> dict[str, Any]:
    from runtime.cli.exec import launch_options

    spec = argparse.Namespace(
        clock="real",
        mock_config=args.mock_config,
        test_case=args.test_case,
        state_machine=None,
        lambdas=args.lambdas or [],
        config=args.config,
        machines=args.machines or [],
        offline=args.offline,
        region=args.region,
        endpoints=args.endpoints or [],
        seed=None,
    )
    return launch_options(spec)


def _list(store: Any, args: argparse.Namespace) -> int:
    from runtime.schedules.service import list_schedules

    schedules = list_schedules(store, args.state)
    if args.json:
        items = [
            {key: item[key] for key in _SUMMARY_KEYS} | {"Target": {"Arn": item["Target"]["Arn"]}}
            for item in (s.to_aws() for s in schedules)
        ]
        print(json.dumps({"Schedules": items}, indent=2))
        return EXIT_OK
    for schedule in schedules:
        print(f"{schedule.name}\t{schedule.state}\t{schedule.expression}\t{schedule.timezone}")
    return EXIT_OK


def _describe(store: Any, args: argparse.Namespace) -> int:
    from runtime.schedules.service import get_schedule

    print(json.dumps(get_schedule(store, args.name).to_aws(), indent=2))
    return EXIT_OK


def _delete(store: Any, args: argparse.Namespace) -> int:
    from runtime.schedules.service import delete_schedule

    delete_schedule(store, args.name)
    return EXIT_OK


def _pause(store: Any, args: argparse.Namespace) -> int:
    from runtime.schedules.service import set_state

    set_state(store, args.name, "DISABLED", _now())
    return EXIT_OK


def _resume(store: Any, args: argparse.Namespace) -> int:
    from runtime.schedules.service import set_state

    set_state(store, args.name, "ENABLED", _now())
    return EXIT_OK


def _runs(store: Any, args: argparse.Namespace) -> int:
    from runtime.schedules.model import rfc3339
    from runtime.schedules.service import get_schedule

    firings = store.schedule_firings(args.name)
    if not firings:
        get_schedule(store, args.name)  # an unknown name is an error; a new one lists nothing
    items = [
        {
            "time": rfc3339(f.scheduled_time),
            "status": f.status,
            "attempts": f.attempts,
            "executionArn": f.execution_arn,
            "executionStatus": f.execution_status,
            "error": f.error,
        }
        for f in firings
    ]
    if args.json:
        print(json.dumps(items, indent=2))
        return EXIT_OK
    for item in items:
        name = (item["executionArn"] or "-").rsplit(":", 1)[-1]
        outcome = item["executionStatus"] or item["error"] or ""
        print(f"{item['time']}\t{item['status']}\t{name}\t{outcome}")
    return EXIT_OK


def _simulate(store: Any, args: argparse.Namespace) -> int:
    from runtime.schedules.model import parse_date
    from runtime.schedules.service import get_schedule
    from runtime.schedules.simulate import simulate

    schedule = get_schedule(store, args.name)
    until = parse_date(args.until, "--until")
    since = parse_date(args.since, "--from") if args.since else _now()
    items = simulate(schedule, since, until, run=args.run)
    if args.json:
        print(json.dumps(list(items), indent=2))
        return EXIT_OK
    for item in items:
        outcome = f"\t{item['status']}" if "status" in item else ""
        print(f"{item['time']}\t{item['execution']}{outcome}")
    return EXIT_OK


_COMMANDS = {
    "create": _create,
    "update": _update,
    "list": _list,
    "describe": _describe,
    "delete": _delete,
    "pause": _pause,
    "resume": _resume,
    "runs": _runs,
    "simulate": _simulate,
}
