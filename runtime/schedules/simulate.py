"""Fast-forward a schedule on a virtual clock: every firing time up to a date, and with
``run`` the outcome of each execution run offline (on its own virtual clock, so a year
of daily runs takes seconds). Nothing is written to the store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from runtime.engine.clock import VirtualClock
from runtime.schedules.firing import TargetError, target_execution
from runtime.schedules.model import Schedule, rfc3339

__all__ = ["simulate"]


def simulate(
    schedule: Schedule, start: float, until: float, *, run: bool = False
) -> Iterator[dict[str, Any]]:
    """One object per firing in ``[start, until]``: ``time`` (the firing time, RFC 3339
    UTC), ``execution`` (the execution name it would start), ``startsAt`` when a flexible
    window delays the start, and with ``run``: ``status``, ``error``, ``cause``."""
    clock = VirtualClock(start=start)
    runner = _Runner(schedule) if run else None
    for scheduled in schedule.firing_times().between(start - 1, until):
        offset = schedule.offset(scheduled)
        clock.jump(max(0.0, scheduled + offset - clock.now()))
        item: dict[str, Any] = {
            "time": rfc3339(scheduled),
            "execution": schedule.execution_name(scheduled),
        }
        if offset:
            item["startsAt"] = rfc3339(scheduled + offset)
        if runner is not None:
            item.update(runner.outcome(scheduled, clock.now()))
        yield item


class _Runner:
    """Runs each firing's execution offline with the schedule's task options."""

    def __init__(self, schedule: Schedule) -> None:
        from runtime.durable.launch import mocks_from, services_from

        self.schedule = schedule
        options = {**schedule.target.options, "offline": True}
        self.mocks_from = mocks_from
        self.options = options
        self.services_from = services_from

    def outcome(self, scheduled: int, now: float) -> dict[str, Any]:
        from runtime.api import run_sync

        try:
            started = target_execution(self.schedule, scheduled, 1, now)
        except TargetError as exc:
            return {"status": "NOT_STARTED", "error": "TargetError", "cause": str(exc)}
        info = started.info
        result = run_sync(
            dict(info.definition),
            started.input,
            clock=VirtualClock(start=now),
            services=self.services_from(self.options),
            # Fresh mocks per execution: their invocation counts belong to one run, as
            # for each execution asl serve starts.
            mocks=self.mocks_from(self.options, self.schedule.target.state_machine_name),
            name=info.name,
            state_machine_name=info.state_machine_name,
            region=self.schedule.target.region,
        )
        out: dict[str, Any] = {"status": result.status}
        if result.status == "SUCCEEDED":
            out["output"] = json.loads(json.dumps(result.output))
        else:
            out["error"], out["cause"] = result.error, result.cause
        return out
