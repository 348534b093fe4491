"""``asl start`` and ``asl serve``: executions that outlive the process running them.

``asl start FILE`` validates a definition and stores a new RUNNING execution (with its
task options) without running it. ``asl serve`` runs the store's executions
(:func:`runtime.durable.serve.serve`) until interrupted; with ``--api`` it also serves the
Step Functions API (:mod:`runtime.server.api`) on 127.0.0.1:8083, as Step Functions
Local does.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from asl.commandline import CommandParser
from runtime.durable.serve import PARK_SECONDS, json_log_line, log_line, serve
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
    if args.on == "aws":
        from runtime.cli.cloud import start_on_aws

        exec_cli.check_on_aws(parser, args, argv)
        try:
            payload = exec_cli._read_input(args)
        except (OSError, ValueError) as exc:
            exec_cli._error(f"cannot read the input: {exc}")
            return exec_cli.EXIT_USAGE
        return start_on_aws(args, payload)
    if args.definition is None:
        parser.error("the following arguments are required: definition")
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
    from runtime.cli import exec as exec_cli
    from runtime.distributed.workers import default_processes
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
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="run executions in N processes sharing the store (default: the number of "
        "cores; 1 with --api, --ui or --endpoint-port, whose task tokens are answered in "
        "the process running the execution)",
    )
    parser.add_argument(
        "--park-seconds",
        type=float,
        default=PARK_SECONDS,
        metavar="S",
        help="let go of an execution whose branches all sleep (Waits, retry delays) for at "
        "least S seconds; a serving process takes it again when it is due (default %(default)g)",
    )
    parser.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)
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
    parser.add_argument(
        "--secret",
        metavar="SECRET",
        help="require requests to the endpoint and the API to be SigV4-signed with SECRET as "
        "the secret access key (default: $ASL_ENDPOINT_SECRET; prefer it, a flag shows in ps)",
    )
    parser.add_argument(
        "--processes",
        type=exec_cli._processes,
        metavar="N",
        help="processes running Distributed Map children that never wait "
        "(default: every core; 1 runs them in this process)",
    )
    parser.add_argument(
        "--json-log",
        action="store_true",
        help="log each execution's start and end to stderr as JSON lines (default: text)",
    )
    api = parser.add_argument_group("Step Functions API")
    api.add_argument(
        "--api",
        action="store_true",
        help="serve the Step Functions API (AWS JSON 1.0) for boto3, the AWS CLI, SDKs",
    )
    api.add_argument(
        "--ui",
        action="store_true",
        help="serve the web console (executions, live graphs) on the same address and port",
    )
    api.add_argument("--host", default="127.0.0.1", help="API address (default 127.0.0.1)")
    api.add_argument(
        "--port", type=int, default=8083, help="API port (default 8083; 0 picks a free one)"
    )
    api.add_argument(
        "--mock-config",
        metavar="FILE",
        help="MockConfigFile for <stateMachineArn>#<TestCase> "
        "(default: $SFN_MOCK_CONFIG or $LOCALSTACK_SFN_MOCK_CONFIG)",
    )
    api.add_argument(
        "--endpoint-url",
        dest="endpoints",
        action="append",
        default=[],
        metavar="[SERVICE=]URL",
        help="boto3 endpoint of tasks' services, one service or all (also LAMBDA_ENDPOINT, "
        "SQS_ENDPOINT... as Step Functions Local reads them)",
    )
    api.add_argument("--config", metavar="FILE", help="asl.toml of local Lambda handlers")
    api.add_argument(
        "--connections",
        metavar="FILE",
        help="EventBridge connections of HTTP Tasks (JSON: ARN -> AuthorizationType, "
        "AuthParameters); without it http:invoke tasks are not served",
    )
    api.add_argument(
        "--region", help="region of the ARNs it makes (default: $AWS_DEFAULT_REGION, us-east-1)"
    )
    api.add_argument(
        "--account-id", help="account of the ARNs it makes (default: $AWS_ACCOUNT_ID, 123456789012)"
    )
    api.add_argument(
        "--clock",
        choices=("real", "virtual"),
        help="virtual: API executions' Waits and retry delays take no time "
        "(default: real, or virtual with WAIT_TIME_SCALE=0)",
    )
    args = parser.parse_args(argv)
    path = resolve_store_path(args.store, False)
    assert path is not None
    in_process = args.api or args.ui or args.endpoint_port is not None
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers: {args.workers} is not a number of processes (1 or more)")
    if args.workers is not None and args.workers > 1 and in_process:
        parser.error(
            "--workers: more than 1 cannot go with --api, --ui or --endpoint-port (task "
            "tokens and activity tasks are answered in the process running the execution)"
        )
    if args.park_seconds <= 0:
        parser.error(f"--park-seconds: {args.park_seconds:g} is not a positive number")
    if args.api or args.ui:
        return _serve_api(args, str(path))
    workers = args.workers if args.workers is not None else (1 if in_process else cpu_count())
    if workers > 1 and args.parent_pid is None:
        # Opened (and migrated) once here first: a store that cannot be opened is said
        # once, by this process, before any worker starts.
        with Store.open(path):
            pass
    helpers = _start_workers(argv, workers - 1) if args.parent_pid is None else []

    from runtime.adapters.activity import Activities
    from runtime.callbacks.registry import CallbackRegistry
    from runtime.durable.answers import StoreRelay
    from runtime.server.guard import secret_from

    callbacks = CallbackRegistry(external=args.endpoint_port is not None)
    # Answers to tokens of executions another server of the store runs go through it.
    callbacks.relay = relay = StoreRelay(path)
    activities = Activities(callbacks)
    endpoint = None
    if args.endpoint_port is not None:
        from runtime.server.endpoint import LocalEndpoint

        endpoint = LocalEndpoint(
            callbacks, activities, port=args.endpoint_port, secret=secret_from(args.secret)
        )
        endpoint.start()
        print(f"Step Functions endpoint: {endpoint.url}", file=sys.stderr)

    async def main() -> int:
        with Store.open(path) as store:
            callbacks.signer = store.token_signer()  # tokens outlive this process
            return await until_signalled(
                lambda stop: serve(
                    store,
                    lease_seconds=args.lease_seconds,
                    poll_seconds=args.poll_seconds,
                    max_running=args.max_running,
                    once=args.once,
                    stop=stop,
                    callbacks=callbacks,
                    activities=activities,
                    catch_up=args.catch_up,
                    log=json_log_line if args.json_log else log_line,
                    processes=args.processes or default_processes(),
                    park_seconds=args.park_seconds,
                    schedules=args.parent_pid is None,
                ),
                parent=args.parent_pid,
            )

    try:
        ended = anyio.run(main)
    finally:
        if endpoint is not None:
            endpoint.stop()
        relay.close()
        status = _stop_workers(helpers, signal_them=not args.once)
    print(f"asl serve: {ended} execution(s) ended", file=sys.stderr)
    return status


def cpu_count() -> int:
    """The cores this process may run on (the default of ``--workers``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _start_workers(argv: list[str], count: int) -> list[subprocess.Popen[bytes]]:
    """Start ``count`` more ``asl serve`` processes on the same store and options; each
    stops when this one does (or dies). They inherit stderr, so their logs interleave."""
    command = [sys.executable, "-m", "runtime.cli", "serve", *argv]
    command += ["--workers", "1", "--parent-pid", str(os.getpid())]
    return [subprocess.Popen(command, stdin=subprocess.DEVNULL) for _ in range(count)]


def _stop_workers(helpers: list[subprocess.Popen[bytes]], signal_them: bool = True) -> int:
    """Ask the worker processes to stop (SIGTERM: they detach, as this one does; with
    ``--once`` they end by themselves) and wait for them; 1 if one failed, else 0."""
    for helper in helpers:
        if signal_them and helper.poll() is None:
            helper.send_signal(signal.SIGTERM)
    failed = 0
    for helper in helpers:
        try:
            failed |= helper.wait(timeout=None if not signal_them else 60) != 0
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()
            failed = 1
    return int(failed)


def _serve_api(args: argparse.Namespace, store: str) -> int:
    """``asl serve --api``: the API and the serve loop in one process until SIGINT/SIGTERM."""
    import os
    from pathlib import Path

    from runtime.distributed.workers import default_processes
    from runtime.server.api.app import (
        ApiOptions,
        env_clock,
        env_endpoints,
        env_mock_config,
        run_api,
    )
    from runtime.server.guard import secret_from

    try:
        clock = args.clock or env_clock() or "real"
    except ValueError as exc:
        print(f"asl serve: {exc}", file=sys.stderr)
        return 2

    mock_config = args.mock_config or env_mock_config()
    if mock_config is not None:
        from asl.errors import ASLError
        from runtime.adapters.mock_config import MockConfig

        try:
            MockConfig.load(mock_config)
        except ASLError as exc:
            print(f"asl serve: {exc}", file=sys.stderr)
            return 2
        mock_config = str(Path(mock_config).resolve())
    connections = None
    if args.connections:
        from runtime.adapters.http import load_connections

        try:
            load_connections(args.connections)
        except ValueError as exc:
            print(f"asl serve: --connections {exc}", file=sys.stderr)
            return 2
        connections = str(Path(args.connections).resolve())
    options = ApiOptions(
        store=store,
        host=args.host,
        port=args.port,
        mock_config=mock_config,
        clock=clock,
        endpoints=(*env_endpoints(), *args.endpoints),
        config=str(Path(args.config).resolve()) if args.config else None,
        connections=connections,
        account=args.account_id or os.environ.get("AWS_ACCOUNT_ID") or "123456789012",
        region=args.region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        lease_seconds=args.lease_seconds,
        store_poll_seconds=args.poll_seconds,
        max_running=args.max_running,
        processes=args.processes or default_processes(),
        secret=secret_from(args.secret),
        log=json_log_line if args.json_log else log_line,
        api=args.api,
        ui=args.ui,
    )

    def ready(url: str) -> None:
        if args.api:
            print(f"Step Functions API: {url} (store {store})", file=sys.stderr, flush=True)
            # botocore puts "sync-" before the host of StartSyncExecution and TestState;
            # with a user part in the URL the prefix lands there and the host stays.
            hint = url.replace("://", "://sfn@", 1)
            print(
                f"  boto3 / AWS CLI: --endpoint-url {hint} reaches every operation, "
                "StartSyncExecution and TestState included",
                file=sys.stderr,
                flush=True,
            )
        if args.ui:
            print(f"asl console: {url}/ (store {store})", file=sys.stderr, flush=True)

    async def main() -> int:
        return await until_signalled(lambda stop: run_api(options, stop=stop, ready=ready))

    try:
        ended = anyio.run(main)
    except OSError as exc:
        print(f"asl serve: {exc}", file=sys.stderr)
        return 1
    print(f"asl serve: {ended} execution(s) ended", file=sys.stderr)
    return 0


_T = TypeVar("_T")


async def until_signalled(
    work: Callable[[anyio.Event], Awaitable[_T]], parent: int | None = None
) -> _T:
    """``work(stop)``, with SIGTERM and SIGINT setting ``stop``: the long-running commands
    end their loop gracefully (executions stay RUNNING for the next one) on either.
    ``parent``: a worker's parent process; ``stop`` is set too once it is gone."""
    stop = anyio.Event()
    async with anyio.create_task_group() as group:
        if parent is not None:

            async def watch_parent() -> None:
                clock = RealClock()
                while os.getppid() == parent:
                    await clock.sleep_until(clock.now() + 0.5)
                stop.set()

            group.start_soon(watch_parent)

        async def watch_signals() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for _ in signals:
                    stop.set()
                    return

        group.start_soon(watch_signals)
        result = await work(stop)
        group.cancel_scope.cancel()
    return result
