"""``asl worker``: work an activity's tasks by running a command for each one.

    asl worker --activity resize --endpoint http://127.0.0.1:8083 -- python resize.py

What the command gets and how its outcome is reported: :mod:`runtime.callbacks.worker`.
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from typing import Any

from asl.commandline import CommandParser
from runtime.adapters.activity import LONG_POLL_SECONDS, activity_name
from runtime.callbacks.registry import StepFunctionsApiError
from runtime.callbacks.worker import (
    DEFAULT_ENVIRONMENT,
    command_environment,
    is_api_error,
    run_worker,
)

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_ENDPOINT = "http://127.0.0.1:8083"


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="asl worker",
        description="Work the tasks of an activity by running COMMAND for each one.",
        usage="asl worker --activity NAME [options] -- COMMAND [ARGS...]",
    )
    parser.add_argument("--activity", required=True, help="activity name or ARN")
    parser.add_argument(
        "--endpoint",
        default=DEFAULT_ENDPOINT,
        help=f"Step Functions endpoint URL (default: {DEFAULT_ENDPOINT}, the local endpoint)",
    )
    parser.add_argument("--region", default="us-east-1", help="region (default: us-east-1)")
    parser.add_argument(
        "--account", default="123456789012", help="account of the activity ARN built from a name"
    )
    parser.add_argument("--worker-name", default="asl-worker", help="workerName sent to AWS")
    parser.add_argument("--max-tasks", type=int, help="stop after this many tasks")
    parser.add_argument(
        "--poll-timeout",
        type=float,
        default=LONG_POLL_SECONDS + 10,
        help="seconds to wait for each GetActivityTask answer (default: 70, above AWS's "
        "60-second long poll)",
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=5.0,
        help="send SendTaskHeartbeat every SECONDS while the command runs (0: never)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="pass NAME from this environment to the command, or set it to VALUE "
        f"(repeatable); by default the command gets only {', '.join(DEFAULT_ENVIRONMENT)} "
        "and LC_*",
    )
    return parser


def _to_stderr(chunk: bytes) -> None:
    """The command's standard error, as it comes, on the worker's."""
    sys.stderr.buffer.write(chunk)
    sys.stderr.buffer.flush()


class _Boto3Source:
    """A boto3 client as a TaskSource; a long poll that outlives the read timeout is idle."""

    def __init__(self, args: argparse.Namespace) -> None:
        import boto3
        from botocore.config import Config

        config = Config(
            read_timeout=args.poll_timeout, connect_timeout=10, retries={"max_attempts": 1}
        )
        keys: dict[str, str] = {}
        if urllib.parse.urlsplit(args.endpoint).hostname in _LOOPBACK:
            # A local endpoint checks only the shared secret ($ASL_ENDPOINT_SECRET) when it
            # has one; boto3 wants keys to sign either way.
            from runtime.server.guard import client_keys

            keys = client_keys()
        self.client = boto3.client(
            "stepfunctions",
            endpoint_url=args.endpoint,
            region_name=args.region,
            config=config,
            **keys,
        )

    def get_activity_task(self, *, activityArn: str, workerName: str) -> dict[str, Any]:
        from botocore.exceptions import ReadTimeoutError

        try:
            found: dict[str, Any] = self.client.get_activity_task(
                activityArn=activityArn, workerName=workerName
            )
        except ReadTimeoutError:
            return {}
        return found

    def send_task_success(self, *, taskToken: str, output: str) -> Any:
        return self.client.send_task_success(taskToken=taskToken, output=output)

    def send_task_failure(self, *, taskToken: str, error: str, cause: str) -> Any:
        return self.client.send_task_failure(taskToken=taskToken, error=error, cause=cause)

    def send_task_heartbeat(self, *, taskToken: str) -> Any:
        return self.client.send_task_heartbeat(taskToken=taskToken)


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def main(argv: list[str]) -> int:
    """``asl worker``: options, then ``--``, then the command and its arguments."""
    cut = argv.index("--") if "--" in argv else len(argv)
    options, command = argv[:cut], argv[cut + 1 :]
    parser = _parser()
    try:
        args = parser.parse_args(options)
        if not command:
            parser.error("give the command to run after --")
    except SystemExit as exc:  # usage errors and --help: a code, not an exit
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        arn = activity_name(args.activity)
    except StepFunctionsApiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    if not args.activity.startswith("arn:"):
        arn = f"arn:aws:states:{args.region}:{args.account}:activity:{arn}"
    else:
        arn = args.activity
    try:
        run_worker(
            _Boto3Source(args),
            arn,
            command,
            worker_name=args.worker_name,
            max_tasks=args.max_tasks,
            heartbeat_seconds=args.heartbeat,
            report=lambda line: print(f"asl worker: {line}", file=sys.stderr),
            env=command_environment(args.env),
            stderr_sink=_to_stderr,
        )
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if not is_api_error(exc) and not _is_connection_error(exc):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _is_connection_error(exc: Exception) -> bool:
    from botocore.exceptions import BotoCoreError

    return isinstance(exc, BotoCoreError)
