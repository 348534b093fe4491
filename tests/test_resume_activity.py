"""Resuming an execution whose activity task was scheduled but never taken by a worker:
nothing ran, so it waits for a worker again (not "outcome unknown")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio

from runtime.adapters import Services
from runtime.api import run
from runtime.durable.resume import resume
from runtime.durable.store import Store, StoreRecorder
from runtime.durable.store.lease import Lease
from runtime.engine.clock import RealClock
from runtime.engine.events import HistoryEvent

ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:review"
MACHINE = {
    "StartAt": "Review",
    "States": {"Review": {"Type": "Task", "Resource": ACTIVITY, "End": True}},
}


def test_an_activity_only_scheduled_before_the_restart_waits_for_a_worker(
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path / "s.db") as store:
        first_lease = Lease(store)
        scheduled = anyio.Event()

        def watch(event: HistoryEvent, frame: Any = None) -> None:
            if event.type == "ActivityScheduled":
                scheduled.set()

        async def first_run() -> None:
            # The runner dies (here: is cancelled) while the task waits for a worker.
            async with anyio.create_task_group() as group:

                async def running() -> None:
                    await run(
                        MACHINE,
                        {"doc": 7},
                        clock=RealClock(),
                        name="rev",
                        observers=[StoreRecorder(store, lease=first_lease), watch],
                    )

                group.start_soon(running)
                await scheduled.wait()
                group.cancel_scope.cancel()

        anyio.run(first_run)
        first_lease.release()
        assert [e.type for e in store.recorded(store.get_execution("rev").arn)][-1] == (
            "ActivityScheduled"
        )

        services = Services.create()

        async def resumed() -> Any:
            async with anyio.create_task_group() as group:

                async def worker() -> None:
                    task = await services.activities.get_task("review", "w1", timeout=30)
                    assert task is not None
                    seen = json.loads(task.input)
                    services.callbacks.send_task_success(task.token, json.dumps({"ok": seen}))

                group.start_soon(worker)
                with anyio.fail_after(30):
                    return await resume(store, "rev", services=services, clock=RealClock())

        result = anyio.run(resumed)
        types = [e["type"] for e in store.history(result.arn)]
    assert (result.status, result.output) == ("SUCCEEDED", {"ok": {"doc": 7}}), result.cause
    assert types[types.index("ActivityScheduled") :] == [
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]


def test_a_refused_activity_started_event_is_one_line_not_a_traceback(
    capsys: Any,
) -> None:
    """A worker takes the task as the lease is lost: the execution is stopping, and its
    ActivityStarted cannot be written; that is said in one line, the task not held."""
    from types import SimpleNamespace

    from runtime.adapters.activity import _started_hook
    from runtime.durable.store.errors import LeaseLost

    held: list[Any] = []
    beats: list[int] = []

    def refused(worker: str) -> None:
        raise LeaseLost("the execution e was taken over by another process")

    call = SimpleNamespace(
        on_started=refused,
        heartbeat=lambda: beats.append(1),
        clock=None,
        state_name="Work",
    )
    pending = SimpleNamespace(is_open=True, hold=held.append)
    _started_hook(call, pending)("worker-1")  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert err == (
        "asl: activity task of Work: not started: "
        "the execution e was taken over by another process\n"
    )
    assert held == [] and beats == []
