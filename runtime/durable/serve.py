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

import asyncio
import json
import os
import sys
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TextIO

import anyio

from runtime.engine.clock import RealClock
from runtime.engine.events import iso_timestamp

__all__ = ["PARK_SECONDS", "Nudge", "json_log_line", "log_line", "serve"]

#: An execution whose branches all sleep at least this long is parked in the store.
PARK_SECONDS = 5.0
#: The most executions one poll claims: the claimed ones run first, then serve claims
#: again at once, so the processes of ``asl serve --workers N`` share the work.
CLAIM_BATCH = 64
#: Claims that may fail in a row (each rolled back, said, tried again at the next poll)
#: before serve gives up with the store's error.
CLAIM_ATTEMPTS = 5
#: How often serve looks for dead runners of this host whose leases are still live.
DEAD_CHECK_SECONDS = 1.0
#: How often serve fires the schedules that are due (EventBridge Scheduler's precision
#: is 60 s; a firing is never more than this late on a running serve).
SCHEDULE_SECONDS = 1.0

#: One record of the serve log: ``event`` (started, ended, parked), ``execution`` (its
#: ARN), ``name``, ``time`` (epoch seconds); a parked one adds ``seconds`` (how long this
#: loop ran it) and ``until`` (when it is due again); an ended one adds ``status``
#: (SUCCEEDED, FAILED, TIMED_OUT, ABORTED; RUNNING when serve stopped or lost it),
#: ``seconds`` (how long this loop ran it), ``duration`` (since the execution started),
#: and ``error``/``cause``. Every record has the ``pid`` of the serving process.
LogRecord = dict[str, Any]


class Nudge:
    """Wakes the serve loop before its next poll: a new execution was just stored.

    Use from the serve loop's own event loop (e.g. the API server that shares it).
    """

    __slots__ = ("_event", "_listener")

    def __init__(self) -> None:
        self._event: anyio.Event | None = None
        #: The serve loop's wake-up, called at once (no task in between: beside a
        #: CPU-bound execution each turn of the event loop costs one of its turns).
        self._listener: Callable[[], None] | None = None

    def set(self) -> None:
        """Wake the loop now (or at its next pause)."""
        if self._listener is not None:
            self._listener()
            return
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
    park_seconds: float | None = PARK_SECONDS,
    group_commit: bool = True,
    schedules: bool = True,
) -> int:
    """Run claimable executions until ``stop`` is set (or, with ``once``, until none is
    left). Returns how many executions ended while serving.

    Each execution routes its tasks by the options it was started with; ``callbacks``
    and ``activities`` are shared by all of them (e.g. behind one local endpoint).
    ``nudge`` ends a pause early (a new execution was stored); ``running``, when given,
    is kept up to date with the lease of every execution this loop runs, by ARN (the
    API's StopExecution aborts them through ``lease.on_stop``). ``log`` hears each
    execution's start and end (see :data:`LogRecord`); ``on_end`` is called with
    the ARN of each execution this loop stops running (ended, parked, or failed to run).
    ``processes`` is as for :func:`runtime.api.run`: Distributed Map children that never
    wait run across that many worker processes (one Map Run's pool at a time).

    Scaling: leases are claimed and renewed in batches (one transaction each); an
    execution whose branches all sleep (Waits, retry delays) for ``park_seconds`` or
    more is parked in the store until then (:mod:`runtime.durable.parking`; None keeps
    every execution in memory, as ``once`` does); with ``group_commit`` the events of all
    executions are committed once per turn of the event loop
    (:class:`runtime.durable.store.observer.GroupCommit`). Between polls the loop sleeps
    until the store's next due time (``Store.next_wake``) when that comes first.
    ``schedules`` false leaves firing the store's schedules to another process (the
    workers of ``asl serve --workers N`` but the first).

    On a store whose leases are renewed from a thread of its own (the PostgreSQL store,
    :mod:`runtime.durable.fleet`), the renewals run there; every poll also settles the
    task answers other processes received for this loop's executions.
    """
    from runtime.callbacks.registry import CallbackRegistry
    from runtime.durable import fleet
    from runtime.durable.parking import ParkingClock
    from runtime.durable.resume import resume
    from runtime.durable.store.errors import StoreError
    from runtime.durable.store.lease import HeldLease, LeaseKeeper, dead_here, new_owner
    from runtime.durable.store.observer import GroupCommit

    owner = new_owner()
    clock = RealClock()
    running = {} if running is None else running
    ended = 0
    stop = stop or anyio.Event()
    serving_since = clock.now()
    keeper = LeaseKeeper(store, owner, lease_seconds, clock)
    batch = GroupCommit(store) if group_commit else None
    if callbacks is None:  # one registry for all (tokens are signed with the store's secret)
        callbacks = CallbackRegistry(signer=store.token_signer())
    parking = None if once else park_seconds

    pid = os.getpid()

    def note(record: LogRecord) -> None:
        if log is not None:
            record["pid"] = pid  # which process of ``asl serve --workers N``
            try:
                log(record)
            except Exception as exc:  # a broken log must not stop the executions
                print(f"asl serve: log: {type(exc).__name__}: {exc}", file=sys.stderr)

    async def run_one(arn: str, lease: HeldLease) -> None:
        nonlocal ended
        began = clock.now()
        name = arn.rsplit(":", 1)[-1]
        note({"event": "started", "execution": arn, "name": name, "time": began})
        outcome: LogRecord = {"status": "RUNNING", "error": "detached", "cause": "serve stopped"}
        parked: list[float] = []

        def park(wake_at: float) -> None:
            """Every branch sleeps until ``wake_at``: commit, park, cancel (see parking)."""
            generation = lease.generation
            if lease.lost is not None or generation is None or parked:
                return
            try:
                request = store.stop_request(arn)
                if request is not None and lease.on_stop is not None:
                    lease.on_stop(*request)  # stopped while queued or parked: abort it now
                    return
                if batch is not None:
                    batch.flush()
                if lease.lost is None and store.park_lease(arn, owner, generation, wake_at):
                    parked.append(wake_at)
                    lease.lost = "parked"  # any late write is refused, nothing is released
                    keeper.forget(arn)
                    scope.cancel()
            except Exception as exc:  # keep running it in memory; say why
                print(f"asl serve: {arn}: cannot park: {exc}", file=sys.stderr)

        real = None if parking is None else ParkingClock(arn, parking, park)
        try:
            with anyio.CancelScope() as scope:
                result = await resume(
                    store,
                    arn,
                    lease=lease,
                    callbacks=callbacks,
                    activities=activities,
                    processes=processes,
                    real_clock=real,
                    batch=batch,
                )
                ended += 1
                outcome = {
                    "status": result.status,
                    "duration": result.stop_time - result.start_time,
                }
                outcome.update({"error": result.error, "cause": result.cause})
        except Exception as exc:  # keep serving the others; say what happened
            outcome = {"status": "RUNNING", "error": type(exc).__name__, "cause": str(exc)}
            if log is None:
                print(f"asl serve: {arn}: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            if batch is not None and not parked:
                with suppress(Exception):  # a failed commit stopped its executions already
                    batch.flush()
            lease.release()
            running.pop(arn, None)
            waker.poke()  # capacity is free again, a parked one has a wake time: look
            now = clock.now()
            if parked:
                record = {"event": "parked", "execution": arn, "name": name, "time": now}
                record.update(seconds=now - began, until=parked[0])
            else:
                record = {"event": "ended", "execution": arn, "name": name, "time": now}
                record.update(seconds=now - began, **outcome)
            note({k: v for k, v in record.items() if v is not None})
            if on_end is not None:
                on_end(arn)

    waker = _Waker(clock, stop, nudge)
    looked_for_dead = fired_at = float("-inf")
    # What the last poll saw: an idle poll whose store nobody else wrote since (the
    # change marker), with no wake-up, nudge or execution ended meanwhile, reads nothing.
    seen: tuple[object, int, float] | None = None
    claim_failures = 0  # claims that failed in a row
    threaded = fleet.renews_from_a_thread(store)  # the PostgreSQL store
    async with anyio.create_task_group() as group:
        if threaded:
            group.start_soon(fleet.renew_forever, store, owner, running, lease_seconds, clock)
        else:
            group.start_soon(keeper.keep)
        group.start_soon(waker.watch)
        while not stop.is_set():
            now = clock.now()
            if schedules and now - fired_at >= SCHEDULE_SECONDS:
                _fire_schedules(store, now, serving_since, catch_up)
                fired_at = now
            free = max(0, max_running - len(running))
            marker = store.change_marker()
            quiet = (
                seen is not None
                and marker is not None
                and not waker.woken
                and seen[:2] == (marker, free)
                and now < seen[2]
            )
            if running and not quiet:
                _deliver(store, callbacks, running)
            claims: list[tuple[str, int]] = []
            failed = False
            if free and not quiet:
                dead: list[str] = []
                if now - looked_for_dead >= DEAD_CHECK_SECONDS:
                    # Runners of this host that died (SIGKILL) leave live leases: take them.
                    dead = [h for h in store.lease_holders(now) if h != owner and dead_here(h)]
                    looked_for_dead = now
                limit = min(free, CLAIM_BATCH)
                try:
                    claims = store.claim_leases(owner, now, lease_seconds, limit, replace=dead)
                    claim_failures = 0
                except StoreError as exc:  # rolled back (a dropped connection, a deadlock)
                    claim_failures += 1
                    if claim_failures >= CLAIM_ATTEMPTS:
                        raise  # the store stays unusable: end serving, saying why
                    print(f"asl serve: claiming executions: {exc}", file=sys.stderr)
                    failed = True
            for arn, generation in claims:
                if arn in running:  # cannot happen: claims skip this owner's leases
                    continue
                lease = keeper.take(arn, generation)
                running[arn] = lease
                group.start_soon(run_one, arn, lease)
            if once and not running and not claims and not failed:
                break
            pause = 0.0 if len(claims) >= CLAIM_BATCH else poll_seconds
            if claims or not free or failed:
                seen = None
            elif not quiet:
                wake = store.next_wake(now)
                seen = (store.change_marker(), free, float("inf") if wake is None else wake)
            if seen is not None:
                pause = min(pause, max(0.0, seen[2] - clock.now()))
                if now - looked_for_dead >= DEAD_CHECK_SECONDS:
                    seen = None  # time to look for dead runners again
            await waker.pause(pause)
        # Cancelled executions stay RUNNING (aborted events are written only when a
        # sibling's failure cancels a state), for the next serve to resume.
        group.cancel_scope.cancel()
    if batch is not None:
        with suppress(Exception):
            batch.flush()
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
    elif record["event"] == "parked":
        until = iso_timestamp(record["until"])
        line = f"parked {record['name']} until {until} after {record['seconds']:.2f}s"
    else:
        line = f"ended {record['name']} {record['status']} in {record['seconds']:.2f}s"
        if "duration" in record:
            line += f" (execution took {record['duration']:.2f}s)"
        if "error" in record:
            line += f": {record['error']}"
            if record.get("cause"):
                line += f": {record['cause']}"
    _write_line(out, f"asl serve: {line}")


def json_log_line(record: LogRecord, stream: TextIO | None = None) -> None:
    """Write one serve-log record as a JSON line (to stderr by default)."""
    out = sys.stderr if stream is None else stream
    _write_line(out, json.dumps(record, separators=(",", ":"), default=str))


def _write_line(out: TextIO, line: str) -> None:
    """One write per line: the workers of ``asl serve --workers N`` share stderr, and a
    line written at once is not cut by another process's."""
    out.write(line + "\n")
    out.flush()


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


class _Waker:
    """The serve loop's pause between polls, ended early by ``stop``, ``nudge`` or
    :meth:`poke`: one future and one timer per pause (one watcher task lives as long as
    the loop), so an idle poll costs little more than the event loop's own tick."""

    __slots__ = ("_future", "_poked", "clock", "nudge", "stop", "woken")

    def __init__(self, clock: RealClock, stop: anyio.Event, nudge: Nudge | None) -> None:
        self.clock, self.stop, self.nudge = clock, stop, nudge
        self._future: asyncio.Future[None] | None = None
        self._poked = False
        #: True when the last pause was ended by a poke, a nudge or stop, not by time.
        self.woken = False

    async def watch(self) -> None:
        async with anyio.create_task_group() as group:

            async def stopped() -> None:
                await self.stop.wait()
                self.poke()
                group.cancel_scope.cancel()

            group.start_soon(stopped)
            if self.nudge is not None:
                if self.nudge._event is not None and self.nudge._event.is_set():
                    self.poke()  # set before serve listened
                self.nudge._listener = self.poke
                try:
                    await anyio.sleep_forever()
                finally:
                    self.nudge._listener = None

    def poke(self) -> None:
        """End the current (or next) pause now."""
        self._poked = True
        future = self._future
        if future is not None and not future.done():
            future.set_result(None)

    def _timeout(self) -> None:
        future = self._future
        if future is not None and not future.done():
            future.set_result(None)

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if poked meanwhile (or since the last pause)."""
        if not self._poked and not self.stop.is_set():
            future = self._future = asyncio.get_running_loop().create_future()
            timer = self.clock.call_at(self.clock.now() + seconds, self._timeout)
            try:
                await future
            finally:
                timer.cancel()
                self._future = None
        self.woken, self._poked = self._poked, False
