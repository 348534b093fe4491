"""The serve loop: executions that outlive the process running them.

:func:`serve` is a long-lived runner: it takes the lease
of every RUNNING execution of the store that nobody runs (new ones, and those whose
runner died), resumes it from its history (:mod:`runtime.durable.resume`) and keeps the lease
renewed while it runs. Waits and retry delays end at their recorded deadlines, so killing
and restarting ``asl serve`` loses nothing; several ``asl serve`` processes on one store
never run the same execution at once (:mod:`runtime.durable.store.lease`).

Each poll first fires the store's schedules that are due (:mod:`runtime.schedules.firing`):
a firing stores a new execution, which the same poll then runs.

``log`` hears one record when this loop starts running an execution and one when it stops
(:func:`log_line` writes them as text, ``asl serve --json-log`` as JSON lines).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

import anyio

from runtime.engine.clock import RealClock

__all__ = ["Nudge", "json_log_line", "log_line", "serve"]

#: One record of the serve log: ``event`` (started, ended), ``execution`` (its ARN),
#: ``name``, ``time`` (epoch seconds); an ended one adds ``status`` (SUCCEEDED, FAILED,
#: TIMED_OUT, ABORTED; RUNNING when serve stopped or lost it), ``seconds`` (how long this
#: loop ran it), ``duration`` (since the execution started), and ``error``/``cause``.
LogRecord = dict[str, Any]


class Nudge:
    """Wakes the serve loop before its next poll: a new execution was just stored.

    Use from the serve loop's own event loop (e.g. the API server that shares it).
    """

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event: anyio.Event | None = None

    def set(self) -> None:
        """Wake the loop now (or at its next pause)."""
        if self._event is None:
            self._event = anyio.Event()
        self._event.set()

    async def wait(self) -> None:
        """Return once :meth:`set` is called, then re-arm."""
        if self._event is None:
            self._event = anyio.Event()
        await self._event.wait()
        self._event = None


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
    catch_up: str = "none",
    nudge: Nudge | None = None,
    running: dict[str, Any] | None = None,
    on_end: Callable[[str], None] | None = None,
    log: Callable[[LogRecord], None] | None = None,
    processes: int = 1,
) -> int:
    """Run claimable executions until ``stop`` is set (or, with ``once``, until none is
    left). Returns how many executions ended while serving.

    Each execution routes its tasks by the options it was started with; ``callbacks``
    and ``activities`` are shared by all of them (e.g. behind one local endpoint).
    ``nudge`` ends a pause early (a new execution was stored); ``running``, when given,
    is kept up to date with the lease of every execution this loop runs, by ARN (the
    API's StopExecution aborts them through ``lease.on_stop``). ``log`` hears each
    execution's start and end (see :data:`LogRecord`); ``on_end`` is called with
    the ARN of each execution this loop stops running (ended, or failed to run).
    ``processes`` is as for :func:`runtime.api.run`: Distributed Map children that never
    wait run across that many worker processes (one Map Run's pool at a time).
    """
    from runtime.durable.resume import resume
    from runtime.durable.store.lease import Lease, LeaseLost, dead_here, new_owner

    owner = new_owner()
    clock = RealClock()
    running = {} if running is None else running
    ended = 0
    stop = stop or anyio.Event()
    serving_since = clock.now()

    def note(record: LogRecord) -> None:
        if log is not None:
            try:
                log(record)
            except Exception as exc:  # a broken log must not stop the executions
                print(f"asl serve: log: {type(exc).__name__}: {exc}", file=sys.stderr)

    async def run_one(arn: str, lease: Lease) -> None:
        nonlocal ended
        began = clock.now()
        name = arn.rsplit(":", 1)[-1]
        note({"event": "started", "execution": arn, "name": name, "time": began})
        outcome: LogRecord = {"status": "RUNNING", "error": "detached", "cause": "serve stopped"}
        try:
            result = await resume(
                store,
                arn,
                lease=lease,
                callbacks=callbacks,
                activities=activities,
                processes=processes,
            )
            ended += 1
            outcome = {"status": result.status, "duration": result.stop_time - result.start_time}
            outcome.update({"error": result.error, "cause": result.cause})
        except Exception as exc:  # keep serving the others; say what happened
            outcome = {"status": "RUNNING", "error": type(exc).__name__, "cause": str(exc)}
            if log is None:
                print(f"asl serve: {arn}: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            lease.release()
            running.pop(arn, None)
            now = clock.now()
            record = {"event": "ended", "execution": arn, "name": name, "time": now}
            record.update(seconds=now - began, **outcome)
            note({k: v for k, v in record.items() if v is not None})
            if on_end is not None:
                on_end(arn)

    from runtime.durable import fleet

    batched = fleet.batched(store)  # the PostgreSQL store: batch claims and renewals
    async with anyio.create_task_group() as group:
        if batched:
            group.start_soon(fleet.renew_forever, store, owner, running, lease_seconds, clock)
        while not stop.is_set():
            _fire_schedules(store, clock.now(), serving_since, catch_up)
            _deliver(store, callbacks, running)
            free = max(0, max_running - len(running))
            taken: list[tuple[str, Lease]] = []
            if batched:
                taken = fleet.claim(store, owner, running, free, lease_seconds, clock)
                free -= len(taken)
            candidates = [  # new executions, and those whose runner on this host died
                arn
                for arn, holder in store.claimable(clock.now(), limit=free + len(running))
                if arn not in running
                and ((holder is None and not batched) or (holder is not None and dead_here(holder)))
            ][:free]
            for arn in candidates:
                lease = Lease(store, owner, lease_seconds, background=not batched)
                try:
                    lease.hold(arn)
                except LeaseLost:
                    continue
                taken.append((arn, lease))
            for arn, lease in taken:
                running[arn] = lease
                group.start_soon(run_one, arn, lease)
            if once and not running and not candidates and not taken:
                break
            await _pause(clock, stop, poll_seconds, nudge)
        # Cancelled executions stay RUNNING (aborted events are written only when a
        # sibling's failure cancels a state), for the next serve to resume.
        group.cancel_scope.cancel()
    return ended


def _deliver(store: Any, callbacks: Any, running: dict[str, Any]) -> None:
    """Settle the callbacks other processes received for this loop's executions."""
    from runtime.durable.answers import deliver_answers

    try:
        deliver_answers(store, callbacks, list(running))
    except Exception as exc:  # keep serving; the answers stay for the next poll
        print(f"asl serve: task answers: {type(exc).__name__}: {exc}", file=sys.stderr)


def log_line(record: LogRecord, stream: TextIO | None = None) -> None:
    """Write one serve-log record as a line of text (to stderr by default)::

    asl serve: started nap (arn:...)
    asl serve: ended nap SUCCEEDED in 5.01s (execution took 5.02s)
    """
    out = sys.stderr if stream is None else stream
    if record["event"] == "started":
        line = f"started {record['name']} ({record['execution']})"
    else:
        line = f"ended {record['name']} {record['status']} in {record['seconds']:.2f}s"
        if "duration" in record:
            line += f" (execution took {record['duration']:.2f}s)"
        if "error" in record:
            line += f": {record['error']}"
            if record.get("cause"):
                line += f": {record['cause']}"
    print(f"asl serve: {line}", file=out, flush=True)


def json_log_line(record: LogRecord, stream: TextIO | None = None) -> None:
    """Write one serve-log record as a JSON line (to stderr by default)."""
    out = sys.stderr if stream is None else stream
    print(json.dumps(record, separators=(",", ":"), default=str), file=out, flush=True)


def _fire_schedules(store: Any, now: float, serving_since: float, catch_up: str) -> None:
    """Start the executions of the schedule firings that are due."""
    from runtime.schedules.firing import fire_due

    try:
        made = fire_due(store, now, serving_since=serving_since, catch_up=catch_up)
    except Exception as exc:  # keep serving executions; say what happened
        print(f"asl serve: schedules: {type(exc).__name__}: {exc}", file=sys.stderr)
        return
    for firing in made:
        if firing.status != "STARTED":
            print(
                f"asl serve: schedule {firing.schedule}: {firing.status}: {firing.error}",
                file=sys.stderr,
            )


async def _pause(
    clock: RealClock, stop: anyio.Event, seconds: float, nudge: Nudge | None = None
) -> None:
    """Wait ``seconds`` on the clock, or less if ``stop`` or ``nudge`` is set meanwhile."""
    async with anyio.create_task_group() as group:

        async def sleep() -> None:
            await clock.sleep_until(clock.now() + seconds)
            group.cancel_scope.cancel()

        async def stopped() -> None:
            await stop.wait()
            group.cancel_scope.cancel()

        async def nudged() -> None:
            assert nudge is not None
            await nudge.wait()
            group.cancel_scope.cancel()

        group.start_soon(sleep)
        group.start_soon(stopped)
        if nudge is not None:
            group.start_soon(nudged)
