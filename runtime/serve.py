"""``asl start`` and ``asl serve``: executions that outlive the process running them.

``asl start FILE`` validates a definition and stores a new RUNNING execution (with its
task options) without running it. ``asl serve`` is a long-lived runner: it takes the lease
of every RUNNING execution of the store that nobody runs (new ones, and those whose
runner died), resumes it from its history (:mod:`runtime.resume`) and keeps the lease
renewed while it runs. Waits and retry delays end at their recorded deadlines, so killing
and restarting ``asl serve`` loses nothing; several ``asl serve`` processes on one store
never run the same execution at once (:mod:`runtime.store.lease`).
"""

from __future__ import annotations

import argparse
import signal
import sys
import uuid
from typing import Any

import anyio

from runtime.clock import RealClock

__all__ = ["serve", "serve_main", "start_main"]


async def serve(
    store: Any,
    *,
    lease_seconds: float = 30.0,
    poll_seconds: float = 1.0,
    max_running: int = 1000,
    once: bool = False,
    stop: anyio.Event | None = None,
    callbacks: Any = None,
    activities: Any = None,
) -> int:
    """Run claimable executions until ``stop`` is set (or, with ``once``, until none is
    left). Returns how many executions ended while serving.

    Each execution routes its tasks by the options it was started with; ``callbacks``
    and ``activities`` are shared by all of them (e.g. behind one local endpoint).
    """
    from runtime.resume import resume
    from runtime.store.lease import Lease, LeaseLost, dead_here, new_owner

    owner = new_owner()
    clock = RealClock()
    running: dict[str, Any] = {}
    ended = 0
    stop = stop or anyio.Event()

    async def run_one(arn: str, lease: Lease) -> None:
        nonlocal ended
        try:
            await resume(
                store,
                arn,
                lease=lease,
                callbacks=callbacks,
                activities=activities,
            )
            ended += 1
        except Exception as exc:  # keep serving the others; say what happened
            print(f"asl serve: {arn}: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            lease.release()
            running.pop(arn, None)

    async with anyio.create_task_group() as group:
        while not stop.is_set():
            free = max(0, max_running - len(running))
            candidates = [
                arn
                for arn, holder in store.claimable(clock.now(), limit=free + len(running))
                if arn not in running and (holder is None or dead_here(holder))
            ][:free]
            for arn in candidates:
                lease = Lease(store, owner, lease_seconds)
                try:
                    lease.hold(arn)
                except LeaseLost:
                    continue
                running[arn] = lease
                group.start_soon(run_one, arn, lease)
            if once and not running and not candidates:
                break
            await _pause(clock, stop, poll_seconds)
        # Cancelled executions stay RUNNING (aborted events are written only when a
        # sibling's failure cancels a state), for the next serve to resume.
        group.cancel_scope.cancel()
    return ended


async def _pause(clock: RealClock, stop: anyio.Event, seconds: float) -> None:
    """Wait ``seconds`` on the clock, or less if ``stop`` is set meanwhile."""
    async with anyio.create_task_group() as group:

        async def sleep() -> None:
            await clock.sleep_until(clock.now() + seconds)
            group.cancel_scope.cancel()

        async def stopped() -> None:
            await stop.wait()
            group.cancel_scope.cancel()

        group.start_soon(sleep)
        group.start_soon(stopped)


# -- command line -------------------------------------------------------------------------


def start_main(argv: list[str]) -> int:
    """``asl start DEFINITION [exec's input and task options]``: store a new execution."""
    from runtime import exec_cli
    from runtime.store import Store, resolve_store_path
    from runtime.store.records import ExecutionInfo

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
    from runtime.store import StoreError

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
    from runtime.store import Store, resolve_store_path

    parser = argparse.ArgumentParser(prog="asl serve", description=__doc__.splitlines()[0])
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
    from runtime.callbacks import CallbackRegistry

    callbacks = CallbackRegistry(external=args.endpoint_port is not None)
    activities = Activities(callbacks)
    endpoint = None
    if args.endpoint_port is not None:
        from runtime.endpoint import LocalEndpoint

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
