"""``asl start`` and ``asl serve``: executions that outlive the process running them.

``asl start FILE`` validates a definition and stores a new RUNNING execution (with its
task options) without running it. ``asl serve`` runs the store's executions
(:func:`runtime.durable.serve.serve`) until interrupted.
"""

from __future__ import annotations

import signal
import sys
import uuid

import anyio

from asl.commandline import CommandParser
from runtime.durable.serve import serve
from runtime.engine.clock import RealClock

__all__ = ["serve_main", "start_main"]


def start_main(argv: list[str]) -> int:
    """``asl start DEFINITION [exec's input and task options]``: store a new execution."""
    from runtime.cli import exec as exec_cli
    from runtime.durable.store import Store, resolve_store_path
    from runtime.durable.store.records import ExecutionInfo

    parser = exec_cli._parser()
    parser.prog = "asl start"
    args = parser.parse_args(argv)
    try:
        machine, payload, sm_name, _mocks, _services = exec_cli._prepare(args)
    except exec_cli.UsageError as exc:
        exec_cli._error(str(exc))
        return exec_cli.EXIT_USAGE
    region = args.region or "us-east-1"
    account = "123456789012"
    name = args.name or str(uuid.uuid4())
    arn = f"arn:aws:states:{region}:{account}:execution:{sm_name}:{name}"
    info = ExecutionInfo(
        arn=arn,
        name=name,
        state_machine_arn=f"arn:aws:states:{region}:{account}:stateMachine:{sm_name}",
        state_machine_name=sm_name,
        definition=machine.definition,
        options=exec_cli.launch_options(args),
    )
    path = resolve_store_path(args.store, False)
    assert path is not None
    from runtime.durable.store import StoreError

    try:
        with Store.open(path) as store:
            store.begin_execution(info, payload, RealClock().now())
    except StoreError as exc:
        exec_cli._error(str(exc))
        return exec_cli.EXIT_FAILED
    print(arn)
    return exec_cli.EXIT_OK


def serve_main(argv: list[str]) -> int:
    """``asl serve``: run the store's executions until interrupted."""
    from runtime.durable.store import Store, resolve_store_path

    parser = CommandParser(prog="asl serve", description=__doc__.splitlines()[0])
    parser.add_argument("--store", metavar="PATH", help="the execution store")
    parser.add_argument(
        "--lease-seconds",
        type=float,
        default=30.0,
        help="lease length; a dead runner's executions move after it",
    )
    parser.add_argument(
        "--poll-seconds", type=float, default=1.0, help="how often to look for executions to run"
    )
    parser.add_argument(
        "--max-running", type=int, default=1000, help="executions run at once at most"
    )
    parser.add_argument("--once", action="store_true", help="exit when no execution is left to run")
    parser.add_argument(
        "--catch-up",
        choices=("none", "last", "all"),
        default="none",
        help="schedule firings missed while nothing was serving: skip them (as AWS), run "
        "the last one, or run them all",
    )
    parser.add_argument(
        "--endpoint-port",
        type=int,
        metavar="PORT",
        help="accept SendTaskSuccess/Failure/Heartbeat and GetActivityTask on 127.0.0.1:PORT "
        "(0 picks a free port)",
    )
    args = parser.parse_args(argv)
    path = resolve_store_path(args.store, False)
    assert path is not None

    from runtime.adapters.activity import Activities
    from runtime.callbacks.registry import CallbackRegistry

    callbacks = CallbackRegistry(external=args.endpoint_port is not None)
    activities = Activities(callbacks)
    endpoint = None
    if args.endpoint_port is not None:
        from runtime.server.endpoint import LocalEndpoint

        endpoint = LocalEndpoint(callbacks, activities, port=args.endpoint_port)
        endpoint.start()
        print(f"Step Functions endpoint: {endpoint.url}", file=sys.stderr)

    async def main() -> int:
        stop = anyio.Event()
        with Store.open(path) as store:
            async with anyio.create_task_group() as group:

                async def watch_signals() -> None:
                    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                        async for _ in signals:
                            stop.set()
                            return

                group.start_soon(watch_signals)
                ended = await serve(
                    store,
                    lease_seconds=args.lease_seconds,
                    poll_seconds=args.poll_seconds,
                    max_running=args.max_running,
                    once=args.once,
                    stop=stop,
                    callbacks=callbacks,
                    activities=activities,
                    catch_up=args.catch_up,
                )
                group.cancel_scope.cancel()
        return ended

    try:
        ended = anyio.run(main)
    finally:
        if endpoint is not None:
            endpoint.stop()
    print(f"asl serve: {ended} execution(s) ended", file=sys.stderr)
    return 0
