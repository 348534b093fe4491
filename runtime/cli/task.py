"""``asl send-task-success|send-task-failure|send-task-heartbeat TOKEN``: answer a callback.

Sends the Step Functions API call to the local endpoint that ``asl exec --endpoint-port``
or ``asl serve --endpoint-port`` runs (or to any Step Functions endpoint), through boto3,
exactly as a worker would.
"""

from __future__ import annotations

import argparse
import sys

from asl.commandline import CommandParser

__all__ = ["main", "send_task_failure_main", "send_task_heartbeat_main", "send_task_success_main"]

DEFAULT_ENDPOINT = "http://127.0.0.1:8083"


def _parser(command: str) -> argparse.ArgumentParser:
    parser = CommandParser(prog=f"asl {command}", description=__doc__.splitlines()[0])
    parser.add_argument("token", help="the task token ($$.Task.Token)")
    if command == "send-task-success":
        parser.add_argument("output", help="the task's output, JSON text")
    if command == "send-task-failure":
        parser.add_argument("--error", help="error name (at most 256 characters)")
        parser.add_argument("--cause", help="cause (at most 32,768 characters)")
    parser.add_argument(
        "--endpoint",
        default=DEFAULT_ENDPOINT,
        help=f"Step Functions endpoint URL (default {DEFAULT_ENDPOINT})",
    )
    parser.add_argument("--region", default="us-east-1", help="region for the client")
    return parser


def _send(command: str, argv: list[str]) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from runtime.cli.exec import _error
    from runtime.server.guard import client_keys

    args = _parser(command).parse_args(argv)
    local = args.endpoint.startswith(("http://127.", "http://localhost"))
    client = boto3.client(
        "stepfunctions",
        endpoint_url=args.endpoint,
        region_name=args.region,
        # A local endpoint checks the shared secret ($ASL_ENDPOINT_SECRET) when it has one;
        # real endpoints use the usual credential chain.
        **(client_keys() if local else {}),
    )
    try:
        if command == "send-task-success":
            client.send_task_success(taskToken=args.token, output=args.output)
        elif command == "send-task-failure":
            extra = {k: v for k, v in (("error", args.error), ("cause", args.cause)) if v}
            client.send_task_failure(taskToken=args.token, **extra)
        else:
            client.send_task_heartbeat(taskToken=args.token)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        _error(f"{err.get('Code', 'Error')}: {err.get('Message', exc)}")
        return 1
    except BotoCoreError as exc:
        _error(str(exc))
        return 1
    return 0


def send_task_success_main(argv: list[str]) -> int:
    """``asl send-task-success TOKEN OUTPUT``."""
    return _send("send-task-success", argv)


def send_task_failure_main(argv: list[str]) -> int:
    """``asl send-task-failure TOKEN [--error E] [--cause C]``."""
    return _send("send-task-failure", argv)


def send_task_heartbeat_main(argv: list[str]) -> int:
    """``asl send-task-heartbeat TOKEN``."""
    return _send("send-task-heartbeat", argv)


def main(argv: list[str]) -> int:
    """Dispatch on ``argv[0]`` (the command name)."""
    return _send(argv[0], argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
