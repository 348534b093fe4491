"""Continue a RUNNING execution from the store after its process died.

    >>> # result = anyio.run(resume, store, "my-execution")          # doctest: +SKIP

The recorded history is replayed (see :mod:`runtime.engine.replay`): nothing already done is
done again, pending Waits and retry delays keep their original deadlines, a task that was
in flight is retried under its Retry policy, and new events are committed to the store
as they are written. Task routing (mocks, local functions, AWS) is taken from the
options the execution was started with, unless the caller passes its own.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

from asl.errors import ASLError
from asl.model import StateMachine
from runtime.api import ExecutionResult, load_machine, run
from runtime.engine.clock import Clock, RealClock, VirtualClock
from runtime.engine.execution import Observer
from runtime.engine.replay import Replay, unsuccessful

__all__ = ["NotResumable", "parse_execution_arn", "redrive", "resume"]

#: RedriveExecution's window: executions that stopped within this many days.
REDRIVE_DAYS = 14


class NotResumable(ASLError):
    """Raised when the execution asked for is not RUNNING (nothing to resume)."""


def parse_execution_arn(arn: str) -> dict[str, str]:
    """``arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME`` split into its parts."""
    parts = arn.split(":")
    if len(parts) < 8 or parts[5] != "execution":
        raise NotResumable(f"not an execution ARN: {arn}")
    return {
        "region": parts[3],
        "account": parts[4],
        "machine": parts[6],
        "name": ":".join(parts[7:]),
    }


@functools.lru_cache(maxsize=256)
def _compiled(definition_json: str) -> StateMachine:
    """Validate and compile each stored definition once (asl serve resumes many)."""
    return load_machine(json.loads(definition_json))


async def resume(
    store: Any,
    ref: str,
    *,
    clock: Clock | None = None,
    services: Any = None,
    mocks: Any = None,
    observers: Iterable[Observer] = (),
    seed: int | None = None,
    inspect: bool = False,
    lease: Any = None,
    callbacks: Any = None,
    activities: Any = None,
    redriving: bool = False,
    processes: int = 1,
    real_clock: Clock | None = None,
    batch: Any = None,
) -> ExecutionResult:
    """Resume the RUNNING execution ``ref`` (ARN, name or unique prefix) of ``store``.

    ``clock`` defaults to the kind the execution ran on (a virtual clock resumes at the
    time of its last recorded event). ``services`` and ``mocks`` default to those of the
    launch options the execution was started with (sharing ``callbacks`` and
    ``activities`` when given). ``processes`` is as for :func:`runtime.api.run` (worker
    processes for Distributed Map children that never wait). Raises :class:`NotResumable`, or
    :class:`runtime.engine.replay.ReplayDivergence` when the history does not replay.

    ``real_clock`` replaces the real clock of an execution that runs on one (``asl serve``
    passes its :class:`runtime.durable.parking.ParkingClock`); ``batch`` is the
    :class:`runtime.durable.store.observer.GroupCommit` its events are committed by.
    """
    from runtime.durable.store import StoreRecorder

    record = store.get_execution(ref)
    redrive_count = 0
    if redriving:
        redrive_count = _begin_redrive(store, record)
        record = store.get_execution(record.arn)
    elif record.status != "RUNNING":
        raise NotResumable(f"execution {record.name} is {record.status}: only RUNNING ones resume")
    events = store.recorded(record.arn)
    options = store.launch_options(record.arn)
    where = parse_execution_arn(record.arn)
    if services is None and mocks is None:
        from runtime.callbacks.registry import CallbackRegistry
        from runtime.durable.launch import mocks_from, services_from

        if callbacks is None:  # tokens are signed with the store's secret
            callbacks = CallbackRegistry(signer=store.token_signer())
        mocks = mocks_from(options, record.state_machine_name)
        services = services_from(options, callbacks=callbacks, activities=activities)
    if clock is None:
        last = max((e.timestamp for e in events), default=record.start_time)
        if options.get("clock") == "virtual":
            clock = VirtualClock(start=last)
        else:
            clock = real_clock if real_clock is not None else RealClock()
    from runtime.durable.launch import activities_from

    recorder = StoreRecorder(store, options=options, resuming=True, lease=lease, batch=batch)
    replay = Replay(events, unsuccessful(events) if redriving else ())
    if redriving:
        replay.map_runs = _map_runs(store, record.arn)
    try:
        return await run(
            _compiled(record.definition_json),
            record.input,
            clock=clock,
            services=services,
            mocks=mocks,
            name=where["name"],
            state_machine_name=where["machine"],
            observers=(recorder, *observers),
            seed=seed if seed is not None else options.get("seed"),
            account=where["account"],
            region=where["region"],
            inspect=inspect,
            replay=replay,
            start_time=record.start_time,
            redrive_count=redrive_count or record.redrive_count,
            allow_aws=bool(options.get("allow_aws")),
            start_at=options.get("start_at"),
            stop_after=options.get("stop_after"),
            variables=options.get("variables"),
            context=options.get("context"),
            activities=activities_from(options),  # asl exec --activity NAME=COMMAND
            processes=processes,
        )
    finally:
        recorder.detach()  # no cycle through the recorder: its history is freed at once


def _map_runs(store: Any, execution_arn: str) -> dict[str, tuple[Any, dict[int, Any]]]:
    """The execution's stored Map Runs and their children, for a redrive."""
    from runtime.distributed.runs import MapRunRecord
    from runtime.distributed.writer import ChildRecord

    runs: dict[str, tuple[Any, dict[int, Any]]] = {}
    for document in store.map_runs(execution_arn):
        run = MapRunRecord.from_json(document)
        children = {
            row["index"]: ChildRecord(
                row["index"],
                row["name"],
                row["input"],
                row["start"],
                row["stop"],
                row["status"],
                row["output"],
                row["error"],
                row["cause"],
                row["size"],
                row["redrive_count"],
            )
            for row in store.map_run_children(run.arn)
        }
        runs[run.arn] = (run, children)
    return runs


def _begin_redrive(store: Any, record: Any) -> int:
    """RedriveExecution's checks (status, 14 days), then the store marks it RUNNING."""
    from runtime.engine.clock import RealClock

    if record.status not in ("FAILED", "ABORTED", "TIMED_OUT"):
        raise NotResumable(
            f"execution {record.name} is {record.status}: only FAILED, ABORTED or TIMED_OUT "
            "executions can be redriven"
        )
    stopped = record.stop_time if record.stop_time is not None else record.start_time
    if RealClock().now() - stopped > REDRIVE_DAYS * 86400:
        raise NotResumable(
            f"execution {record.name} stopped more than {REDRIVE_DAYS} days ago: it can no "
            "longer be redriven"
        )
    return int(store.begin_redrive(record.arn))


async def redrive(store: Any, ref: str, **options: Any) -> ExecutionResult:
    """RedriveExecution: run a FAILED, ABORTED or TIMED_OUT execution again from its
    unsuccessful states, reusing the results of the states that succeeded.

    Its history goes on: ``ExecutionRedriven`` then the re-run states; the redrive count is
    in ``$$.Execution.RedriveCount``. Options are those of :func:`resume`. An Inline Map or
    Parallel state that failed re-runs only its unsuccessful branches or iterations, as AWS
    does, unless it had been retried (then it re-runs whole).
    """
    return await resume(store, ref, redriving=True, **options)
