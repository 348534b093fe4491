"""``asl resume EXECUTION``: continue a RUNNING execution whose process died.

Task routing (mocks, local functions, machines, buckets, AWS settings), the clock kind
and the local endpoint (``--endpoint-port`` of ``asl exec``, reopened on the same port so
activity workers and task-token callers reconnect) are those the execution was started
with (kept in the store); flags given here replace them.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from asl.commandline import CommandParser

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="asl resume|redrive",
        description="Continue a RUNNING execution from its history (resume), or run a FAILED, "
        "ABORTED or TIMED_OUT one again from its unsuccessful states (redrive).",
    )
    parser.add_argument("execution", help="an ARN, a name or a unique prefix")
    parser.add_argument("--store", metavar="PATH", help="the execution store")
    parser.add_argument(
        "--clock", choices=("real", "virtual"), help="override the clock kind the execution ran on"
    )
    parser.add_argument(
        "--endpoint-port",
        type=int,
        metavar="PORT",
        help="serve SendTaskSuccess/Failure/Heartbeat and GetActivityTask on 127.0.0.1:PORT "
        "(0 picks a free port; default: the port the execution was started with, if any)",
    )
    parser.add_argument(
        "--processes",
        type=_processes_flag,
        metavar="N",
        help="processes running Distributed Map children that never wait "
        "(default: every core; 1 runs them in this process)",
    )
    parser.add_argument("--quiet", action="store_true", help="no live trace")
    parser.add_argument(
        "--json", action="store_true", help='print {"status","output","error","cause","events"}'
    )
    return parser


def _processes_flag(text: str) -> int:
    from runtime.cli.exec import _processes

    return _processes(text)


def redrive_main(argv: list[str]) -> int:
    """``asl redrive EXECUTION``: RedriveExecution (see :func:`runtime.durable.resume.redrive`)."""
    return main(argv, redriving=True)


def main(argv: list[str], redriving: bool = False) -> int:
    """Resume the execution named in ``argv``; return the exit code."""
    import anyio

    from asl.errors import ASLError
    from runtime.cli import exec as exec_cli
    from runtime.cli.streams import handler_output_to_stderr
    from runtime.distributed.workers import default_processes
    from runtime.durable.resume import resume
    from runtime.durable.store import Store, StoreError, resolve_store_path
    from runtime.engine.clock import RealClock, VirtualClock

    args = _parser().parse_args(argv)
    path = resolve_store_path(args.store)
    assert path is not None
    try:
        store = Store.open(path, create=False)
    except StoreError as exc:
        exec_cli._error(str(exc))
        return exec_cli.EXIT_USAGE
    try:
        record = store.get_execution(args.execution)
        options = store.launch_options(record.arn)
        launch = _namespace(options, args)
        mocks = exec_cli._mocks(launch, record.state_machine_name)
        services = exec_cli._services(launch)  # the stored options, with --clock applied
        clock: Any = None
        if args.clock == "real":
            clock = RealClock()
        elif args.clock == "virtual":
            last = max((e.timestamp for e in store.recorded(record.arn)), default=0.0)
            clock = VirtualClock(start=last)
        virtual = (args.clock or options.get("clock")) == "virtual"
        observers, trace = _trace(args, record, store.recorded(record.arn), virtual)
        try:
            endpoint = exec_cli._endpoint(launch, services)
        except exec_cli.UsageError as exc:
            if args.endpoint_port is None:  # the port came from the store
                raise exec_cli.UsageError(
                    f"{exc} (the port the execution was started with; pass --endpoint-port "
                    "to choose another)"
                ) from exc
            raise
        try:
            with handler_output_to_stderr():
                result = anyio.run(
                    lambda: resume(
                        store,
                        record.arn,
                        clock=clock,
                        services=services,
                        mocks=mocks,
                        observers=observers,
                        redriving=redriving,
                        processes=args.processes or default_processes(),
                    )
                )
        finally:
            if trace is not None:
                trace.close()
            if endpoint is not None:
                endpoint.stop()
    except (ASLError, exec_cli.UsageError) as exc:
        exec_cli._error(str(exc))
        return exec_cli.EXIT_USAGE
    finally:
        store.close()
    if trace is not None:
        trace.summary(result)
    return exec_cli._print_outcome(args, result)


def _namespace(options: dict[str, Any], args: argparse.Namespace) -> argparse.Namespace:
    """The stored launch options as the namespace exec's helpers take."""
    from runtime.cli.exec import RESUME_OPTIONS

    values: dict[str, Any] = {name: options.get(name) for name in RESUME_OPTIONS}
    values["lambdas"] = values["lambdas"] or []
    values["machines"] = values["machines"] or []
    values["endpoints"] = values["endpoints"] or []
    values["offline"] = bool(values["offline"])
    if args.endpoint_port is not None:
        values["endpoint_port"] = args.endpoint_port
    if args.clock:
        values["clock"] = args.clock
    return argparse.Namespace(**values)


def _trace(
    args: argparse.Namespace, record: Any, recorded: list[Any], virtual: bool
) -> tuple[list[Any], Any]:
    if args.quiet or args.json:
        return [], None
    from asl.compiler import compile_machine
    from runtime.trace import LiveTrace

    # The recorded events are not heard again: the trace learns the start time and the
    # states still open from them, so durations count from where they really began.
    trace = LiveTrace(
        compile_machine(record.definition),
        virtual=virtual,
        started=record.start_time,
        recorded=recorded,
    )
    return [trace.observe], trace


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
