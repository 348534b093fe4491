"""When a schedule fires: its expression, time zone and start/end dates, as UTC instants.

Times are whole seconds since the Unix epoch (the clock's unit); AWS invokes with
60-second precision, and every firing time here is a whole second.

Daylight saving, as the Scheduler's user guide describes it: cron and ``at`` times are
wall-clock times in ``ScheduleExpressionTimezone``. "When the time shifts forward in the
Spring, your schedule invocation gets skipped if the cron expression falls on a
non-existent date and time. When the time shifts back in the Fall, your schedule runs
only once and doesn't repeat its invocation" (here: at the first of the two instants,
the one still on daylight time). A rate is a fixed duration: "days represents a 24-hour
duration on the clock", so a daily rate drifts by an hour against the wall clock across
a change.

``StartDate`` and ``EndDate`` bound recurring schedules: a firing is on or after the
start and before the end. A rate counts from its start date, else from when the schedule
was created or last updated ("If you do not provide a StartDate for a rate-based
schedule, your schedule starts invoking the target immediately"). One-time schedules
ignore both dates, as AWS does.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError

from runtime.schedules.errors import ValidationException
from runtime.schedules.expressions import AtExpression, CronExpression, Expression, RateExpression

__all__ = ["FiringTimes", "zone"]

#: How many cron candidates to look at for one answer before giving up (a filtered
#: ``LW`` or a wall time in a daylight-saving gap costs a few each).
_MAX_CANDIDATES = 5000


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; raises :class:`ValidationException` if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationException(
            f"invalid ScheduleExpressionTimezone {name!r}: not an IANA time zone name"
        ) from None


@dataclass(frozen=True, slots=True)
class FiringTimes:
    """The firing times of one schedule."""

    expression: Expression
    #: The IANA zone cron and at times are read in.
    timezone: str = "UTC"
    #: Epoch seconds: no firing before it (recurring schedules).
    start: int | None = None
    #: Epoch seconds: every firing is before it (recurring schedules).
    end: int | None = None
    #: Epoch seconds a rate counts from when there is no ``start``.
    anchor: int = 0

    def next_after(self, after: float) -> int | None:
        """The first firing time strictly after ``after``; None once there is none."""
        expr = self.expression
        if isinstance(expr, AtExpression):
            when = _to_utc(expr.when, zone(self.timezone))
            return when if when is not None and when > after else None
        if self.start is not None:
            after = max(after, self.start - 1)
        found = (
            self._rate_next(expr, after)
            if isinstance(expr, RateExpression)
            else self._cron(expr, after, forward=True)
        )
        if found is None or (self.end is not None and found >= self.end):
            return None
        return found

    def previous_before(self, before: float) -> int | None:
        """The last firing time strictly before ``before``; None if there is none."""
        expr = self.expression
        if isinstance(expr, AtExpression):
            when = _to_utc(expr.when, zone(self.timezone))
            return when if when is not None and when < before else None
        if self.end is not None:
            before = min(before, self.end)
        found = (
            self._rate_previous(expr, before)
            if isinstance(expr, RateExpression)
            else self._cron(expr, before, forward=False)
        )
        if found is None or (self.start is not None and found < self.start):
            return None
        return found

    def between(self, after: float, until: float) -> Iterator[int]:
        """Every firing time in ``(after, until]``, in order."""
        current = self.next_after(after)
        while current is not None and current <= until:
            yield current
            current = self.next_after(current)

    # -- rate ----------------------------------------------------------------------

    def _origin(self) -> int:
        return self.start if self.start is not None else self.anchor

    def _rate_next(self, expr: RateExpression, after: float) -> int:
        origin = self._origin()
        if after < origin:
            return origin
        return origin + (math.floor((after - origin) / expr.seconds) + 1) * expr.seconds

    def _rate_previous(self, expr: RateExpression, before: float) -> int | None:
        origin = self._origin()
        if before <= origin:
            return None
        return origin + (math.ceil((before - origin) / expr.seconds) - 1) * expr.seconds

    # -- cron ----------------------------------------------------------------------

    def _cron(self, expr: CronExpression, instant: float, *, forward: bool) -> int | None:
        """Walk croniter over wall-clock times in the zone; keep the instants that exist
        and are on the asked side of ``instant`` (a repeated hour is walked once)."""
        tz = zone(self.timezone)
        local = datetime.fromtimestamp(instant, tz).replace(tzinfo=None)
        if not forward:
            # In a repeated hour, a time of the first pass may have a later wall time than
            # the instant (of the second pass) and still come before it: look from an hour on.
            local += timedelta(hours=1)
        walker = croniter(expr.croniter_fields, local, second_at_beginning=True)
        for _ in range(_MAX_CANDIDATES):
            try:
                wall = walker.get_next(datetime) if forward else walker.get_prev(datetime)
            except (CroniterError, ValueError, OverflowError):
                return None
            if expr.last_weekday and wall.date() != _last_weekday(wall):
                # Jump to the month's last weekday instead of walking every time between.
                walker = croniter(
                    expr.croniter_fields,
                    _toward_last_weekday(wall, forward),
                    second_at_beginning=True,
                )
                continue
            found = _to_utc(wall, tz)
            if found is None:
                continue
            if (found > instant) if forward else (found < instant):
                return found
        return None


def _to_utc(wall: datetime, tz: ZoneInfo) -> int | None:
    """The instant of a wall-clock time in ``tz``: the first one when the hour repeats,
    None when daylight saving skips it."""
    aware = wall.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != wall:
        return None
    return int(aware.timestamp())


def _last_weekday(day: datetime) -> date:
    """The month's last Monday-to-Friday date (``LW``)."""
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = following - timedelta(days=1)
    while last.weekday() >= 5:
        last -= timedelta(days=1)
    return last.date()


def _toward_last_weekday(wall: datetime, forward: bool) -> datetime:
    """Where to walk on from ``wall``, a time not on its month's last weekday: the start
    (forward) or the end (backward) of the nearest last weekday on that side."""
    target = _last_weekday(wall)
    if forward and wall.date() > target:  # past it: next month's
        target = _last_weekday((wall.replace(day=28) + timedelta(days=4)).replace(day=1))
    if not forward and wall.date() < target:  # before it: the previous month's
        target = _last_weekday(wall.replace(day=1) - timedelta(days=1))
    midnight = datetime.combine(target, dt_time.min)
    if forward:
        return midnight - timedelta(seconds=1)
    return midnight + timedelta(days=1)
