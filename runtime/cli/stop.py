"""``asl stop EXECUTION``: abort a RUNNING execution, as StopExecution does.

If a process runs it (``asl exec``, ``asl resume``, ``asl serve`` holding its lease), the
stop is requested through the store and that process aborts it when it next renews the
lease: running tasks are cancelled (``.sync`` jobs stopped best effort) and the history
ends with ExecutionAborted. An execution ``asl serve`` parked (every branch in a long Wait) is made
due at once with the stop requested, so a serving process aborts it as if it ran it; if
no process takes it within ``--wait``, or nobody runs it (its runner died), ``asl stop``
writes the ExecutionAborted event itself.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from asl.commandline import CommandParser
from runtime.cli.cloud import aws_arguments

if TYPE_CHECKING:
    from runtime.durable.store import Store
    from runtime.engine.clock import RealClock

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="asl stop", description=__doc__.splitlines()[0])
    parser.add_argument("execution", help="an ARN, a name or a unique prefix")
    parser.add_argument("--error", help="the error code of the abort")
    parser.add_argument("--cause", help="a longer explanation")
    parser.add_argument("--store", metavar="PATH", help="the execution store")
    parser.add_argument(
        "--wait",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wait this long for the runner to abort it (default: the lease length)",
    )
    parser.add_argument(
        "--on", choices=["aws"], help="stop an execution on AWS Step Functions (StopExecution)"
    )
    aws_arguments(parser)
    return parser


def main(argv: list[str]) -> int:
    """Stop the execution named in ``argv``; return the exit code."""
    from runtime.cli.exec import _error
    from runtime.durable.store import Store, StoreError, resolve_store_path
    from runtime.durable.store.batches import NOBODY
    from runtime.durable.store.lease import DEFAULT_LEASE_SECONDS, Lease, LeaseLost, dead_here
    from runtime.engine.clock import RealClock
    from runtime.engine.events import HistoryEvent

    parser = _parser()
    args = parser.parse_args(argv)
    if args.on == "aws":
        return _stop_on_aws(parser, args)
    if args.region or args.endpoints:
        parser.error("--region and --endpoint-url reach AWS: add --on aws")
    path = resolve_store_path(args.store)
    assert path is not None
    clock = RealClock()
    try:
        with Store.open(path, create=False) as store:
            record = store.get_execution(args.execution)
            if record.status != "RUNNING":
                _error(f"execution {record.name} is {record.status}, not RUNNING")
                return 1
            holder = store.lease_owner(record.arn, clock.now())
            if holder is None and store.parked_until(record.arn, clock.now()) is not None:
                store.request_stop(record.arn, args.error, args.cause, clock.now())
                store.release_lease(record.arn, NOBODY)  # due now: a serve aborts it
                if _aborted(store, record.arn, clock, args.wait or PARKED_WAIT_SECONDS):
                    print(f"{record.name}: ABORTED")
                    return 0
                holder = store.lease_owner(record.arn, clock.now())
            if holder is not None and not dead_here(holder):
                store.request_stop(record.arn, args.error, args.cause, clock.now())
                return _await_abort(store, record.arn, clock, args.wait or DEFAULT_LEASE_SECONDS)
            lease = Lease(store)
            try:
                lease.hold(record.arn)
            except LeaseLost as exc:
                _error(str(exc))
                return 1
            try:
                last = max((e.id for e in store.recorded(record.arn)), default=0)
                details = {k: v for k, v in (("error", args.error), ("cause", args.cause)) if v}
                event = HistoryEvent(last + 1, last, "ExecutionAborted", clock.now(), details)
                store.record(record.arn, event, fence=lease.generation)
            finally:
                lease.release()
    except StoreError as exc:
        _error(str(exc))
        return 1
    print(f"{record.name}: ABORTED")
    return 0


def _stop_on_aws(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """StopExecution on AWS; AWS aborts the execution itself, so nothing is awaited."""
    from botocore.exceptions import BotoCoreError, ClientError

    from runtime.cli.cloud import sfn_client
    from runtime.cli.exec import _error
    from runtime.cloud.listing import stop_execution

    for flag, value in (("--store", args.store), ("--wait", args.wait)):
        if value is not None:
            parser.error(f"{flag} is for a local execution, not --on aws")
    if not args.execution.startswith("arn:"):
        parser.error(f"--on aws takes an execution ARN, not {args.execution!r}")
    try:
        stopped = stop_execution(
            sfn_client(args.region, args.endpoints), args.execution, args.error, args.cause
        )
    except (ClientError, BotoCoreError) as exc:
        _error(f"asl stop --on aws: {exc}")
        return 1
    print(f"{args.execution}: ABORTED" + ("" if stopped is None else f" at {stopped}"))
    return 0


#: How long ``asl stop`` waits for a serving process to abort a parked execution.
PARKED_WAIT_SECONDS = 10.0


def _aborted(store: Store, arn: str, clock: RealClock, seconds: float) -> bool:
    """Wait up to ``seconds`` for another process to end the execution."""
    import anyio

    async def poll() -> bool:
        deadline = clock.now() + seconds
        while clock.now() < deadline:
            if store.get_execution(arn).status != "RUNNING":
                return True
            if store.lease_owner(arn, clock.now()) is not None:
                deadline = max(deadline, clock.now() + 1.0)  # taken: it aborts at once
            await clock.sleep_until(clock.now() + 0.1)
        return False

    return anyio.run(poll)


def _await_abort(store: Store, arn: str, clock: RealClock, seconds: float) -> int:
    """Poll the store until the runner has aborted the execution."""
    import anyio

    from runtime.cli.exec import _error

    async def poll() -> str:
        deadline = clock.now() + seconds
        while clock.now() < deadline:
            status = store.get_execution(arn).status
            if status != "RUNNING":
                return status
            await clock.sleep_until(clock.now() + 0.2)
        return "RUNNING"

    status = anyio.run(poll)
    if status == "RUNNING":
        _error(f"stop requested; the process running {arn} has not aborted it yet")
        return 1
    print(f"{arn}: {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
