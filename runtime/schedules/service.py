"""CreateSchedule, GetSchedule, ListSchedules, UpdateSchedule, DeleteSchedule on a store.

Pausing and resuming are UpdateSchedule with ``State`` DISABLED or ENABLED, as in AWS.
Changing a schedule never fires the times that passed before the change: the firings of
the old expression up to now are done, and so are the times a paused schedule skipped.
"""

from __future__ import annotations

import json
import math
from typing import Any

from runtime.schedules.errors import ConflictException, ResourceNotFoundException
from runtime.schedules.model import Schedule

__all__ = [
    "create_schedule",
    "delete_schedule",
    "get_schedule",
    "list_schedules",
    "set_state",
    "update_schedule",
]


def _stamp(now: float) -> float:
    """Milliseconds, as AWS's dates (and so the same value after a round trip)."""
    return math.floor(now * 1000) / 1000


def create_schedule(
    store: Any, schedule: Schedule, now: float, *, allow_seconds: bool = False
) -> Schedule:
    """CreateSchedule; raises :class:`ConflictException` when the name is taken."""
    stamp = _stamp(now)
    schedule = schedule.with_changes(creation_date=stamp, last_modification_date=stamp)
    schedule.check(allow_seconds=allow_seconds)
    # A firing at the creation second itself is still to come (a rate with no start).
    if not store.create_schedule(
        schedule.name, schedule.state, schedule.to_aws(), math.ceil(stamp) - 1
    ):
        raise ConflictException(f"Schedule {schedule.name} already exists.")
    return schedule


def get_schedule(store: Any, name: str) -> Schedule:
    """GetSchedule; raises :class:`ResourceNotFoundException`."""
    row = store.get_schedule(name)
    if row is None:
        raise ResourceNotFoundException(f"Schedule {name} does not exist.")
    return Schedule.from_aws(json.loads(row.spec_json))


def list_schedules(store: Any, state: str | None = None) -> list[Schedule]:
    """ListSchedules (optionally only ENABLED or DISABLED ones), by name."""
    return [Schedule.from_aws(json.loads(row.spec_json)) for row in store.list_schedules(state)]


def update_schedule(
    store: Any, name: str, now: float, *, allow_seconds: bool = False, **changes: Any
) -> Schedule:
    """UpdateSchedule: the schedule with ``changes`` (fields of :class:`Schedule`)."""
    stamp = _stamp(now)
    schedule = get_schedule(store, name).with_changes(**changes, last_modification_date=stamp)
    schedule.check(allow_seconds=allow_seconds)
    # Times up to now are done; a rate re-anchored at this second fires at it.
    done = math.ceil(stamp) - 1
    if not store.update_schedule(name, schedule.state, schedule.to_aws(), done):
        raise ResourceNotFoundException(f"Schedule {name} does not exist.")
    return schedule


def set_state(store: Any, name: str, state: str, now: float) -> Schedule:
    """Pause (DISABLED) or resume (ENABLED) a schedule."""
    return update_schedule(store, name, now, allow_seconds=True, state=state)


def delete_schedule(store: Any, name: str) -> None:
    """DeleteSchedule; raises :class:`ResourceNotFoundException`."""
    if not store.delete_schedule(name):
        raise ResourceNotFoundException(f"Schedule {name} does not exist.")
