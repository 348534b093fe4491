"""The firing step ``asl serve`` takes on each poll: start the executions that are due.

Each due firing starts one stored execution (as ``asl start`` does) named after the
schedule and the firing time (:meth:`Schedule.execution_name`), in the same transaction
that records the firing (:meth:`runtime.durable.store.Store.fire_schedule`): whichever
process gets there first starts it, and every other one (or this one after a restart)
finds it done. ``asl serve`` then runs the execution like any other.

Missed firings, those whose time (plus AWS's 60-second invocation precision and the
flexible window) passed before this serve process started, follow ``catch_up``:
``none`` (AWS's way: they are skipped), ``last`` (only the latest runs) or ``all``.

A firing whose target cannot be started (the definition file is missing or invalid, the
input is not JSON once the context attributes are in) is tried again under the target's
``RetryPolicy``, attempt ``n`` after ``min(2**(n-1), 60)`` seconds, while the attempt
count stays within ``MaximumRetryAttempts`` and the firing is younger than
``MaximumEventAgeInSeconds``; then it is dead-lettered: its firing row says
DEAD_LETTERED, and a JSON line goes to the ``DeadLetterConfig`` file when there is one.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.durable.store.records import ExecutionInfo
from runtime.durable.store.schedules import StartedExecution
from runtime.schedules.model import ACCOUNT, Schedule, rfc3339

__all__ = [
    "CATCH_UP",
    "PRECISION_SECONDS",
    "Firing",
    "TargetError",
    "fire_due",
    "start_firing",
    "target_execution",
]

#: ``--catch-up`` choices; AWS never replays missed invocations: ``none``.
CATCH_UP = ("none", "last", "all")
#: "All schedule types on EventBridge Scheduler invoke their targets with 60 second
#: precision": a firing is late, not missed, within this many seconds of its time.
PRECISION_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Firing:
    """One attempt at one firing, as this process made it."""

    schedule: str
    #: Epoch seconds.
    scheduled: int
    attempt: int
    #: STARTED, RETRYING or DEAD_LETTERED.
    status: str
    execution_arn: str | None = None
    error: str | None = None


class TargetError(Exception):
    """Raised when a firing's target cannot be started (internal; becomes a retry)."""


def fire_due(
    store: Any, now: float, *, serving_since: float, catch_up: str = "none"
) -> list[Firing]:
    """Start every firing due at ``now`` (and retry the failed ones whose time has come);
    return what this call did. Firings already made by anyone are left alone."""
    made: list[Firing] = []
    for row in store.list_schedules("ENABLED"):
        schedule = Schedule.from_aws(json.loads(row.spec_json))
        made += _fire_schedule(store, schedule, row.handled_until, now, serving_since, catch_up)
    for name, scheduled, attempts in store.due_retries(now):
        row = store.get_schedule(name)
        if row is not None:
            schedule = Schedule.from_aws(json.loads(row.spec_json))
            made += _made(start_firing(store, schedule, scheduled, attempts + 1, now))
    return made


def _fire_schedule(
    store: Any, schedule: Schedule, after: int, now: float, since: float, catch_up: str
) -> list[Firing]:
    times = schedule.firing_times()
    made: list[Firing] = []
    if catch_up != "all":
        missed = since - PRECISION_SECONDS - schedule.window_seconds()
        last = times.previous_before(missed)
        if last is not None and last > after:
            keep_last = catch_up == "last"
            store.skip_firings(schedule.name, last - 1 if keep_last else last)
            if keep_last:
                made += _made(start_firing(store, schedule, last, 1, now))
            after = last
    for scheduled in times.between(after, now):
        if scheduled + schedule.offset(scheduled) > now:
            break  # its point in the flexible window is still to come
        made += _made(start_firing(store, schedule, scheduled, 1, now))
    return made


def _made(firing: Firing | None) -> list[Firing]:
    return [] if firing is None else [firing]


def start_firing(
    store: Any, schedule: Schedule, scheduled: int, attempt: int, now: float
) -> Firing | None:
    """Make attempt ``attempt`` of the firing at ``scheduled``; None when it was already
    made (by another process, or before a restart)."""
    last = schedule.action_after_completion == "DELETE" and (
        schedule.firing_times().next_after(scheduled) is None
    )
    common = {"attempt": attempt, "now": now, "delete_schedule": last}
    try:
        started = target_execution(schedule, scheduled, attempt, now)
    except TargetError as exc:
        return _failed(store, schedule, scheduled, attempt, now, str(exc), common)
    if not store.fire_schedule(schedule.name, scheduled, started=started, **common):
        return None
    return Firing(schedule.name, scheduled, attempt, "STARTED", started.info.arn)


def _failed(
    store: Any,
    schedule: Schedule,
    scheduled: int,
    attempt: int,
    now: float,
    error: str,
    common: dict[str, Any],
) -> Firing | None:
    policy = schedule.target.retry_policy
    delay = min(2 ** (attempt - 1), 60)
    retry = (
        attempt <= policy.maximum_retry_attempts
        and now + delay - scheduled <= policy.maximum_event_age_in_seconds
    )
    next_at = now + delay if retry else None
    if not store.fire_schedule(
        schedule.name, scheduled, error=error, next_attempt_at=next_at, **common
    ):
        return None
    if retry:
        return Firing(schedule.name, scheduled, attempt, "RETRYING", error=error)
    _dead_letter(schedule, scheduled, attempt, error, now)
    return Firing(schedule.name, scheduled, attempt, "DEAD_LETTERED", error=error)


def _dead_letter(schedule: Schedule, scheduled: int, attempt: int, error: str, now: float) -> None:
    if not schedule.target.dead_letter:
        return
    policy = schedule.target.retry_policy
    exhausted = (
        "MaximumRetryAttempts"
        if attempt > policy.maximum_retry_attempts
        else "MaximumEventAgeInSeconds"
    )
    line = {
        "ScheduleArn": schedule.arn,
        "TargetArn": schedule.target.arn,
        "ScheduledTime": rfc3339(scheduled),
        "AttemptNumber": attempt,
        "ExhaustedRetryCondition": exhausted,
        "ErrorMessage": error,
        "Input": schedule.input_for(scheduled, attempt),
        "DeadLetteredAt": rfc3339(now),
    }
    path = Path(schedule.target.dead_letter)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


@functools.lru_cache(maxsize=64)
def _machine(path: str, mtime_ns: int, size: int) -> Any:
    """The definition file compiled, once per version of the file (serve fires often)."""
    from asl.source import load_file
    from runtime.api import load_machine

    return load_machine(load_file(path).value)


def target_execution(
    schedule: Schedule, scheduled: int, attempt: int, now: float
) -> StartedExecution:
    """The execution this attempt starts; raises :class:`TargetError`."""
    from asl.errors import ASLError

    target = schedule.target
    try:
        stat = Path(target.definition_file).stat()
        machine = _machine(target.definition_file, stat.st_mtime_ns, stat.st_size)
    except (ASLError, OSError) as exc:
        raise TargetError(f"cannot start {target.definition_file}: {exc}") from None
    text = schedule.input_for(scheduled, attempt)
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise TargetError(f"the target's Input is not JSON: {exc}") from None
    name = schedule.execution_name(scheduled)
    sm_name = target.state_machine_name
    info = ExecutionInfo(
        arn=f"arn:aws:states:{target.region}:{ACCOUNT}:execution:{sm_name}:{name}",
        name=name,
        state_machine_arn=target.arn,
        state_machine_name=sm_name,
        definition=machine.definition,
        options={**target.options, "clock": "real"},
    )
    return StartedExecution(info, payload, now)
